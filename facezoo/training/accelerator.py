"""Creating the run's `accelerate.Accelerator` the same way in every training script."""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

import torch

from accelerate import Accelerator
from accelerate.utils import DataLoaderConfiguration, ProjectConfiguration, set_seed

logger = logging.getLogger(__name__)


def has_accelerator() -> bool:
    """Whether torch sees a GPU-like device (CUDA, XPU, MPS, ...)."""
    if hasattr(torch, "accelerator"):
        return torch.accelerator.is_available()
    return torch.cuda.is_available()


def tracker_config(args: argparse.Namespace) -> dict:
    """The flags as a flat dict of scalars (what TensorBoard's hparams accept)."""
    return {k: v for k, v in vars(args).items() if isinstance(v, (int, float, str, bool))}


def create_accelerator(args: argparse.Namespace, project_name: str) -> Accelerator:
    """An `Accelerator` configured from the shared flags, with the seed set and trackers started.

    - ``ProjectConfiguration(project_dir=output_dir, logging_dir=output_dir/logging_dir)``;
    - ``mixed_precision`` and ``gradient_accumulation_steps`` from the flags (fp16 on CPU: accelerate does not
      enable CPU fp16 autocast, so the run is fp32 and a warning says so);
    - ``cpu=True`` when torch sees no accelerator: accelerate only recognises a ``torchrun`` launch on CPU as
      MULTI_CPU (gloo) when told it runs on CPU, otherwise each rank trains alone;
    - a seedable sampler, so a shuffled epoch's order depends only on (seed, epoch) and a resumed run sees the
      same batches as an uninterrupted one;
    - ``set_seed(seed)`` on every process before models are built, so ranks start from identical weights.

    Args:
        args (`argparse.Namespace`): parsed by `facezoo.training.parse_args`.
        project_name (`str`): tracker run name, e.g. ``"stylegan2"``.
    """
    output_dir = Path(args.output_dir).absolute()
    project_config = ProjectConfiguration(project_dir=str(output_dir), logging_dir=str(output_dir / args.logging_dir))
    report_to = None if args.report_to in (None, "", "none") else args.report_to
    accelerator = Accelerator(
        cpu=not has_accelerator(),
        gradient_accumulation_steps=args.gradient_accumulation_steps,
        mixed_precision=args.mixed_precision,
        log_with=report_to,
        project_config=project_config,
        dataloader_config=DataLoaderConfiguration(use_seedable_sampler=True),
    )
    if args.mixed_precision == "fp16" and accelerator.device.type == "cpu" and not accelerator.native_amp:
        logger.warning("--mixed_precision fp16 has no effect on CPU with this accelerate version: training runs in fp32. "
                       "Use bf16 on CPU.")
    set_seed(args.seed)
    if accelerator.is_main_process:
        os.makedirs(output_dir, exist_ok=True)
    if report_to is not None:
        accelerator.init_trackers(project_name, config=tracker_config(args))
    return accelerator
