"""The procedural FaceWorld head: a parametric surface of revolution plus analytic facial relief, with its
identity and expression bases, as a :class:`~facezoo.face.morphable.MorphableModel`.

Everything is a closed-form function of canonical surface coordinates ``(theta, y)``: ``theta`` is the angle around
the vertical axis (0 = front, the face looks towards +z) and ``y`` the height (eyes at 0, chin at -1, crown at +1,
neck down to -1.9). The mesh is a ``(NV rows) x (NU + 1 columns)`` grid in ``(s, t)`` where
``theta = pi * (a s + (1 - a) s^3)`` and ``y = y(t)`` concentrate vertices (and therefore texels, since UV is the grid
coordinate) on the face, the eyes and the mouth. Texture painting (``identity.py``) evaluates the same functions at
texel centres, so painted features (iris, lips, brows) land exactly on the geometric ones and move with them when
identity or expression modes displace the vertices.

Feature coordinates ``(fx, fy)`` are the x and y of the undeformed ring surface: on the face they are a flat
"front view" chart in head units (1 unit ~ 11.5 cm).
"""

from __future__ import annotations

import functools
import math
from typing import Dict, Tuple

import numpy as np
import torch

from ...face.morphable import MorphableModel

__all__ = [
    "REGION_NAMES", "ID_MODE_NAMES", "EXP_MODE_NAMES", "EYE_CENTER", "MOUTH_Y", "build_head_model", "surface_coords",
    "grid_theta", "grid_y", "grid_normals", "GRID_SHAPE",
]
GRID_SHAPE = (112, 112)  # default (nu, nv) of build_head_model

REGION_NAMES = ("skin", "brows", "eyes", "nose", "lips", "mouth", "ears", "hair", "neck", "cloth")
CLOTH_Y = -1.42  # below this the neck flares into shoulders wearing a top
EYE_CENTER = (0.27, 0.0)  # (|fx|, fy) of both eye centres
EYE_HALF = (0.125, 0.042)  # half width / height of the eye opening
MOUTH_Y = -0.625  # line between the lips; the dark slit is MOUTH_Y +- MOUTH_HALF
MOUTH_HALF = 0.0075
MOUTH_HALF_WIDTH = 0.2
_TWIST = 0.4  # fraction of theta that is linear in s; the rest (cubic) spends columns on the face


def _smoothstep(e0, e1, x):
    t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    return t * t * (3 - 2 * t)


def _bump(fx, fy, cx, cy, sx, sy):
    return np.exp(-(((fx - cx) / sx) ** 2) - ((fy - cy) / sy) ** 2)


def grid_theta(s: np.ndarray) -> np.ndarray:
    """Column parameter ``s`` in [-1, 1] -> angle around the head (0 = front, +-pi = back seam)."""
    return math.pi * (_TWIST * s + (1 - _TWIST) * s**3)


@functools.lru_cache(maxsize=1)
def _y_table() -> Tuple[np.ndarray, np.ndarray]:
    # Row density per unit height: more rows on the face and many more at the eyes and between the lips, so that
    # closing eyes / opening the mouth (which stretch a thin painted band) stays smooth.
    y = np.linspace(-1.9, 1.02, 20001)
    rho = 0.35 + 1.0 * _smoothstep(-1.15, -0.95, y) * (1 - _smoothstep(0.35, 0.6, y))
    rho += 3.0 * np.exp(-(((y - MOUTH_Y) / 0.025) ** 2)) + 1.2 * np.exp(-((y / 0.06) ** 2))
    cum = np.concatenate([[0.0], np.cumsum((rho[1:] + rho[:-1]) * 0.5 * np.diff(y))])
    t = 1 - cum / cum[-1]  # t = 0 at the crown, 1 at the bottom of the neck
    return t[::-1].copy(), y[::-1].copy()


def grid_y(t: np.ndarray) -> np.ndarray:
    """Row parameter ``t`` in [0, 1] (crown to neck) -> height ``y``."""
    tt, yy = _y_table()
    return np.interp(t, tt, yy)


def _profiles(y: np.ndarray):
    """Half-widths (Rx) and half-depths (Rz) of the front and back halves of the horizontal ring at height y."""
    c = np.sqrt(np.clip(1 - ((y - 0.1) / 0.92) ** 2, 0, 1))
    top = y >= 0.1
    # front
    jaw = 0.30 + 0.40 * np.sqrt(np.clip(1 - ((-0.35 - y) / 0.65) ** 2, 0, 1))
    rx_f = np.where(top, 0.75 * c, np.where(y >= -0.35, 0.75 - 0.05 * ((0.1 - y) / 0.45) ** 2, jaw))
    shoulder = 1 - (1 - _smoothstep(CLOTH_Y + 0.05, -1.9, y)) ** 2
    neck = 0.41 + 1.05 * shoulder
    rx_f = np.where(y < -1.0, 0.30 + (neck - 0.30) * _smoothstep(-1.0, -1.15, y), rx_f)
    rz_f = np.where(top, 0.86 * c**0.85, 0.86 - 0.06 * _smoothstep(0.1, -0.9, y))
    rz_f = rz_f - 0.10 * _smoothstep(-0.9, -1.0, y) - 0.36 * _smoothstep(-1.0, -1.16, y) + 0.2 * shoulder
    # back
    rx_b = np.where(top, 0.75 * c, 0.75 - (0.75 - 0.44) * _smoothstep(0.1, -0.8, y))
    rx_b = rx_b + 1.02 * shoulder
    rz_b = np.where(top, 0.98 * c**0.9, 0.98 - 0.56 * _smoothstep(0.0, -0.8, y) ** 1.2) + 0.12 * shoulder
    return rx_f, rz_f, rx_b, rz_b


def _face_relief(fx: np.ndarray, fy: np.ndarray) -> Dict[str, np.ndarray]:
    """Forward (z) displacement fields of the facial features, named so identity modes can scale them."""
    afx = np.abs(fx)
    ex, ey = EYE_CENTER
    f = {}
    f["brow_ridge"] = 0.07 * np.exp(-(((afx - 0.25) / 0.22) ** 2) - ((fy - 0.17) / 0.07) ** 2) + 0.03 * _bump(
        fx, fy, 0, 0.13, 0.08, 0.06
    )
    f["eye_socket"] = -0.10 * _bump(afx, fy, ex, ey + 0.01, 0.13, 0.09)
    f["eyeball"] = 0.055 * _bump(afx, fy, ex, ey, 0.085, 0.05)
    t = np.clip((0.08 - fy) / 0.47, 0, 1)
    sigma = 0.05 + 0.035 * t
    cut = 1 / (1 + np.exp(-(fy + 0.43) / 0.015)) * 1 / (1 + np.exp(-(0.12 - fy) / 0.04))
    f["nose"] = (0.035 + 0.17 * t**1.5) * np.exp(-((fx / sigma) ** 2)) * cut + 0.03 * _bump(fx, fy, 0, -0.37, 0.06, 0.05)
    f["alae"] = 0.075 * _bump(afx, fy, 0.085, -0.40, 0.05, 0.04)
    f["upper_lip"] = 0.03 * _bump(fx, fy, 0, -0.53, 0.15, 0.08) + 0.06 * np.exp(
        -((fx / 0.19) ** 4) - ((fy + 0.585) / 0.035) ** 2
    )
    f["lower_lip"] = 0.065 * np.exp(-((fx / 0.17) ** 4) - ((fy + 0.665) / 0.04) ** 2)
    f["mouth_groove"] = -0.02 * np.exp(-((fx / MOUTH_HALF_WIDTH) ** 4) - ((fy - MOUTH_Y) / 0.012) ** 2)
    f["chin"] = 0.07 * _bump(fx, fy, 0, -0.87, 0.16, 0.09) - 0.03 * _bump(fx, fy, 0, -0.745, 0.15, 0.035)
    f["cheeks"] = 0.05 * _bump(afx, fy, 0.42, -0.3, 0.16, 0.18) + 0.04 * _bump(afx, fy, 0.5, -0.05, 0.12, 0.08)
    f["temples"] = -0.03 * _bump(afx, fy, 0.62, 0.25, 0.1, 0.15)
    return f


def _ear_coords(theta: np.ndarray, y: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Elliptic radius around each ear (1 on its rim) and the side (+1 subject's left = +x, -1 right)."""
    side = np.sign(np.sin(theta))
    dt = np.abs(theta) - (math.pi / 2 + 0.14)
    r = np.sqrt((dt / 0.19) ** 2 + ((y + 0.12) / 0.27) ** 2)
    return r, side


def surface_coords(theta: np.ndarray, y: np.ndarray) -> Dict[str, np.ndarray]:
    """Canonical (mean) surface at ``(theta, y)``: position ``xyz`` (..., 3) plus the feature chart ``fx, fy``, the
    ``front`` gate (1 on the face, 0 behind the ears), the relief fields and the ear radius."""
    rx_f, rz_f, rx_b, rz_b = _profiles(y)
    st, ct = np.sin(theta), np.cos(theta)
    w = 0.5 + 0.5 * ct
    rx = rx_b + (rx_f - rx_b) * w
    x = rx * st
    z = np.where(ct > 0, rz_f, rz_b) * ct
    fx, fy = x, y
    front = _smoothstep(0.2, 0.55, ct) * (1 - _smoothstep(-1.0, -1.12, y))
    relief = _face_relief(fx, fy)
    dz = sum(relief.values()) * front
    ear_r, _ = _ear_coords(theta, y)
    ear = 0.14 * (1 / (1 + np.exp((ear_r - 1) / 0.08))) * (0.55 + 0.45 * np.clip(ear_r, 0, 1) ** 2)
    xyz = np.stack([x + ear * st, y + 0 * x, z + dz + ear * ct * 0.3 - ear * 0.25], axis=-1)
    return {"xyz": xyz, "fx": fx, "fy": fy, "front": front, "ct": ct, "relief": relief, "ear_r": ear_r, "ear": ear}


def canonical_regions(theta: np.ndarray, y: np.ndarray, c: Dict[str, np.ndarray]) -> np.ndarray:
    """Region id (index into REGION_NAMES) of canonical points; identity-specific hair/brows are painted later."""
    fx, fy, front = c["fx"], c["fy"], c["front"]
    afx = np.abs(fx)
    reg = np.zeros(theta.shape, dtype=np.int64)
    neck_line = -1.02 + 0.5 * (1 - (0.5 + 0.5 * c["ct"]))  # under the chin at the front, the nape at the back
    reg[y < neck_line] = REGION_NAMES.index("neck")
    reg[y < CLOTH_Y - 0.12 * np.exp(-((theta / 0.45) ** 2))] = REGION_NAMES.index("cloth")
    hair = (y > 0.55 - 0.15 * (1 - front)) | ((c["ct"] < -0.2) & (y > -0.35))
    reg[hair] = REGION_NAMES.index("hair")
    reg[(c["ear_r"] < 1.0)] = REGION_NAMES.index("ears")
    on_face = front > 0.5
    reg[on_face & (c["relief"]["nose"] > 0.05)] = REGION_NAMES.index("nose")
    brow = (np.abs(afx - 0.27) < 0.17) & (np.abs(fy - (0.17 + 0.03 * (1 - ((afx - 0.27) / 0.17) ** 2))) < 0.03)
    reg[on_face & brow] = REGION_NAMES.index("brows")
    eye = ((afx - EYE_CENTER[0]) / EYE_HALF[0]) ** 2 + ((fy - EYE_CENTER[1]) / EYE_HALF[1]) ** 2 < 1
    reg[on_face & eye] = REGION_NAMES.index("eyes")
    lips = (afx < MOUTH_HALF_WIDTH) & (fy < -0.55) & (fy > -0.7)
    reg[on_face & lips] = REGION_NAMES.index("lips")
    reg[on_face & (afx < MOUTH_HALF_WIDTH) & (np.abs(fy - MOUTH_Y) < MOUTH_HALF)] = REGION_NAMES.index("mouth")
    return reg


# iBUG-68 landmarks in the (fx, fy) chart; index 0 is on the subject's right (image left in a frontal view).
def _landmark_targets() -> np.ndarray:
    pts = []
    for k in range(17):  # jaw contour, given as (theta, y) and converted below
        phi = math.pi * k / 16
        pts.append(("ty", -math.cos(phi) * 1.2, -0.06 - 0.86 * math.sin(phi) ** 0.8))
    brow = [(-0.46, 0.19), (-0.38, 0.225), (-0.29, 0.24), (-0.2, 0.23), (-0.12, 0.205)]
    pts += [("xy", x, y) for x, y in brow]
    pts += [("xy", -x, y) for x, y in reversed(brow)]
    pts += [("xy", 0.0, y) for y in (0.07, -0.06, -0.2, -0.37)]
    pts += [("xy", x, y) for x, y in ((-0.09, -0.43), (-0.045, -0.45), (0.0, -0.46), (0.045, -0.45), (0.09, -0.43))]
    ex, eh = EYE_HALF
    c = EYE_CENTER[0]
    right = [(-c - ex + 0.01, 0.0), (-c - 0.05, eh * 0.85), (-c + 0.05, eh * 0.85), (-c + ex - 0.01, 0.0),
             (-c + 0.05, -eh * 0.75), (-c - 0.05, -eh * 0.75)]
    left = [(-x, y) for x, y in right]
    left = [left[3], left[2], left[1], left[0], left[5], left[4]]
    pts += [("xy", x, y) for x, y in right + left]
    outer = [(-0.21, MOUTH_Y), (-0.14, -0.588), (-0.06, -0.575), (0.0, -0.58), (0.06, -0.575), (0.14, -0.588),
             (0.21, MOUTH_Y), (0.14, -0.665), (0.06, -0.685), (0.0, -0.69), (-0.06, -0.685), (-0.14, -0.665)]
    up, lo = MOUTH_Y + MOUTH_HALF + 0.002, MOUTH_Y - MOUTH_HALF - 0.002
    inner = [(-0.19, MOUTH_Y), (-0.07, up), (0.0, up), (0.07, up), (0.19, MOUTH_Y), (0.07, lo), (0.0, lo), (-0.07, lo)]
    pts += [("xy", x, y) for x, y in outer + inner]
    return pts


ID_MODE_NAMES = (
    "head_width", "cranium_height", "face_length", "head_depth", "jaw_width", "chin_protrusion", "chin_length",
    "cheek_fullness", "cheekbones", "nose_length", "nose_protrusion", "nose_width", "nose_bridge", "eye_spacing",
    "eye_size", "eye_height", "eye_depth", "lip_fullness", "mouth_width", "brow_ridge", "forehead_slope",
    "ear_protrusion", "neck_thickness", "face_flatness", "mouth_height", "asymmetry",
)
EXP_MODE_NAMES = (
    "jaw_open", "smile_left", "smile_right", "frown", "brow_raise", "brow_lower", "eye_close", "lip_pucker",
    "nose_wrinkle", "lip_stretch",
)


def _identity_modes(p: np.ndarray, c: Dict[str, np.ndarray], theta: np.ndarray) -> np.ndarray:
    X, Y, Z = p[:, 0], p[:, 1], p[:, 2]
    fx, fy, g = c["fx"], c["fy"], c["front"]
    afx, sgn = np.abs(fx), np.sign(fx)
    head = 1 - _smoothstep(-1.0, -1.25, Y)  # modes of the head leave the lower neck alone
    zero = np.zeros_like(X)
    neck_w = _smoothstep(-0.95, -1.3, Y) * (1 - _smoothstep(-1.3, -1.5, Y))
    ex, ey = EYE_CENTER
    eye_w = _bump(afx, fy, ex, ey, 0.2, 0.14) * g
    eye_tight = _bump(afx, fy, ex, ey, 0.17, 0.1) * g
    mouth_w = np.exp(-((fx / 0.28) ** 2) - ((fy - MOUTH_Y) / 0.08) ** 2) * g
    lips = (c["relief"]["upper_lip"] + c["relief"]["lower_lip"]) / 0.065 * g
    ear_dir = np.stack([np.sin(theta), zero, 0.3 * np.cos(theta) - 0.25], -1) * c["ear"][:, None] / 0.14
    modes = [
        np.stack([0.06 * X * head, zero, zero], -1),
        np.stack([zero, 0.07 * np.clip(Y, 0, None), zero], -1),
        np.stack([zero, 0.07 * np.clip(Y, -1.1, 0), zero], -1),
        np.stack([zero, zero, 0.06 * Z * head], -1),
        np.stack([0.1 * X * _smoothstep(-0.3, -0.8, Y) * head, zero, zero], -1),
        np.stack([zero, zero, 0.06 * _bump(fx, fy, 0, -0.88, 0.2, 0.12) * g], -1),
        np.stack([zero, -0.05 * np.clip((-0.7 - Y) / 0.15, 0, 1) * c["front"] ** 0.3 * head, zero], -1),
        np.stack([0.03 * sgn * _bump(afx, fy, 0.42, -0.3, 0.18, 0.2) * g, zero,
                  0.04 * _bump(afx, fy, 0.42, -0.3, 0.18, 0.2) * g], -1),
        np.stack([0.04 * sgn * _bump(afx, fy, 0.5, -0.05, 0.14, 0.1) * g, zero, zero], -1),
        np.stack([zero, -0.05 * np.clip((0.08 - fy) / 0.47, 0, 1) * np.exp(-((fx / 0.14) ** 2))
                  / (1 + np.exp(-(fy + 0.5) / 0.03)) * g, zero], -1),
        np.stack([zero, zero, 0.3 * (c["relief"]["nose"] + c["relief"]["alae"]) * g], -1),
        np.stack([0.3 * fx * np.exp(-((fx / 0.16) ** 2) - ((fy + 0.36) / 0.12) ** 2) * g, zero, zero], -1),
        np.stack([zero, zero, 0.03 * np.exp(-((fx / 0.06) ** 2) - ((fy + 0.05) / 0.12) ** 2) * g], -1),
        np.stack([0.025 * sgn * eye_w, zero, zero], -1),
        np.stack([0.12 * (afx - ex) * sgn * eye_tight, 0.12 * (fy - ey) * eye_tight, zero], -1),
        np.stack([zero, 0.025 * eye_w, zero], -1),
        np.stack([zero, zero, -0.3 * (c["relief"]["eye_socket"] + 0.1 * eye_tight) * g], -1),
        np.stack([zero, 0.012 * np.sign(fy - MOUTH_Y) * lips, 0.025 * lips], -1),
        np.stack([0.18 * fx * mouth_w, zero, zero], -1),
        np.stack([zero, zero, 0.5 * c["relief"]["brow_ridge"] * g], -1),
        np.stack([zero, zero, -0.06 * np.clip((fy - 0.2) / 0.6, 0, 1) * g], -1),
        0.4 * ear_dir * 0.14,
        np.stack([0.06 * X * neck_w, zero, 0.06 * Z * neck_w], -1),
        np.stack([zero, zero, -0.05 * g * (1 - _smoothstep(0.3, 0.7, fy)) * (1 - _smoothstep(-0.9, -1.1, fy))], -1),
        np.stack([zero, 0.025 * mouth_w, zero], -1),
        np.stack([0.02 * _bump(fx, fy, 0.3, -0.2, 0.3, 0.4) * g, 0.01 * _bump(fx, fy, 0.27, 0.0, 0.2, 0.2) * g, zero], -1),
    ]
    return np.stack(modes, -1)  # (V, 3, K)


def _expression_modes(p: np.ndarray, c: Dict[str, np.ndarray]) -> np.ndarray:
    X, Y, Z = p[:, 0], p[:, 1], p[:, 2]
    fx, fy, g = c["fx"], c["fy"], c["front"]
    afx, sgn = np.abs(fx), np.sign(fx)
    zero = np.zeros_like(X)
    # jaw: everything below the lip line (on the face, fading into the neck and towards the ears) rotates about a
    # hinge in front of the ears; the thin mouth slit between the lips is where the surface stretches open.
    below = _smoothstep(MOUTH_Y + MOUTH_HALF * 0.6, MOUTH_Y - MOUTH_HALF * 0.6, fy)
    below = np.where(afx < MOUTH_HALF_WIDTH + 0.02, below, _smoothstep(MOUTH_Y + 0.05, MOUTH_Y - 0.12, fy))
    jaw_w = below * _smoothstep(0.0, 0.6, c["ct"]) * (1 - _smoothstep(-1.05, -1.35, Y))
    ang = 0.22
    hy, hz = -0.1, -0.15
    dy = (Y - hy) * (math.cos(ang) - 1) - (Z - hz) * math.sin(ang)
    dz = (Y - hy) * math.sin(ang) + (Z - hz) * (math.cos(ang) - 1)
    jaw = np.stack([zero, dy * jaw_w, dz * jaw_w], -1)

    def smile(side):
        w = _bump(fx, fy, side * 0.21, MOUTH_Y, 0.12, 0.1) * g
        cheek = _bump(fx, fy, side * 0.38, -0.3, 0.15, 0.15) * g
        lid = _bump(fx, fy, side * 0.27, -0.05, 0.1, 0.035) * g
        return np.stack([0.035 * side * w, 0.05 * w + 0.025 * cheek + 0.012 * lid, -0.02 * w + 0.02 * cheek], -1)

    corners = (_bump(fx, fy, 0.21, MOUTH_Y - 0.01, 0.1, 0.08) + _bump(fx, fy, -0.21, MOUTH_Y - 0.01, 0.1, 0.08)) * g
    frown = np.stack([zero, -0.045 * corners + 0.01 * _bump(fx, fy, 0, -0.85, 0.15, 0.1) * g, zero], -1)
    brow_region = np.exp(-(((afx - 0.26) / 0.25) ** 2) - ((fy - 0.2) / 0.13) ** 2) * g * _smoothstep(0.05, 0.13, fy)
    brow_raise = np.stack([zero, 0.06 * brow_region, zero], -1)
    inner = _bump(afx, fy, 0.12, 0.19, 0.1, 0.08) * g
    brow_lower = np.stack([-0.025 * sgn * inner, -0.045 * brow_region, 0.012 * brow_region], -1)
    eye_m = np.exp(-(((afx - EYE_CENTER[0]) / 0.15) ** 4) - ((fy - EYE_CENTER[1]) / 0.07) ** 4) * g
    lid = -0.6 * EYE_HALF[1]
    eye_close = np.stack([zero, -(fy - lid) * 0.95 * eye_m, 0.005 * eye_m], -1)
    mouth_w = np.exp(-((fx / 0.26) ** 2) - ((fy - MOUTH_Y) / 0.09) ** 2) * g
    pucker = np.stack([-0.35 * fx * mouth_w, zero, 0.05 * mouth_w], -1)
    wrinkle = np.stack([zero, 0.025 * _bump(afx, fy, 0.08, -0.38, 0.08, 0.08) * g
                        + 0.015 * _bump(fx, fy, 0, -0.58, 0.15, 0.04) * g - 0.015 * inner, 0.01 * inner], -1)
    stretch = np.stack([0.25 * fx * mouth_w, -0.012 * corners, zero], -1)
    modes = [jaw, smile(1.0), smile(-1.0), frown, brow_raise, brow_lower, eye_close, pucker, wrinkle, stretch]
    return np.stack(modes, -1)


@functools.lru_cache(maxsize=4)
def _head_arrays(nu: int, nv: int):
    s = np.linspace(-1, 1, nu + 1)
    t = np.linspace(0, 1, nv)
    theta = grid_theta(s)[None, :].repeat(nv, 0).reshape(-1)
    y = grid_y(t)[:, None].repeat(nu + 1, 1).reshape(-1)
    c = surface_coords(theta, y)
    p = c["xyz"]
    uv = np.stack([(s[None, :] * 0.5 + 0.5).repeat(nv, 0).reshape(-1), t[:, None].repeat(nu + 1, 1).reshape(-1)], -1)
    idx = np.arange(nv * (nu + 1)).reshape(nv, nu + 1)
    a, b, cc, d = idx[:-1, :-1], idx[:-1, 1:], idx[1:, :-1], idx[1:, 1:]
    tris = np.concatenate([np.stack([a, cc, b], -1).reshape(-1, 3), np.stack([b, cc, d], -1).reshape(-1, 3)])
    # Orient every triangle outwards (normal away from the head's vertical axis).
    v0, v1, v2 = p[tris[:, 0]], p[tris[:, 1]], p[tris[:, 2]]
    n = np.cross(v1 - v0, v2 - v0)
    centre = (v0 + v1 + v2) / 3
    out = centre.copy()
    out[:, 1] = 0
    flip = (n * out).sum(-1) < 0
    tris[flip] = tris[flip][:, [0, 2, 1]]
    area = np.linalg.norm(n, axis=-1)
    tris = tris[area > 1e-10]  # the crown row collapses to a point
    regions = canonical_regions(theta, y, c)
    # Landmarks: nearest front vertex in the (fx, fy) chart (jaw points are given in (theta, y)).
    fx, fy = c["fx"], c["fy"]
    frontish = np.cos(theta) > 0.05
    lm = []
    for kind, a1, a2 in _landmark_targets():
        if kind == "ty":
            tc = surface_coords(np.array([a1]), np.array([a2]))
            tx, ty = tc["fx"][0], a2
        else:
            tx, ty = a1, a2
        dist = (fx - tx) ** 2 + (fy - ty) ** 2 + (~frontish) * 1e3
        lm.append(int(np.argmin(dist)))
    id_basis = _identity_modes(p, c, theta)
    exp_basis = _expression_modes(p, c)
    return p, id_basis, exp_basis, tris, uv, regions, np.array(lm)


def grid_normals(verts: torch.Tensor, nu: int, nv: int) -> torch.Tensor:
    """Unit outward vertex normals of head vertices ``(B, V, 3)`` laid out as the ``nv x (nu + 1)`` grid of
    :func:`build_head_model`, from central differences (wrapping around the seam). About 10x cheaper than the
    generic area-weighted normals and equal to them up to discretisation."""
    p = verts.view(verts.shape[0], nv, nu + 1, 3)[:, :, :nu]
    du = torch.roll(p, -1, 2) - torch.roll(p, 1, 2)
    dv = torch.cat([p[:, 1:2] - p[:, 0:1], p[:, 2:] - p[:, :-2], p[:, -1:] - p[:, -2:-1]], 1)
    ux, uy, uz = du.unbind(-1)
    vx, vy, vz = dv.unbind(-1)
    # rows run downwards and columns towards +theta (to the subject's left), so dv x du points outwards
    n = torch.stack([vy * uz - vz * uy, vz * ux - vx * uz, vx * uy - vy * ux], -1)
    # the crown row is collapsed to one point: give it the mean normal of the ring below
    n = torch.cat([n[:, 1:2].sum(2, keepdim=True).expand(-1, -1, nu, -1), n[:, 1:]], 1)
    n = torch.nn.functional.normalize(n, dim=-1, eps=1e-12)
    return torch.cat([n, n[:, :, :1]], 2).reshape(verts.shape)


def build_head_model(nu: int = GRID_SHAPE[0], nv: int = GRID_SHAPE[1]) -> MorphableModel:
    """The FaceWorld head as a fresh :class:`MorphableModel` (``nu`` columns around, ``nv`` rows top to bottom).

    Identity coefficients are meant to be ~N(0, 1) (clipped to +-2.5); expression weights in about [-0.8, 1.2].
    """
    p, id_basis, exp_basis, tris, uv, regions, lm = _head_arrays(nu, nv)
    return MorphableModel(
        mean_shape=torch.from_numpy(p).float(),
        id_basis=torch.from_numpy(id_basis).float(),
        exp_basis=torch.from_numpy(exp_basis).float(),
        triangles=torch.from_numpy(tris).long(),
        uv_coords=torch.from_numpy(uv).float(),
        regions=torch.from_numpy(regions),
        landmark_indices=torch.from_numpy(lm).long(),
        region_names=REGION_NAMES,
        id_names=ID_MODE_NAMES,
        exp_names=EXP_MODE_NAMES,
    )
