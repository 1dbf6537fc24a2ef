"""FaceParser and Recon3DRegressor networks (the shipped weights are tested in test_shipped_toolkit.py)."""

import pytest
import torch
import torch.nn.functional as F

from facezoo.face.parser import FaceParser
from facezoo.face.regressor import Recon3DRegressor


def _disks(n, size=32, seed=0):
    """Images of a bright disk of random centre/radius on noise, and its exact mask (class 1)."""
    g = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    centre = torch.rand(n, 2, generator=g) * size * 0.5 + size * 0.25
    radius = torch.rand(n, generator=g) * size * 0.15 + size * 0.15
    mask = ((xx[None] - centre[:, 0, None, None]) ** 2 + (yy[None] - centre[:, 1, None, None]) ** 2) < radius[:, None, None] ** 2
    images = 0.3 * torch.rand(n, 3, size, size, generator=g) + 0.6 * mask[:, None].float()
    return images, mask.long()


def test_parser_shapes_face_mask_and_round_trip(tmp_path):
    torch.manual_seed(0)
    parser = FaceParser(num_classes=4, widths=(8, 16, 32), face_classes=(1, 2), sample_size=32).eval()
    x = torch.rand(2, 3, 32, 32)
    out = parser(x)
    assert out.logits.shape == (2, 4, 32, 32) and out.face_mask.shape == (2, 1, 32, 32)
    probs = out.logits.softmax(1)
    torch.testing.assert_close(out.face_mask[:, 0], probs[:, 1] + probs[:, 2])
    assert parser.parse(x).shape == (2, 32, 32)
    parser.save_pretrained(tmp_path)
    again = FaceParser.from_pretrained(tmp_path).eval()
    assert tuple(again.config.face_classes) == (1, 2)
    torch.testing.assert_close(again(x).face_mask, out.face_mask)
    with pytest.raises(ValueError, match="multiples of 4"):
        parser(torch.rand(1, 3, 30, 30))


def test_parser_learns_a_segmentation():
    torch.manual_seed(0)
    parser = FaceParser(num_classes=2, widths=(8, 16), sample_size=16)
    images, masks = _disks(12, size=16)
    opt = torch.optim.Adam(parser.parameters(), lr=1e-2)
    losses = []
    for _ in range(40):
        loss = F.cross_entropy(parser(images).logits, masks)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.3 * losses[0]
    test_images, test_masks = _disks(8, size=16, seed=1)
    pred = parser.eval().parse(test_images)
    inter = ((pred == 1) & (test_masks == 1)).sum()
    union = ((pred == 1) | (test_masks == 1)).sum()
    assert inter / union > 0.8


def test_regressor_slices_normalisation_and_round_trip(tmp_path):
    torch.manual_seed(0)
    reg = Recon3DRegressor(widths=(8, 16), blocks=(1, 1), sample_size=32, param_names=("id", "pose"), param_sizes=(3, 2))
    assert reg.param_dim == 5 and reg.param_slices()["pose"] == slice(3, 5)
    reg.set_normalization(torch.tensor([0.0, 1, 2, 3, 4]), torch.tensor([1.0, 2, 0, 1, 1]))
    assert reg.param_std[2] == 1.0  # a constant coordinate gets std 1, not a division by zero
    reg.eval()
    x = torch.rand(2, 3, 32, 32)
    out = reg(x)
    # The zero-initialised head predicts the data mean before training.
    torch.testing.assert_close(out.params, reg.param_mean.expand(2, 5))
    torch.testing.assert_close(reg.normalize(out.params), out.normalized)
    parts = reg.split(out.params)
    assert parts["id"].shape == (2, 3) and parts["pose"].shape == (2, 2)
    reg.head.weight.data.normal_()
    reg.save_pretrained(tmp_path)
    again = Recon3DRegressor.from_pretrained(tmp_path).eval()
    torch.testing.assert_close(again.param_mean, reg.param_mean)
    torch.testing.assert_close(again(x).params, reg(x).params)


def test_regressor_learns_a_linear_target():
    torch.manual_seed(0)
    reg = Recon3DRegressor(widths=(8, 16), blocks=(1, 1), sample_size=16, param_names=("brightness",), param_sizes=(3,))
    images = torch.rand(32, 3, 16, 16)
    target = images.mean(dim=(2, 3)) * 10 + 5  # per-channel brightness in data units
    reg.set_normalization(target.mean(0), target.std(0))
    opt = torch.optim.Adam(reg.parameters(), lr=3e-3)
    first = None
    for _ in range(40):
        loss = F.mse_loss(reg(images).normalized, reg.normalize(target))
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.2 * first
