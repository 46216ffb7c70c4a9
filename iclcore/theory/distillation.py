"""Knowledge distillation into a min-norm interpolator: the risk of a target trained on a surrogate's labels.

Setting ({eq}`eq-ch9-data`): features ``x ~ N(0, diag(lam))`` in ``d`` dimensions, ``n < d`` samples labelled by
a surrogate, ``y = X beta_s + sigma z``; the target is the min-norm interpolator
``beta_hat = X^T (X X^T)^{-1} y`` (:func:`min_norm_interpolator`) and its excess risk is
``||beta_hat - beta_star||^2_Sigma``.

**Deterministic equivalent** (the book's derivation, from the standard fixed point of ridgeless regression):
``kappa > 0`` solves ``sum_i lam_i / (lam_i + kappa) = n`` and ``gamma = (1/n) sum_i s_i^2`` with the
shrinkage factors ``s_i = lam_i / (lam_i + kappa)`` ({eq}`eq-ch9-fixed-point`). Then ({eq}`eq-ch9-risk`)

    R(beta_s) = sum_i lam_i (s_i beta_s_i - beta_star_i)^2
                + gamma / (1 - gamma) * [ sum_i lam_i (1 - s_i)^2 beta_s_i^2 + sigma^2 ].

The first term is the error of the *average* target (it learns ``s_i beta_s_i``); the second is the variance
the interpolator pays for the part of the surrogate it cannot resolve, plus the label noise. The formula is
exact as ``n, d -> infinity`` with ``n / d`` fixed; at finite ``n`` its error on the expected risk is of
relative order ``1/n`` (the chapter measures it against Monte Carlo).

Minimising ``R`` coordinate by coordinate gives the **optimal surrogate** ({eq}`eq-ch9-optimal`)
``beta_s*_i = beta_star_i s_i / (s_i^2 + c (1 - s_i)^2)`` with ``c = gamma / (1 - gamma)``: it amplifies features
with ``lam_i > kappa c`` and shrinks the others. The best **0/1 mask** of the truth ({eq}`eq-ch9-mask`) keeps
feature i iff ``lam_i > kappa (1 / sqrt(1 - gamma) - 1)``. Neither depends on ``beta_star`` or on ``sigma``.

Every function takes ``fixed_point=(kappa, gamma)`` to reuse (or replace) the solution of the fixed point.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.optimize import brentq

from iclcore import validate
from iclcore.tasks.gaussian_features import as_spectrum, as_weights


def _samples(lam: np.ndarray, n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or not 1 <= n < lam.size:
        raise ValueError(f"n must be an integer in [1, d-1] = [1, {lam.size - 1}] (the interpolator needs "
                         f"fewer samples than features), got {n!r}")
    return int(n)


def ridgeless_fixed_point(lam, n: int) -> tuple[float, float]:
    """``(kappa, gamma)`` of {eq}`eq-ch9-fixed-point`: ``kappa > 0`` solves ``sum_i lam_i/(lam_i+kappa) = n`` and
    ``gamma = (1/n) sum_i lam_i^2/(lam_i+kappa)^2``, which lies in ``(0, 1)``.

    ``lam``: (d,) positive eigenvalues of the (diagonal) feature covariance; ``n``: samples, ``1 <= n < d``.
    Solved with Brent's method on ``log kappa`` (kappa spans many decades for power-law spectra).
    """
    lam = as_spectrum(lam)
    n = _samples(lam, n)

    def excess(log_kappa: float) -> float:
        return float(np.sum(lam / (lam + np.exp(log_kappa)))) - n

    # at kappa = 1e-12 min(lam) the sum is > d - 1 >= n; at kappa = 2 sum(lam) / n it is < n / 2
    lo, hi = np.log(lam.min() * 1e-12), np.log(2 * lam.sum() / n)
    log_kappa = brentq(excess, lo, hi, xtol=1e-14, rtol=4 * np.finfo(float).eps, maxiter=500)
    kappa = float(np.exp(log_kappa))
    s = lam / (lam + kappa)
    return kappa, float(np.sum(s**2) / n)


def _fixed_point(lam: np.ndarray, n: int, fixed_point) -> tuple[float, float]:
    if fixed_point is None:
        return ridgeless_fixed_point(lam, n)
    try:
        kappa, gamma = (float(v) for v in fixed_point)
    except (TypeError, ValueError) as e:
        raise ValueError(f"fixed_point must be a pair (kappa, gamma), got {fixed_point!r}") from e
    if not (np.isfinite(kappa) and kappa > 0 and 0 <= gamma < 1):
        raise ValueError(f"fixed_point must have kappa > 0 and 0 <= gamma < 1, got {fixed_point!r}")
    return kappa, gamma


def surrogate_to_target_risk(lam, beta_s, beta_star, n: int, sigma: float = 0.0, *,
                             fixed_point: tuple[float, float] | None = None) -> float:
    """Excess risk ``||beta_hat - beta_star||^2_Sigma`` of the min-norm interpolator trained on ``n`` samples
    labelled by the surrogate ``beta_s`` (label noise std ``sigma``): the deterministic equivalent
    {eq}`eq-ch9-risk`.

    ``lam`` (d,) > 0 are the eigenvalues of the diagonal feature covariance, ``beta_s`` and ``beta_star`` have
    shape (d,), ``1 <= n < d``. Returns a float. ``fixed_point=(kappa, gamma)`` replaces the solution of
    {eq}`eq-ch9-fixed-point` (default: :func:`ridgeless_fixed_point`).
    """
    lam = as_spectrum(lam)
    beta_s = as_weights("beta_s", beta_s, lam.size)
    beta_star = as_weights("beta_star", beta_star, lam.size)
    n = _samples(lam, n)
    sigma = validate.nonnegative("sigma", sigma)
    kappa, gamma = _fixed_point(lam, n, fixed_point)
    s = lam / (lam + kappa)
    mean_error = np.sum(lam * (s * beta_s - beta_star) ** 2)
    unresolved = np.sum(lam * (1 - s) ** 2 * beta_s**2)
    return float(mean_error + gamma / (1 - gamma) * (unresolved + sigma**2))


def optimal_surrogate(lam, beta_star, n: int, *, fixed_point: tuple[float, float] | None = None) -> np.ndarray:
    """The surrogate ``beta_s*`` that minimises {eq}`eq-ch9-risk`, shape (d,) ({eq}`eq-ch9-optimal`):
    ``beta_s*_i = beta_star_i s_i / (s_i^2 + c (1 - s_i)^2)``, ``s_i = lam_i/(lam_i+kappa)``,
    ``c = gamma/(1-gamma)``. The same for every label-noise level."""
    lam = as_spectrum(lam)
    beta_star = as_weights("beta_star", beta_star, lam.size)
    n = _samples(lam, n)
    kappa, gamma = _fixed_point(lam, n, fixed_point)
    s = lam / (lam + kappa)
    c = gamma / (1 - gamma)
    return beta_star * s / (s**2 + c * (1 - s) ** 2)


def amplification_threshold(lam, n: int, *, fixed_point: tuple[float, float] | None = None) -> float:
    """The optimal surrogate amplifies feature i (``|beta_s*_i| > |beta_star_i|``) iff ``lam_i`` exceeds
    ``kappa gamma / (1 - gamma)`` ({eq}`eq-ch9-optimal`), and shrinks it below."""
    lam = as_spectrum(lam)
    kappa, gamma = _fixed_point(lam, _samples(lam, n), fixed_point)
    return kappa * gamma / (1 - gamma)


def mask_threshold(lam, n: int, *, fixed_point: tuple[float, float] | None = None) -> float:
    """The best 0/1 mask of the truth keeps feature i iff ``lam_i > kappa (1/sqrt(1 - gamma) - 1)``
    ({eq}`eq-ch9-mask`)."""
    lam = as_spectrum(lam)
    kappa, gamma = _fixed_point(lam, _samples(lam, n), fixed_point)
    return kappa * (1 / np.sqrt(1 - gamma) - 1)


def optimal_mask(lam, n: int, *, fixed_point: tuple[float, float] | None = None) -> np.ndarray:
    """The 0/1 mask (bool, shape (d,)) that minimises {eq}`eq-ch9-risk` over surrogates ``mask * beta_star``
    ({eq}`eq-ch9-mask`): keep the features whose variance exceeds :func:`mask_threshold`."""
    lam = as_spectrum(lam)
    return lam > mask_threshold(lam, n, fixed_point=fixed_point)


def min_norm_interpolator(X, Y) -> torch.Tensor:
    """The minimum-norm solution of ``X beta = y``: ``beta_hat = X^T (X X^T)^{-1} y`` (batched, float64).

    ``X``: ``(..., n, d)`` with ``n < d`` (so that the ``n`` equations can be interpolated); ``Y``: ``(..., n)``
    for one label vector or ``(..., n, S)`` for ``S`` label vectors on the same design. Returns ``(..., d)`` or
    ``(..., d, S)``. Uses a linear solve with the ``n x n`` Gram matrix, never a pseudo-inverse.
    """
    X = torch.as_tensor(X, dtype=torch.float64)
    Y = torch.as_tensor(Y, dtype=torch.float64)
    if X.ndim < 2:
        raise ValueError(f"X must have shape (..., n, d), got {tuple(X.shape)}")
    n, d = X.shape[-2:]
    if n >= d:
        raise ValueError(f"X must have fewer rows than columns (n < d) for an interpolator, got n={n}, d={d}")
    vector = Y.shape == X.shape[:-1]
    if not vector and (Y.ndim != X.ndim or Y.shape[:-1] != X.shape[:-1]):
        raise ValueError(f"Y must have shape {tuple(X.shape[:-1])} or {tuple(X.shape[:-1])} + (S,), "
                         f"got {tuple(Y.shape)}")
    rhs = Y.unsqueeze(-1) if vector else Y
    gram = X @ X.transpose(-1, -2)
    beta = X.transpose(-1, -2) @ torch.linalg.solve(gram, rhs)
    return beta.squeeze(-1) if vector else beta
