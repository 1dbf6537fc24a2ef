"""What every ``train/<method>.py`` shares: flags, the accelerator, the loop bookkeeping, checkpoints, EMA, export."""

from facezoo.training.accelerator import create_accelerator
from facezoo.training.args import build_parser, load_config, parse_args
from facezoo.training.checkpoint import CheckpointManager, latest_checkpoint, list_checkpoints, read_training_state
from facezoo.training.ema import ExponentialMovingAverage
from facezoo.training.export import export_pipeline, push_folder_to_hub, training_command
from facezoo.training.state_io import load_state_tree, save_state_tree
from facezoo.training.tracking import image_grid, log_image_grid
from facezoo.training.trainer import Trainer

__all__ = [
    "CheckpointManager",
    "ExponentialMovingAverage",
    "Trainer",
    "build_parser",
    "create_accelerator",
    "export_pipeline",
    "image_grid",
    "latest_checkpoint",
    "list_checkpoints",
    "load_config",
    "load_state_tree",
    "log_image_grid",
    "parse_args",
    "push_folder_to_hub",
    "read_training_state",
    "save_state_tree",
    "training_command",
]
