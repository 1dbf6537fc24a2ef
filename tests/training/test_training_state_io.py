import random

import numpy as np
import torch

from facezoo.training import load_state_tree, save_state_tree
from facezoo.training.checkpoint import rng_state, set_rng_state


def _equal(a, b):
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b)
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
    if isinstance(a, dict):
        return type(b) is dict and a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    return a == b


def test_optimizer_state_round_trips_without_pickle(tmp_path):
    model = torch.nn.Linear(3, 2)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(3):
        model(torch.randn(4, 3)).pow(2).mean().backward()
        opt.step()
    save_state_tree(opt.state_dict(), tmp_path, "optimizer")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["optimizer.json", "optimizer.safetensors"]
    loaded = load_state_tree(tmp_path, "optimizer")
    assert _equal(opt.state_dict(), loaded)  # int parameter keys, step tensors, param_groups lists all intact
    fresh = torch.optim.Adam(torch.nn.Linear(3, 2).parameters(), lr=1.0)
    fresh.load_state_dict(loaded)
    assert fresh.param_groups[0]["lr"] == 1e-2


def test_rng_states_round_trip(tmp_path):
    random.seed(1), np.random.seed(1), torch.manual_seed(1)
    save_state_tree(rng_state(), tmp_path, "rng")
    expected = (random.random(), np.random.rand(), torch.rand(1).item())
    random.seed(2), np.random.seed(2), torch.manual_seed(2)
    set_rng_state(load_state_tree(tmp_path, "rng"))
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == expected


def test_missing_files_are_named(tmp_path):
    import pytest

    save_state_tree({"a": torch.zeros(1)}, tmp_path, "x")
    (tmp_path / "x.safetensors").unlink()
    with pytest.raises(FileNotFoundError, match="x.safetensors"):
        load_state_tree(tmp_path, "x")
