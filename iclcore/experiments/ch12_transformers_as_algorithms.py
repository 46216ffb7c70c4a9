"""Drivers of the chapter "Transformers as algorithms" (Li, Ildiz, Papailiopoulos & Oymak 2023).

* :func:`regression_baselines` -- the classical algorithms of the chapter, side by side as one
  :class:`iclcore.models.Ensemble` (one call signature: pairs Z -> a prediction at every prompt length);
* :func:`risk_curves` -- the risk after k = 0..n-1 examples of every member of a model or an ensemble
  ({eq}`eq-ch12-risk`), on seeded prompts (same seed, same prompts: models and baselines are compared on
  identical data);
* :func:`sensitivity_curves` -- the stability probe ({eq}`eq-ch12-stability`): how much each prediction moves
  when the first in-context example is replaced by a fresh one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import torch
from torch import nn

from iclcore import validate
from iclcore.evaluate import evaluate
from iclcore.models import Ensemble
from iclcore.tasks.base import make_generator
from iclcore.tasks.regression_prompts import prefix_risk
from iclcore.theory.estimators import (
    GaussianPosteriorMean,
    LeastSquares,
    NearestNeighbours,
    OneStepGD,
    PoolPosteriorMean,
    Ridge,
    optimal_gd_steps,
)


def regression_baselines(d: int, n: int, noise: float, pools: Mapping | None = None, ridge: float = 1.0,
                         neighbours: int = 3) -> Ensemble:
    """The chapter's baselines as one ensemble, named for the figures: least squares, ridge (penalty
    ``ridge``), the Bayes-optimal posterior mean for beta ~ N(0, I) (= ridge with lam = noise^2), k nearest
    neighbours, one gradient step with the best step size for each k ({eq}`eq-ch12-gd`), and, for every
    ``name -> pool`` in ``pools``, the posterior mean that knows the pool (member ``("pool posterior", name)``).
    """
    validate.positive_int("d", d)
    validate.positive_int("n", n)
    validate.nonnegative("noise", noise)
    members: dict = {
        "least squares": LeastSquares(),
        f"ridge, λ = {ridge:g}": Ridge(ridge),
        "Bayes (posterior mean)": GaussianPosteriorMean(noise),
        f"{neighbours}-nearest neighbours": NearestNeighbours(neighbours),
        "one GD step (best η)": OneStepGD(optimal_gd_steps(d, n, noise)),
    }
    for name, pool in (pools or {}).items():
        members[("pool posterior", name)] = PoolPosteriorMean(pool, noise)
    return Ensemble(members)


def risk_curves(model: nn.Module, data, n: int, *, members=None, n_samples: int = 2**14, batch_size: int = 4096,
                seed: int = 10_000) -> dict:
    """``{member: risk after k examples, k = 0..n-1}`` (float64 arrays of length n) from
    :func:`iclcore.evaluate.evaluate` with one :func:`iclcore.tasks.regression_prompts.prefix_risk` per k."""
    validate.positive_int("n", n)
    res = evaluate(model, data, {k: prefix_risk(k) for k in range(n)}, members=members, n_samples=n_samples,
                   batch_size=batch_size, seed=seed)
    return {m: np.array([res[m][k] for k in range(n)]) for m in res.members}


@torch.no_grad()
def sensitivity_curves(predictors: Mapping[object, Callable], sampler, *, n_samples: int = 4096,
                       seed: int = 20_000) -> dict:
    """The stability probe ({eq}`eq-ch12-stability`): for each predictor, the mean ``|f(Z)_k - f(Z')_k|``
    over prompts, where Z' is Z with its first pair replaced by the first pair of an independent prompt, for
    every prompt length k (entry 0 is 0: the first prediction sees no example).

    ``predictors``: ``{name: model}``; a model may return (B, n) or (E, B, n) (an ensemble's members are
    averaged separately and named ``(name, e)`` when E > 1). ``sampler`` gives (Z, y) with Z (B, n, d+1).
    Returns ``{name: array of length n}``.
    """
    validate.positive_int("n_samples", n_samples)
    if not predictors:
        raise ValueError("predictors must name at least one model")
    gen = make_generator(seed)
    Z, _ = sampler(n_samples, gen)
    fresh, _ = sampler(n_samples, gen)
    if Z.dim() != 3:
        raise ValueError(f"sampler must give prompts (B, n, d+1), got {tuple(Z.shape)}")
    Z2 = Z.clone()
    Z2[:, 0] = fresh[:, 0]                       # the first pair of another prompt: one example changed
    out = {}
    for name, f in predictors.items():
        a, b = f(Z), f(Z2)
        delta = (a - b).abs().double().mean(-2)                                  # (..., n)
        if delta.dim() == 1:
            out[name] = delta.numpy()
        elif delta.shape[0] == 1:
            out[name] = delta[0].numpy()
        else:
            out.update({(name, e): delta[e].numpy() for e in range(delta.shape[0])})
    return out
