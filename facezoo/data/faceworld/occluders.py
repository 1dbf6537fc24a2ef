"""Occluders drawn over rendered faces in image space, with exact masks.

They are 2D shapes anchored on the projected 68 landmarks (so they follow pose and face size), not 3D objects: a
hand or a scarf does not wrap around the head and glasses frames do not hide behind the nose in profile views.
Each drawer returns an RGB layer and a coverage in [0, 1] at the render resolution; the world downsamples both with
the image, so their edges are anti-aliased while ``occluder_mask`` is the coverage thresholded at 0.5.
"""

from __future__ import annotations

import math
from typing import Callable, Dict, Tuple

import torch

__all__ = ["OCCLUDERS", "draw_occluders"]

OCCLUDERS = ("sunglasses", "clear_glasses", "medical_mask", "scarf", "hand", "microphone", "patch")
# Occluders whose pixels are labelled eye_g in the semantic map; the others get the extra "occluder" class.
GLASSES = ("sunglasses", "clear_glasses")


def _frame(lm: torch.Tensor):
    """Face frame from landmarks ``(b, 68, 2)``: eye centres, unit axis along the eyes, unit axis down the face and a
    size ``d`` (half the nose-bridge-to-chin distance, which survives yaw better than the eye distance)."""
    le, re = lm[:, 36:42].mean(1), lm[:, 42:48].mean(1)
    down = lm[:, 8] - lm[:, 27]
    d = down.norm(dim=-1, keepdim=True).clamp_min(1e-3) * 0.5
    v = down / (2 * d)
    u = torch.stack([v[:, 1], -v[:, 0]], -1)  # perpendicular, pointing to image right
    return le, re, u, v, d


def _local(xs, ys, origin, u, v):
    """Coordinates of the pixel grid in the frame (origin, u, v): ``(b, H, W)`` each."""
    dx = xs.unsqueeze(0) - origin[:, 0].view(-1, 1, 1)
    dy = ys.unsqueeze(0) - origin[:, 1].view(-1, 1, 1)
    return dx * u[:, 0].view(-1, 1, 1) + dy * u[:, 1].view(-1, 1, 1), dx * v[:, 0].view(-1, 1, 1) + dy * v[:, 1].view(-1, 1, 1)


def _capsule(xs, ys, a, b, r):
    """Pixels within ``r (b,)`` of the segment a-b ``(b, 2)``."""
    ab = b - a
    px = xs.unsqueeze(0) - a[:, 0].view(-1, 1, 1)
    py = ys.unsqueeze(0) - a[:, 1].view(-1, 1, 1)
    t = ((px * ab[:, 0].view(-1, 1, 1) + py * ab[:, 1].view(-1, 1, 1)) / (ab.pow(2).sum(-1).view(-1, 1, 1) + 1e-6))
    t = t.clamp(0, 1)
    qx = px - t * ab[:, 0].view(-1, 1, 1)
    qy = py - t * ab[:, 1].view(-1, 1, 1)
    return (qx * qx + qy * qy) < r.view(-1, 1, 1) ** 2


def _polygon(xs, ys, poly):
    """Even-odd fill of polygons ``(b, P, 2)`` on the pixel grid -> bool ``(b, H, W)``."""
    inside = torch.zeros((poly.shape[0],) + xs.shape, dtype=torch.bool)
    x, y = xs.unsqueeze(0), ys.unsqueeze(0)
    p = poly.shape[1]
    for k in range(p):
        x0, y0 = poly[:, k, 0].view(-1, 1, 1), poly[:, k, 1].view(-1, 1, 1)
        x1, y1 = poly[:, (k + 1) % p, 0].view(-1, 1, 1), poly[:, (k + 1) % p, 1].view(-1, 1, 1)
        cond = (y0 > y) != (y1 > y)
        xint = x0 + (y - y0) * (x1 - x0) / (y1 - y0 + 1e-9)
        inside ^= cond & (x < xint)
    return inside


def _col(rgb, b):
    return torch.as_tensor(rgb, dtype=torch.float32).view(-1, 3, 1, 1).expand(b, 3, 1, 1)


def _glasses(xs, ys, lm, r, dark: bool):
    le, re, u, v, d = _frame(lm)
    b = lm.shape[0]
    rx, ry = 0.36 * d + 0.08 * d * r[:, 0:1], 0.28 * d + 0.06 * d * r[:, 1:2]
    cover = torch.zeros((b,) + xs.shape, dtype=torch.bool)
    ring = torch.zeros_like(cover)
    lens = torch.zeros_like(cover)
    th = (0.035 + 0.04 * r[:, 2:3]) * d * (2.0 if not dark else 1.0)
    for c in (le, re):
        lu, lv = _local(xs, ys, c, u, v)
        e = (lu / rx.view(-1, 1, 1)) ** 2 + ((lv + 0.03 * d.view(-1, 1, 1)) / ry.view(-1, 1, 1)) ** 2
        inner = (lu / (rx - th).view(-1, 1, 1)) ** 2 + ((lv + 0.03 * d.view(-1, 1, 1)) / (ry - th).view(-1, 1, 1)) ** 2
        lens |= inner < 1
        ring |= (e < 1) & (inner >= 1)
    # bridge and the two arms towards the ears
    lift = -v * d * 0.12  # the bridge sits above the eye line, between the inner rims
    ring |= _capsule(xs, ys, le + u * rx + lift, re - u * rx + lift, th.squeeze(1) * 0.6)
    ring |= _capsule(xs, ys, le - u * rx, lm[:, 0] + (lm[:, 0] - lm[:, 1]) * 0.0, th.squeeze(1) * 0.5)
    ring |= _capsule(xs, ys, re + u * rx, lm[:, 16], th.squeeze(1) * 0.5)
    frame_rgb = _col([0.05, 0.05, 0.05], b) * (1 - r[:, 3:4].view(-1, 1, 1, 1)) + r[:, 3:4].view(-1, 1, 1, 1) * \
        _col([0.55, 0.45, 0.3], b)
    if dark:
        cover = ring | lens
        _, lv = _local(xs, ys, le, u, v)
        grad = (0.5 + 0.5 * (lv / (2 * ry.view(-1, 1, 1))).clamp(-1, 1)).unsqueeze(1)
        tint = _col([0.02, 0.03, 0.05], b) + r[:, 4:5].view(-1, 1, 1, 1) * _col([0.12, 0.05, 0.0], b)
        rgb = torch.where(lens.unsqueeze(1), tint + 0.25 * (1 - grad), frame_rgb.expand(-1, -1, *xs.shape))
    else:
        cover = ring
        rgb = frame_rgb.expand(-1, -1, *xs.shape)
    return rgb, cover


def _medical_mask(xs, ys, lm, r):
    le, re, u, v, d = _frame(lm)
    b = lm.shape[0]
    jaw = lm[:, 2:15]
    centre = lm[:, 30:31]
    jaw = centre + (jaw - centre) * 1.08 + v.unsqueeze(1) * d.unsqueeze(1) * 0.08
    top = lm[:, 28] * 0.5 + lm[:, 29] * 0.5
    tr = top + u * (lm[:, 14] - top).mul(u).sum(-1, keepdim=True) * 1.05
    tl = top + u * (lm[:, 2] - top).mul(u).sum(-1, keepdim=True) * 1.05
    poly = torch.cat([jaw, tr.unsqueeze(1), top.unsqueeze(1) - v.unsqueeze(1) * d.unsqueeze(1) * 0.06, tl.unsqueeze(1)], 1)
    cover = _polygon(xs, ys, poly)
    _, lv = _local(xs, ys, top, u, v)
    pleat = 1 - 0.12 * (torch.sin(lv / d.view(-1, 1, 1) * 9) > 0.6).float()
    palette = torch.tensor([[0.55, 0.75, 0.9], [0.93, 0.93, 0.95], [0.12, 0.12, 0.14], [0.85, 0.7, 0.8]])
    base = palette[(r[:, 0] * 4).long().clamp(max=3)].view(b, 3, 1, 1)
    rgb = base * pleat.unsqueeze(1)
    return rgb, cover


def _scarf(xs, ys, lm, r):
    le, re, u, v, d = _frame(lm)
    b = lm.shape[0]
    top = lm[:, 57] + v * d * (0.05 + 0.25 * r[:, 0:1])
    far = 4.0 * d
    poly = torch.stack([top - u * d * 1.25, top + u * d * 1.25, top + u * d * 1.6 + v * far, top - u * d * 1.6 + v * far], 1)
    cover = _polygon(xs, ys, poly)
    lu, lv = _local(xs, ys, top, u, v)
    c1 = r[:, 1:4].view(b, 3, 1, 1) * 0.8 + 0.1
    c2 = r[:, 4:7].view(b, 3, 1, 1) * 0.6
    freq = (4 + 6 * r[:, 7]).view(-1, 1, 1) / d.view(-1, 1, 1)
    pattern = ((torch.sin(lu * freq) > 0) ^ (torch.sin(lv * freq) > 0.3)).float().unsqueeze(1)
    rgb = c1 * pattern + c2 * (1 - pattern)
    return rgb * (0.85 + 0.15 * torch.cos(lv / d.view(-1, 1, 1) * 3)).unsqueeze(1), cover


def _hand(xs, ys, lm, r):
    le, re, u, v, d = _frame(lm)
    b = lm.shape[0]
    anchors = torch.stack([lm[:, 57], lm[:, 30], le, re, lm[:, 4], lm[:, 12]], 1)
    pick = (r[:, 0] * anchors.shape[1]).long().clamp(max=anchors.shape[1] - 1)
    centre = anchors[torch.arange(b), pick] + v * d * 0.5
    ang = (r[:, 1] - 0.5) * 1.6 + math.pi / 2
    dirn = torch.stack([torch.cos(ang), torch.sin(ang)], -1)  # fingers point this way (mostly up)
    side = torch.stack([-dirn[:, 1], dirn[:, 0]], -1)
    palm_r = d.squeeze(1) * (0.45 + 0.1 * r[:, 2])
    palm_c = centre + dirn * palm_r.unsqueeze(1) * 1.4
    cover = _capsule(xs, ys, palm_c, palm_c + dirn * palm_r.unsqueeze(1) * 1.5, palm_r)
    for k, length in enumerate((1.5, 1.8, 1.7, 1.3)):
        base = palm_c - dirn * palm_r.unsqueeze(1) * 0.3 + side * palm_r.unsqueeze(1) * (0.75 - 0.5 * k)
        tip = base - dirn * palm_r.unsqueeze(1) * length - side * palm_r.unsqueeze(1) * (0.1 * (1.5 - k))
        cover |= _capsule(xs, ys, base, tip, palm_r * 0.22)
    thumb = palm_c + side * palm_r.unsqueeze(1) * 0.9
    cover |= _capsule(xs, ys, thumb, thumb + side * palm_r.unsqueeze(1) * 0.8 - dirn * palm_r.unsqueeze(1) * 0.8,
                      palm_r * 0.25)
    tones = torch.tensor([[0.93, 0.74, 0.62], [0.78, 0.56, 0.42], [0.55, 0.37, 0.26], [0.36, 0.24, 0.17]])
    skin = tones[(r[:, 3] * 4).long().clamp(max=3)].view(b, 3, 1, 1)
    lu, _ = _local(xs, ys, palm_c, side, dirn)
    shade = (0.8 + 0.2 * torch.cos(lu / palm_r.view(-1, 1, 1))).unsqueeze(1)
    return skin * shade, cover


def _microphone(xs, ys, lm, r):
    le, re, u, v, d = _frame(lm)
    b = lm.shape[0]
    head_r = d.squeeze(1) * (0.28 + 0.1 * r[:, 0])
    centre = lm[:, 57] + v * d * (0.45 + 0.2 * r[:, 1:2]) + u * d * (r[:, 2:3] - 0.5)
    ang = math.pi / 2 + (r[:, 3] - 0.5) * 0.8
    handle_dir = torch.stack([torch.cos(ang), torch.sin(ang)], -1)
    grille = _capsule(xs, ys, centre, centre, head_r)
    handle = _capsule(xs, ys, centre, centre + handle_dir * d * 5, head_r * 0.35)
    lu, lv = _local(xs, ys, centre, u, v)
    dots = ((torch.cos(lu / head_r.view(-1, 1, 1) * 18) > 0.4) & (torch.cos(lv / head_r.view(-1, 1, 1) * 18) > 0.4))
    g = (0.35 + 0.15 * dots.float() - 0.2 * (lu + lv).div(head_r.view(-1, 1, 1) * 2)).clamp(0.05, 0.8)
    rgb = torch.where(grille.unsqueeze(1), g.unsqueeze(1).expand(-1, 3, -1, -1),
                      _col([0.08, 0.08, 0.09], b).expand(-1, 3, *xs.shape) + 0.1 * r[:, 4].view(-1, 1, 1, 1))
    return rgb, grille | handle


def _patch(xs, ys, lm, r):
    le, re, u, v, d = _frame(lm)
    centre = lm[:, 30] + u * d * (r[:, 0:1] - 0.5) * 1.6 + v * d * (r[:, 1:2] - 0.5) * 1.6
    half_u = d.squeeze(1) * (0.25 + 0.4 * r[:, 2])
    half_v = d.squeeze(1) * (0.25 + 0.4 * r[:, 3])
    ang = (r[:, 4] - 0.5) * 1.2
    pu = torch.stack([torch.cos(ang), torch.sin(ang)], -1)
    pv = torch.stack([-pu[:, 1], pu[:, 0]], -1)
    lu, lv = _local(xs, ys, centre, pu, pv)
    cover = (lu.abs() < half_u.view(-1, 1, 1)) & (lv.abs() < half_v.view(-1, 1, 1))
    freq = (0.2 + 0.6 * r[:, 5]).view(-1, 1, 1)
    tex = torch.stack([torch.sin(lu * freq * (1 + k) + lv * freq * (2 - k) + 6 * r[:, 6 + k % 2].view(-1, 1, 1))
                       for k in range(3)], 1)
    return 0.5 + 0.4 * tex, cover


_DRAWERS: Dict[str, Callable] = {
    "sunglasses": lambda xs, ys, lm, r: _glasses(xs, ys, lm, r, dark=True),
    "clear_glasses": lambda xs, ys, lm, r: _glasses(xs, ys, lm, r, dark=False),
    "medical_mask": _medical_mask,
    "scarf": _scarf,
    "hand": _hand,
    "microphone": _microphone,
    "patch": _patch,
}


def draw_occluders(
    kinds: torch.Tensor, params: torch.Tensor, landmarks: torch.Tensor, size: int
) -> Tuple[torch.Tensor, torch.Tensor]:
    """Occluder layers of a batch.

    Args:
        kinds (`torch.LongTensor` of shape `(B,)`): index into :data:`OCCLUDERS`, ``-1`` for none.
        params (`torch.FloatTensor` of shape `(B, 8)`): uniform [0, 1) numbers that place and colour them.
        landmarks (`torch.FloatTensor` of shape `(B, 68, 2)`): pixel coordinates at this ``size``.
    Returns: ``rgb (B, 3, size, size)`` and boolean ``cover (B, size, size)``.
    """
    b = kinds.shape[0]
    centres = torch.arange(size, dtype=torch.float32) + 0.5
    ys, xs = torch.meshgrid(centres, centres, indexing="ij")
    rgb = torch.zeros(b, 3, size, size)
    cover = torch.zeros(b, size, size, dtype=torch.bool)
    for k, name in enumerate(OCCLUDERS):
        sel = (kinds == k).nonzero().squeeze(1)
        if sel.numel() == 0:
            continue
        layer, mask = _DRAWERS[name](xs, ys, landmarks[sel], params[sel])
        rgb[sel] = layer.expand(-1, 3, size, size).clamp(0, 1)
        cover[sel] = mask
    return rgb, cover
