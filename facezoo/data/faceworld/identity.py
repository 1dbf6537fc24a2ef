"""Identities of FaceWorld: shape coefficients and an albedo/label texture in UV space, all from one integer.

An identity is ``id_coeffs`` (weights of the head's identity modes, ~N(0, 1)), ``albedo_coeffs`` (the named
appearance parameters in :data:`ALBEDO_NAMES`, mostly in [0, 1]) and a few small noise images (skin blotches,
hair strands, freckles) drawn from the same per-identity generator. :class:`TexturePainter` turns them into the
albedo texture and a CelebAMask-HQ label texture, evaluated at texel centres with the same canonical surface
functions as the mesh, so that painted eyes, lips and brows sit on their geometric counterparts.
"""

from __future__ import annotations

import functools
import math
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from .mesh import EYE_CENTER, EYE_HALF, ID_MODE_NAMES, MOUTH_HALF, MOUTH_HALF_WIDTH, MOUTH_Y, grid_theta, grid_y
from .mesh import surface_coords

__all__ = ["SEMANTIC_CLASSES", "ALBEDO_NAMES", "identity_params", "TexturePainter"]

# CelebAMask-HQ's 19 classes (same order and ids) plus one for FaceWorld's non-glasses occluders. "l_"/"r_" are as
# seen in the image of a frontal face: l_eye is the subject's right eye (image left).
SEMANTIC_CLASSES = (
    "background", "skin", "nose", "eye_g", "l_eye", "r_eye", "l_brow", "r_brow", "l_ear", "r_ear", "mouth",
    "u_lip", "l_lip", "hair", "hat", "ear_r", "neck_l", "neck", "cloth", "occluder",
)
_C = {name: i for i, name in enumerate(SEMANTIC_CLASSES)}

ALBEDO_NAMES = (
    "skin_tone", "skin_red", "skin_yellow", "hair_dark", "hair_red", "hair_gray", "hairline", "hair_length", "bangs",
    "baldness", "brow_thickness", "brow_arch", "brow_dark", "iris_hue", "iris_dark", "lip_red", "lip_dark", "beard",
    "beard_full", "freckles", "mole_count", "mole1_x", "mole1_y", "mole2_x", "mole2_y", "mole3_x", "mole3_y", "cheek_blush",
    "cloth_hue", "cloth_saturation", "cloth_value",
)
_A = {name: i for i, name in enumerate(ALBEDO_NAMES)}
_NOISE_SHAPES = {"blotch": (3, 8, 8), "strands": (1, 4, 96), "freckles": (1, 48, 48)}
_SEED_TAG = 0xFACE  # keeps identity streams apart from scene streams


def identity_params(identity_ids: Sequence[int], num_id: int = len(ID_MODE_NAMES)) -> Dict[str, torch.Tensor]:
    """Deterministic parameters of global identities: ``id_coeffs (B, num_id)``, ``albedo_coeffs (B, A)`` and the
    noise images ``blotch, strands, freckles``. Identity ``k`` looks the same in every split, seed and batch."""
    ids, albs, noise = [], [], {k: [] for k in _NOISE_SHAPES}
    for identity in identity_ids:
        rng = np.random.default_rng([_SEED_TAG, int(identity)])
        ids.append(np.clip(rng.standard_normal(num_id), -2.5, 2.5))
        a = rng.random(len(ALBEDO_NAMES))
        albs.append(a)
        for k, shape in _NOISE_SHAPES.items():
            noise[k].append(rng.random(shape, dtype=np.float32))
    out = {
        "id_coeffs": torch.from_numpy(np.stack(ids)).float(),
        "albedo_coeffs": torch.from_numpy(np.stack(albs)).float(),
    }
    out.update({k: torch.from_numpy(np.stack(v)) for k, v in noise.items()})
    return out


def _lerp_palette(palette: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Piecewise-linear colour ramp: ``palette (P, 3)``, ``t (B,)`` in [0, 1] -> (B, 3)."""
    x = t.clamp(0, 1) * (palette.shape[0] - 1)
    lo = x.floor().long().clamp(max=palette.shape[0] - 2)
    w = (x - lo).unsqueeze(-1)
    return palette[lo] * (1 - w) + palette[lo + 1] * w


_SKIN = torch.tensor([[0.97, 0.80, 0.70], [0.90, 0.70, 0.57], [0.80, 0.58, 0.44], [0.62, 0.42, 0.29],
                      [0.45, 0.30, 0.21], [0.30, 0.20, 0.14]])
_HAIR = torch.tensor([[0.80, 0.66, 0.44], [0.55, 0.40, 0.25], [0.32, 0.21, 0.12], [0.16, 0.10, 0.06],
                      [0.05, 0.04, 0.035]])
_IRIS = torch.tensor([[0.30, 0.45, 0.68], [0.42, 0.50, 0.55], [0.33, 0.45, 0.27], [0.48, 0.38, 0.17],
                      [0.38, 0.22, 0.10], [0.20, 0.11, 0.05]])


def _smooth(e0: float, e1: float, x: torch.Tensor) -> torch.Tensor:
    t = ((x - e0) / (e1 - e0)).clamp(0, 1)
    return t * t * (3 - 2 * t)


def _hsv_to_rgb(hsv: torch.Tensor) -> torch.Tensor:
    h, s, v = hsv.unbind(-1)
    k = torch.stack([(5 + h * 6) % 6, (3 + h * 6) % 6, (1 + h * 6) % 6], -1)
    return v.unsqueeze(-1) - (v * s).unsqueeze(-1) * torch.clamp(torch.minimum(k, 4 - k), 0, 1)


def _sig(x: torch.Tensor, width: float) -> torch.Tensor:
    return torch.sigmoid(x / width)


class TexturePainter:
    """Paints identity albedo textures ``(B, 3, T, T)`` and CelebAMask-HQ label textures ``(B, T, T)`` in UV space.

    Everything that does not depend on the identity (eye and lip shapes, mouth slit, creases, the base label map) is
    computed once here; a call only mixes colours and the identity-specific hair, brows, beard and marks.

    Args:
        texture_size (`int`, *optional*, defaults to 128): ``T``.
    """

    def __init__(self, texture_size: int = 128):
        self.size = texture_size
        c = _texel_coords(texture_size)
        self.coords = {k: torch.from_numpy(v).float().view(1, texture_size, texture_size) for k, v in c.items()}
        self.static = self._static(self.coords)

    @staticmethod
    def _static(c: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        fx, fy, theta, front = c["fx"], c["fy"], c["theta"], c["front"]
        afx = fx.abs()
        st: Dict[str, torch.Tensor] = {}
        labels = c["base_label"].long()
        # multiplicative darkening baked like ambient occlusion: inner ear, under the chin, nasolabial folds,
        # under the nose and the lower lip
        ear_r = c["ear_r"]
        shade = 1 - 0.15 * (ear_r < 0.55).float() * (ear_r > 0.2).float()
        neck_shadow = torch.exp(-((fy + 1.14) / 0.12) ** 2) * c["ct"].clamp(min=0)
        folds = torch.exp(-(((afx - 0.13 - 0.5 * (-0.4 - fy).clamp(min=0)) / 0.02) ** 2)) * (fy < -0.4) * (fy > -0.68)
        under = torch.exp(-((fy + 0.72) / 0.03) ** 2 - (fx / 0.12) ** 2) + torch.exp(
            -((fy + 0.47) / 0.02) ** 2 - (fx / 0.08) ** 2)
        shade = shade * (1 - 0.2 * neck_shadow - (0.12 * folds + 0.15 * under) * front)
        st["blush"] = torch.exp(-((afx - 0.4) / 0.14) ** 2 - ((fy + 0.28) / 0.14) ** 2) * front
        st["freckle_zone"] = torch.exp(-(fx / 0.45) ** 2 - ((fy + 0.2) / 0.22) ** 2) * front > 0.35
        at = theta.abs()
        st["beard_top"] = -0.47 - 0.12 * _smooth(0.0, 0.6, at) + 0.55 * _smooth(0.75, 1.4, at)
        st["beard_bottom"] = -1.07 + 0.3 * _smooth(0.6, 1.4, at)
        st["not_lips"] = 1 - ((afx < MOUTH_HALF_WIDTH + 0.03) & (fy < -0.55) & (fy > -0.72)).float()
        st["beard_side"] = _sig(1.45 - at, 0.04)
        # lips
        span = (1 - (fx / 0.21) ** 2).clamp(min=0)
        ub = MOUTH_Y + 0.045 * span**0.7 - 0.008 * torch.exp(-((fx / 0.025) ** 2))
        lb = MOUTH_Y - 0.055 * (1 - (fx / 0.2) ** 2).clamp(min=0) ** 0.6
        upper = _sig(ub - fy, 0.004) * _sig(fy - MOUTH_Y, 0.002) * front
        lower = _sig(fy - lb, 0.004) * _sig(MOUTH_Y - fy, 0.002) * front
        st["lips"] = (upper + lower).clamp(max=1)
        labels = torch.where((upper > 0.5) & (afx < 0.21), _C["u_lip"], labels)
        labels = torch.where((lower > 0.5) & (afx < 0.21), _C["l_lip"], labels)
        # mouth slit with teeth; stretched open by the jaw blendshape
        slit = (fy - MOUTH_Y).abs() < MOUTH_HALF
        slit = slit & (afx < MOUTH_HALF_WIDTH * (1 - ((fy - MOUTH_Y) / MOUTH_HALF) ** 2 * 0.3)) & (front > 0.5)
        rel = (fy - (MOUTH_Y - MOUTH_HALF)) / (2 * MOUTH_HALF)  # 0 at the lower lip, 1 at the upper
        teeth = (((rel > 0.45) & (rel < 0.95)) | (rel < 0.12)) & (afx < 0.12)
        gaps = (torch.cos(fx * 160) > 0.93) & teeth
        inner = torch.tensor([0.16, 0.05, 0.05]).view(3, 1, 1) * (1 - 0.5 * (afx / MOUTH_HALF_WIDTH))
        tooth = torch.tensor([0.88, 0.85, 0.76]).view(3, 1, 1) * (1 - 0.25 * gaps.float())
        st["slit"] = slit
        st["mouth_rgb"] = torch.where(teeth, tooth, inner)
        labels = torch.where(slit, _C["mouth"], labels)
        nostril = (((afx - 0.042) / 0.024) ** 2 + ((fy + 0.447) / 0.011) ** 2 < 1) & (front > 0.5)
        shade = shade * (1 - 0.7 * nostril.float())
        # eyes: almond opening with sclera, iris, pupil, catch light, lash line and crease
        ex, eh = EYE_HALF
        dx = (afx - EYE_CENTER[0]) / ex
        span = (1 - dx**2).clamp(min=0)
        tilt = 0.008 * dx  # outer corners slightly higher
        y_up = EYE_CENTER[1] + eh * span**0.8 + tilt
        y_lo = EYE_CENTER[1] - 0.8 * eh * span**0.9 + tilt
        eye = (fy < y_up) & (fy > y_lo) & (dx.abs() < 1) & (front > 0.5)
        st["eye"] = eye
        st["sclera"] = torch.tensor([0.86, 0.83, 0.8]).view(3, 1, 1) * (
            1 - 0.25 * ((fy - y_lo) / (y_up - y_lo + 1e-6)).clamp(0, 1) ** 3)
        ir = torch.sqrt((afx - EYE_CENTER[0]) ** 2 + (fy - EYE_CENTER[1] - 0.003) ** 2)
        iris_r = 0.037
        streak = 0.8 + 0.2 * torch.cos(torch.atan2(fy - EYE_CENTER[1], afx - EYE_CENTER[0]) * 23)
        st["iris"] = ir < iris_r
        st["iris_shade"] = streak * (1 - 0.5 * (ir / iris_r).clamp(0, 1) ** 4)
        st["pupil"] = ir < 0.014
        st["catch"] = (afx - EYE_CENTER[0] + 0.011 * torch.sign(fx)) ** 2 + (fy - EYE_CENTER[1] - 0.014) ** 2 < 0.0055**2
        side_l = fx < 0  # image left in a frontal view
        st["side_l"] = side_l
        labels = torch.where(eye & side_l, _C["l_eye"], torch.where(eye & ~side_l, _C["r_eye"], labels))
        lash = (fy >= y_up) & (fy < y_up + 0.009 + 0.004 * span) & (dx.abs() < 1.05) & (front > 0.5)
        lower_lash = (fy <= y_lo) & (fy > y_lo - 0.004) & (dx.abs() < 1) & (front > 0.5)
        crease = torch.exp(-(((fy - y_up - 0.035) / 0.008) ** 2)) * (dx.abs() < 1.1).float() * front
        socket = torch.exp(-(dx / 1.3) ** 2 - ((fy - 0.005) / 0.07) ** 2) * front
        st["overlay_shade"] = (1 - 0.8 * lash.float()) * (1 - 0.3 * lower_lash.float()) * (
            1 - 0.15 * crease - 0.08 * socket * (~eye).float())
        st["shade"] = shade
        # brows (shape varies per identity, so only the chart is kept)
        st["brow_bx"] = (afx - 0.27) / 0.17
        st["brow_mid"] = torch.exp(-(fx / 0.5) ** 2)
        aa = theta.abs() / math.pi
        st["aa"] = aa
        st["temple"] = torch.exp(-((afx - 0.3) / 0.08) ** 2)
        st["ramp1"] = ((aa - 0.2) / 0.2).clamp(0, 1)
        st["ramp2"] = ((aa - 0.55) / 0.25).clamp(0, 1)
        st["no_hair"] = (c["base_label"] == _C["neck"]) & (aa < 0.35)  # never under the chin
        st["cloth"] = c["base_label"] == _C["cloth"]
        st["labels"] = labels
        return st

    def __call__(
        self, params: Dict[str, torch.Tensor], with_labels: bool = True, extras: Optional[Dict] = None
    ) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        """Albedo ``(B, 3, T, T)`` and labels ``(B, T, T)`` (None when ``with_labels`` is False: faster). If
        ``extras`` is a dict it receives ``hair`` (B, T, T), the soft scalp-hair coverage used for hair volume."""
        a = params["albedo_coeffs"]
        b, t = a.shape[0], self.size
        c, st = self.coords, self.static
        fx, fy, front = c["fx"], c["fy"], c["front"]
        col = lambda name: a[:, _A[name]].view(b, 1, 1)  # noqa: E731
        up = lambda x: F.interpolate(x, size=(t, t), mode="bilinear", align_corners=False)  # noqa: E731
        labels = st["labels"].expand(b, t, t)

        # --- skin with blotches, blush, freckles and moles
        skin = _lerp_palette(_SKIN, a[:, _A["skin_tone"]])
        skin = skin + (a[:, _A["skin_red"]] - 0.5).unsqueeze(-1) * torch.tensor([0.06, -0.02, -0.02])
        skin = skin + (a[:, _A["skin_yellow"]] - 0.5).unsqueeze(-1) * torch.tensor([0.02, 0.02, -0.04])
        blotch = up(params["blotch"]) - 0.5  # (B, 3, T, T)
        freck = up(params["freckles"])[:, 0]
        spots = (freck > 1 - 0.12 * col("freckles") ** 2) & (col("freckles") > 0.6) & st["freckle_zone"]
        n_moles = (col("mole_count") * 4).floor() - 1  # 0-2 moles
        for k in range(3):
            mx = (col(f"mole{k + 1}_x") - 0.5) * 1.0
            my = col(f"mole{k + 1}_y") * 1.2 - 0.85
            spots = spots | (((fx - mx) ** 2 + (fy - my) ** 2 < 0.011**2) & (front > 0.5) & (n_moles > k))
        tone = (1 + 0.08 * blotch[:, :1] + 0.03 * blotch) * (1 - 0.4 * spots.float()).unsqueeze(1)
        tone = tone * (1 - 0.12 * ((0.3 + col("cheek_blush")) * st["blush"]).unsqueeze(1)
                       * torch.tensor([0.0, 1.0, 0.8]).view(1, 3, 1, 1))
        albedo = skin.view(b, 3, 1, 1) * tone

        # --- hair colour, used by hair, brows and beard
        hair = _lerp_palette(_HAIR, a[:, _A["hair_dark"]])
        red = (a[:, _A["hair_red"]] > 0.8).float().unsqueeze(-1)
        hair = hair * (1 - 0.5 * red) + red * torch.tensor([0.45, 0.17, 0.07])
        gray = (a[:, _A["hair_gray"]] - 0.75).clamp(min=0).unsqueeze(-1) * 3.5
        hair = hair * (1 - gray) + gray * torch.tensor([0.62, 0.62, 0.62])
        strands = up(params["strands"])[:, 0]  # stretched along v: streaks running down the head
        hair_tex = hair.view(b, 3, 1, 1) * (0.8 + 0.4 * strands.unsqueeze(1))

        # --- beard (stubble or full)
        zone = _sig(st["beard_top"] + 0.02 * blotch[:, 1] - fy, 0.01) * _sig(fy - st["beard_bottom"], 0.02)
        zone = zone * st["beard_side"] * st["not_lips"] * (col("beard") > 0.65).float()
        full = (col("beard_full") > 0.5).float()
        beard_amt = zone * (full * (0.75 + 0.25 * strands) + (1 - full) * 0.35 * (0.6 + 0.4 * freck))
        stubble_col = torch.minimum(skin * 0.6, torch.tensor([0.22, 0.2, 0.2])).view(b, 3, 1, 1)
        beard_col = hair.view(b, 3, 1, 1) * full.unsqueeze(1) + (1 - full.unsqueeze(1)) * stubble_col
        albedo = albedo + (beard_col - albedo) * beard_amt.unsqueeze(1)

        # --- lips, mouth, eyes
        lip_col = skin.view(b, 3, 1, 1) * torch.tensor([0.86, 0.62, 0.62]).view(1, 3, 1, 1)
        lip_col = lip_col * (1 - 0.25 * col("lip_dark").unsqueeze(1)) + 0.12 * col("lip_red").unsqueeze(1) * \
            torch.tensor([1.0, 0.0, 0.1]).view(1, 3, 1, 1)
        albedo = albedo + (lip_col - albedo) * st["lips"].unsqueeze(1)
        albedo = torch.where(st["slit"].unsqueeze(1), st["mouth_rgb"].unsqueeze(0), albedo)
        iris_col = _lerp_palette(_IRIS, a[:, _A["iris_hue"]]) * (1 - 0.4 * a[:, _A["iris_dark"]]).unsqueeze(-1)
        eye_rgb = torch.where(st["iris"].unsqueeze(1), iris_col.view(b, 3, 1, 1) * st["iris_shade"].unsqueeze(1),
                              st["sclera"].unsqueeze(0))
        eye_rgb = torch.where(st["pupil"].unsqueeze(1), torch.full_like(eye_rgb, 0.03), eye_rgb)
        eye_rgb = torch.where(st["catch"].unsqueeze(1), torch.full_like(eye_rgb, 0.97), eye_rgb)
        albedo = torch.where(st["eye"].unsqueeze(1), eye_rgb, albedo)
        albedo = albedo * (st["shade"] * st["overlay_shade"]).unsqueeze(1)

        # --- brows
        bx = st["brow_bx"]
        yb = 0.175 + 0.03 * (1 - bx**2).clamp(min=0) * (0.5 + col("brow_arch"))
        thick = (0.014 + 0.02 * col("brow_thickness")) * (1 - 0.45 * ((bx + 1) / 2).clamp(0, 1))
        brow = _sig(thick - (fy - yb).abs(), 0.004) * _sig(1 - bx.abs(), 0.08) * front * (0.75 + 0.25 * strands)
        brow_col = hair.view(b, 3, 1, 1) * (0.55 + 0.3 * (1 - col("brow_dark"))).unsqueeze(1)
        albedo = albedo + (brow_col - albedo) * brow.unsqueeze(1)
        if with_labels:
            bl = brow > 0.45
            labels = torch.where(bl & st["side_l"], _C["l_brow"],
                                 torch.where(bl & ~st["side_l"], _C["r_brow"], labels))

        # --- scalp hair: above a hairline that depends on the angle around the head
        length = col("hair_length")
        h_front = 0.47 + 0.12 * col("hairline") + 0.05 * st["temple"]
        h_front = h_front - 0.22 * (col("bangs") > 0.75).float() * st["brow_mid"]
        bald = (col("baldness") > 0.85).float()
        long_hair = (length > 0.6).float() * ((length - 0.6) / 0.4)
        h_side = 0.12 - 1.25 * long_hair
        h_back = -0.45 - 0.85 * long_hair
        hl = h_front + (h_side - h_front) * st["ramp1"] + (h_back - h_side) * st["ramp2"] + 0.06 * blotch[:, 0]
        crown_bald = bald * (fy > 0.65 + 0.3 * st["ramp2"]).float() * (st["aa"] < 0.7).float()
        hair_m = _sig(fy - hl, 0.015) * (1 - crown_bald) * (~st["no_hair"]).float()
        if extras is not None:
            extras["hair"] = hair_m
        root = torch.exp(-((fy - hl) / 0.03) ** 2) * 0.25
        albedo = albedo + (hair_tex * (1 - root.unsqueeze(1)) - albedo) * hair_m.unsqueeze(1)
        if with_labels:
            labels = torch.where(hair_m > 0.5, _C["hair"], labels)

        # --- clothes on the shoulders
        hsv = torch.stack([a[:, _A["cloth_hue"]], a[:, _A["cloth_saturation"]] * 0.7,
                           0.15 + 0.75 * a[:, _A["cloth_value"]]], -1)
        cloth_rgb = _hsv_to_rgb(hsv).view(b, 3, 1, 1) * (0.9 + 0.2 * strands.unsqueeze(1))
        albedo = torch.where(st["cloth"].unsqueeze(1), cloth_rgb, albedo)
        return albedo.clamp(0, 1), (labels if with_labels else None)


@functools.lru_cache(maxsize=4)
def _texel_coords(t: int) -> Dict[str, np.ndarray]:
    centres = (np.arange(t) + 0.5) / t
    s = 2 * centres - 1
    theta = np.repeat(grid_theta(s)[None, :], t, 0)
    y = np.repeat(grid_y(centres)[:, None], t, 1)
    c = surface_coords(theta, y)
    from .mesh import REGION_NAMES, canonical_regions

    region = canonical_regions(theta, y, c)
    base = np.full(theta.shape, _C["skin"], dtype=np.int64)
    base[region == REGION_NAMES.index("neck")] = _C["neck"]
    base[region == REGION_NAMES.index("cloth")] = _C["cloth"]
    nose = region == REGION_NAMES.index("nose")
    base[nose] = _C["nose"]
    ear = region == REGION_NAMES.index("ears")
    base[ear & (np.sin(theta) < 0)] = _C["l_ear"]
    base[ear & (np.sin(theta) > 0)] = _C["r_ear"]
    return {
        "theta": theta, "fx": c["fx"], "fy": c["fy"], "front": c["front"], "ct": c["ct"], "ear_r": c["ear_r"],
        "base_label": base.astype(np.float32),
    }
