"""Argument checks shared by iclcore. Each raises ``ValueError`` naming the argument and the accepted range."""

from __future__ import annotations

import numpy as np


def positive_int(name: str, value: int) -> int:
    """``value`` must be an integer >= 1."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def int_in_range(name: str, value: int, low: int, high: int) -> int:
    """``value`` must be an integer in ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or not low <= value <= high:
        raise ValueError(f"{name} must be in [{low}, {high}], got {value!r}")
    return int(value)


def nonnegative(name: str, value: float) -> float:
    """``value`` must be a finite number >= 0."""
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


def positive(name: str, value: float) -> float:
    """``value`` must be a finite number > 0 (e.g. a temperature or a learning rate)."""
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def in_interval(name: str, value: float, low: float, high: float) -> float:
    """``value`` must lie in the closed interval ``[low, high]`` (e.g. a correlation in [-1, 1])."""
    if not np.isfinite(value) or not low <= value <= high:
        raise ValueError(f"{name} must be in [{low}, {high}], got {value!r}")
    return float(value)


def covariance(name: str, matrix, d: int | None = None, tol: float = 1e-10) -> np.ndarray:
    """``matrix`` must be a symmetric positive semi-definite (d, d) array; returns it as float64."""
    m = np.asarray(matrix, dtype=np.float64)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError(f"{name} must be a square (d, d) matrix, got shape {m.shape}")
    if d is not None and m.shape[0] != d:
        raise ValueError(f"{name} must have shape ({d}, {d}), got {m.shape}")
    if not np.all(np.isfinite(m)):
        raise ValueError(f"{name} must be finite")
    if not np.allclose(m, m.T, atol=tol * max(1.0, np.abs(m).max())):
        raise ValueError(f"{name} must be symmetric")
    if np.linalg.eigvalsh(m).min() < -tol * max(1.0, np.abs(m).max()):
        raise ValueError(f"{name} must be positive semi-definite")
    return m
