"""Closed forms of mesa-optimization in an autoregressively trained linear layer (Zheng et al. 2024; the
derivations are the book's).

Setting ({eq}`eq-ch11-ar`): complex diagonal ``W = diag(exp(i theta_j))`` with i.i.d. uniform angles, a start
``s_0`` independent of W, ``s_t = W^t s_0``. In the diagonal class ``B = b I``, ``A = a I`` the layer predicts
``c g_t`` with ``c = ab`` and ``g_t = G_t s_t``, ``G_t = (1/t) sum_{tau <= t} s_tau s_{tau-1}^*``: one gradient
step of size ``c`` on the in-context least-squares loss ({eq}`eq-ch11-gd`). Its risk at position t is exactly

    L_t(c) = m2 - 2 c m4 + c^2 (m6 + m24 / t)                                        ({eq}`eq-ch11-risk`)

with the **start moments** ``m_k = E sum_j |s_0j|^k`` and ``m24 = E sum_j |s_0j|^2 sum_{k != j} |s_0k|^4``
({eq}`eq-ch11-moments`). Everything else follows: the value ``c*(T)`` that training converges to
({eq}`eq-ch11-cstar`), the gradient-flow path of ``(a, b)`` ({eq}`eq-ch11-flow`, {eq}`eq-ch11-conserved`), and the
error left at long contexts, whose minimum ``1 - m4^2 / (m2 m6)`` vanishes iff the moduli of the non-zero
coordinates of ``s_0`` are one constant ({eq}`eq-ch11-floor`).

Risks are ``E ||s_{t+1} - s_hat_{t+1}||^2`` summed over coordinates; a relative error divides by
``E ||s_{t+1}||^2 = m2``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from iclcore import validate
from iclcore.tasks.diagonal_ar import check_start


class StartMoments(NamedTuple):
    """Moments of the start that fix every risk of the chapter ({eq}`eq-ch11-moments`):
    ``m2, m4, m6 = E sum_j |s_0j|^{2, 4, 6}`` and ``m24 = E sum_j |s_0j|^2 sum_{k != j} |s_0k|^4``."""

    m2: float
    m4: float
    m6: float
    m24: float


def _modulus_moment(k: int, w: float) -> float:
    """``E (1 + w u)^k`` for u uniform on [-1, 1]."""
    if w == 0:
        return 1.0
    return ((1 + w) ** (k + 1) - (1 - w) ** (k + 1)) / (2 * w * (k + 1))


def start_moments(start: str, d: int, scale: float = 1.0, modulus_spread: float = 0.0) -> StartMoments:
    """Exact moments ({eq}`eq-ch11-moments`) of the start laws of :mod:`iclcore.tasks.diagonal_ar`.

    Gaussian (real coordinates of std ``scale``): ``|s|^2 ~ scale^2 chi^2_1``, so ``E|s|^{2,4,6} =
    scale^{2,4,6} (1, 3, 15)``. Sparse: one coordinate of modulus ``scale (1 + w u)``, hence ``m24 = 0``.
    Unit modulus and the fixed "ones" start: every coordinate of modulus ``scale (1 + w u)`` (the risk of one
    gradient step does not see the phases, so both laws have the same moments).
    """
    d = validate.positive_int("d", d)
    start, s, w = check_start(start, scale, modulus_spread)
    M2, M4, M6 = (_modulus_moment(k, w) for k in (2, 4, 6))
    if start == "gaussian":
        return StartMoments(d * s**2, 3 * d * s**4, 15 * d * s**6, 3 * d * (d - 1) * s**6)
    if start == "sparse":
        return StartMoments(s**2 * M2, s**4 * M4, s**6 * M6, 0.0)
    return StartMoments(d * s**2 * M2, d * s**4 * M4, d * s**6 * M6, d * (d - 1) * s**6 * M2 * M4)


def empirical_moments(starts) -> StartMoments:
    """Monte-Carlo estimate of the start moments from sampled starts (n, d) (complex or real; only the moduli
    matter)."""
    z = np.abs(np.asarray(starts))
    if z.ndim != 2 or z.shape[0] < 1 or z.shape[1] < 1:
        raise ValueError(f"starts must have shape (n, d) with n, d >= 1, got {z.shape}")
    r2 = z**2
    S2, S4, S6 = r2.sum(1), (r2**2).sum(1), (r2**3).sum(1)
    return StartMoments(float(S2.mean()), float(S4.mean()), float(S6.mean()), float((S2 * S4 - S6).mean()))


def _moments(moments) -> StartMoments:
    try:
        m = StartMoments(*(float(x) for x in moments))
    except (TypeError, ValueError) as e:
        raise ValueError(f"moments must be four numbers (m2, m4, m6, m24), got {moments!r}") from e
    if not all(np.isfinite(m)) or min(m) < 0 or m.m2 <= 0 or m.m6 <= 0:
        raise ValueError(f"moments must be finite, >= 0, with m2 > 0 and m6 > 0, got {tuple(m)}")
    return m


def harmonic_weight(T: int) -> float:
    """``h_T = (1/T) sum_{t=1}^T 1/t``: the weight of the cross-coordinate term in the loss pooled over the
    positions t = 1..T ({eq}`eq-ch11-cstar`)."""
    T = validate.positive_int("T", T)
    return float(np.mean(1.0 / np.arange(1, T + 1)))


def mesa_risk(moments, c: float, t) -> np.ndarray:
    """Risk ``L_t(c) = m2 - 2 c m4 + c^2 (m6 + m24 / t)`` of the prediction ``c g_t`` at positions ``t``
    ({eq}`eq-ch11-risk`); ``t`` an int >= 1 or an array of them (``np.inf`` gives the long-context limit)."""
    m = _moments(moments)
    if not np.isfinite(c):
        raise ValueError(f"c must be finite, got {c!r}")
    t = np.asarray(t, dtype=np.float64)
    if np.any(~(t >= 1)):
        raise ValueError(f"t must be >= 1 (a position needs one pair), got {t}")
    return m.m2 - 2 * c * m.m4 + c**2 * (m.m6 + m.m24 / t)


def relative_error(moments, c: float, t) -> np.ndarray:
    """``e(t) = L_t(c) / m2``: the risk relative to the zero predictor's (``E||s_{t+1}||^2 = m2``)."""
    return mesa_risk(moments, c, t) / _moments(moments).m2


def optimal_product(moments, T: int | float) -> float:
    """``c*(T) = m4 / (m6 + h_T m24)``: the minimiser of the loss pooled over positions 1..T, where gradient flow
    on ``(a, b)`` ends ({eq}`eq-ch11-cstar`). ``T = np.inf`` gives ``m4 / m6``."""
    m = _moments(moments)
    h = 0.0 if T == np.inf else harmonic_weight(T)
    return float(m.m4 / (m.m6 + h * m.m24))


def pooled_risk(moments, c: float, T: int) -> float:
    """Mean of ``L_t(c)`` over t = 1..T: ``m2 - 2 c m4 + c^2 (m6 + h_T m24)`` (what ``sequence_risk`` measures)."""
    m = _moments(moments)
    return float(m.m2 - 2 * c * m.m4 + c**2 * (m.m6 + harmonic_weight(T) * m.m24))


def recovery_floor(moments) -> float:
    """``min_c lim_{t -> inf} L_t(c) / m2 = 1 - m4^2 / (m2 m6)`` ({eq}`eq-ch11-floor`): >= 0 by Cauchy-Schwarz,
    and 0 iff every non-zero coordinate of ``s_0`` has the same modulus (the moment condition)."""
    m = _moments(moments)
    return float(1 - m.m4**2 / (m.m2 * m.m6))


def scalar_descent(moments, T: int, a0: float, b0: float, lr: float, steps: int) -> np.ndarray:
    """Gradient descent on ``(a, b)`` for the pooled population loss ({eq}`eq-ch11-flow`):
    ``a <- a - lr b L'(ab)``, ``b <- b - lr a L'(ab)`` with ``L'(c) = 2 (c (m6 + h_T m24) - m4)``.

    ``lr`` is the step on the scalars (a step ``eta`` on the d x d blocks ``B = bI``, ``A = aI`` moves each
    diagonal entry by ``eta / d`` times the derivative in ``b``). Returns the path (steps + 1, 2) of ``(a, b)``.
    """
    m = _moments(moments)
    nu = m.m6 + harmonic_weight(T) * m.m24
    if not (np.isfinite(a0) and np.isfinite(b0)):
        raise ValueError(f"a0 and b0 must be finite, got {a0!r}, {b0!r}")
    lr = validate.positive("lr", lr)
    steps = validate.int_in_range("steps", steps, 0, 10**8)
    path = np.empty((steps + 1, 2))
    a, b = float(a0), float(b0)
    path[0] = a, b
    for k in range(1, steps + 1):
        g = 2 * (a * b * nu - m.m4)
        a, b = a - lr * b * g, b - lr * a * g
        path[k] = a, b
    return path


def flow_endpoint(a0: float, b0: float, c: float) -> tuple[float, float]:
    """Where gradient flow from ``(a0, b0)`` ends ({eq}`eq-ch11-conserved`): it keeps ``a^2 - b^2`` and stops at
    ``ab = c``, so ``a^2 = (D + sqrt(D^2 + 4 c^2)) / 2`` with ``D = a0^2 - b0^2``. Needs ``a0 + b0 != 0`` (on the
    line ``a0 = -b0`` the flow ends at the saddle ``a = b = 0``); the signs are those of ``a0 + b0``."""
    if not (np.isfinite(a0) and np.isfinite(b0)) or a0 + b0 == 0:
        raise ValueError(f"a0 and b0 must be finite with a0 + b0 != 0 (else the flow ends at the saddle), "
                         f"got {a0!r}, {b0!r}")
    c = validate.positive("c", c)
    D = a0**2 - b0**2
    a = np.sqrt((D + np.sqrt(D**2 + 4 * c**2)) / 2)
    sign = np.sign(a0 + b0)
    return float(sign * a), float(sign * c / a)


def block_step_predict(states, B, A, positions=None) -> np.ndarray:
    """The block-class layer ``B G_t A s_t`` with ``G_t = (1/t) sum_{tau <= t} s_tau s_{tau-1}^*``
    ({eq}`eq-ch11-gd`), computed position by position (O(t) per position, without attention's T x T score matrix).

    ``states`` (n, T+1, d) complex: ``s_0..s_T``; ``B``, ``A`` (d, d) (``B = c I``, ``A = I`` is one gradient
    step of size c); ``positions``: the t in 1..T to return (default all). Returns (n, len(positions), d).
    """
    s = np.asarray(states)
    if s.ndim != 3 or s.shape[1] < 2:
        raise ValueError(f"states must have shape (n, T+1, d) with T >= 1, got {s.shape}")
    n, T1, d = s.shape
    B, A = (np.asarray(m, dtype=np.complex128) for m in (B, A))
    if B.shape != (d, d) or A.shape != (d, d):
        raise ValueError(f"B and A must have shape ({d}, {d}), got {B.shape} and {A.shape}")
    T = T1 - 1
    pos = list(range(1, T + 1)) if positions is None else [int(p) for p in np.atleast_1d(positions)]
    if not pos or min(pos) < 1 or max(pos) > T:
        raise ValueError(f"positions must lie in [1, {T}], got {pos}")
    out = np.zeros((n, len(pos), d), dtype=np.complex128)
    for i, t in enumerate(pos):
        query = s[:, t] @ A.T                                                  # A s_t          (n, d)
        scores = np.einsum("nud,nd->nu", s[:, :t].conj(), query)               # s_{tau-1}^* A s_t
        out[:, i] = np.einsum("nu,nud->nd", scores, s[:, 1:t + 1]) @ B.T / t   # B G_t A s_t
    return out


def mesa_step_predict(states, c: float) -> np.ndarray:
    """One gradient step of size ``c`` at every position: ``c g_t``, t = 1..T, from ``s_0..s_T`` (n, T+1, d)
    complex ({eq}`eq-ch11-gd`). Returns (n, T, d)."""
    if not np.isfinite(c):
        raise ValueError(f"c must be finite, got {c!r}")
    s = np.asarray(states)
    if s.ndim != 3:
        raise ValueError(f"states must have shape (n, T+1, d), got {s.shape}")
    d = s.shape[-1]
    return block_step_predict(s, c * np.eye(d), np.eye(d))
