"""Closed forms of the convolution-augmented transformer (Li, Zhang, Huang & Oymak, AAAI 2025; chapter 6).

* :func:`construction_mass`: attention on the answer in the hand-built CAT, ``e^c / (e^c + L - 1)``
  ({eq}`eq-ch6-mass`);
* :func:`landmark_retrieval_theory`: how often the landmark (block summary) of the right block wins under
  random keys, in the Gaussian approximation ({eq}`eq-ch6-landmark`).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import integrate, stats

from iclcore import validate


def construction_mass(c: float | np.ndarray, L: int | np.ndarray) -> np.ndarray:
    """Attention on the correct position in the hand-built CAT, ``e^c / (e^c + L - 1)`` ({eq}`eq-ch6-mass`).

    One visible position scores c (the one right after the queried key), the other L - 1 score 0.
    ``c`` any real (scalar or array), ``L`` >= 1 visible positions; broadcast, float64.
    """
    c, L = np.asarray(c, dtype=np.float64), np.asarray(L, dtype=np.float64)
    if not np.all(np.isfinite(c)):
        raise ValueError(f"c must be finite, got {c}")
    if not np.all(np.isfinite(L)) or np.any(L < 1):
        raise ValueError(f"L must be >= 1, got {L}")
    return 1.0 / (1.0 + (L - 1) * np.exp(-c))


def landmark_retrieval_theory(n: int, block: int, d: int) -> float:
    """Probability that the right block's landmark scores highest, Gaussian approximation ({eq}`eq-ch6-landmark`).

    ``n`` random unit keys in R^d are cut into M = n / B blocks of B = ``block`` keys; a long convolution
    (the mean over a block) makes each block one landmark; the query equals one of the keys. For random unit
    keys ``<q, k> ~ N(0, 1/d)`` for k != q. The right landmark scores ``1/B + N(0, (B-1)/(d B^2))`` and each of
    the other M - 1 landmarks ``N(0, 1/(d B))``, so

        P(success) = E_Z[ Phi( sqrt(dB) (1/B + sqrt((B-1)/(d B^2)) Z) )^(M-1) ],   Z ~ N(0, 1),

    which is close to 1 while d >> 2 B log(n/B) and falls to chance 1/M when B -> n.
    """
    validate.positive_int("n", n)
    B = validate.int_in_range("block", block, 1, n)
    if n % B:
        raise ValueError(f"block must divide n={n}, got {B}")
    d = validate.int_in_range("d", d, 2, 1_000_000)
    M = n // B
    mean, sd = math.sqrt(d * B) / B, math.sqrt((B - 1) / B)              # right landmark in units of 1/sqrt(dB)

    def integrand(z: float) -> float:
        return stats.norm.pdf(z) * math.exp((M - 1) * stats.norm.logcdf(mean + sd * z))

    return float(integrate.quad(integrand, -12, 12, limit=200)[0])
