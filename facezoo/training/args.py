"""Command-line arguments shared by every ``train/<method>.py``: diffusers' flag names, a YAML config, overrides.

Precedence, lowest to highest: the parser's defaults, the keys of ``--config file.yaml``, and the flags written on
the command line. Only flags the user actually typed override the YAML file, so a YAML value is never silently
replaced by a default.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import yaml


def build_parser(description: str) -> argparse.ArgumentParser:
    """An `argparse.ArgumentParser` holding the flags every facezoo training script shares.

    Methods add their own flags (``parser.add_argument("--r1_gamma", ...)``) before calling `parse_args`; YAML keys
    are matched against every flag, shared or method-specific.

    Args:
        description (`str`): what the script trains, shown by ``--help``.
    """
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--config", type=str, default=None,
                        help="YAML file whose keys are flag names (e.g. `learning_rate: 2e-4`); command-line flags override it.")
    parser.add_argument("--output_dir", type=str, default="facezoo-model",
                        help="Where checkpoints, logs and the exported pipeline folder are written.")
    parser.add_argument("--logging_dir", type=str, default="logs",
                        help="Tracker log folder, relative to --output_dir unless absolute.")
    parser.add_argument("--report_to", type=str, default="tensorboard",
                        help='Tracker(s): "tensorboard", "wandb", "all" or "none".')
    parser.add_argument("--seed", type=int, default=0, help="Seed of every RNG (python, numpy, torch) for reproducible runs.")
    parser.add_argument("--mixed_precision", type=str, default="no", choices=["no", "fp16", "bf16"],
                        help="Autocast dtype. On CPU bf16 is the one that runs (and slowly: ~100x fp32 without native bf16).")
    parser.add_argument("--gradient_accumulation_steps", type=int, default=1,
                        help="Batches accumulated before each optimiser step.")
    parser.add_argument("--train_batch_size", type=int, default=16, help="Batch size per process.")
    parser.add_argument("--dataloader_num_workers", type=int, default=0, help="Data loading worker processes.")
    parser.add_argument("--learning_rate", type=float, default=2e-4, help="Initial learning rate.")
    parser.add_argument("--max_train_steps", type=int, default=1000, help="Optimiser steps to train for.")
    parser.add_argument("--checkpointing_steps", type=int, default=500,
                        help="Save a resumable checkpoint every N optimiser steps (0 disables).")
    parser.add_argument("--checkpoints_total_limit", type=int, default=None,
                        help="Keep only the last K checkpoints (default: keep all).")
    parser.add_argument("--resume_from_checkpoint", type=str, default=None,
                        help='Resume from a checkpoint folder, or "latest" for the newest one in --output_dir.')
    parser.add_argument("--logging_steps", type=int, default=10, help="Log scalars every N optimiser steps.")
    parser.add_argument("--validation_steps", type=int, default=0,
                        help="Log an image grid every N optimiser steps (0 disables).")
    parser.add_argument("--ema_decay", type=float, default=0.999,
                        help="Decay of the exponential moving average of the generator weights (0 disables EMA).")
    parser.add_argument("--push_to_hub", action="store_true", help="Upload the exported pipeline folder to the Hub.")
    parser.add_argument("--hub_model_id", type=str, default=None, help="Hub repo id for --push_to_hub, e.g. `me/facezoo-gan`.")
    parser.add_argument("--hub_token", type=str, default=None, help="Hub token (default: the cached login).")
    return parser


def load_config(path: os.PathLike | str, parser: argparse.ArgumentParser) -> Dict[str, Any]:
    """Read a YAML config and check its keys against the parser's flag destinations.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: the file is not a YAML mapping, or holds keys that are not flags of `parser`.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Config file {str(path)!r} does not exist.")
    with open(path) as f:
        config = yaml.safe_load(f) or {}
    if not isinstance(config, dict):
        raise ValueError(f"Config file {str(path)!r} must hold a mapping of flag names to values, got {type(config).__name__}.")
    known = {action.dest for action in parser._actions if action.dest not in ("help", "config")}
    unknown = sorted(set(config) - known)
    if unknown:
        raise ValueError(
            f"Config file {str(path)!r} has unknown keys {unknown}; keys must be flag names of this script "
            f"(known: {sorted(known)})."
        )
    return config


def _explicit_dests(parser: argparse.ArgumentParser, argv: Sequence[str]) -> set:
    """The destinations of the flags written in `argv` (``--flag value``, ``--flag=value``, unambiguous prefixes)."""
    probe = argparse.ArgumentParser(add_help=False, allow_abbrev=parser.allow_abbrev)
    for action in parser._actions:
        if action.option_strings and action.dest != "help":
            # A sentinel default tells apart "given on the command line" from "left at its default".
            probe.add_argument(*action.option_strings, dest=action.dest, default=argparse.SUPPRESS,
                               nargs="?" if action.nargs in (None, 0) else action.nargs)
    given, _ = probe.parse_known_args(list(argv))
    return set(vars(given))


def parse_args(parser: argparse.ArgumentParser, argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse `argv` (default ``sys.argv[1:]``) on top of ``--config``'s YAML values and the parser defaults.

    YAML values are type-checked by running them through the parser, so ``learning_rate: "abc"`` fails like the flag
    would.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    if args.config is None:
        return _validate(args)
    config = load_config(args.config, parser)
    explicit = _explicit_dests(parser, argv)
    actions = {a.dest: a for a in parser._actions}
    for key, value in config.items():
        if key in explicit:
            continue
        action = actions[key]
        if isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction)):
            if not isinstance(value, bool):
                raise ValueError(f"Config key {key!r} must be true or false, got {value!r}.")
        elif value is not None:
            convert = action.type or str
            try:
                value = [convert(v) for v in value] if isinstance(value, list) else convert(value)
            except (TypeError, ValueError) as err:
                raise ValueError(f"Config key {key!r}: cannot read {value!r} as {getattr(convert, '__name__', convert)}.") from err
            if action.choices is not None and value not in action.choices:
                raise ValueError(f"Config key {key!r} must be one of {list(action.choices)}, got {value!r}.")
        setattr(args, key, value)
    return _validate(args)


def _validate(args: argparse.Namespace) -> argparse.Namespace:
    if getattr(args, "push_to_hub", False) and not getattr(args, "hub_model_id", None):
        raise ValueError("--push_to_hub needs --hub_model_id (the Hub repo to upload to, e.g. `me/facezoo-gan`).")
    if getattr(args, "gradient_accumulation_steps", 1) < 1:
        raise ValueError("--gradient_accumulation_steps must be >= 1.")
    return args


def add_faceworld_render_args(
    parser: argparse.ArgumentParser,
    num_identities: int,
    samples_per_identity: int,
    occluder_prob: Optional[float] = None,
) -> None:
    """Flags of the scripts that train on a fixed set of FaceWorld renders, rendered once and cached (the toolkit's
    identity, 3DMM and parser networks): resolution, how many identities and renders, the scene seed, the cache file,
    the test identities of the final metrics and the CPU threads. Defaults that differ per script are arguments."""
    add = parser.add_argument
    add("--resolution", type=int, default=64, help="Image side of the FaceWorld renders and of the network input.")
    add("--num_identities", type=int, default=num_identities, help="Train identities taken from FaceWorld's train split.")
    add("--samples_per_identity", type=int, default=samples_per_identity,
        help="Renders per identity, rendered once and reused every epoch.")
    if occluder_prob is not None:
        add("--occluder_prob", type=float, default=occluder_prob, help="Probability of an occluder in a training render.")
    add("--data_seed", type=int, default=0, help="FaceWorld scene seed of the training renders (independent of --seed).")
    add("--cache_path", type=str, default=None,
        help="safetensors file holding the renders (reused when it matches the data flags; default: no cache file).")
    add("--eval_identities", type=int, default=200, help="FaceWorld test identities for the final metrics.")
    add("--num_threads", type=int, default=1, help="torch CPU threads (1 lets two trainings share two cores).")
