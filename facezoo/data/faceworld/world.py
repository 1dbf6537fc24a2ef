"""FaceWorld scenes: sampling, batched rendering with ground truth, the map-style dataset and the training stream."""

from __future__ import annotations

import functools
import math
import os
import time
from typing import Dict, Iterator, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset, IterableDataset, get_worker_info

from ...face.render import MeshRenderer, ndc_to_pixels
from .expression import sample_expression
from .identity import ALBEDO_NAMES, SEMANTIC_CLASSES, TexturePainter, identity_params
from .mesh import EXP_MODE_NAMES, GRID_SHAPE, ID_MODE_NAMES, build_head_model, grid_normals
from .occluders import GLASSES, OCCLUDERS, draw_occluders

__all__ = [
    "FaceWorld", "FaceWorldStream", "FaceWorldRenderer", "split_identities", "sample_scenes", "render_batch", "shade",
    "shade_points", "ALL_KEYS", "FAST_KEYS", "PARAM_SLICES", "FACE_CLASSES", "NUM_IDENTITIES", "LIGHT_NAMES",
]

NUM_IDENTITIES = 10_000
_SPLITS = {"train": (0, 8000), "val": (8000, 9000), "test": (9000, 10_000)}
_SPLIT_CODE = {"train": 1, "val": 2, "test": 3}
TEXTURE_SIZE = 128
LOWRES_SIZE = 32

LIGHT_NAMES = ("ambient_r", "ambient_g", "ambient_b", "dir_x", "dir_y", "dir_z", "dir_r", "dir_g", "dir_b", "specular")
CAMERA_NAMES = ("scale", "shift_x", "shift_y")


def _slices():
    sizes = [("id", len(ID_MODE_NAMES)), ("exp", len(EXP_MODE_NAMES)), ("pose", 3), ("light", len(LIGHT_NAMES)),
             ("albedo", len(ALBEDO_NAMES)), ("camera", len(CAMERA_NAMES))]
    out, start = {}, 0
    for name, n in sizes:
        out[name] = slice(start, start + n)
        start += n
    return out


# Where each part lives inside the "params" vector.
PARAM_SLICES: Dict[str, slice] = _slices()
FACE_CLASSES = tuple(SEMANTIC_CLASSES.index(c) for c in
                     ("skin", "nose", "l_eye", "r_eye", "l_brow", "r_brow", "mouth", "u_lip", "l_lip"))
ALL_KEYS = (
    "image", "identity", "identity_index", "expression", "id_coeffs", "exp_coeffs", "pose", "light", "albedo_coeffs",
    "camera", "params", "face_mask", "occluder_mask", "semantic", "landmarks", "landmarks_3d", "uv_texture",
    "uv_visibility", "frontal", "second_view", "second_pose", "sketch", "lowres",
)
FAST_KEYS = ("image", "identity", "identity_index", "exp_coeffs", "pose")

# Camera: the head (crown at y=1, chin at y=-1) seen from distance _DIST with a long lens, framed around _Y_CENTRE.
_DIST = 12.0
_FOCAL = 0.63
_Y_CENTRE = -0.2
_BODY_FOLLOW = torch.tensor([0.3, 0.1, 0.1])  # share of (yaw, pitch, roll) that the shoulders follow


def split_identities(split: str) -> np.ndarray:
    """Global identity ids of ``split`` ("train" 8,000 / "val" 1,000 / "test" 1,000 of 10,000), disjoint and fixed."""
    if split not in _SPLITS:
        raise ValueError(f"split must be one of {sorted(_SPLITS)}, got {split!r}")
    perm = np.random.default_rng(20240601).permutation(NUM_IDENTITIES)
    lo, hi = _SPLITS[split]
    return np.sort(perm[lo:hi]).astype(np.int64)


# ----------------------------------------------------------------------------------------------------- sampling
def _sample_one(rng: np.random.Generator, occluder_prob: float, expression_prob: float) -> Dict[str, np.ndarray]:
    label, weights = sample_expression(rng, expression_prob)
    deg = math.pi / 180

    def pose(yaw_sd):
        return np.array([np.clip(rng.normal(0, yaw_sd), -90, 90), np.clip(rng.normal(0, 10), -30, 30),
                         np.clip(rng.normal(0, 7), -20, 20)]) * deg

    p = pose(30.0)  # ~95% of yaws within +-60 degrees
    second = pose(45.0)
    tint = 1 + rng.normal(0, 0.06, 3)
    az, el = rng.uniform(-80, 80) * deg, rng.uniform(-20, 70) * deg
    direction = np.array([math.sin(az) * math.cos(el), math.sin(el), math.cos(az) * math.cos(el)])
    # ambient + directional add up to 0.9-1.15 so that faces are neither washed out nor murky
    ambient = rng.uniform(0.25, 0.55)
    key = rng.uniform(0.9, 1.15) - ambient
    light = np.concatenate([ambient * tint, direction, key * tint[::-1], [rng.uniform(0.0, 0.25)]])
    camera = np.array([rng.uniform(0.94, 1.08), rng.uniform(-0.04, 0.04), rng.uniform(-0.04, 0.04)])
    occ = int(rng.integers(len(OCCLUDERS))) if rng.random() < occluder_prob else -1
    bg = np.concatenate([rng.random(3), rng.random(3), rng.random(6)])
    return {
        "expression": np.int64(label), "exp_coeffs": weights, "pose": p, "second_pose": second, "light": light,
        "camera": camera, "occluder": np.int64(occ), "occluder_params": rng.random(8), "background": bg,
        "background_noise": rng.random((3, 6, 6)),
    }


def sample_scenes(
    identity_ids: Sequence[int], seeds: Sequence[Sequence[int]], occluder_prob: float = 0.0,
    expression_prob: float = 0.7,
) -> Dict[str, torch.Tensor]:
    """A batch of scene parameters: identity ``identity_ids[k]`` with everything else drawn from
    ``np.random.default_rng(seeds[k])`` (pose, expression, light, camera, background, occluder)."""
    rows = [_sample_one(np.random.default_rng(list(s)), occluder_prob, expression_prob) for s in seeds]
    scene = {k: torch.from_numpy(np.stack([r[k] for r in rows])) for k in rows[0]}
    scene = {k: v.float() if v.is_floating_point() else v.long() for k, v in scene.items()}
    scene["identity"] = torch.as_tensor(np.asarray(identity_ids, dtype=np.int64))
    scene.update(identity_params([int(i) for i in identity_ids]))
    return scene


# ----------------------------------------------------------------------------------------------------- rendering
def shade_points(albedo: torch.Tensor, normals: torch.Tensor, light: torch.Tensor) -> torch.Tensor:
    """FaceWorld's lighting model on channel-last arrays: ``albedo (..., 3)``, unit camera-space ``normals (..., 3)``
    and ``light (..., 10)`` (see :data:`LIGHT_NAMES`), broadcast together. Ambient is a sky/ground hemisphere
    (dimmer from below); the directional light is a slightly wrapped Lambertian (a softer terminator, as light
    scattering under skin gives) plus a Blinn-Phong highlight towards a viewer on +z."""
    amb, d, col, spec = light[..., 0:3], F.normalize(light[..., 3:6], dim=-1), light[..., 6:9], light[..., 9:10]
    ndotl_raw = (normals * d).sum(-1, keepdim=True)
    ndotl = ((ndotl_raw + 0.25) / 1.25).clamp_min(0)
    hemi = 0.8 + 0.2 * normals[..., 1:2]
    h = F.normalize(d + torch.tensor([0.0, 0.0, 1.0]), dim=-1)
    highlight = (normals * h).sum(-1, keepdim=True).clamp_min(0) ** 16 * (ndotl_raw > -0.25)
    return albedo * (amb * hemi + col * ndotl) + spec * col * highlight


def shade(albedo: torch.Tensor, normals: torch.Tensor, light: torch.Tensor) -> torch.Tensor:
    """:func:`shade_points` on dense maps: ``albedo, normals (B, 3, H, W)``, ``light (B, 10)`` -> ``(B, 3, H, W)``."""
    out = shade_points(albedo.permute(0, 2, 3, 1), normals.permute(0, 2, 3, 1), light.view(-1, 1, 1, light.shape[-1]))
    return out.permute(0, 3, 1, 2)


def _background(scene: Dict[str, torch.Tensor], size: int) -> torch.Tensor:
    """Procedural backgrounds: a two-colour gradient, low-frequency blotches and, for some, soft stripes."""
    bg = scene["background"]
    b = bg.shape[0]
    # Muted colours (half-way to a random grey): indoor walls and skies rather than saturated noise.
    grey = bg[:, 11:12] * 0.6 + 0.2
    c1, c2 = (bg[:, 0:3] + grey) * 0.5, (bg[:, 3:6] + grey) * 0.5
    ang = bg[:, 6] * 2 * math.pi
    coords = (torch.arange(size, dtype=torch.float32) + 0.5) / size * 2 - 1
    yy, xx = torch.meshgrid(coords, coords, indexing="ij")
    t = (xx * torch.cos(ang).view(-1, 1, 1) + yy * torch.sin(ang).view(-1, 1, 1)) * 0.5 + 0.5
    img = c1.view(b, 3, 1, 1) * (1 - t.unsqueeze(1)) + c2.view(b, 3, 1, 1) * t.unsqueeze(1)
    # bicubic to a coarse grid then bilinear: smooth blotches at a fraction of the cost of a full bicubic
    noise = F.interpolate(scene["background_noise"], size=(32, 32), mode="bicubic", align_corners=False)
    noise = F.interpolate(noise, size=(size, size), mode="bilinear", align_corners=False)
    img = img + (bg[:, 7].view(b, 1, 1, 1) * 0.25) * (noise - 0.5)
    sang = bg[:, 8] * math.pi
    stripes = torch.sin((xx * torch.cos(sang).view(-1, 1, 1) + yy * torch.sin(sang).view(-1, 1, 1)) * (4 + 20 * bg[:, 9]).view(-1, 1, 1))
    img = img * (1 + (bg[:, 10] > 0.7).float().view(b, 1, 1, 1) * 0.12 * stripes.unsqueeze(1))
    return img.clamp(0, 1)


class FaceWorldRenderer:
    """Renders batches of FaceWorld scenes at one output size. Holds the head model, the texture painter, the
    rasterizers and the UV-space rasterization of the mesh (for ``uv_visibility``); create one per size and reuse it.

    Args:
        size (`int`): output resolution ``S``.
        supersample (`int`, *optional*): render at ``S * supersample`` and average down (anti-aliasing); defaults to
            2 up to 64 px and 1 above, where faces are big enough for aliasing to matter little.
        texture_size (`int`, *optional*, defaults to 128): UV texture resolution ``T``.
    """

    def __init__(self, size: int = 64, supersample: Optional[int] = None, texture_size: int = TEXTURE_SIZE):
        self.size = size
        self.ss = supersample if supersample is not None else (2 if size <= 64 else 1)
        self.hr = size * self.ss
        self.model = build_head_model()
        self.painter = TexturePainter(texture_size)
        self.texture_size = texture_size
        self.rasterizer = MeshRenderer(self.hr)
        # Neck and shoulders follow only part of the head's rotation (linear-blend skinning on the canonical height),
        # so a tilted head does not tilt the torso. Everything from the jaw up is rigid: landmarks and the face
        # obey MorphableModel.transform(verts, pose) exactly.
        y = self.model.mean_shape[:, 1]
        t = ((-1.0 - y) / 0.45).clamp(0, 1)
        self.body_weight = (t * t * (3 - 2 * t)).view(1, -1, 1)
        self.mean_normals = grid_normals(self.model.mean_shape.unsqueeze(0), *GRID_SHAPE)
        # Hair volume stays off the face (front of the head below the forehead), so landmark vertices never move.
        m = self.model.mean_shape
        theta = torch.atan2(m[:, 0], m[:, 2]).abs()
        face = (theta < 1.4) & (m[:, 1] < 0.3) & (m[:, 1] > -1.05)
        self.hair_allowed = (~face).float().view(1, -1)
        self._uv_frags = None

    # -- geometry
    def hair_offsets(self, hair: torch.Tensor, albedo_coeffs: torch.Tensor) -> torch.Tensor:
        """Model-space hair volume ``(B, V, 3)``: vertices under scalp hair (``hair (B, T, T)`` from the painter) move
        out along the mean-shape normal by 2-10 cm (more for long hair, most on the crown). It is not part of
        the linear MorphableModel and leaves the face (where the landmarks are) alone."""
        uv = self.model.uv_coords.view(1, 1, -1, 2).expand(hair.shape[0], -1, -1, -1)
        cover = F.grid_sample(hair.unsqueeze(1), uv * 2 - 1, mode="bilinear", padding_mode="border",
                              align_corners=False)[:, 0, 0]  # (B, V)
        length = albedo_coeffs[:, ALBEDO_NAMES.index("hair_length")].view(-1, 1)
        crown = 0.6 + 0.4 * self.model.mean_shape[:, 1].clamp(0, 1).view(1, -1)
        cover = ((cover - 0.02) / 0.98).clamp(min=0)  # the sigmoid tail of the hairline adds nothing
        thickness = (0.035 + 0.05 * length) * crown * cover * self.hair_allowed
        return thickness.unsqueeze(-1) * self.mean_normals

    def camera_vertices(self, id_coeffs, exp_coeffs, pose, offsets: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Camera-space vertices ``(B, V, 3)`` (x right, y up, z towards the camera; head centre at the origin),
        with optional model-space ``offsets`` (hair volume) added before posing."""
        verts = self.model.vertices(id_coeffs, exp_coeffs)
        if offsets is not None:
            verts = verts + offsets
        head = self.model.transform(verts, pose)
        body = self.model.transform(verts, pose * _BODY_FOLLOW)
        return head + (body - head) * self.body_weight

    @staticmethod
    def normals(cam_verts: torch.Tensor) -> torch.Tensor:
        """Unit vertex normals ``(B, V, 3)`` of head vertices (the head is a grid, see :func:`mesh.grid_normals`)."""
        return grid_normals(cam_verts, *GRID_SHAPE)

    @staticmethod
    def project(cam_verts: torch.Tensor, camera: torch.Tensor) -> torch.Tensor:
        """Perspective projection to the renderer's NDC ``(x, y, depth)`` with per-sample ``camera (B, 3)``."""
        depth = _DIST - cam_verts[..., 2]
        k = (_FOCAL * _DIST) * camera[:, 0:1] / depth
        x = cam_verts[..., 0] * k + camera[:, 1:2]
        y = (cam_verts[..., 1] - _Y_CENTRE) * k + camera[:, 2:3]
        return torch.stack([x, y, depth], -1)

    def _views(self, scene, views: Sequence[str]):
        """Stack the requested views (``main``, ``frontal``, ``second``) of every sample into one batch."""
        ids, exps, poses, cams = [], [], [], []
        for view in views:
            ids.append(scene["id_coeffs"])
            cams.append(scene["camera"])
            if view == "main":
                exps.append(scene["exp_coeffs"])
                poses.append(scene["pose"])
            elif view == "frontal":
                exps.append(torch.zeros_like(scene["exp_coeffs"]))
                poses.append(torch.zeros_like(scene["pose"]))
            else:
                exps.append(scene["exp_coeffs"])
                poses.append(scene["second_pose"])
        return torch.cat(ids), torch.cat(exps), torch.cat(poses), torch.cat(cams)

    def render(
        self, scene: Dict[str, torch.Tensor], keys: Union[str, Sequence[str]] = "all",
        timings: Optional[Dict[str, float]] = None,
    ) -> Dict[str, torch.Tensor]:
        """Render ``scene`` (from :func:`sample_scenes`) -> dict of batched tensors for ``keys``.

        ``timings``, if given, accumulates seconds per stage (texture, geometry, rasterize, shade, occluders,
        ground_truth) for ``bench/faceworld.py``."""
        lap = _Laps(timings)
        keys = ALL_KEYS if keys == "all" else tuple(keys)
        unknown = set(keys) - set(ALL_KEYS)
        if unknown:
            raise ValueError(f"unknown FaceWorld keys {sorted(unknown)}; known: {ALL_KEYS}")
        b = scene["identity"].shape[0]
        need_labels = any(k in keys for k in ("face_mask", "occluder_mask", "semantic", "sketch"))
        views = ["main"] + [v for v, k in (("frontal", "frontal"), ("second", "second_view")) if k in keys]
        id_c, exp_c, pose, cam = self._views(scene, views)
        light = scene["light"].repeat(len(views), 1)
        extras: Dict[str, torch.Tensor] = {}
        texture, label_tex = self.painter(scene, with_labels=need_labels, extras=extras)
        tex = texture.repeat(len(views), 1, 1, 1)
        lap("texture")
        hair = self.hair_offsets(extras["hair"], scene["albedo_coeffs"]).repeat(len(views), 1, 1)
        cam_verts = self.camera_vertices(id_c, exp_c, pose, hair)
        ndc = self.project(cam_verts, cam)
        lap("geometry")
        frags = self.rasterizer.rasterize(ndc, self.model.triangles)
        lap("rasterize")
        r = self.rasterizer
        # Shading works on the covered pixels only (about a third of the image), then lands on the background.
        nb = frags.pix // (self.hr * self.hr)
        uv_pts = r.interpolate_sparse(frags, self.model.uv_coords, self.model.triangles)
        normal_pts = F.normalize(r.interpolate_sparse(frags, self.normals(cam_verts), self.model.triangles), dim=-1)
        albedo = r.sample_texture_sparse(tex, uv_pts, nb)
        colour = shade_points(albedo, normal_pts, light[nb]).clamp(0, 1)
        bg = _background(scene, self.hr).repeat(len(views), 1, 1, 1)
        rgb = bg.permute(0, 2, 3, 1).reshape(-1, 3).index_put((frags.pix,), colour)
        rgb = rgb.view(bg.shape[0], self.hr, self.hr, 3).permute(0, 3, 1, 2)
        lap("shade")

        # landmarks of the main view
        lm3d = self.model.landmarks(cam_verts[:b])
        lm2d = ndc_to_pixels(self.project(lm3d, scene["camera"])[..., :2], self.size)
        occ_rgb, cover = draw_occluders(scene["occluder"], scene["occluder_params"], lm2d * self.ss, self.hr)
        main = torch.where(cover.unsqueeze(1), occ_rgb, rgb[:b])
        out: Dict[str, torch.Tensor] = {}
        out["image"] = self._down(main)
        lap("occluders")
        if "frontal" in keys:
            out["frontal"] = self._down(rgb[b * views.index("frontal"): b * (views.index("frontal") + 1)])
        if "second_view" in keys:
            out["second_view"] = self._down(rgb[b * views.index("second"): b * (views.index("second") + 1)])
        if "second_pose" in keys:
            out["second_pose"] = scene["second_pose"]
        if need_labels:
            uv = r.scatter(frags, uv_pts)
            sem = r.sample_texture(label_tex.unsqueeze(1).float(), uv[:b], mode="nearest")[:, 0].round().long()
            sem = torch.where(frags.mask[:b], sem, 0)
            glasses = torch.zeros_like(cover)
            for name in GLASSES:
                glasses |= (scene["occluder"] == OCCLUDERS.index(name)).view(-1, 1, 1)
            occ_label = torch.where(glasses, SEMANTIC_CLASSES.index("eye_g"), SEMANTIC_CLASSES.index("occluder"))
            sem = torch.where(cover, occ_label, sem)
            sem = self._down_labels(sem)
            face = torch.zeros_like(sem, dtype=torch.bool)
            for c in FACE_CLASSES:
                face |= sem == c
            occluded = (sem == SEMANTIC_CLASSES.index("eye_g")) | (sem == SEMANTIC_CLASSES.index("occluder"))
            if "semantic" in keys:
                out["semantic"] = sem
            if "face_mask" in keys:
                out["face_mask"] = face.unsqueeze(1).float()
            if "occluder_mask" in keys:
                out["occluder_mask"] = occluded.unsqueeze(1).float()
            if "sketch" in keys:
                out["sketch"] = _label_edges(sem).unsqueeze(1).float()
        if "landmarks" in keys:
            out["landmarks"] = lm2d
        if "landmarks_3d" in keys:
            out["landmarks_3d"] = lm3d
        if "uv_texture" in keys:
            out["uv_texture"] = texture
        if "uv_visibility" in keys:
            out["uv_visibility"] = self._uv_visibility(cam_verts[:b], ndc[:b], frags, cover)
        if "lowres" in keys:
            out["lowres"] = F.interpolate(out["image"], size=(LOWRES_SIZE, LOWRES_SIZE), mode="area")
        for k in ("identity", "expression", "id_coeffs", "exp_coeffs", "pose", "light", "albedo_coeffs", "camera"):
            if k in keys:
                out[k] = scene[k]
        if "identity_index" in keys:
            out["identity_index"] = scene.get("identity_index", torch.full((b,), -1, dtype=torch.long))
        if "params" in keys:
            out["params"] = torch.cat([scene["id_coeffs"], scene["exp_coeffs"], scene["pose"], scene["light"],
                                       scene["albedo_coeffs"], scene["camera"]], 1)
        lap("ground_truth")
        return {k: out[k] for k in keys}

    def _down(self, img: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(img, self.ss) if self.ss > 1 else img

    def _down_labels(self, sem: torch.Tensor) -> torch.Tensor:
        """Majority label of each ``ss x ss`` block (ties go to the lower class id)."""
        if self.ss == 1:
            return sem
        onehot = F.one_hot(sem, len(SEMANTIC_CLASSES)).permute(0, 3, 1, 2).float()
        return F.avg_pool2d(onehot, self.ss).argmax(1)

    def uv_fragments(self):
        """Rasterization of the mesh in UV space (texel -> face, barycentrics), computed once."""
        if self._uv_frags is None:
            t = self.texture_size
            uv = self.model.uv_coords
            flat = torch.stack([uv[:, 0] * 2 - 1, 1 - uv[:, 1] * 2, torch.zeros_like(uv[:, 0])], -1).unsqueeze(0)
            self._uv_frags = MeshRenderer(t, cull_backfaces=False).rasterize(flat, self.model.triangles)
        return self._uv_frags

    def _uv_visibility(self, cam_verts, ndc, frags, cover) -> torch.Tensor:
        """Texels whose surface point is the nearest surface at its pixel (and not under an occluder)."""
        uvf = self.uv_fragments()
        b, t = cam_verts.shape[0], self.texture_size
        idx = uvf.pix  # texel ids covered by the UV layout
        faces = self.model.triangles[uvf.pix_face]
        bary = uvf.pix_bary
        pts = sum(ndc[:, faces[:, k]] * bary[None, :, k:k + 1] for k in range(3))  # (b, N, 3)
        px = ((pts[..., 0] + 1) * 0.5 * self.hr).floor().long()
        py = ((1 - pts[..., 1]) * 0.5 * self.hr).floor().long()
        inside = (px >= 0) & (px < self.hr) & (py >= 0) & (py < self.hr)
        pxc, pyc = px.clamp(0, self.hr - 1), py.clamp(0, self.hr - 1)
        flat = torch.arange(b).view(-1, 1) * self.hr * self.hr + pyc * self.hr + pxc
        zbuf = frags.depth[:b].reshape(-1)[flat]
        covered = frags.mask[:b].reshape(-1)[flat] & ~cover.reshape(-1)[flat]
        vis = inside & covered & ((pts[..., 2] - zbuf).abs() < 0.03)  # 0.03 head units ~ 3.5 mm of depth
        out = torch.zeros(b, t * t)
        out[:, idx] = vis.float()
        return out.view(b, 1, t, t)


class _Laps:
    """Adds the seconds since the previous call to ``sink[name]`` (a no-op without a sink)."""

    def __init__(self, sink: Optional[Dict[str, float]]):
        self.sink = sink
        self.last = time.perf_counter()

    def __call__(self, name: str) -> None:
        if self.sink is not None:
            now = time.perf_counter()
            self.sink[name] = self.sink.get(name, 0.0) + now - self.last
            self.last = now


def _label_edges(sem: torch.Tensor) -> torch.Tensor:
    """1 where a pixel's label differs from its right or lower neighbour: a line drawing of the parts."""
    edge = torch.zeros_like(sem, dtype=torch.bool)
    edge[:, :, :-1] |= sem[:, :, :-1] != sem[:, :, 1:]
    edge[:, :-1, :] |= sem[:, :-1, :] != sem[:, 1:, :]
    return edge


@functools.lru_cache(maxsize=8)
def _default_renderer(size: int, supersample: Optional[int]) -> FaceWorldRenderer:
    return FaceWorldRenderer(size, supersample)


def render_batch(
    scene: Dict[str, torch.Tensor], size: int = 64, keys: Union[str, Sequence[str]] = "all",
    supersample: Optional[int] = None,
) -> Dict[str, torch.Tensor]:
    """Render a batch of scenes (:func:`sample_scenes`, possibly edited: e.g. set ``pose`` or ``exp_coeffs``) in one
    rasterizer call. Returns a dict of batched tensors (see :class:`FaceWorld` for the keys)."""
    return _default_renderer(size, supersample).render(scene, keys)


# ----------------------------------------------------------------------------------------------------- datasets
class FaceWorld(Dataset):
    """Deterministic map-style FaceWorld dataset.

    Sample ``i`` shows identity ``split_identities(split)[:num_identities][i // samples_per_identity]``; everything else
    is drawn from a generator seeded by ``(seed, split, i)``, so the same ``(split, seed, i)`` gives bit-identical
    tensors. Keys and shapes are documented in ``docs/faceworld.md``.

    Args:
        split (`str`, *optional*, defaults to `"train"`): "train", "val" or "test" (disjoint identities).
        size (`int`, *optional*, defaults to 64): image resolution.
        seed (`int`, *optional*, defaults to 0): scene seed (identities do not depend on it).
        num_identities (`int`, *optional*): use only the first identities of the split.
        samples_per_identity (`int`, *optional*, defaults to 32).
        keys (`str` or `tuple`, *optional*, defaults to `"all"`): which ground truth to render; fewer is faster.
        occluder_prob (`float`, *optional*, defaults to 0.0): chance of one occluder per image.
        expression_prob (`float`, *optional*, defaults to 0.7): chance of a non-neutral expression.
        supersample (`int`, *optional*): anti-aliasing factor, see :class:`FaceWorldRenderer`.
    """

    def __init__(
        self, split: str = "train", size: int = 64, seed: int = 0, num_identities: Optional[int] = None,
        samples_per_identity: int = 32, keys: Union[str, Sequence[str]] = "all", occluder_prob: float = 0.0,
        expression_prob: float = 0.7, supersample: Optional[int] = None,
    ):
        self.split, self.size, self.seed = split, size, seed
        ids = split_identities(split)
        self.identities = ids if num_identities is None else ids[:num_identities]
        self.samples_per_identity = samples_per_identity
        self.keys = ALL_KEYS if keys == "all" else tuple(keys)
        self.occluder_prob, self.expression_prob = occluder_prob, expression_prob
        self.supersample = supersample
        self._renderer: Optional[FaceWorldRenderer] = None

    def __len__(self) -> int:
        return len(self.identities) * self.samples_per_identity

    @property
    def renderer(self) -> FaceWorldRenderer:
        if self._renderer is None:  # built lazily so DataLoader workers build their own
            self._renderer = FaceWorldRenderer(self.size, self.supersample)
        return self._renderer

    def scenes(self, indices: Sequence[int]) -> Dict[str, torch.Tensor]:
        """Scene parameters of ``indices`` (edit them and call ``self.renderer.render`` for counterfactuals)."""
        for i in indices:
            if not 0 <= i < len(self):
                raise IndexError(f"index {i} out of range for FaceWorld of length {len(self)}")
        local = [i // self.samples_per_identity for i in indices]
        scene = sample_scenes([int(self.identities[k]) for k in local],
                              [(self.seed, _SPLIT_CODE[self.split], int(i)) for i in indices],
                              self.occluder_prob, self.expression_prob)
        scene["identity_index"] = torch.as_tensor(local, dtype=torch.long)
        return scene

    def get_batch(self, indices: Sequence[int]) -> Dict[str, torch.Tensor]:
        """Several samples rendered in one call (faster; may differ from ``ds[i]`` in the last float bits)."""
        return self.renderer.render(self.scenes(indices), self.keys)

    def __getitem__(self, index: int) -> Dict[str, torch.Tensor]:
        if index < 0:
            index += len(self)
        return {k: v[0] for k, v in self.get_batch([index]).items()}


def _shard() -> Tuple[int, int]:
    """(index, count) of this consumer across distributed ranks x DataLoader workers."""
    rank, world = 0, 1
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        rank, world = torch.distributed.get_rank(), torch.distributed.get_world_size()
    else:  # launched by accelerate/torchrun before init_process_group
        rank, world = int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))
    info = get_worker_info()
    wid, nw = (info.id, info.num_workers) if info is not None else (0, 1)
    return rank * nw + wid, world * nw


class FaceWorldStream(IterableDataset):
    """Endless (or ``num_batches`` long) stream of ready batched dicts, each rendered in one renderer call.

    Batch ``k`` depends only on ``(seed, split, k)``: identities are drawn uniformly from the split (or its first
    ``num_identities``). Consumers (distributed ranks x DataLoader workers) take batches ``k = start_batch + shard,
    start_batch + shard + n_shards, ...``, so ranks see different samples and resuming at ``start_batch`` continues
    the same sequence. Use it with ``DataLoader(stream, batch_size=None)``.

    Args:
        split, size, seed, keys, num_identities, occluder_prob, expression_prob, supersample: as in :class:`FaceWorld`
            (``keys`` defaults to the fast image-only set).
        batch_size (`int`, *optional*, defaults to 32).
        start_batch (`int`, *optional*, defaults to 0): first global batch index (for resuming).
        num_batches (`int`, *optional*): stop after this many global batches (counted from 0), endless if None.
    """

    def __init__(
        self, split: str = "train", size: int = 64, batch_size: int = 32, seed: int = 0,
        keys: Union[str, Sequence[str]] = FAST_KEYS, num_identities: Optional[int] = None, occluder_prob: float = 0.0,
        expression_prob: float = 0.7, start_batch: int = 0, num_batches: Optional[int] = None,
        supersample: Optional[int] = None,
    ):
        self.split, self.size, self.batch_size, self.seed = split, size, batch_size, seed
        ids = split_identities(split)
        self.identities = ids if num_identities is None else ids[:num_identities]
        self.keys = ALL_KEYS if keys == "all" else tuple(keys)
        self.occluder_prob, self.expression_prob = occluder_prob, expression_prob
        self.start_batch, self.num_batches = start_batch, num_batches
        self.supersample = supersample

    def scene(self, k: int) -> Dict[str, torch.Tensor]:
        """Scene parameters of global batch ``k`` (what :meth:`batch` renders)."""
        code = _SPLIT_CODE[self.split]
        rng = np.random.default_rng([self.seed, code, k, 0x57])
        local = rng.integers(0, len(self.identities), self.batch_size)
        base = k * self.batch_size
        scene = sample_scenes([int(self.identities[i]) for i in local],
                              [(self.seed, code, base + j, 0x57) for j in range(self.batch_size)],
                              self.occluder_prob, self.expression_prob)
        scene["identity_index"] = torch.from_numpy(local).long()
        return scene

    def batch(self, k: int, renderer: Optional[FaceWorldRenderer] = None) -> Dict[str, torch.Tensor]:
        """Global batch ``k`` of the stream, rendered."""
        renderer = renderer or _default_renderer(self.size, self.supersample)
        return renderer.render(self.scene(k), self.keys)

    def __iter__(self) -> Iterator[Dict[str, torch.Tensor]]:
        shard, count = _shard()
        renderer = FaceWorldRenderer(self.size, self.supersample)
        k = self.start_batch + shard
        while self.num_batches is None or k < self.num_batches:
            yield self.batch(k, renderer)
            k += count
