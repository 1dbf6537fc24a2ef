"""Exponential moving average of generator weights (Karras et al.'s G_ema), checkpointed with the run."""

from __future__ import annotations

import copy
from typing import Dict

import torch


class ExponentialMovingAverage:
    """A shadow copy of a model's parameters, updated as ``shadow = decay * shadow + (1 - decay) * param``.

    Unlike diffusers' ``EMAModel``, every parameter is averaged whatever its ``requires_grad`` flag: GAN loops freeze
    the generator while training the discriminator, and the average must not fall back to copying then. Buffers
    (e.g. BatchNorm statistics) are copied, not averaged.

    Args:
        model (`torch.nn.Module`): the (unwrapped) model to average; its current weights start the average.
        decay (`float`, *optional*, defaults to 0.999): weight of the running average at each update.
    """

    def __init__(self, model: torch.nn.Module, decay: float = 0.999):
        if not 0.0 <= decay <= 1.0:
            raise ValueError(f"EMA decay must be in [0, 1], got {decay}.")
        self.decay = decay
        self.num_updates = 0
        self.shadow: Dict[str, torch.Tensor] = {k: v.detach().clone() for k, v in model.state_dict().items()}
        self._param_names = {name for name, _ in model.named_parameters()}

    @torch.no_grad()
    def update(self, model: torch.nn.Module) -> None:
        """Blend the current weights of `model` into the average."""
        self.num_updates += 1
        for name, value in model.state_dict().items():
            shadow = self.shadow[name]
            if name in self._param_names and shadow.is_floating_point():
                shadow.lerp_(value.detach().to(shadow.dtype), 1.0 - self.decay)
            else:
                shadow.copy_(value)

    @torch.no_grad()
    def copy_to(self, model: torch.nn.Module) -> None:
        """Load the averaged weights into `model` (e.g. a copy used for sampling or export)."""
        model.load_state_dict(self.shadow)

    def averaged_copy(self, model: torch.nn.Module) -> torch.nn.Module:
        """A deep copy of `model` holding the averaged weights, in eval mode, without gradients."""
        averaged = copy.deepcopy(model).eval().requires_grad_(False)
        self.copy_to(averaged)
        return averaged

    def state_dict(self) -> Dict:
        return {"decay": self.decay, "num_updates": self.num_updates, "shadow": self.shadow}

    def load_state_dict(self, state: Dict) -> None:
        missing = sorted(set(self.shadow) - set(state["shadow"]))
        if missing:
            raise ValueError(f"EMA state does not match the model: missing {missing[:5]}.")
        self.decay = float(state["decay"])
        self.num_updates = int(state["num_updates"])
        for name, value in state["shadow"].items():
            self.shadow[name].copy_(value)
