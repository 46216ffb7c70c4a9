"""Weighted preconditioned gradient descent (WPGD) under position-dependent label noise.

Li, Rawat & Oymak (2024), Sec. 3 (H3 implements *weighted* PGD); the heterogeneous-noise design below is
the book's own (Chapter 2). Data: ``Sigma_x = Sigma_beta = I_d``, example labels ``y_i = beta^T x_i + xi_i``
with ``xi_i ~ N(0, noise_vars[i])`` and a query label with noise std ``query_noise``. The WPGD predictor
with per-position coefficients ``c_i`` (preconditioner times sample weight) is

    y_hat = sum_i c_i (x^T x_i) y_i = x^T (c_1 x_1 y_1 + ... + c_n x_n y_n).        ({eq}`eq-ch2-wpgd`)

By rotation invariance the optimal preconditioner is a multiple of the identity, so ``c`` says everything.
Gaussian moments give (with ``a_i = d + 1 + sigma_i^2``, ``S = sum_i c_i``)

    L(c) = d + q^2 - 2 d S + d S^2 + d sum_i c_i^2 a_i.                              ({eq}`eq-ch2-wrisk`)

Risk convention as everywhere in the book: ``E[(y - y_hat)^2]`` including the query noise ``q^2``.
"""

from __future__ import annotations

import numpy as np

from iclcore import validate


def _noise_vars(noise_vars) -> np.ndarray:
    v = np.asarray(noise_vars, dtype=np.float64)
    if v.ndim != 1 or v.size == 0:
        raise ValueError(f"noise_vars must be a non-empty 1-d sequence of variances (length n), got shape {v.shape}")
    if not np.all(np.isfinite(v)) or v.min() < 0:
        raise ValueError("noise_vars must hold finite variances >= 0")
    return v


def wpgd_isotropic_risk(c, d: int, noise_vars, query_noise: float = 0.0) -> float:
    """Exact risk of the WPGD predictor with coefficients ``c`` (length n), {eq}`eq-ch2-wrisk`."""
    validate.positive_int("d", d)
    v = _noise_vars(noise_vars)
    validate.nonnegative("query_noise", query_noise)
    c = np.asarray(c, dtype=np.float64)
    if c.shape != v.shape:
        raise ValueError(f"c must have the shape of noise_vars {v.shape}, got {c.shape}")
    S = c.sum()
    return float(d + query_noise**2 - 2 * d * S + d * S**2 + d * np.sum(c**2 * (d + 1 + v)))


def wpgd_isotropic(d: int, noise_vars, query_noise: float = 0.0) -> tuple[np.ndarray, float]:
    """Optimal per-position coefficients and risk of WPGD (what a 1-layer H3 can reach), {eq}`eq-ch2-wopt`.

    Minimising {eq}`eq-ch2-wrisk` gives ``c_i = 1 / ((d + 1 + sigma_i^2)(1 + Q))`` with
    ``Q = sum_i 1/(d + 1 + sigma_i^2)``: noisier positions get proportionally smaller weight, and

        L_WPGD = d / (1 + Q) + q^2.

    Returns ``(weights, risk)``; ``weights`` (length n) are the coefficients ``c_i``, i.e. the
    preconditioner scale times the sample weight of position i.
    """
    validate.positive_int("d", d)
    v = _noise_vars(noise_vars)
    validate.nonnegative("query_noise", query_noise)
    inv = 1.0 / (d + 1 + v)
    Q = inv.sum()
    return inv / (1 + Q), float(d / (1 + Q) + query_noise**2)


def la_isotropic_hetero(d: int, noise_vars, query_noise: float = 0.0) -> float:
    """Optimal risk of *uniform* weights (linear attention / plain PGD) under the same data, {eq}`eq-ch2-wopt`.

        L_LA = d - d n^2 / ((d + 1) n + n^2 + sum_i sigma_i^2) + q^2.

    Linear attention sums the examples with one shared preconditioner, so it cannot down-weight the
    noisy positions; for equal variances this equals :func:`wpgd_isotropic`.
    """
    validate.positive_int("d", d)
    v = _noise_vars(noise_vars)
    validate.nonnegative("query_noise", query_noise)
    n = v.size
    return float(d - d * n**2 / ((d + 1) * n + n**2 + v.sum()) + query_noise**2)
