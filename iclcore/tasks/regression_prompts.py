"""Regression prompts read at every prompt length, with an optional finite pool of pretraining tasks
(Garg et al. 2022; Li, Ildiz, Papailiopoulos & Oymak 2023).

A prompt is the sequence of n pairs ``(x_1, y_1), ..., (x_n, y_n)`` with ``x_i ~ N(0, I_d)``,
``y_i = beta^T x_i + xi_i``, ``xi_i ~ N(0, noise^2)`` ({eq}`eq-ch12-task`). A learner is asked for every label
``y_{k+1}`` from the first k pairs and ``x_{k+1}`` (k = 0, ..., n-1), so one prompt scores it at every prompt
length. The task vector is

* ``beta ~ N(0, Sigma_beta)`` afresh for every prompt (``n_tasks=None``: infinitely many tasks), or
* drawn uniformly from a fixed **pool** of ``n_tasks`` vectors, themselves drawn once from N(0, Sigma_beta)
  with ``pool_seed`` ({eq}`eq-ch12-pool`). Pretraining on a pool of T tasks is the multitask-learning (MTL)
  setting of the paper; a learner's risk on fresh tasks is its **transfer risk**.

Samplers return ``Z`` (B, n, d+1) (the pairs ``[x_i; y_i]``, all labels present) and the targets ``y`` (B, n).
:func:`prefix_risk` is the metric that goes with them (and with :mod:`iclcore.tasks.linear_dynamics`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from iclcore import validate
from iclcore.linalg import sqrtm_psd
from iclcore.tasks.base import make_generator


class RegressionPrompts:
    """Sampler of linear-regression prompts scored at every length; ``task(batch_size, generator) -> (Z, y)``.

    Parameters
    ----------
    d, n : feature dimension and number of (x, y) pairs per prompt.
    noise : label-noise standard deviation sigma.
    n_tasks : size T of the task pool (``None``: a fresh beta for every prompt).
    Sigma_beta : (d, d) covariance of beta (default identity).
    pool_seed : seed of the pool draw (pools with equal ``pool_seed`` and ``n_tasks`` are equal).
    dtype : dtype of the returned tensors.

    Returns ``Z`` (B, n, d+1) = ``[x_i; y_i]`` and ``y`` (B, n). ``pool`` is the (T, d) tensor of task vectors
    (``None`` without a pool).
    """

    def __init__(self, d: int, n: int, noise: float = 0.0, n_tasks: int | None = None, Sigma_beta=None,
                 pool_seed: int = 0, dtype: torch.dtype = torch.float32):
        self.d = validate.positive_int("d", d)
        self.n = validate.positive_int("n", n)
        self.noise = validate.nonnegative("noise", noise)
        self.n_tasks = None if n_tasks is None else validate.positive_int("n_tasks", n_tasks)
        eye = np.eye(d)
        self.Sigma_beta = validate.covariance("Sigma_beta", eye if Sigma_beta is None else Sigma_beta, d=d)
        self._Lb = None if np.array_equal(self.Sigma_beta, eye) else torch.from_numpy(sqrtm_psd(self.Sigma_beta))
        self.dtype = dtype
        self.pool = None
        if self.n_tasks is not None:
            self.pool = self._betas(self.n_tasks, make_generator(pool_seed))

    def _betas(self, count: int, generator: torch.Generator) -> torch.Tensor:
        beta = torch.randn(count, self.d, generator=generator, dtype=torch.float64)
        if self._Lb is not None:
            beta = beta @ self._Lb
        return beta.to(self.dtype)

    def __call__(self, batch_size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        B = validate.positive_int("batch_size", batch_size)
        if self.pool is None:
            beta = self._betas(B, generator)
        else:
            beta = self.pool[torch.randint(self.n_tasks, (B,), generator=generator)]
        X = torch.randn(B, self.n, self.d, generator=generator, dtype=self.dtype)
        y = (X @ beta.unsqueeze(-1)).squeeze(-1)
        if self.noise:
            y = y + self.noise * torch.randn(B, self.n, generator=generator, dtype=self.dtype)
        return torch.cat([X, y.unsqueeze(-1)], dim=-1), y


def _errors(pred: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Squared errors (E, B, n). ``pred`` carries the member axis E: (E, B, n) for scalar targets (B, n) or
    (E, B, n); (E, B, n, d) for vector targets (B, n, d) or (E, B, n, d), whose errors are summed over d."""
    shared = pred.dim() == targets.dim() + 1
    ok = pred.dim() in (3, 4) and (pred.shape[1:] == targets.shape if shared else pred.shape == targets.shape)
    if not ok:
        raise ValueError(f"pred must be (E, B, n) or (E, B, n, d) and match targets {tuple(targets.shape)}, "
                         f"got {tuple(pred.shape)}")
    err = (pred - targets) ** 2
    return err.sum(-1) if err.dim() == 4 else err


def prefix_risk(k: int | None = None) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """The metric ``E (y_{k+1} - y_hat_{k+1})^2`` after k in-context examples, per member, shape (E,)
    ({eq}`eq-ch12-risk`); ``k=None`` averages over every prompt length (the pretraining loss).

    ``pred`` is (E, B, n) (or (E, B, n, d) for vector targets, whose squared errors are summed over d);
    ``targets`` (B, n) or (E, B, n) (resp. with the trailing d). Use one metric per k with
    :func:`iclcore.evaluate.evaluate` to get a risk curve.
    """
    if k is not None:
        k = validate.int_in_range("k", k, 0, 10**9)

    def metric(pred: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        err = _errors(pred, targets)
        if k is None:
            return err.mean(dim=(-2, -1))
        if k >= err.shape[-1]:
            raise ValueError(f"k must be < the number of positions {err.shape[-1]}, got {k}")
        return err[..., k].mean(-1)

    return metric
