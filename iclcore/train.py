"""Online training (a fresh batch of prompts every step) and Monte-Carlo risk evaluation."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from iclcore import validate
from iclcore.tasks.base import Sampler, make_generator


def _per_model_mse(pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean squared error over the batch for each ensemble member: pred (E, B), y (E, B) or (B,) -> (E,)."""
    return ((pred - y) ** 2).mean(dim=-1)


def fit_online(model: nn.Module, sampler: Sampler, steps: int, lr: float = 1e-2, batch_size: int = 1024,
               seed: int = 0, lr_final: float | None = None, progress: bool = True, desc: str = "training",
               loss_fn=_per_model_mse, parameters=None) -> np.ndarray:
    """Train ``model`` with Adam on fresh prompts from ``sampler`` for ``steps`` steps.

    The learning rate follows a cosine schedule from ``lr`` to ``lr_final`` (default ``lr / 100``).
    The loss is the **sum over ensemble members** of each member's mean loss, so an ensemble of E models
    (``n_models=E``) trains exactly like E separate runs. ``parameters`` restricts what is trained
    (e.g. only the LoRA factors). Prompts come from ``make_generator(seed)``: two calls with the same
    arguments give the same model.

    Returns the loss history, shape (steps, E).
    """
    validate.positive_int("steps", steps)
    validate.positive("lr", lr)
    validate.positive_int("batch_size", batch_size)
    lr_final = lr / 100 if lr_final is None else validate.positive("lr_final", lr_final)
    params = [p for p in (model.parameters() if parameters is None else parameters) if p.requires_grad]
    opt = torch.optim.Adam(params, lr=lr)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda t: (lr_final + (lr - lr_final) * 0.5 * (1 + math.cos(math.pi * t / steps))) / lr)
    gen = make_generator(seed)
    history = []
    model.train()
    bar = tqdm(range(steps), desc=desc, disable=not progress, mininterval=0.5)
    for step in bar:
        Z, y = sampler(batch_size, gen)
        losses = loss_fn(model(Z), y)
        opt.zero_grad(set_to_none=True)
        losses.sum().backward()
        opt.step()
        sched.step()
        history.append(losses.detach())
        if progress and step % 100 == 0:
            bar.set_postfix(loss=f"{losses.mean().item():.4g}")
    model.eval()
    return torch.stack(history).cpu().numpy()


@torch.no_grad()
def evaluate_risk(model: nn.Module, sampler: Sampler, n_prompts: int = 2**16, seed: int = 10_000,
                  batch_size: int = 8192) -> np.ndarray:
    """Monte-Carlo risk ``E[(y - y_hat)^2]`` on ``n_prompts`` fresh prompts (seeded), one value per model.

    Returns shape (E,). With 2^16 prompts the relative standard error is about 0.5-1 %.
    """
    validate.positive_int("n_prompts", n_prompts)
    validate.positive_int("batch_size", batch_size)
    gen = make_generator(seed)
    total, done = None, 0
    while done < n_prompts:
        b = min(batch_size, n_prompts - done)
        Z, y = sampler(b, gen)
        sq = ((model(Z).double() - y.double()) ** 2).sum(dim=-1)
        total = sq if total is None else total + sq
        done += b
    return (total / n_prompts).cpu().numpy()
