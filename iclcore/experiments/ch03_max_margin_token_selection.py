"""Chapter 3 (max-margin token selection): drivers too long for the notebook.

* :func:`model_inputs` -- the tuple a token-selection model is called with, so that
  ``fit(model, (model_inputs(model, data), data.Y), ...)`` trains it on fixed data.
* :func:`regularization_path` -- the path ``p_R = argmin_{||p|| <= R} L(p)`` ({eq}`eq-ch3-regpath`), traced by
  projected normalised gradient descent from several starts per radius, all through :func:`iclcore.train.fit`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from iclcore import validate
from iclcore.models.softmax_attention import PromptAttention, SoftmaxAttention1L
from iclcore.optim import NormalizedGD
from iclcore.tasks.token_selection import TokenSelectionData, classification_loss
from iclcore.train import fit


def model_inputs(model: nn.Module, data: TokenSelectionData) -> tuple[torch.Tensor, ...]:
    """``(X,)`` or ``(X, v)`` for :class:`PromptAttention` (trained or fixed value head), ``(X, z, v)`` for
    :class:`SoftmaxAttention1L`."""
    if isinstance(model, SoftmaxAttention1L):
        return data.X, data.z, data.v
    if isinstance(model, PromptAttention):
        return (data.X,) if model.v is not None else (data.X, data.v)
    raise ValueError(f"model must be a PromptAttention or SoftmaxAttention1L, got {type(model).__name__}")


def _single_parameter(model: nn.Module) -> nn.Parameter:
    params = [p for p in model.parameters() if p.requires_grad]
    if len(params) != 1:
        raise ValueError("make_model must build a model with one trained tensor (p, or W with param='W')")
    return params[0]


def regularization_path(make_model: Callable[[int, int], nn.Module], data: TokenSelectionData,
                        radii: Sequence[float], steps: int = 500, restarts: int = 8, lr: float = 0.1,
                        seed: int = 0, loss: str = "logistic", progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The regularisation path ``p_R = argmin_{||p|| <= R} L(p)`` for each radius R ({eq}`eq-ch3-regpath`).

    The ball problem is non-convex, so for every instance and radius we run projected normalised GD
    ({eq}`eq-ch3-ngd` with ``max_norm=R``) from ``restarts`` starts -- the best solution of the previous radius
    (warm start) and ``restarts - 1`` random points on the sphere of radius R -- and keep the one with the
    lowest loss. All instances and starts train as one ensemble (``data.repeat(restarts)``).
    ``make_model(n_members, seed)`` builds a model with a single trained tensor (``PromptAttention`` or
    ``SoftmaxAttention1L(param="W")``). Returns the path (len(radii), E, ...) and its losses (len(radii), E).
    """
    K = validate.positive_int("restarts", restarts)
    validate.positive_int("steps", steps)
    if len(radii) == 0:
        raise ValueError("radii must hold at least one radius")
    radii = [validate.positive("radii", R) for R in radii]
    E = data.X.shape[0]
    big = data.repeat(K)                       # member e*K + k is start k of instance e
    model = make_model(E * K, seed)
    theta = _single_parameter(model)
    inputs = model_inputs(model, big)
    objective = partial(classification_loss, loss=loss)
    g = torch.Generator().manual_seed(seed + 1)
    best = None
    path, path_loss = [], []
    for R in tqdm(radii, desc="regularisation path", disable=not progress):
        with torch.no_grad():
            start = torch.randn(theta.shape, generator=g, dtype=theta.dtype)
            start *= R / start.flatten(1).norm(dim=1).view(-1, *([1] * (theta.dim() - 1)))
            if best is not None:
                start.view(E, K, *theta.shape[1:])[:, 0] = best
            theta.copy_(start)
        fit(model, (inputs, big.Y), steps=steps, optimizer=partial(NormalizedGD, max_norm=R), lr=lr,
            schedule="constant", loss=objective, progress=False)
        with torch.no_grad():
            final = objective(model(*inputs), big.Y).view(E, K)
            k_best = final.argmin(dim=1)
            best = theta.detach().view(E, K, *theta.shape[1:])[torch.arange(E), k_best].clone()
        path.append(best.cpu().numpy())
        path_loss.append(final[torch.arange(E), k_best].cpu().numpy())
    return np.stack(path), np.stack(path_loss)
