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
from typing import Dict, Sequence, Tuple

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

    Args:
        texture_size (`int`, *optional*, defaults to 128): ``T``.
    """

    def __init__(self, texture_size: int = 128):
        self.size = texture_size
        c = _texel_coords(texture_size)
        self.coords = {k: torch.from_numpy(v).float() for k, v in c.items()}

    def __call__(self, params: Dict[str, torch.Tensor]) -> Tuple[torch.Tensor, torch.Tensor]:
        a = params["albedo_coeffs"]
        b, t = a.shape[0], self.size
        c = {k: v.view(1, t, t) for k, v in self.coords.items()}
        fx, fy, theta, front = c["fx"], c["fy"], c["theta"], c["front"]
        afx = fx.abs()
        col = lambda name: a[:, _A[name]].view(b, 1, 1)  # noqa: E731
        up = lambda x: F.interpolate(x, size=(t, t), mode="bilinear", align_corners=False)  # noqa: E731

        # --- skin
        skin = _lerp_palette(_SKIN, a[:, _A["skin_tone"]])
        skin = skin + (a[:, _A["skin_red"]] - 0.5).unsqueeze(-1) * torch.tensor([0.06, -0.02, -0.02])
        skin = skin + (a[:, _A["skin_yellow"]] - 0.5).unsqueeze(-1) * torch.tensor([0.02, 0.02, -0.04])
        blotch = up(params["blotch"]) - 0.5  # (B, 3, T, T)
        albedo = skin.view(b, 3, 1, 1) * (1 + 0.08 * blotch[:, :1] + 0.03 * blotch)
        blush = (0.3 + col("cheek_blush")) * (torch.exp(-((afx - 0.4) / 0.14) ** 2 - ((fy + 0.28) / 0.14) ** 2) * front)
        albedo = albedo * (1 - 0.12 * blush.unsqueeze(1) * torch.tensor([0.0, 1.0, 0.8]).view(1, 3, 1, 1))
        ear_r = c["ear_r"]
        albedo = albedo * (1 - 0.15 * (ear_r < 0.55).float() * (ear_r > 0.2).float()).unsqueeze(1)
        neck_shadow = torch.exp(-((fy + 1.14) / 0.12) ** 2) * c["ct"].clamp(min=0)
        folds = torch.exp(-(((afx - 0.13 - 0.5 * (-0.4 - fy).clamp(min=0)) / 0.02) ** 2)) * (fy < -0.4) * (fy > -0.68)
        under = torch.exp(-((fy + 0.72) / 0.03) ** 2 - (fx / 0.12) ** 2) + torch.exp(-((fy + 0.47) / 0.02) ** 2 - (fx / 0.08) ** 2)
        albedo = albedo * (1 - 0.2 * neck_shadow - (0.12 * folds + 0.15 * under) * front).unsqueeze(1)
        labels = c["base_label"].long().expand(b, t, t)

        # freckles and moles
        freck = up(params["freckles"])[:, 0]
        freck_on = (freck > 1 - 0.12 * col("freckles") ** 2) & (col("freckles") > 0.6)
        freck_on = freck_on & (torch.exp(-(fx / 0.45) ** 2 - ((fy + 0.2) / 0.22) ** 2) * front > 0.35)
        albedo = albedo * (1 - 0.22 * freck_on.float()).unsqueeze(1)
        n_moles = (col("mole_count") * 4).floor() - 1  # 0-2 moles
        for k in range(3):
            mx = (col(f"mole{k + 1}_x") - 0.5) * 1.0
            my = col(f"mole{k + 1}_y") * 1.2 - 0.85
            mole = ((fx - mx) ** 2 + (fy - my) ** 2 < 0.011**2) & (front > 0.5) & (n_moles > k)
            albedo = torch.where(mole.unsqueeze(1), albedo * 0.45, albedo)

        # --- hair colour, used by hair, brows and beard
        hair = _lerp_palette(_HAIR, a[:, _A["hair_dark"]])
        red = (a[:, _A["hair_red"]] > 0.8).float().unsqueeze(-1)
        hair = hair * (1 - 0.5 * red) + red * torch.tensor([0.45, 0.17, 0.07])
        gray = (a[:, _A["hair_gray"]] - 0.75).clamp(min=0).unsqueeze(-1) * 3.5
        hair = hair * (1 - gray) + gray * torch.tensor([0.62, 0.62, 0.62])
        strands = up(params["strands"])[:, 0]  # stretched along v: streaks running down the head
        hair_tex = hair.view(b, 3, 1, 1) * (0.8 + 0.4 * strands.unsqueeze(1))

        # --- beard (stubble or full), under the hair
        beard = col("beard")
        at = theta.abs()
        beard_top = -0.47 - 0.12 * _smooth(0.0, 0.6, at) + 0.55 * _smooth(0.75, 1.4, at)
        beard_bottom = -1.07 + 0.3 * _smooth(0.6, 1.4, at)
        not_lips = 1 - ((afx < MOUTH_HALF_WIDTH + 0.03) & (fy < -0.55) & (fy > -0.72)).float()
        zone = _sig(beard_top + 0.02 * blotch[:, 1] - fy, 0.01) * _sig(fy - beard_bottom, 0.02) * _sig(1.45 - at, 0.04)
        zone = zone * not_lips * (beard > 0.65).float()
        full = (col("beard_full") > 0.5).float()
        stubble = 0.35 * (0.6 + 0.4 * freck)
        beard_amt = zone * (full * (0.75 + 0.25 * strands) + (1 - full) * stubble)
        stubble_col = torch.minimum(skin * 0.6, torch.tensor([0.22, 0.2, 0.2])).view(b, 3, 1, 1)
        beard_col = hair.view(b, 3, 1, 1) * full.unsqueeze(1) + (1 - full.unsqueeze(1)) * stubble_col
        albedo = albedo * (1 - beard_amt.unsqueeze(1)) + beard_col * beard_amt.unsqueeze(1)

        # --- lips and mouth slit
        lip_col = skin.view(b, 3, 1, 1) * torch.tensor([0.86, 0.62, 0.62]).view(1, 3, 1, 1)
        lip_col = lip_col * (1 - 0.25 * col("lip_dark").unsqueeze(1)) + 0.12 * col("lip_red").unsqueeze(1) * \
            torch.tensor([1.0, 0.0, 0.1]).view(1, 3, 1, 1)
        span = (1 - (fx / 0.21) ** 2).clamp(min=0)
        ub = MOUTH_Y + 0.045 * span**0.7 - 0.008 * torch.exp(-((fx / 0.025) ** 2))
        lb = MOUTH_Y - 0.055 * (1 - (fx / 0.2) ** 2).clamp(min=0) ** 0.6
        upper = _sig(ub - fy, 0.004) * _sig(fy - MOUTH_Y, 0.002) * front
        lower = _sig(fy - lb, 0.004) * _sig(MOUTH_Y - fy, 0.002) * front
        lips = (upper + lower).clamp(max=1)
        albedo = albedo * (1 - lips.unsqueeze(1)) + lip_col * lips.unsqueeze(1)
        labels = torch.where((upper > 0.5) & (afx < 0.21), _C["u_lip"], labels)
        labels = torch.where((lower > 0.5) & (afx < 0.21), _C["l_lip"], labels)
        slit = (fy - MOUTH_Y).abs() < MOUTH_HALF
        slit = slit & (afx < MOUTH_HALF_WIDTH * (1 - ((fy - MOUTH_Y) / MOUTH_HALF) ** 2 * 0.3)) & (front > 0.5)
        rel = (fy - (MOUTH_Y - MOUTH_HALF)) / (2 * MOUTH_HALF)  # 0 at the lower lip, 1 at the upper
        teeth = (((rel > 0.45) & (rel < 0.95)) | (rel < 0.12)) & (afx < 0.12)
        gaps = (torch.cos(fx * 160) > 0.93) & teeth
        inner = torch.tensor([0.16, 0.05, 0.05]).view(1, 3, 1, 1) * (1 - 0.5 * (afx / MOUTH_HALF_WIDTH)).unsqueeze(1)
        tooth = torch.tensor([0.88, 0.85, 0.76]).view(1, 3, 1, 1) * (1 - 0.25 * gaps.float()).unsqueeze(1)
        mouth_col = torch.where(teeth.unsqueeze(1), tooth, inner)
        albedo = torch.where(slit.unsqueeze(1), mouth_col.expand(b, 3, t, t), albedo)
        labels = torch.where(slit.expand(b, t, t), _C["mouth"], labels)

        # --- nostrils
        nostril = ((afx - 0.042) / 0.024) ** 2 + ((fy + 0.447) / 0.011) ** 2 < 1
        albedo = torch.where(nostril.unsqueeze(1) & (front > 0.5).unsqueeze(1), albedo * 0.3, albedo)

        # --- eyes: almond opening with sclera, iris, pupil, catch light, lash line and crease
        ex, eh = EYE_HALF
        dx = (afx - EYE_CENTER[0]) / ex
        span = (1 - dx**2).clamp(min=0)
        tilt = 0.008 * dx  # outer corners slightly higher
        y_up = EYE_CENTER[1] + eh * span**0.8 + tilt
        y_lo = EYE_CENTER[1] - 0.8 * eh * span**0.9 + tilt
        eye = (fy < y_up) & (fy > y_lo) & (dx.abs() < 1) & (front > 0.5)
        sclera = torch.tensor([0.86, 0.83, 0.8]).view(1, 3, 1, 1) * (1 - 0.25 * ((fy - y_lo) / (y_up - y_lo + 1e-6))
                                                                      .clamp(0, 1) ** 3).unsqueeze(1)
        iris_col = _lerp_palette(_IRIS, a[:, _A["iris_hue"]]) * (1 - 0.4 * a[:, _A["iris_dark"]]).unsqueeze(-1)
        ir = torch.sqrt((afx - EYE_CENTER[0]) ** 2 + (fy - EYE_CENTER[1] - 0.003) ** 2)
        iris_r = 0.037
        streak = 0.8 + 0.2 * torch.cos(torch.atan2(fy - EYE_CENTER[1], afx - EYE_CENTER[0]) * 23)
        iris = iris_col.view(b, 3, 1, 1) * (streak * (1 - 0.5 * (ir / iris_r).clamp(0, 1) ** 4)).unsqueeze(1)
        eye_rgb = torch.where((ir < iris_r).unsqueeze(1), iris, sclera.expand(b, 3, t, t))
        eye_rgb = torch.where((ir < 0.014).unsqueeze(1), torch.full_like(eye_rgb, 0.03), eye_rgb)
        catch = (afx - EYE_CENTER[0] + 0.011 * torch.sign(fx)) ** 2 + (fy - EYE_CENTER[1] - 0.014) ** 2 < 0.0055**2
        eye_rgb = torch.where(catch.unsqueeze(1), torch.full_like(eye_rgb, 0.97), eye_rgb)
        albedo = torch.where(eye.unsqueeze(1), eye_rgb, albedo)
        side_l = fx < 0  # image left in a frontal view
        labels = torch.where(eye & side_l, _C["l_eye"], torch.where(eye & ~side_l, _C["r_eye"], labels))
        lash = (fy >= y_up) & (fy < y_up + 0.009 + 0.004 * span) & (dx.abs() < 1.05) & (front > 0.5)
        albedo = torch.where(lash.unsqueeze(1), albedo * 0.2, albedo)
        lower_lash = (fy <= y_lo) & (fy > y_lo - 0.004) & (dx.abs() < 1) & (front > 0.5)
        albedo = torch.where(lower_lash.unsqueeze(1), albedo * 0.7, albedo)
        crease = torch.exp(-(((fy - y_up - 0.035) / 0.008) ** 2)) * (dx.abs() < 1.1).float() * front
        socket = torch.exp(-(dx / 1.3) ** 2 - ((fy - 0.005) / 0.07) ** 2) * front
        albedo = albedo * (1 - 0.15 * crease - 0.08 * socket * (~eye).float()).unsqueeze(1)

        # --- brows
        arch = 0.5 + col("brow_arch")
        bx = (afx - 0.27) / 0.17
        yb = 0.175 + 0.03 * (1 - bx**2).clamp(min=0) * arch
        thick = (0.014 + 0.02 * col("brow_thickness")) * (1 - 0.45 * ((bx + 1) / 2).clamp(0, 1))
        brow = _sig(thick - (fy - yb).abs(), 0.004) * _sig(1 - bx.abs(), 0.08) * front
        brow = brow * (0.75 + 0.25 * strands)
        brow_col = hair.view(b, 3, 1, 1) * (0.55 + 0.3 * (1 - col("brow_dark"))).unsqueeze(1)
        albedo = albedo * (1 - brow.unsqueeze(1)) + brow_col * brow.unsqueeze(1)
        bl = brow > 0.45
        labels = torch.where(bl & side_l, _C["l_brow"], torch.where(bl & ~side_l, _C["r_brow"], labels))

        # --- scalp hair: above a hairline that depends on the angle around the head
        aa = theta.abs() / math.pi
        length = col("hair_length")
        h_front = 0.47 + 0.12 * col("hairline") + 0.05 * torch.exp(-((afx - 0.3) / 0.08) ** 2)
        h_front = h_front - 0.22 * (col("bangs") > 0.75).float() * torch.exp(-((fx / 0.5) ** 2))
        bald = (col("baldness") > 0.85).float()
        h_side = 0.12 - 1.25 * (length > 0.6).float() * ((length - 0.6) / 0.4)
        h_back = -0.45 - 0.85 * (length > 0.6).float() * ((length - 0.6) / 0.4)
        ramp1 = ((aa - 0.2) / 0.2).clamp(0, 1)
        ramp2 = ((aa - 0.55) / 0.25).clamp(0, 1)
        hl = h_front + (h_side - h_front) * ramp1 + (h_back - h_side) * ramp2
        hl = hl + 0.03 * (blotch[:, 0] * 2)
        crown_bald = bald * (fy > 0.65 + 0.3 * ramp2).float() * (aa < 0.7).float()
        hair_m = _sig(fy - hl, 0.015) * (1 - crown_bald)
        hair_m = hair_m * (1 - (c["base_label"] == _C["neck"]).float() * (aa < 0.35).float())  # never under the chin
        root = torch.exp(-((fy - hl) / 0.03) ** 2) * 0.25
        albedo = albedo * (1 - hair_m.unsqueeze(1)) + (hair_tex * (1 - root.unsqueeze(1))) * hair_m.unsqueeze(1)
        labels = torch.where(hair_m > 0.5, _C["hair"], labels)
        # --- clothes on the shoulders
        hsv = torch.stack([a[:, _A["cloth_hue"]], a[:, _A["cloth_saturation"]] * 0.7, 0.15 + 0.75 * a[:, _A["cloth_value"]]], -1)
        cloth_rgb = _hsv_to_rgb(hsv).view(b, 3, 1, 1) * (0.9 + 0.2 * strands.unsqueeze(1))
        cloth = c["base_label"] == _C["cloth"]
        albedo = torch.where(cloth.unsqueeze(1), cloth_rgb, albedo)
        return albedo.clamp(0, 1), labels


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
