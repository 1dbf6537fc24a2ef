"""End-to-end runs of the toy GAN fixture script: two-process DDP, kill and resume, export round trip."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import torch
from safetensors.torch import load_file

from facezoo.training import latest_checkpoint, load_state_tree, read_training_state

FIXTURES = Path(__file__).parent / "fixtures"

SCRIPT = str(FIXTURES / "toy_gan.py")
ROOT = Path(__file__).resolve().parents[2]
COMMON = ["--train_batch_size", "8", "--num_images", "40", "--report_to", "none", "--logging_steps", "1"]


def _env():
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    env.pop("WORLD_SIZE", None), env.pop("LOCAL_RANK", None)
    return env


def _run(*args, timeout=180):
    proc = subprocess.run([sys.executable, SCRIPT, *COMMON, *args], env=_env(), capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def _checkpoint_tensors(folder):
    names = read_training_state(folder)["objects"]
    out = {}
    for name in names:
        tree = load_state_tree(folder, name)
        stack = [(name, tree)]
        while stack:
            key, value = stack.pop()
            if isinstance(value, torch.Tensor):
                out[key] = value
            elif isinstance(value, dict):
                stack += [(f"{key}.{k}", v) for k, v in value.items()]
            elif isinstance(value, (list, tuple)):
                stack += [(f"{key}.{i}", v) for i, v in enumerate(value)]
            elif isinstance(value, float):
                out[key] = torch.tensor(value)
    return out


def _assert_same_state(a, b):
    ta, tb = _checkpoint_tensors(a), _checkpoint_tensors(b)
    assert ta.keys() == tb.keys()
    assert len([k for k in ta if k.startswith("generator.")]) > 0
    for key in ta:
        torch.testing.assert_close(ta[key], tb[key], rtol=1e-5, atol=1e-6, msg=key)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_cpu_processes_over_gloo_end_with_identical_weights(tmp_path):
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", str(_free_port()),
           SCRIPT, *COMMON, "--output_dir", str(tmp_path), "--max_train_steps", "4", "--checkpointing_steps", "2",
           "--write_rank_weights"]
    proc = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    state = read_training_state(tmp_path / "checkpoint-4")
    assert state["num_processes"] == 2  # really distributed, not two independent single-process runs
    assert state["batches_seen"] == 4
    assert (tmp_path / "checkpoint-4" / "rng_state_1.json").is_file()
    rank0, rank1 = load_file(tmp_path / "rank-0.safetensors"), load_file(tmp_path / "rank-1.safetensors")
    assert rank0.keys() == rank1.keys() and len(rank0) > 4
    for key in rank0:
        assert torch.equal(rank0[key], rank1[key]), key
    start = load_file(tmp_path / "checkpoint-2" / "generator.safetensors")
    assert any(not torch.equal(start[k], rank0[k]) for k in start)  # and they did train


def test_killed_run_resumed_from_latest_matches_an_uninterrupted_run(tmp_path):
    killed, straight = tmp_path / "killed", tmp_path / "straight"
    proc = subprocess.Popen([sys.executable, SCRIPT, *COMMON, "--output_dir", str(killed), "--max_train_steps", "100000",
                             "--checkpointing_steps", "3", "--checkpoints_total_limit", "2"],
                            env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while latest_checkpoint(killed) is None and time.time() < deadline and proc.poll() is None:
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)  # no chance to clean up, possibly mid-write
    finally:
        proc.wait()
    resumed_from = latest_checkpoint(killed)
    assert resumed_from is not None, "no checkpoint appeared before the deadline"
    step = read_training_state(resumed_from)["global_step"]
    # 40 images / batch 8 = 5 batches per epoch: 4 more steps cross an epoch boundary after resuming
    final = step + 4
    proc = _run("--output_dir", str(killed), "--max_train_steps", str(final), "--checkpointing_steps", "3",
                "--resume_from_checkpoint", "latest")
    assert f"Resumed from {resumed_from}" in proc.stdout + proc.stderr
    _run("--output_dir", str(straight), "--max_train_steps", str(final), "--checkpointing_steps", "3")
    _assert_same_state(killed / f"checkpoint-{final}", straight / f"checkpoint-{final}")
    assert read_training_state(killed / f"checkpoint-{final}")["batches_seen"] == final


def test_stopped_run_resumed_with_more_steps_matches_and_exports(tmp_path, toy_models):
    stopped, straight = tmp_path / "stopped", tmp_path / "straight"
    _run("--output_dir", str(stopped), "--max_train_steps", "3", "--checkpointing_steps", "3")
    _run("--output_dir", str(stopped), "--max_train_steps", "7", "--checkpointing_steps", "3",
         "--resume_from_checkpoint", "latest", "--validation_steps", "7")
    _run("--output_dir", str(straight), "--max_train_steps", "7", "--checkpointing_steps", "3")
    _assert_same_state(stopped / "checkpoint-7", straight / "checkpoint-7")
    assert (stopped / "samples" / "samples-0000007.png").is_file()
    # both exported pipelines hold the same EMA generator
    a = toy_models.ToyGANPipeline.from_pretrained(stopped)(batch_size=2, generator=torch.Generator().manual_seed(0))
    b = toy_models.ToyGANPipeline.from_pretrained(straight)(batch_size=2, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    card = (stopped / "README.md").read_text()
    assert "--resume_from_checkpoint latest" in card and "steps: 7" in card
