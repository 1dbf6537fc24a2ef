"""FLOP counting against hand-computed counts, and the peak share."""

import pytest
import torch

from facezoo.utils.flops import count_flops, peak_share, time_call


class TwoLayer(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(4, 8, 3, padding=1)
        self.fc = torch.nn.Linear(8 * 5 * 5, 10)

    def forward(self, x):
        return self.fc(torch.relu(self.conv(x)).flatten(1))

    def dummy_inputs(self, batch_size=1):
        return (torch.randn(batch_size, 4, 5, 5),)


def test_count_flops_by_hand():
    model = TwoLayer()
    # conv: 2 * B * Cout * Cin * 9 * H * W ; linear: 2 * B * in * out ; activations/bias count 0
    expected = 2 * 3 * (8 * 4 * 9 * 25 + 200 * 10)
    assert count_flops(model, model.dummy_inputs(3)) == expected
    assert count_flops(model, torch.randn(3, 4, 5, 5)) == expected  # a bare tensor works too
    assert count_flops(lambda x, y: x @ y, {"x": torch.randn(2, 3), "y": torch.randn(3, 4)}) == 2 * 2 * 3 * 4


def test_peak_share_and_time_call():
    model = TwoLayer()
    share = peak_share(model, model.dummy_inputs(8), peak_flops=1.0)  # a 1 FLOP/s "peak": share = FLOP/s
    assert share > 1e5
    with pytest.raises(ValueError, match="peak_flops"):
        peak_share(model, model.dummy_inputs(1), peak_flops=0)
    t = time_call(lambda: None, warmup=0, repeats=4)
    assert len(t.runs) == 4 and t.median >= 0
