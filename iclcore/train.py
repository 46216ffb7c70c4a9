"""One training loop for the whole book: :func:`fit`.

``fit(model, data, steps=..., ...)`` trains any model of the book on

* a **sampler** -- a callable ``sampler(batch_size, generator) -> (inputs, targets)`` that draws a fresh
  batch every step (online training on prompts), or
* a **fixed dataset** -- a pair ``(inputs, targets)`` used whole at every step (full-batch training, e.g.
  the token-selection instances of Part II).

``inputs`` is a tensor or a tuple of tensors (passed as ``model(*inputs)``). The loss maps
``(prediction, targets)`` to **one value per ensemble member**, shape (E,); the step minimises their sum, so
an ensemble of E members trains exactly like E separate runs in one batched pass.

What differs between chapters is a choice, not another loop:

==================  ====================================================================================
``optimizer``       ``"adam"`` (default), ``"sgd"``, ``"ngd"`` (normalised gradient descent,
                    :class:`iclcore.optim.NormalizedGD`), or any ``callable(params, lr) -> Optimizer``
``schedule``        ``"cosine"`` (from ``lr`` to ``lr_final``, default ``lr / 100``) or ``"constant"``
``surrogate``       ``callable(model, inputs, targets) -> (E,)`` differentiated *instead of* the loss
                    (same direction, better numerics); the loss is still what is recorded
``callbacks``       ``callable(step, model, loss)`` called at step 0 (before training, ``loss=None``) and
                    after every step; :class:`Snapshot` records a quantity at chosen steps
==================  ====================================================================================
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from iclcore import validate
from iclcore.optim import NormalizedGD
from iclcore.tasks.base import make_generator, squared_error

Loss = Callable[[torch.Tensor, Any], torch.Tensor]
Callback = Callable[[int, nn.Module, "torch.Tensor | None"], None]


def forward(model: nn.Module, inputs) -> torch.Tensor:
    """``model(*inputs)`` when ``inputs`` is a tuple or list of tensors, else ``model(inputs)``."""
    return model(*inputs) if isinstance(inputs, tuple | list) else model(inputs)


def batches(data, batch_size: int, generator: torch.Generator):
    """One batch of ``data``: a fresh draw from a sampler, or the whole fixed ``(inputs, targets)`` pair."""
    if callable(data):
        return data(batch_size, generator)
    if isinstance(data, tuple | list) and len(data) == 2:
        return data
    raise ValueError("data must be a sampler callable(batch_size, generator) or a pair (inputs, targets), "
                     f"got {type(data).__name__}")


def _per_member(loss: torch.Tensor) -> torch.Tensor:
    return loss.reshape(1) if loss.dim() == 0 else loss


class Snapshot:
    """A callback that records ``fn(model)`` (converted to numpy) at chosen steps.

    ``at``: the steps to record (0 = before training); ``every``: record every k steps (and at step 0).
    After training, ``steps`` (R,) and ``values`` (R, ...) hold the record, in step order.
    """

    def __init__(self, fn: Callable[[nn.Module], Any], at: Iterable[int] | None = None, every: int | None = None):
        if (at is None) == (every is None):
            raise ValueError("Snapshot needs exactly one of at= or every=")
        if every is not None:
            validate.positive_int("every", every)
        self.fn, self.every = fn, every
        self.at = None if at is None else {int(s) for s in at}
        if self.at is not None and min(self.at, default=0) < 0:
            raise ValueError(f"at must hold steps >= 0, got {sorted(self.at)}")
        self._steps: list[int] = []
        self._values: list[np.ndarray] = []

    def __call__(self, step: int, model: nn.Module, loss: torch.Tensor | None) -> None:
        if (self.at is not None and step in self.at) or (self.every is not None and step % self.every == 0):
            with torch.no_grad():
                value = self.fn(model)
            self._steps.append(step)
            self._values.append(value.detach().cpu().numpy().copy() if torch.is_tensor(value) else np.array(value))

    @property
    def steps(self) -> np.ndarray:
        return np.asarray(self._steps)

    @property
    def values(self) -> np.ndarray:
        if not self._values:
            raise ValueError("nothing was recorded (was the Snapshot passed to fit, and are its steps reached?)")
        return np.stack(self._values)


def make_optimizer(optimizer: str | Callable, params: Sequence[torch.Tensor], lr: float) -> torch.optim.Optimizer:
    """``"adam"``, ``"sgd"``, ``"ngd"`` or a ``callable(params, lr) -> Optimizer``."""
    if callable(optimizer):
        return optimizer(params, lr)
    factories = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD, "ngd": NormalizedGD}
    if optimizer not in factories:
        raise ValueError(f"optimizer must be one of {sorted(factories)} or a callable, got {optimizer!r}")
    return factories[optimizer](params, lr=lr)


def fit(model: nn.Module, data, *, steps: int, optimizer: str | Callable = "adam", lr: float = 1e-2,
        schedule: str = "cosine", lr_final: float | None = None, loss: Loss = squared_error,
        surrogate: Callable | None = None, batch_size: int = 1024, seed: int = 0,
        callbacks: Sequence[Callback] = (), parameters: Iterable[torch.Tensor] | None = None,
        progress: bool = True, desc: str = "training") -> np.ndarray:
    """Train ``model`` on ``data`` for ``steps`` steps; see the module docstring.

    ``parameters`` restricts what is trained (default: every parameter with ``requires_grad``).
    ``seed`` seeds the sampler's generator, so two calls with the same arguments give the same model.
    Returns the per-member loss at every step, shape (steps, E).
    """
    validate.positive_int("steps", steps)
    validate.positive("lr", lr)
    validate.positive_int("batch_size", batch_size)
    if schedule not in ("cosine", "constant"):
        raise ValueError(f"schedule must be 'cosine' or 'constant', got {schedule!r}")
    lr_final = lr / 100 if lr_final is None else validate.positive("lr_final", lr_final)
    params = [p for p in (model.parameters() if parameters is None else parameters) if p.requires_grad]
    if not params:
        raise ValueError("parameters: nothing to train (no tensor requires grad)")
    opt = make_optimizer(optimizer, params, lr)
    sched = None
    if schedule == "cosine":
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda t: (lr_final + (lr - lr_final) * 0.5 * (1 + math.cos(math.pi * t / steps))) / lr)
    gen = make_generator(seed)
    for cb in callbacks:
        cb(0, model, None)
    history = []
    model.train()
    bar = tqdm(range(1, steps + 1), desc=desc, disable=not progress, mininterval=0.5)
    for step in bar:
        inputs, targets = batches(data, batch_size, gen)
        per_member = _per_member(loss(forward(model, inputs), targets))
        objective = per_member if surrogate is None else _per_member(surrogate(model, inputs, targets))
        opt.zero_grad(set_to_none=True)
        objective.sum().backward()
        opt.step()
        if sched is not None:
            sched.step()
        per_member = per_member.detach()
        history.append(per_member)
        for cb in callbacks:
            cb(step, model, per_member)
        if progress and step % 100 == 0:
            bar.set_postfix(loss=f"{per_member.mean().item():.4g}")
    model.eval()
    return torch.stack(history).cpu().numpy()
