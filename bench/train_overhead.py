"""Step time of a small GAN step through the shared `facezoo.training.Trainer` vs a hand-written PyTorch loop.

Same model, data, optimisers and step (D step with R1, G step, EMA update); the trainer adds accelerate's prepare /
backward, step counting, logging and the progress bar (checkpointing off). Prints one line per figure.

    python bench/train_overhead.py [--chunk 20] [--rounds 8]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "training" / "fixtures"))
from toy_gan import squares_dataset  # noqa: E402
from toy_models import ToyDiscriminator, ToyGenerator  # noqa: E402
from common import bench_args, emit, machine_info, write_markdown_table  # noqa: E402

from facezoo.losses import discriminator_loss, generator_loss, r1_penalty, requires_grad  # noqa: E402
from facezoo.training import ExponentialMovingAverage, Trainer, build_parser, parse_args  # noqa: E402


def _build(seed: int, batch: int):
    torch.manual_seed(seed)
    G, D = ToyGenerator(latent_dim=64, hidden_dim=512, image_size=32), ToyDiscriminator(hidden_dim=512, image_size=32)
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.99))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.99))
    loader = torch.utils.data.DataLoader(squares_dataset(4096, size=32), batch_size=batch, shuffle=True, drop_last=True)
    return G, D, opt_g, opt_d, loader


def gan_step(G, D, opt_g, opt_d, real, backward):
    z = torch.randn(real.shape[0], G.config.latent_dim if hasattr(G, "config") else G.module.config.latent_dim)
    requires_grad(G, False)
    requires_grad(D, True)
    real = real.requires_grad_(True)
    real_logits = D(real)
    loss_d = discriminator_loss(real_logits, D(G(z).detach())) + 0.05 * r1_penalty(real_logits, real)
    backward(loss_d)
    opt_d.step()
    opt_d.zero_grad(set_to_none=True)
    requires_grad(G, True)
    requires_grad(D, False)
    loss_g = generator_loss(D(G(z)))
    backward(loss_g)
    opt_g.step()
    opt_g.zero_grad(set_to_none=True)
    return loss_d, loss_g


class PlainLoop:
    """The hand-written loop: plain ``loss.backward()``, EMA update, nothing else."""

    def __init__(self, batch: int):
        self.G, self.D, self.opt_g, self.opt_d, loader = _build(0, batch)
        self.ema = ExponentialMovingAverage(self.G, 0.999)
        self.loader, self.iterator = loader, iter(loader)

    def step(self):
        try:
            (real,) = next(self.iterator)
        except StopIteration:
            self.iterator = iter(self.loader)
            (real,) = next(self.iterator)
        gan_step(self.G, self.D, self.opt_g, self.opt_d, real, lambda loss: loss.backward())
        self.ema.update(self.G)


class TrainerLoop:
    """The same step driven by `Trainer.batches` (prepare, accelerator.backward, counting, logging, EMA)."""

    def __init__(self, batch: int, out: str):
        args = parse_args(build_parser("bench"), ["--output_dir", out, "--report_to", "none", "--max_train_steps",
                                                  "1000000", "--checkpointing_steps", "0", "--logging_steps", "10"])
        self.trainer = Trainer(args, project_name="bench")
        G, D, opt_g, opt_d, loader = _build(0, batch)
        self.G, self.D, self.opt_g, self.opt_d, loader = self.trainer.prepare(
            generator=G, discriminator=D, optimizer_g=opt_g, optimizer_d=opt_d, dataloader=loader)
        self.trainer.add_ema("generator")
        self.batches = self.trainer.batches(loader)

    def step(self):
        (real,) = next(self.batches)  # resuming the generator also runs the previous step's bookkeeping
        loss_d, loss_g = gan_step(self.G, self.D, self.opt_g, self.opt_d, real, self.trainer.accelerator.backward)
        self.trainer.log(loss_d=loss_d, loss_g=loss_g)


def time_chunk(loop, steps: int) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        loop.step()
    return (time.perf_counter() - start) / steps


def main():
    parser = bench_args(__doc__.splitlines()[0])
    parser.add_argument("--chunk", type=int, default=20, help="Steps per timed chunk.")
    parser.add_argument("--rounds", type=int, default=8, help="Alternating chunks of each loop.")
    parser.add_argument("--batch", type=int, default=32, help="Batch size.")
    cli = parser.parse_args()
    with tempfile.TemporaryDirectory() as out:
        loops = {"plain PyTorch loop": PlainLoop(cli.batch), "shared Trainer": TrainerLoop(cli.batch, out)}
        times = {name: [] for name in loops}
        for loop in loops.values():
            time_chunk(loop, 5)  # warm-up
        # alternate short chunks so load from other processes on the machine hits both loops alike; the minimum
        # chunk is the least disturbed estimate of each loop's own cost
        for _ in range(cli.rounds):
            for name, loop in loops.items():
                times[name].append(time_chunk(loop, cli.chunk))
    rows = []
    for name, tag in (("plain PyTorch loop", "plain"), ("shared Trainer", "trainer")):
        rows.append(emit("train_overhead.step_ms", min(times[name]) * 1e3, "ms", tag, "min", B=cli.batch))
        rows.append(emit("train_overhead.step_ms", statistics.median(times[name]) * 1e3, "ms", tag, "median", B=cli.batch))
    for stat, pick in (("min", min), ("median", statistics.median)):
        ratio = pick(times["shared Trainer"]) / pick(times["plain PyTorch loop"])
        rows.append(emit("train_overhead.trainer_over_plain", ratio, "x", stat, B=cli.batch))
    if cli.write:
        write_markdown_table(cli.markdown, "train_overhead", rows, machine_info(),
                             note=f"32x32 MLP GAN step (D + R1 + G + EMA), batch {cli.batch}, {cli.rounds} alternating chunks of "
                                  f"{cli.chunk} steps per loop; goal: trainer / plain <= 1.05x.")


if __name__ == "__main__":
    main()
