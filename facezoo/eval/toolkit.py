"""``python -m facezoo.eval toolkit``: evidence that the face toolkit's parts work.

* Identity: verification of the shipped IdentityNets on FaceWorld *test* identities (all genuine and impostor pairs
  of the renders; TAR at FAR=1e-3, ROC AUC), next to dlib's 128-d descriptor on the same pairs.
* 3D: the 3DMM regressor's landmark NME (projected model landmarks vs FaceWorld's exact 2D landmarks) and its
  parameter errors, on FaceWorld test renders.
* Parser: per-class and mean IoU, face-mask IoU, on FaceWorld test renders.
* Detection: dlib's hit rate and landmark sanity on the packaged real photos.

The helpers (`faceworld_verification`, ...) are also used by the training scripts to fill in their model cards.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Callable, Dict, Iterable, Optional

import numpy as np
import torch

from facezoo.eval.features import extract_features
from facezoo.eval.verification import pairwise_cosine, roc_auc, tar_at_far

EmbedFn = Callable[[torch.Tensor], torch.Tensor]


def all_pairs(embeddings: torch.Tensor, labels: torch.Tensor):
    """Cosine scores and same-identity labels of every unordered pair of rows: ``(scores (P,), genuine (P,))``."""
    sims = pairwise_cosine(embeddings, embeddings)
    labels = np.asarray(labels)
    i, j = np.triu_indices(len(labels), k=1)
    return sims[i, j], (labels[i] == labels[j]).astype(np.int64)


def verification_metrics(embeddings: torch.Tensor, labels: torch.Tensor) -> Dict[str, float]:
    """TAR at FAR = 1e-3 and 1e-2, ROC AUC, and pair counts over all pairs of `embeddings`."""
    scores, genuine = all_pairs(embeddings, labels)
    return {
        "tar_at_far_1e-3": round(tar_at_far(scores, genuine, 1e-3), 4),
        "tar_at_far_1e-2": round(tar_at_far(scores, genuine, 1e-2), 4),
        "roc_auc": round(roc_auc(scores, genuine), 4),
        "genuine_pairs": int(genuine.sum()),
        "impostor_pairs": int((1 - genuine).sum()),
    }


def render_faceworld(split: str = "test", size: int = 64, num_identities: Optional[int] = 200,
                     samples_per_identity: int = 4, seed: int = 1, keys: Iterable[str] = ("image", "identity"),
                     occluder_prob: float = 0.0, batch_size: int = 64,
                     cache_path: Optional[str] = None) -> Dict[str, torch.Tensor]:
    """Render a FaceWorld split into one dict of stacked tensors (deterministic for its arguments).

    ``image`` (and any other 3-channel image key) is returned as ``uint8`` ``(N, 3, S, S)``: a quarter of the memory
    of float32, which matters when training scripts hold tens of thousands of renders. FaceWorld renders cost
    ~20-40 ms each on one core, several times a small network's training step, so training scripts render once into
    `cache_path` (a safetensors file, reused when its metadata matches) and train for several epochs on it.
    """
    from safetensors.torch import load_file, save_file

    from facezoo.data.faceworld import FaceWorld

    keys = tuple(keys)
    meta = {"split": split, "size": str(size), "num_identities": str(num_identities),
            "samples_per_identity": str(samples_per_identity), "seed": str(seed), "keys": ",".join(keys),
            "occluder_prob": str(occluder_prob)}
    if cache_path is not None and Path(cache_path).is_file():
        from safetensors import safe_open

        with safe_open(cache_path, "pt") as f:
            if f.metadata() == meta:
                return load_file(cache_path)
    dataset = FaceWorld(split=split, size=size, seed=seed, num_identities=num_identities,
                        samples_per_identity=samples_per_identity, keys=keys, occluder_prob=occluder_prob)
    parts: Dict[str, list] = {}
    for start in range(0, len(dataset), batch_size):
        batch = dataset.get_batch(list(range(start, min(len(dataset), start + batch_size))))
        for k, v in batch.items():
            if v.is_floating_point() and v.ndim == 4 and v.shape[1] == 3:
                v = (v.clamp(0, 1) * 255.0 + 0.5).to(torch.uint8)
            parts.setdefault(k, []).append(v)
    out = {k: torch.cat(v).contiguous() for k, v in parts.items()}
    if cache_path is not None:
        Path(cache_path).parent.mkdir(parents=True, exist_ok=True)
        save_file(out, cache_path, metadata=meta)
    return out


def as_float_images(images: torch.Tensor) -> torch.Tensor:
    """``uint8`` renders from `render_faceworld` → float ``[0, 1]``."""
    return images.float() / 255.0 if images.dtype == torch.uint8 else images


@torch.no_grad()
def embed(embed_fn: EmbedFn, images: torch.Tensor, batch_size: int = 128) -> np.ndarray:
    """`embed_fn` over `images` in batches (the metrics library's `extract_features`, without gradients)."""
    return extract_features(images, embed_fn, batch_size=batch_size)


def faceworld_verification(embed_fn: EmbedFn, size: int = 64, num_identities: int = 200, samples_per_identity: int = 4,
                           seed: int = 1, data: Optional[Dict[str, torch.Tensor]] = None) -> Dict[str, float]:
    """Verification of `embed_fn` (images ``(B, 3, S, S)`` in [0, 1] → embeddings) on FaceWorld test identities."""
    data = data if data is not None else render_faceworld("test", size, num_identities, samples_per_identity, seed)
    return verification_metrics(embed(lambda x: embed_fn(as_float_images(x)), data["image"]), data["identity"])


# --------------------------------------------------------------------------------------------- 3DMM on FaceWorld
class FaceWorldProjector:
    """Projects FaceWorld coefficient vectors (the ``params`` key, laid out by ``PARAM_SLICES``) to 2D landmarks
    and renders them, through FaceWorld's own head model, camera and shading, so a regressor's output can be compared
    with the exact ground truth in image space. Differentiable with respect to the coefficients.

    Args:
        size (`int`, *optional*, defaults to 64): image side of the landmarks and renders.
    """

    def __init__(self, size: int = 64):
        from facezoo.data.faceworld import PARAM_SLICES, FaceWorldRenderer

        self.size = size
        self.slices = dict(PARAM_SLICES)
        self.renderer = FaceWorldRenderer(size)

    def split(self, params: torch.Tensor) -> Dict[str, torch.Tensor]:
        return {name: params[:, s] for name, s in self.slices.items()}

    def landmarks(self, params: torch.Tensor) -> torch.Tensor:
        """The 68 landmarks ``(B, 68, 2)`` in pixels of the face that `params` ``(B, P)`` describe."""
        from facezoo.face.render import ndc_to_pixels

        p = self.split(params)
        model = self.renderer.model
        verts = model.vertices(p["id"], p["exp"])[:, model.landmark_indices]
        cam = model.transform(verts, p["pose"])
        return ndc_to_pixels(self.renderer.project(cam, p["camera"])[..., :2], self.size)

    @torch.no_grad()
    def render(self, params: torch.Tensor, scene: Dict[str, torch.Tensor]) -> torch.Tensor:
        """Render `params` with the rest of `scene` (identity texture noise, background) from the data set."""
        p = self.split(params)
        scene = dict(scene)
        scene.update(id_coeffs=p["id"], exp_coeffs=p["exp"], pose=p["pose"], light=p["light"],
                     albedo_coeffs=p["albedo"], camera=p["camera"])
        scene["occluder"] = torch.full_like(scene["occluder"], -1)
        return self.renderer.render(scene, ("image",))["image"]


def param_errors(pred: torch.Tensor, target: torch.Tensor, slices: Dict[str, slice]) -> Dict[str, float]:
    """Mean absolute error of each coefficient group (pose in degrees)."""
    out = {}
    for name, s in slices.items():
        err = (pred[:, s] - target[:, s]).abs().mean().item()
        out[f"{name}_mae" if name != "pose" else "pose_mae_deg"] = round(err * (180.0 / np.pi if name == "pose" else 1.0), 4)
    return out


@torch.no_grad()
def recon3d_metrics(regressor, data: Dict[str, torch.Tensor], projector: Optional["FaceWorldProjector"] = None,
                    batch_size: int = 128) -> Dict[str, float]:
    """Landmark NME (in %, normalised by the outer-eye-corner distance and by the landmark box size) of the projected
    predicted landmarks, per-group parameter errors, and the NME of the mean-parameter baseline (the regressor's
    untrained prediction) and of the true parameters (0: checks the projection) for scale."""
    from facezoo.eval.landmarks import landmark_nme

    projector = projector or FaceWorldProjector(data["image"].shape[-1])
    images = as_float_images(data["image"])
    pred = torch.cat([regressor(images[i:i + batch_size]).params for i in range(0, len(images), batch_size)])
    target = data["params"].float()
    lm_pred = projector.landmarks(pred)
    baseline = projector.landmarks(regressor.param_mean.expand_as(target))
    metrics = {
        "landmark_nme_pct": round(100 * float(landmark_nme(lm_pred, data["landmarks"])), 3),
        # Inter-ocular NME inflates on profile views (the eyes overlap); the box size does not.
        "landmark_nme_bbox_pct": round(100 * float(landmark_nme(lm_pred, data["landmarks"], normalization="bbox")), 3),
        "landmark_nme_pct_mean_params": round(100 * float(landmark_nme(baseline, data["landmarks"])), 3),
        "landmark_nme_pct_gt_params": round(100 * float(landmark_nme(projector.landmarks(target), data["landmarks"])), 3),
    }
    metrics.update(param_errors(pred, target, projector.slices))
    return metrics


# --------------------------------------------------------------------------------------------- parser on FaceWorld
@torch.no_grad()
def parser_metrics(parser, data: Dict[str, torch.Tensor], batch_size: int = 64) -> Dict[str, float]:
    """Mean IoU over FaceWorld's classes present in the data, face-mask IoU (mask thresholded at 0.5), pixel
    accuracy, and the IoU of a few key classes."""
    from facezoo.data.faceworld import SEMANTIC_CLASSES
    from facezoo.eval.segmentation import segmentation_scores

    images = as_float_images(data["image"])
    labels, masks = [], []
    for i in range(0, len(images), batch_size):
        out = parser(images[i:i + batch_size])
        labels.append(out.logits.argmax(1))
        masks.append(out.face_mask[:, 0] > 0.5)
    pred, pred_mask = torch.cat(labels), torch.cat(masks)
    scores = segmentation_scores(pred, data["semantic"], len(SEMANTIC_CLASSES))
    target_mask = data["face_mask"][:, 0] > 0.5
    face_iou = float((pred_mask & target_mask).sum() / (pred_mask | target_mask).sum().clamp_min(1))
    metrics = {"mean_iou": round(scores.mean_iou, 4), "face_mask_iou": round(face_iou, 4),
               "pixel_accuracy": round(scores.pixel_accuracy, 4)}
    for name in ("skin", "hair", "l_eye", "u_lip", "occluder"):
        value = scores.iou[SEMANTIC_CLASSES.index(name)]
        if np.isfinite(value):
            metrics[f"iou_{name}"] = round(float(value), 4)
    return metrics


# --------------------------------------------------------------------------------------------- detection on photos
def detection_on_photos(photos: Optional[Dict[str, np.ndarray]] = None) -> Dict[str, Dict[str, float]]:
    """dlib HOG detection + 68 landmarks + ArcFace alignment + paste-back on the packaged real photos.

    Per photo: faces found, the fit residual of the five keypoints to the ArcFace template (pixels of the 112 crop),
    and the mean absolute change inside the face box when the unedited 256 crop is pasted back (the cost of two
    resamplings; 0 outside the crop by construction).
    """
    from facezoo.assets import PHOTOS, load_photo
    from facezoo.face.alignment import align_face, face_template, transform_points
    from facezoo.face.detection import DlibFaceDetector
    from facezoo.face.paste import paste_back

    photos = photos if photos is not None else {name: load_photo(name) for name in PHOTOS}
    detector = DlibFaceDetector()
    out = {}
    for name, photo in photos.items():
        start = time.perf_counter()
        faces = detector.detect(photo)
        row = {"faces": len(faces), "hit": float(bool(faces)), "seconds": round(time.perf_counter() - start, 3),
               "scores": ", ".join(f"{f.score:.2f}" for f in faces)}
        if faces:
            face = faces[0]
            aligned = align_face(photo, face.keypoints, 112)
            fit = transform_points(face.keypoints, aligned.matrix) - face_template(112)
            row["arcface_fit_px"] = round(float(np.linalg.norm(fit, axis=1).mean()), 2)
            big = align_face(photo, face.keypoints, 256, margin=0.5)
            back = paste_back(photo, big.crop, big)
            x0, y0, x1, y1 = face.box.astype(int)
            row["paste_back_mae"] = round(float(np.abs(back[y0:y1, x0:x1].astype(float) - photo[y0:y1, x0:x1]).mean()), 2)
        out[name] = row
    return out


def detection_on_faceworld(images: torch.Tensor, upscale: int = 4) -> float:
    """Fraction of FaceWorld renders in which dlib's HOG detector finds a face (after `upscale` x bicubic upsampling,
    since dlib's detector needs faces of >= ~80 px)."""
    import cv2

    from facezoo.face.detection import DlibFaceDetector

    detector = DlibFaceDetector(upsample=0)
    hits = 0
    for img in as_float_images(images):
        arr = (img.permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)
        arr = cv2.resize(arr, None, fx=upscale, fy=upscale, interpolation=cv2.INTER_CUBIC)
        hits += bool(detector.detect(arr))
    return hits / max(1, len(images))


# --------------------------------------------------------------------------------------------- report
def _load_named(cls, name: str):
    """A shipped named weight, or None (with the reason) when this install does not have it."""
    try:
        return cls.from_pretrained(name).eval(), None
    except (OSError, FileNotFoundError, ValueError) as err:
        return None, str(err).splitlines()[0]


def _save_grid(path, rows) -> None:
    """Save rows of ``(3, H, W)`` [0, 1] tensors as one PNG."""
    import PIL.Image

    from facezoo.training.tracking import image_grid

    flat = [t for row in rows for t in row]
    PIL.Image.fromarray(image_grid(torch.stack(flat), nrow=len(rows[0]))).save(path)


def main(args: argparse.Namespace):
    """Evaluate the face toolkit; returns a `facezoo.eval.report.Report` (see the module docstring)."""
    from facezoo.eval.report import Report
    from facezoo.face.identity import DlibEncoder
    from facezoo.face.identity_net import IdentityNet
    from facezoo.face.parser import FaceParser
    from facezoo.face.regressor import Recon3DRegressor

    torch.manual_seed(args.seed)
    quick = bool(getattr(args, "quick", False))
    n_id, n_views, n_test = (20, 3, 24) if quick else (200, 4, 200)
    report = Report("Face toolkit")
    report.add_text(
        "Evidence for `facezoo.face`: detection and alignment on the packaged real photo, identity verification on "
        f"FaceWorld test identities ({n_id} identities x {n_views} renders, all pairs), 3DMM regression and face "
        f"parsing on {n_test} FaceWorld test renders. Everything runs offline on CPU."
        + (" **Quick run: small sample sizes, numbers not for the docs.**" if quick else "")
    )

    # Detection on the packaged photos.
    photos = detection_on_photos()
    rows = [[name, r["faces"], r["scores"], r.get("arcface_fit_px"), r.get("paste_back_mae"), r["seconds"]]
            for name, r in photos.items()]
    hit_rate = float(np.mean([r["hit"] for r in photos.values()]))
    report.add_table("Detection on the packaged photos (dlib HOG + 68 landmarks)",
                     ["photo", "faces found", "detector scores (largest first)", "ArcFace 5-point fit error (px @112)",
                      "paste-back MAE in face box (0-255)", "detect time (s)"], rows,
                     note=f"Detector hit rate on the packaged photos: {hit_rate:.2f}. Alignment and paste-back use the "
                          "largest face; on the astronaut photo the HOG detector (dlib's default threshold 0) also fires "
                          "weakly (score ~0.1) on the round mission patch.")
    figure = _photo_figure(args)
    if figure is not None:
        report.add_image(figure, "dlib box + 68 landmarks, ArcFace 112 crop, 256 face crop (margin 0.5), paste-back "
                                 "of that crop with its colour channels swapped (a visible, local edit)")

    # Identity verification.
    test = render_faceworld("test", 64, n_id, n_views, args.seed + 1, ("image", "identity"))
    id_rows = []
    for name in ("identitynet.faceworld_64", "identitynet_eval.faceworld_64"):
        net, why = _load_named(IdentityNet, name)
        if net is None:
            id_rows.append([name, None, None, None, f"not available: {why}"])
            continue
        m = faceworld_verification(lambda x, net=net: net(x).normalized, data=test)
        id_rows.append([name, m["tar_at_far_1e-3"], m["tar_at_far_1e-2"], m["roc_auc"], f"{net.num_parameters_millions():.2f} M params"])
    dlib_enc = DlibEncoder()
    m = faceworld_verification(dlib_enc.encode, data=test)
    id_rows.append(["dlib ResNet descriptor (128-d)", m["tar_at_far_1e-3"], m["tar_at_far_1e-2"], m["roc_auc"],
                    "run on the 64 px renders resized to 150 px, without detection"])
    hit_fw = detection_on_faceworld(test["image"][: min(40, len(test["image"]))])
    report.add_table(
        "Identity verification on FaceWorld test identities",
        ["recogniser", "TAR @ FAR=1e-3", "TAR @ FAR=1e-2", "ROC AUC", "note"], id_rows,
        note=(f"{m['genuine_pairs']} genuine and {m['impostor_pairs']} impostor pairs. dlib's HOG detector finds a face "
              f"in {hit_fw:.0%} of these renders (4x upsampled), so dlib's descriptor is given the renders directly "
              "(they are already face-centred crops, framed a little tighter than dlib's 150 px chips)."),
    )

    # 3DMM regression and parsing.
    data = render_faceworld("test", 64, n_test, 1, args.seed + 1, ("image", "params", "landmarks", "semantic", "face_mask"),
                            occluder_prob=0.0)
    reg, why = _load_named(Recon3DRegressor, "recon3d.faceworld_64")
    if reg is None:
        report.add_text(f"3DMM regressor: not available ({why}).")
    else:
        projector = FaceWorldProjector(64)
        r = recon3d_metrics(reg, data, projector)
        report.add_table("3DMM regression on FaceWorld test renders", list(r), [list(r.values())],
                         note="NME in % of the outer-eye-corner distance (`_bbox`: of the landmark box size, robust to profile "
                              "views); `_mean_params` predicts the training mean for every image, `_gt_params` projects "
                              "the true coefficients (checks the projection). Pose error in degrees.")
        figure = _recon_figure(args, reg, projector)
        if figure is not None:
            report.add_image(figure, "top: FaceWorld test renders; bottom: the regressed coefficients rendered by "
                                     "FaceWorld's renderer (same background and texture noise)")
    parser_net, why = _load_named(FaceParser, "faceparser.faceworld_64")
    if parser_net is None:
        report.add_text(f"Face parser: not available ({why}).")
    else:
        occluded = render_faceworld("test", 64, n_test, 1, args.seed + 1, ("image", "semantic", "face_mask"),
                                    occluder_prob=0.3)
        rows = []
        for label, d in (("no occluders", data), ("occluders p=0.3", occluded)):
            p = parser_metrics(parser_net, d)
            rows.append([label, p["mean_iou"], p["face_mask_iou"], p["pixel_accuracy"], p.get("iou_skin"), p.get("iou_hair")])
        report.add_table("Face parsing on FaceWorld test renders", ["renders", "mean IoU", "face-mask IoU",
                                                                    "pixel accuracy", "IoU skin", "IoU hair"], rows)
    return report


def _photo_figure(args) -> Optional[Path]:
    """Astronaut: detection + landmarks, the ArcFace crop, the 256 face crop and a paste-back of an edited crop."""
    import cv2
    import PIL.Image

    from facezoo.assets import load_photo
    from facezoo.face.alignment import align_face
    from facezoo.face.detection import DlibFaceDetector
    from facezoo.face.paste import paste_back

    assets = getattr(args, "assets", None)
    if assets is None:
        return None
    photo = load_photo("astronaut")
    face = DlibFaceDetector().detect_largest(photo)
    marked = photo.copy()
    x0, y0, x1, y1 = face.box.astype(int)
    cv2.rectangle(marked, (x0, y0), (x1, y1), (0, 255, 0), 2)
    for x, y in face.landmarks:
        cv2.circle(marked, (int(x), int(y)), 2, (255, 0, 0), -1)
    arc = align_face(photo, face.keypoints, 112).crop
    big = align_face(photo, face.keypoints, 256, margin=0.5)
    edited = paste_back(photo, big.crop[:, :, ::-1].copy(), big)  # channels swapped: a visible, local edit
    h = 256
    tiles = [cv2.resize(marked, (h, h)), cv2.resize(arc, (h, h), interpolation=cv2.INTER_NEAREST), big.crop,
             cv2.resize(edited, (h, h))]
    path = Path(assets) / "astronaut_pipeline.png"
    PIL.Image.fromarray(np.concatenate(tiles, 1)).save(path)
    return path


def _recon_figure(args, reg, projector) -> Optional[Path]:
    assets = getattr(args, "assets", None)
    if assets is None:
        return None
    from facezoo.data.faceworld import FaceWorld

    ds = FaceWorld("test", 64, seed=args.seed + 1, num_identities=8, samples_per_identity=1)
    scene = ds.scenes(list(range(8)))
    images = ds.renderer.render(scene, ("image",))["image"]
    with torch.no_grad():
        pred = reg(images).params
    renders = projector.render(pred, scene)
    path = Path(assets) / "recon3d.png"
    _save_grid(path, [list(images), list(renders)])
    return path
