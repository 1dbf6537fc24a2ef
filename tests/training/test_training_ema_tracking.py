import numpy as np
import pytest
import torch

from facezoo.training import ExponentialMovingAverage, image_grid


def test_ema_follows_the_formula_even_for_frozen_parameters():
    model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.BatchNorm1d(2))
    start = model[0].weight.detach().clone()
    ema = ExponentialMovingAverage(model, decay=0.9)
    with torch.no_grad():
        model[0].weight.add_(1.0)
        model[1].running_mean.fill_(5.0)
    model.requires_grad_(False)  # as during a discriminator step
    ema.update(model)
    assert torch.allclose(ema.shadow["0.weight"], 0.9 * start + 0.1 * (start + 1.0))
    assert torch.equal(ema.shadow["1.running_mean"], torch.full((2,), 5.0))  # buffers copied
    averaged = ema.averaged_copy(model)
    assert torch.allclose(averaged[0].weight, ema.shadow["0.weight"]) and not averaged.training
    restored = ExponentialMovingAverage(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.BatchNorm1d(2)), decay=0.5)
    restored.load_state_dict(ema.state_dict())
    assert restored.decay == 0.9 and restored.num_updates == 1
    assert torch.equal(restored.shadow["0.weight"], ema.shadow["0.weight"])
    with pytest.raises(ValueError, match="decay"):
        ExponentialMovingAverage(model, decay=1.5)


def test_image_grid_layout_and_values():
    images = torch.zeros(3, 1, 4, 5)
    images[1] = 1.0
    grid = image_grid(images, nrow=2, padding=1)
    assert grid.shape == (2 * 5 + 1, 2 * 6 + 1, 3) and grid.dtype == np.uint8
    assert (grid[1:5, 7:12] == 255).all()  # second tile, white
    assert (grid[1:5, 1:6] == 0).all()
    tanh_grid = image_grid(torch.zeros(1, 3, 2, 2), padding=0, value_range=(-1, 1))
    assert (tanh_grid == 128).all()  # 0 in [-1, 1] is mid-grey
    with pytest.raises(ValueError, match="expects"):
        image_grid(torch.zeros(2, 4, 3, 3))
