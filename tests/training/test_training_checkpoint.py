import json

import pytest
import torch
from accelerate import Accelerator

import facezoo.training.checkpoint as checkpoint_module
from facezoo.training import CheckpointManager, latest_checkpoint, list_checkpoints, read_training_state


@pytest.fixture
def manager(tmp_path, fresh_accelerate_state):
    acc = Accelerator(cpu=True)
    model = torch.nn.Linear(2, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    model, opt = acc.prepare(model, opt)
    m = CheckpointManager(acc, tmp_path / "run", total_limit=2)
    m.register("model", model)
    m.register("optimizer", opt)
    return m, model


def test_save_load_round_trip_and_only_safetensors_json(manager):
    m, model = manager
    folder = m.save(global_step=3, batches_seen=6)
    assert {p.suffix for p in folder.iterdir()} == {".json", ".safetensors"}
    expected = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        model.weight.add_(1.0)
    info = m.load(folder)
    assert info["global_step"] == 3 and info["batches_seen"] == 6
    assert all(torch.equal(model.state_dict()[k], v) for k, v in expected.items())


def test_keep_last_k_and_latest_uses_the_stored_step(manager):
    m, _ = manager
    for step in (2, 4, 6):
        m.save(global_step=step, batches_seen=step)
    assert [p.name for p in list_checkpoints(m.output_dir)] == ["checkpoint-4", "checkpoint-6"]
    # the step comes from training_state.json, not from the folder name
    (m.output_dir / "checkpoint-4").rename(m.output_dir / "checkpoint-999")
    assert latest_checkpoint(m.output_dir).name == "checkpoint-6"
    assert m.resolve("latest").name == "checkpoint-6"


def test_a_crash_mid_write_keeps_the_last_good_checkpoint(manager, monkeypatch):
    m, _ = manager
    m.save(global_step=1, batches_seen=1)
    real_save = checkpoint_module.save_state_tree

    def dies_on_optimizer(state, folder, name):
        if name == "optimizer":
            raise KeyboardInterrupt("killed mid-write")
        return real_save(state, folder, name)

    monkeypatch.setattr(checkpoint_module, "save_state_tree", dies_on_optimizer)
    with pytest.raises(KeyboardInterrupt):
        m.save(global_step=2, batches_seen=2)
    assert (m.output_dir / ".tmp-checkpoint-2").is_dir()  # the half-written folder is there...
    assert latest_checkpoint(m.output_dir).name == "checkpoint-1"  # ...and ignored
    monkeypatch.setattr(checkpoint_module, "save_state_tree", real_save)
    m.save(global_step=3, batches_seen=3)
    assert not (m.output_dir / ".tmp-checkpoint-2").exists()  # cleaned by the next save


def test_clear_errors(manager, tmp_path):
    m, _ = manager
    with pytest.raises(FileNotFoundError, match="no such checkpoint"):
        m.resolve(str(tmp_path / "missing"))
    assert m.resolve("latest") is None
    (tmp_path / "bad").mkdir()
    with pytest.raises(FileNotFoundError, match="training_state.json is missing"):
        read_training_state(tmp_path / "bad")
    (tmp_path / "bad" / "training_state.json").write_text(json.dumps({"global_step": "3", "batches_seen": 1}))
    with pytest.raises(ValueError, match="global_step"):
        read_training_state(tmp_path / "bad")
    folder = m.save(global_step=1, batches_seen=1)
    m.register("extra", torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1))
    with pytest.raises(ValueError, match=r"no state for \['extra'\]"):
        m.load(folder)
    with pytest.raises(ValueError, match="already registered"):
        m.register("model", torch.nn.Linear(1, 1))
