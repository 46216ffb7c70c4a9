"""Small linear-algebra helpers shared by tasks and theory (numpy, float64)."""

from __future__ import annotations

import numpy as np


def sqrtm_psd(S) -> np.ndarray:
    """The symmetric square root of a positive semi-definite matrix (singular ones too), float64.

    Negative eigenvalues from round-off are clipped to 0, so ``sqrtm_psd(S) @ sqrtm_psd(S) == S`` up to
    round-off, and ``x = sqrtm_psd(S) @ g`` with ``g ~ N(0, I)`` has covariance ``S``.
    """
    S = np.asarray(S, dtype=np.float64)
    if S.ndim != 2 or S.shape[0] != S.shape[1]:
        raise ValueError(f"S must be a square matrix, got shape {S.shape}")
    vals, vecs = np.linalg.eigh((S + S.T) / 2)
    return (vecs * np.sqrt(np.clip(vals, 0, None))) @ vecs.T
