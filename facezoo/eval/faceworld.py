"""``python -m facezoo.eval faceworld``: how trustworthy FaceWorld's ground truth is, how distinct its identities look
to a face recogniser, and how fast it renders.

1. Ground-truth consistency on test-split renders (all keys), once without and once with an occluder on every face
   (the same scenes): landmarks that fall on the face mask; an independent re-render of the complete ``uv_texture``
   (`rerender_uv_texture`) against the image on visible, unoccluded head pixels (PSNR, L1); the face classes of the
   semantic map against ``face_mask`` and the occluder classes against ``occluder_mask`` (IoU); and, per occluder kind,
   how much of the image and of the (unoccluded) face each occluder covers.
2. Identity distinctness: verification (TAR at FAR = 1e-3, ROC AUC, 10-fold accuracy) of a recogniser on test
   identities, a frontal-neutral reference of each identity against a probe in one condition: frontal-neutral,
   profile (|yaw| > 45 deg), expression, occluder (`probe_verification`). The judge is ``identitynet_eval.faceworld_64``
   (no facezoo method trains with it); the training recogniser ``identitynet.faceworld_64`` is shown too.
3. Render speed: samples/s at 64 and 128 px, image only and all ground truth, on one thread.
"""

from __future__ import annotations

import argparse
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from facezoo.data.faceworld import (
    ALL_KEYS, FACE_CLASSES, FAST_KEYS, OCCLUDERS, SEMANTIC_CLASSES, FaceWorld, FaceWorldRenderer,
    FaceWorldStream, sample_scenes, shade, split_identities,
)
from facezoo.eval.image import l1, psnr
from facezoo.eval.report import Report
from facezoo.eval.segmentation import segmentation_scores
from facezoo.eval.verification import kfold_accuracy, pairwise_cosine, roc_auc, tar_at_far

EmbedFn = Callable[[torch.Tensor], torch.Tensor]
DEG = math.pi / 180.0
#: Probe conditions of the identity table, in report order.
CONDITIONS = ("frontal-neutral", "profile (yaw beyond ±45°)", "expression", "occluder")
#: Recognisers of the identity table: the evaluation judge first, then the one methods train with.
RECOGNISERS = ("identitynet_eval.faceworld_64", "identitynet.faceworld_64")


@dataclass(frozen=True)
class Settings:
    """Sample sizes of one run. ``FULL`` is the documented run (~1-2 min on one thread), ``QUICK`` a smoke test."""

    gt_samples: int = 128  # scenes rendered with all keys, once without and once with occluders
    identities: int = 400  # test identities of the verification table (n genuine, n (n - 1) impostor pairs each)
    speed_sizes: Tuple[int, ...] = (64, 128)
    speed_batch: int = 32
    speed_repeats: int = 3
    sheet_samples: int = 6
    size: int = 64  # resolution of the ground-truth and identity sections


FULL = Settings()
QUICK = Settings(gt_samples=len(OCCLUDERS) * 2, identities=12, speed_sizes=(64,), speed_batch=4, speed_repeats=1,
                 sheet_samples=3)


# --------------------------------------------------------------------------------------------- ground truth
def rerender_uv_texture(
    renderer: FaceWorldRenderer, scene: Dict[str, torch.Tensor], sample: Dict[str, torch.Tensor]
) -> Tuple[torch.Tensor, torch.Tensor]:
    """Re-render the main view of `sample` from its ground truth alone, independently of FaceWorld's shading path.

    The head is rebuilt from ``id_coeffs``, ``exp_coeffs``, ``pose`` and ``camera`` (plus the hair volume, which is
    not part of the linear model and comes from `scene`), rasterized with the generic `MeshRenderer`, textured with the
    complete ``uv_texture`` and lit with ``light`` using area-weighted vertex normals (FaceWorld uses grid normals and
    sparse shading), then box-filtered by the renderer's supersampling factor.

    Returns:
        ``(rgb (B, 3, S, S), valid (B, 1, S, S))``: the re-render and, as float {0, 1}, the pixels where it should
        match the image: fully covered by the head, one pixel away from its silhouette and from any occluder.
    """
    from facezoo.face.render import MeshRenderer, vertex_normals

    model, ss = renderer.model, renderer.ss
    extras: Dict[str, torch.Tensor] = {}
    renderer.painter(scene, with_labels=False, extras=extras)
    hair = renderer.hair_offsets(extras["hair"], sample["albedo_coeffs"])
    verts = renderer.camera_vertices(sample["id_coeffs"], sample["exp_coeffs"], sample["pose"], hair)
    mesh = MeshRenderer(renderer.hr)
    frags = mesh.rasterize(renderer.project(verts, sample["camera"]), model.triangles)
    uv = mesh.interpolate(frags, model.uv_coords, model.triangles)
    normals = mesh.interpolate(frags, vertex_normals(verts, model.triangles), model.triangles)
    normals = F.normalize(normals.permute(0, 3, 1, 2), dim=1)
    albedo = mesh.sample_texture(sample["uv_texture"], uv)
    rgb = F.avg_pool2d(shade(albedo, normals, sample["light"]).clamp(0, 1), ss)
    head = (F.avg_pool2d(frags.mask.unsqueeze(1).float(), ss) == 1).float()
    # Silhouette pixels mix head and background at different sub-pixel positions in the two renderers.
    interior = -F.max_pool2d(-head, 3, 1, 1)
    valid = interior * (1 - F.max_pool2d(sample["occluder_mask"], 3, 1, 1))
    return rgb, valid


def _class_mask(semantic: torch.Tensor, classes: Sequence[int]) -> torch.Tensor:
    out = torch.zeros_like(semantic, dtype=torch.bool)
    for c in classes:
        out |= semantic == c
    return out


def _binary_iou(pred: torch.Tensor, target: torch.Tensor) -> float:
    """IoU of the positive class of two boolean masks (NaN when both are empty)."""
    return float(segmentation_scores(pred.long(), target.long(), num_classes=2).iou[1])


def landmark_hits(landmarks: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``(B, 68)`` bool: whether each landmark (pixels, x right, y down; pixel (i, j) spans [j, j+1) x [i, i+1))
    falls on `mask` ``(B, 1, S, S)`` dilated by one pixel (contour points sit on the boundary by construction)."""
    size = mask.shape[-1]
    grown = F.max_pool2d(mask.float(), 3, 1, 1)[:, 0] > 0
    x = landmarks[..., 0].floor().long().clamp(0, size - 1)
    y = landmarks[..., 1].floor().long().clamp(0, size - 1)
    return grown[torch.arange(landmarks.shape[0]).view(-1, 1), y, x]


def ground_truth_consistency(sample: Dict[str, torch.Tensor], scene: Dict[str, torch.Tensor],
                             renderer: FaceWorldRenderer) -> Dict[str, float]:
    """The consistency figures of one batch rendered with all keys (see the module docstring)."""
    near_frontal = sample["pose"][:, 0].abs() < 30 * DEG
    # Landmarks under an occluder are hidden by design: count them against face ∪ occluder.
    visible = ((sample["face_mask"] + sample["occluder_mask"]) > 0).float()
    hits = landmark_hits(sample["landmarks"], visible)
    rgb, valid = rerender_uv_texture(renderer, scene, sample)
    keep = valid.flatten(1).sum(1) > 0
    face_from_sem = _class_mask(sample["semantic"], FACE_CLASSES)
    occ_from_sem = _class_mask(sample["semantic"], [SEMANTIC_CLASSES.index("eye_g"), SEMANTIC_CLASSES.index("occluder")])
    occ = sample["occluder_mask"][:, 0] > 0
    return {
        "samples": int(len(near_frontal)),
        "near_frontal": int(near_frontal.sum()),
        "inner_lm_hit": float(hits[near_frontal][:, 17:].float().mean()) if near_frontal.any() else float("nan"),
        "contour_lm_hit": float(hits[near_frontal][:, :17].float().mean()) if near_frontal.any() else float("nan"),
        "all_lm_hit_any_pose": float(hits.float().mean()),
        "rerender_psnr": float(psnr(rgb[keep], sample["image"][keep], mask=valid[keep])),
        "rerender_l1": float(l1(rgb[keep], sample["image"][keep], mask=valid[keep])),
        "rerender_pixels": float(valid.mean()),
        "face_iou": _binary_iou(face_from_sem, sample["face_mask"][:, 0] > 0),
        "occluder_iou": _binary_iou(occ_from_sem, occ) if occ.any() or occ_from_sem.any() else float("nan"),
    }


def occluder_coverage(occluded: Dict[str, torch.Tensor], clean: Dict[str, torch.Tensor]) -> List[List]:
    """Per occluder kind: samples, mean share of the image it covers and mean share of the unoccluded face mask
    (the same scene rendered without it) that it hides."""
    image_share = occluded["occluder_mask"].flatten(1).mean(1)
    face = clean["face_mask"].flatten(1)
    hidden = (occluded["occluder_mask"].flatten(1) * face).sum(1) / face.sum(1).clamp_min(1)
    rows = []
    for k, name in enumerate(OCCLUDERS):
        sel = occluded["_occluder"] == k
        n = int(sel.sum())
        rows.append([name, n, float(image_share[sel].mean()) if n else None, float(hidden[sel].mean()) if n else None])
    return rows


# --------------------------------------------------------------------------------------------- identity
def condition_scenes(identities: Sequence[int], seed: int) -> Dict[str, Dict[str, torch.Tensor]]:
    """Scenes of each identity in every condition: ``"reference"`` and ``"frontal-neutral"`` (two independent
    frontal-neutral renders: |yaw| < 10 deg, neutral, no occluder), ``"profile (yaw beyond ±45°)"`` (45-80 deg, either
    side), ``"expression"`` (one of the 7 non-neutral expressions, frontal) and ``"occluder"`` (frontal, neutral,
    one occluder). Light, background and camera are drawn independently for every render."""
    n = len(identities)
    rng = np.random.default_rng([seed, 0xFACE])
    out = {}
    for c, name in enumerate(("reference",) + CONDITIONS):
        seeds = [(seed, 0xFACE, c, i) for i in range(n)]
        scene = sample_scenes(list(identities), seeds, occluder_prob=1.0 if name == "occluder" else 0.0,
                              expression_prob=1.0 if name == "expression" else 0.0)
        if name.startswith("profile"):
            yaw = rng.uniform(45, 80, n) * rng.choice([-1.0, 1.0], n)
        else:
            yaw = rng.uniform(-10, 10, n)
        scene["pose"][:, 0] = torch.from_numpy(yaw * DEG).float()
        out[name] = scene
    return out


def probe_verification(reference: torch.Tensor, probe: torch.Tensor, seed: int = 0, n_folds: int = 10) -> Dict[str, float]:
    """Verification of row ``i`` of `reference` ``(N, D)`` against every row of `probe` ``(N, D)``, where rows with
    the same index show the same identity: N genuine and N (N - 1) impostor pairs for TAR at FAR = 1e-3 and ROC AUC;
    for k-fold accuracy, the N genuine pairs and N impostor pairs drawn at random, shuffled (LFW's balance)."""
    sims = pairwise_cosine(reference, probe)
    n = sims.shape[0]
    if sims.shape != (n, n) or n < 2:
        raise ValueError(f"need the same number (>= 2) of reference and probe rows, got {tuple(sims.shape)}")
    genuine = np.eye(n, dtype=bool)
    scores, labels = sims.ravel(), genuine.ravel().astype(np.int64)
    rng = np.random.default_rng(seed)
    rows = np.arange(n)
    cols = (rows + rng.integers(1, n, n)) % n  # a different identity for every reference
    pair_scores = np.concatenate([np.diag(sims), sims[rows, cols]])
    pair_labels = np.concatenate([np.ones(n, np.int64), np.zeros(n, np.int64)])
    order = rng.permutation(2 * n)
    folds = kfold_accuracy(pair_scores[order], pair_labels[order], n_folds=min(n_folds, 2 * n))
    return {
        "tar_at_far_1e-3": tar_at_far(scores, labels, 1e-3),
        "roc_auc": roc_auc(scores, labels),
        "accuracy": folds.mean,
        "accuracy_std": folds.std,
        "genuine_cos": float(sims[genuine].mean()),
        "impostor_cos": float(sims[~genuine].mean()),
        "genuine_pairs": int(n),
        "impostor_pairs": int(n * (n - 1)),
    }


@torch.no_grad()
def identity_distinctness(embed_fn: EmbedFn, identities: Sequence[int], size: int = 64, seed: int = 0,
                          batch_size: int = 64) -> Dict[str, Dict[str, float]]:
    """`probe_verification` of `embed_fn` (images ``(B, 3, S, S)`` in [0, 1] → embeddings) for every condition."""
    renderer = FaceWorldRenderer(size)
    embeddings = {}
    for name, scene in condition_scenes(identities, seed).items():
        parts = []
        for start in range(0, len(identities), batch_size):
            part = {k: v[start:start + batch_size] for k, v in scene.items()}
            parts.append(embed_fn(renderer.render(part, ("image",))["image"]))
        embeddings[name] = torch.cat(parts)
    return {name: probe_verification(embeddings["reference"], embeddings[name], seed) for name in CONDITIONS}


# --------------------------------------------------------------------------------------------- speed
def render_speed(size: int, keys, batch_size: int = 32, repeats: int = 3, threads: int = 1) -> float:
    """Samples/s of rendering `FaceWorldStream` batches (scene sampling included) on `threads` torch threads."""
    from facezoo.utils.flops import time_call

    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        renderer = FaceWorldRenderer(size)
        stream = FaceWorldStream(split="test", size=size, batch_size=batch_size, keys=keys)
        counter = iter(range(10**9))
        timing = time_call(lambda: stream.batch(next(counter), renderer), warmup=1, repeats=repeats)
    finally:
        torch.set_num_threads(previous)
    return batch_size / timing.median


# --------------------------------------------------------------------------------------------- report
def contact_sheet(sample: Dict[str, torch.Tensor], path: Path, count: int, scale: int = 2) -> Path:
    """Save `count` samples as rows of (image, semantic map, sketch), upscaled `scale` x (nearest) to be legible."""
    import PIL.Image

    from facezoo.data.faceworld.__main__ import _palette  # the colours of docs/faceworld.png
    from facezoo.utils.images import make_grid

    palette = _palette(len(SEMANTIC_CLASSES))
    cells = []
    for i in range(min(count, len(sample["image"]))):
        cells += [sample["image"][i], palette[sample["semantic"][i]].permute(2, 0, 1),
                  1 - sample["sketch"][i].expand(3, -1, -1)]
    grid = make_grid(torch.stack(cells), nrow=3)
    grid = F.interpolate(grid.unsqueeze(0), scale_factor=scale, mode="nearest")[0]
    arr = (grid.clamp(0, 1).permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)
    PIL.Image.fromarray(arr).save(path)
    return path


def _render_ground_truth(settings: Settings, seed: int):
    """The same test scenes rendered with all keys without and with an occluder (kinds taken in turn)."""
    per_identity = 4
    ds = FaceWorld(split="test", size=settings.size, seed=seed, samples_per_identity=per_identity,
                   num_identities=math.ceil(settings.gt_samples / per_identity), keys="all")
    scene = ds.scenes(list(range(settings.gt_samples)))
    clean = dict(scene, occluder=torch.full_like(scene["occluder"], -1))
    occluded = dict(scene, occluder=torch.arange(settings.gt_samples) % len(OCCLUDERS))
    out = {}
    for name, sc in (("no occluder", clean), ("one occluder", occluded)):
        batches = [ds.renderer.render({k: v[i:i + 64] for k, v in sc.items()}, ALL_KEYS)
                   for i in range(0, settings.gt_samples, 64)]
        sample = {k: torch.cat([b[k] for b in batches]) for k in ALL_KEYS}
        sample["_occluder"] = sc["occluder"]
        out[name] = (sc, sample)
    return ds.renderer, out


def _load_recogniser(name: str):
    from facezoo.eval.toolkit import _load_named
    from facezoo.face.identity_net import IdentityNet

    return _load_named(IdentityNet, name)


def main(args: argparse.Namespace, recognisers: Optional[Dict[str, torch.nn.Module]] = None,
         settings: Optional[Settings] = None) -> Report:
    """Evaluate FaceWorld (see the module docstring); returns the `Report`.

    Args:
        args: ``python -m facezoo.eval`` arguments (``quick``, ``seed``, ``assets``).
        recognisers: name → IdentityNet to judge identities with; defaults to the shipped `RECOGNISERS`
            (a missing one gets a note instead of rows).
        settings: sample sizes; defaults to `QUICK` under ``--quick`` and `FULL` otherwise.
    """
    quick = bool(getattr(args, "quick", False))
    settings = settings or (QUICK if quick else FULL)
    seed = int(getattr(args, "seed", 0))
    torch.manual_seed(seed)
    report = Report("FaceWorld: ground truth, identity distinctness and speed")
    report.add_text(
        f"Measured on FaceWorld *test* identities at {settings.size} px by `python -m facezoo.eval faceworld` "
        f"(seed {seed}); what the keys mean is in [docs/faceworld.md](../faceworld.md)."
        + (" **Quick run: small sample sizes, numbers not for the docs.**" if quick else "")
    )

    # 1. ground truth
    renderer, rendered = _render_ground_truth(settings, seed)
    rows = []
    for name, (scene, sample) in rendered.items():
        m = ground_truth_consistency(sample, scene, renderer)
        rows.append([name, m["samples"], m["inner_lm_hit"], m["contour_lm_hit"], m["all_lm_hit_any_pose"],
                     m["rerender_psnr"], m["rerender_l1"], m["rerender_pixels"], m["face_iou"], m["occluder_iou"]])
    report.add_table(
        "Ground-truth consistency",
        ["renders", "samples", "inner landmarks on face (yaw within ±30°)", "contour landmarks on face (yaw within ±30°)",
         "all landmarks on face (any yaw)", "uv_texture re-render PSNR (dB)", "re-render L1", "share of pixels compared",
         "IoU semantic face classes vs face_mask", "IoU semantic eye_g+occluder vs occluder_mask"],
        rows,
        note=("Landmarks count as on the face when they fall on face_mask ∪ occluder_mask dilated by one pixel "
              "(contour points are fixed mesh vertices on the silhouette; at large yaw self-occluded points are still "
              "reported, hence the lower any-yaw rate). The re-render rebuilds each head from its coefficients, pose "
              "and camera with the generic rasterizer and area-weighted normals, textures it with the complete "
              "uv_texture and lights it with `light`; it is compared on head pixels one pixel away from silhouettes "
              "and occluders (FaceWorld itself uses grid normals, sparse shading and 2x supersampling)."),
    )
    occluded, clean = rendered["one occluder"][1], rendered["no occluder"][1]
    report.add_table(
        "Occluder coverage per kind",
        ["occluder", "samples", "share of the image", "share of the face it hides"],
        occluder_coverage(occluded, clean),
        note="Face share: occluder_mask over the face_mask of the same scene rendered without the occluder. Clear "
             "glasses leave the eyes visible, so only their frames count.",
    )
    if getattr(args, "assets", None) is not None:
        path = contact_sheet(occluded, Path(args.assets) / "contact_sheet.png", settings.sheet_samples)
        report.add_image(path, "test-split samples with an occluder: image, semantic map (CelebAMask-HQ classes "
                               "+ occluder), sketch")

    # 2. identity distinctness
    identities = [int(i) for i in split_identities("test")[: settings.identities]]
    if recognisers is None:
        recognisers, missing = {}, []
        for name in RECOGNISERS:
            net, why = _load_recogniser(name)
            if net is None:
                # the reason names the checkpoint folder: keep machine-specific paths out of the docs
                missing.append(f"`{name}` is not available ({why.replace(str(Path.cwd()) + os.sep, '')})")
            else:
                recognisers[name] = net
    else:
        missing = []
    id_rows = []
    for name, net in recognisers.items():
        net.eval()
        results = identity_distinctness(lambda x, net=net: net(x).normalized, identities, settings.size, seed)
        for condition, r in results.items():
            id_rows.append([name, condition, r["tar_at_far_1e-3"], r["roc_auc"],
                            f"{100 * r['accuracy']:.2f} ± {100 * r['accuracy_std']:.2f}", r["genuine_cos"],
                            r["impostor_cos"]])
    n = len(identities)
    text = (f"{n} test identities; each frontal-neutral reference against one probe per condition: {n} genuine and "
            f"{n * (n - 1)} impostor pairs for TAR and AUC; 10-fold accuracy on the {n} genuine pairs plus {n} "
            "random impostor pairs. `identitynet_eval` is the judge no method trains with; `identitynet` is the "
            "recogniser the methods' identity losses use (trained on the train identities).")
    if missing:
        text += " Not measured: " + "; ".join(missing) + "."
    if id_rows:
        report.add_table("Identity distinctness: verification by probe condition",
                         ["recogniser", "probe condition", "TAR @ FAR=1e-3", "ROC AUC", "10-fold accuracy (%)",
                          "mean genuine cos", "mean impostor cos"], id_rows, note=text)
    else:
        report.add_text("### Identity distinctness\n\n" + text)

    # 3. speed
    speed_rows = []
    for size in settings.speed_sizes:
        speed_rows.append([size] + [render_speed(size, keys, settings.speed_batch, settings.speed_repeats)
                                    for keys in (FAST_KEYS, "all")])
    report.add_table(
        "Render speed (1 thread)",
        ["size (px)", "image only (samples/s)", "all ground truth (samples/s)"], speed_rows,
        note=(f"Batches of {settings.speed_batch} from FaceWorldStream (scene sampling included), median of "
              f"{settings.speed_repeats}, one torch thread, on a shared machine; `bench/faceworld.py` has the stage "
              "breakdown and the DataLoader rate."),
    )
    return report


__all__ = [
    "Settings", "FULL", "QUICK", "CONDITIONS", "RECOGNISERS", "rerender_uv_texture", "landmark_hits",
    "ground_truth_consistency", "occluder_coverage", "condition_scenes", "probe_verification",
    "identity_distinctness", "render_speed", "contact_sheet", "main",
]
