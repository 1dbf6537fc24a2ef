"""`Trainer`: the loop bookkeeping every ``train/<method>.py`` shares, around a plain accelerate training step.

The script keeps the step itself (losses, backward, optimiser steps, in the open as in diffusers' examples); the
trainer owns what is easy to get subtly wrong and identical everywhere: counting optimiser steps only when gradients
synchronise, the progress bar, EMA, scalar and image logging, atomic checkpoints and exact resumption (weights,
optimisers, schedulers, EMA, RNG and the position in the data), and the final export.

Example:

```python
args = parse_args(parser)
trainer = Trainer(args, project_name="toy_gan")
G, D, opt_g, opt_d, loader = trainer.prepare(generator=G, discriminator=D, optimizer_g=opt_g,
                                             optimizer_d=opt_d, dataloader=loader)
ema = trainer.add_ema("generator")
trainer.resume()
for batch in trainer.batches(loader):
    ...  # D step and G step with trainer.accelerator.backward(...)
    trainer.log(loss_d=loss_d, loss_g=loss_g)
trainer.finish(pipeline, info={"title": "..."})
```
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, Optional

import torch
from tqdm.auto import tqdm

from facezoo.training.accelerator import create_accelerator
from facezoo.training.checkpoint import CheckpointManager, set_rng_state
from facezoo.training.ema import ExponentialMovingAverage
from facezoo.training.export import export_pipeline, push_folder_to_hub
from facezoo.training.tracking import log_image_grid

logger = logging.getLogger(__name__)


class Trainer:
    """Shared training-loop state of one run.

    Args:
        args (`argparse.Namespace`): from `facezoo.training.parse_args` (uses the shared flags).
        project_name (`str`): tracker run name.
    """

    def __init__(self, args: argparse.Namespace, project_name: str):
        self.args = args
        self.accelerator = create_accelerator(args, project_name)
        self.output_dir = Path(args.output_dir).absolute()
        self.checkpoints = CheckpointManager(self.accelerator, self.output_dir, args.checkpoints_total_limit)
        self.global_step = 0
        self.batches_seen = 0
        self.ema: Optional[ExponentialMovingAverage] = None
        self._ema_model: Optional[torch.nn.Module] = None
        self._models: Dict[str, torch.nn.Module] = {}
        self._pending_rng: Optional[Dict[str, Any]] = None
        self._logs: Dict[str, Any] = {}
        self._last_logged: Dict[str, float] = {}
        self._start = time.perf_counter()
        self._elapsed_before_resume = 0.0

    # ----------------------------------------------------------------- setup
    def prepare(self, **objects: Any) -> tuple:
        """``accelerator.prepare`` the named objects (in order) and register models, optimisers and schedulers
        for checkpointing under their names. Returns the prepared objects in the order given."""
        names = list(objects)
        prepared = self.accelerator.prepare(*objects.values())
        prepared = prepared if isinstance(prepared, tuple) else (prepared,)
        for name, obj in zip(names, prepared):
            if isinstance(obj, torch.utils.data.DataLoader):
                continue  # the data position is restored from the step count, not a sampler pickle
            self.checkpoints.register(name, obj)
            if isinstance(obj, torch.nn.Module):
                self._models[name] = obj
        return prepared

    def register(self, name: str, obj: Any) -> None:
        """Checkpoint an extra object (anything with ``state_dict``/``load_state_dict``) under `name`."""
        self.checkpoints.register(name, obj)

    def add_ema(self, model_name: str, decay: Optional[float] = None) -> Optional[ExponentialMovingAverage]:
        """Track an EMA of the prepared model `model_name`, updated after every optimiser step and checkpointed
        as ``ema``. Returns None when the decay (``--ema_decay`` by default) is 0."""
        decay = self.args.ema_decay if decay is None else decay
        if not decay:
            return None
        model = self.accelerator.unwrap_model(self._models[model_name])
        self.ema = ExponentialMovingAverage(model, decay)
        self._ema_model = model
        self.checkpoints.register("ema", self.ema)
        return self.ema

    def resume(self) -> bool:
        """Restore the checkpoint named by ``--resume_from_checkpoint`` (``latest`` or a folder).

        Call after `prepare`/`add_ema`/`register`. Returns False (a fresh start) when ``latest`` finds nothing.
        """
        folder = self.checkpoints.resolve(self.args.resume_from_checkpoint)
        if folder is None:
            if self.args.resume_from_checkpoint:
                logger.warning("No checkpoint in %s: starting a new run.", self.output_dir)
            return False
        info = self.checkpoints.load(folder)
        self.global_step, self.batches_seen = info["global_step"], info["batches_seen"]
        self._elapsed_before_resume = float(info.get("wall_time_s", 0.0))
        # applied in `batches` once the data iterator runs
        self._pending_rng = info["rng_state"]
        self.accelerator.print(f"Resumed from {folder} at step {self.global_step}.")
        return True

    # ----------------------------------------------------------------- loop
    @property
    def wall_time(self) -> float:
        """Seconds of training so far, including the runs this one resumed."""
        return self._elapsed_before_resume + time.perf_counter() - self._start

    def accumulate(self, *models: torch.nn.Module):
        """``accelerator.accumulate``: gradients sync (and the step counts) every ``gradient_accumulation_steps``."""
        return self.accelerator.accumulate(*models)

    def log(self, **scalars: Any) -> None:
        """Record scalars (tensors or numbers) of the current step; sent every ``--logging_steps`` steps."""
        self._logs.update(scalars)

    def log_images(self, name: str, images: torch.Tensor, **grid_kwargs: Any) -> None:
        """Log a grid of `images` (N, C, H, W) at the current step (TensorBoard + ``output_dir/samples/``)."""
        log_image_grid(self.accelerator, name, images, self.global_step, self.output_dir / "samples", **grid_kwargs)

    def _flush_logs(self, progress: tqdm) -> None:
        values = {k: (v.detach().float().mean().item() if torch.is_tensor(v) else float(v)) for k, v in self._logs.items()}
        self._logs.clear()
        self._last_logged = values
        if self.accelerator.trackers:
            self.accelerator.log(values, step=self.global_step)
        progress.set_postfix({k: f"{v:.4g}" for k, v in values.items()}, refresh=False)

    def _end_of_step(self, progress: tqdm, validate: Optional[Callable[["Trainer"], None]]) -> None:
        self.global_step += 1
        if self.ema is not None:
            self.ema.update(self._ema_model)
        progress.update(1)
        args = self.args
        if self._logs and (self.global_step % args.logging_steps == 0 or self.global_step == args.max_train_steps):
            self._flush_logs(progress)
        else:
            self._logs.clear()
        if validate is not None and args.validation_steps and self.global_step % args.validation_steps == 0:
            validate(self)
        if args.checkpointing_steps and self.global_step % args.checkpointing_steps == 0:
            self.save_checkpoint()

    def save_checkpoint(self) -> Path:
        """Write ``checkpoint-<global_step>`` now (every process must call it)."""
        return self.checkpoints.save(self.global_step, self.batches_seen, extra={"wall_time_s": self.wall_time})

    def batches(self, dataloader, validate: Optional[Callable[["Trainer"], None]] = None) -> Iterator[Any]:
        """Yield training batches until ``--max_train_steps`` optimiser steps are done.

        After the body of the loop has run for a batch, and gradients synchronised, the step is counted, the EMA
        updated, scalars logged, `validate(trainer)` called every ``--validation_steps`` and a checkpoint written every
        ``--checkpointing_steps``. Epochs restart the dataloader with ``set_epoch``; after `resume` the batches
        already seen in the current epoch are skipped without being loaded.
        """
        total = self.args.max_train_steps
        try:
            per_epoch = len(dataloader)
        except TypeError:
            per_epoch = None  # iterable stream: no epochs, skip by consuming
        epoch, skip = (divmod(self.batches_seen, per_epoch) if per_epoch else (0, self.batches_seen))
        progress = tqdm(total=total, initial=self.global_step, desc="steps",
                        disable=not self.accelerator.is_local_main_process)
        try:
            while self.global_step < total:
                if hasattr(dataloader, "set_epoch"):
                    dataloader.set_epoch(epoch)
                loader = self.accelerator.skip_first_batches(dataloader, skip) if skip else dataloader
                yielded = False
                for batch in loader:
                    yielded = True
                    if self._pending_rng is not None:
                        # restored only once the first batch is fetched: starting the data iterator draws from the
                        # global RNG (DataLoader base seed), which the uninterrupted run did before this point
                        set_rng_state(self._pending_rng)
                        self._pending_rng = None
                    yield batch
                    self.batches_seen += 1
                    if self.accelerator.sync_gradients:
                        self._end_of_step(progress, validate)
                        if self.global_step >= total:
                            break
                if not yielded:
                    raise RuntimeError("The dataloader yielded no batch (empty dataset, or batch size larger than it "
                                       "with drop_last=True).")
                epoch, skip = epoch + 1, 0
        finally:
            progress.close()

    @property
    def last_logs(self) -> Dict[str, float]:
        """The scalars most recently sent to the trackers."""
        return dict(self._last_logged)

    # ----------------------------------------------------------------- end
    def export(self, pipeline, folder: Optional[str] = None, info: Optional[Dict[str, Any]] = None,
               metrics: Optional[Dict[str, float]] = None) -> Path:
        """Write the pipeline folder and its model card (main process; others wait). Callable any time.

        `info` holds model-card fields (title, description, license, tags, training_data, architecture_notes, ...);
        the command line, step count, wall time and `metrics` (default: the last logged scalars) are filled in.
        """
        folder = Path(folder) if folder is not None else self.output_dir
        card = {"steps": self.global_step, "wall_time": f"{self.wall_time:.1f} s",
                "metrics": metrics if metrics is not None else self.last_logs, **(info or {})}
        if self.accelerator.is_main_process:
            export_pipeline(pipeline, folder, card)
        self.accelerator.wait_for_everyone()
        return folder

    def finish(self, pipeline=None, info: Optional[Dict[str, Any]] = None,
               metrics: Optional[Dict[str, float]] = None) -> Optional[Path]:
        """End the run: export `pipeline` (if given) into ``--output_dir``, push it with ``--push_to_hub``, close
        the trackers."""
        folder = None
        if pipeline is not None:
            folder = self.export(pipeline, info=info, metrics=metrics)
            if self.args.push_to_hub and self.accelerator.is_main_process:
                push_folder_to_hub(folder, self.args.hub_model_id, token=self.args.hub_token)
        self.accelerator.end_training()
        return folder
