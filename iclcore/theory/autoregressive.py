"""Closed forms of in-context autoregressive learning (Sander et al. 2024; the derivations are the book's).

**One gradient step on augmented tokens.** At position t the step from ``W = 0`` on the inner loss
``1/2 sum_{tau <= t} ||s_tau - W s_{tau-1}||^2`` (divided by t) gives ``W_1 = eta G_t`` and predicts
``s_hat_{t+1} = eta g_t``, ``g_t = G_t s_t`` ({eq}`eq-ch7-gd`). Its risk at position t is the quadratic

    L_t(eta) = E||s_{t+1}||^2 - 2 eta E<s_{t+1}, g_t> + eta^2 E||g_t||^2            ({eq}`eq-ch7-gdrisk`)

and one step size shared by the positions t <= T is best at ``eta* = sum_t E<s_{t+1}, g_t> / sum_t E||g_t||^2``
({eq}`eq-ch7-eta`). For commuting rotations with i.i.d. angles and any block norms, the two moments are
finite trigonometric sums (:func:`gd_step_theory`, {eq}`eq-ch7-moments`); :func:`gd_step_monte_carlo` estimates
them from sampled sequences (noise, non-commuting W).

**Non-augmented tokens, unitary W.** The exact population loss of the diagonal multi-head model
(:class:`iclcore.models.DiagonalPositionalAttention`) is :func:`unitary_reduced_loss` ({eq}`eq-ch7-reduced`).

Conventions: risks are ``E||s_{t+1} - s_hat_{t+1}||^2`` summed over coordinates; for augmented tokens the
start has ``||s_0|| = 1`` (so the zero predictor has risk 1), for unitary sequences ``|s_{0,k}| = 1`` (risk d).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy.optimize import minimize

from iclcore import validate
from iclcore.tasks.autoregressive import check_angles, check_block_norms


def angle_cos_moments(n_max: int, angle_spread: float = 1.0, angle_center: float = 0.0) -> np.ndarray:
    """``m_n = E cos(n theta)``, n = 0..n_max, for theta uniform on ``center ± pi * spread``:
    ``m_n = cos(n center) sinc(n spread)``. With ``spread = 1`` (the uniform law) ``m_n = [n = 0]``."""
    n_max = validate.int_in_range("n_max", n_max, 0, 10**7)
    spread, center = check_angles(angle_spread, angle_center)
    n = np.arange(n_max + 1)
    m = np.cos(n * center) * np.sinc(n * spread)
    return np.where(np.abs(m) < 1e-15, 0.0, m)


@dataclass(frozen=True)
class StepMoments:
    """The moments of one gradient step at positions t = 1..T (arrays of length T):
    ``cross[t-1] = E<s_{t+1}, g_t>``, ``sq[t-1] = E||g_t||^2``, ``target[t-1] = E||s_{t+1}||^2``."""

    cross: np.ndarray
    sq: np.ndarray
    target: np.ndarray

    def _horizon(self, horizon: int | None) -> int:
        T = len(self.cross)
        return T if horizon is None else validate.int_in_range("horizon", horizon, 1, T)

    def optimal_eta(self, horizon: int | None = None) -> float:
        """The step size shared by positions ``t <= horizon`` that minimises their mean risk ({eq}`eq-ch7-eta`)."""
        h = self._horizon(horizon)
        return float(self.cross[:h].sum() / self.sq[:h].sum())

    def risk(self, eta: float, horizon: int | None = None) -> np.ndarray:
        """Risk ``L_t(eta)`` at positions t = 1..horizon ({eq}`eq-ch7-gdrisk`)."""
        if not np.isfinite(eta):
            raise ValueError(f"eta must be finite, got {eta!r}")
        h = self._horizon(horizon)
        return self.target[:h] - 2 * eta * self.cross[:h] + eta**2 * self.sq[:h]

    def mean_risk(self, eta: float | None = None, horizon: int | None = None) -> float:
        """Mean of ``L_t(eta)`` over t = 1..horizon (``eta`` defaults to the optimal one)."""
        eta = self.optimal_eta(horizon) if eta is None else eta
        return float(self.risk(eta, horizon).mean())


def _power_sums(block_norms, d: int) -> tuple[float, float, float]:
    r2 = check_block_norms(block_norms, d) ** 2
    return r2.sum(), (r2**2).sum(), (r2**3).sum()


def gd_step_theory(d: int, T: int, block_norms=None, angle_spread: float = 1.0,
                   angle_center: float = 0.0) -> StepMoments:
    """Exact moments of one gradient step ({eq}`eq-ch7-moments`) for commuting rotations, noiseless.

    ``d`` even (d/2 blocks with norms ``block_norms``, default equal, ``||s_0|| = 1``), i.i.d. angles with the
    law of :func:`angle_cos_moments`, any start phases (the moments do not depend on them). With the power
    sums ``S_k = sum_j r_j^k`` and ``c_j(u) = r_j^2 cos(u theta_j)``:
    ``E<s_{t+1}, g_t> = (1/t) sum_u E(sum_j c_j(u))^2`` and
    ``E||g_t||^2 = (1/t^2) sum_{u,u'} E[sum_j r_j^2 cos((u'-u) theta_j) sum_k c_k(u) sum_l c_l(u')]``,
    u, u' = 1..t, evaluated by grouping equal block indices.
    """
    d = validate.positive_int("d", d)
    if d % 2:
        raise ValueError(f"d must be even (2-D rotation blocks), got {d}")
    T = validate.positive_int("T", T)
    S2, S4, S6 = _power_sums(block_norms, d)
    m = angle_cos_moments(3 * T + 2, angle_spread, angle_center)

    def M(n):
        return m[np.abs(n)]

    def E2(a, b):
        return (M(a + b) + M(a - b)) / 2

    def E3(a, b, c):
        return (M(a + b + c) + M(a + b - c) + M(a - b + c) + M(a - b - c)) / 4

    distinct, pair = S2**3 - 3 * S2 * S4 + 2 * S6, S4 * S2 - S6
    cross, sq = np.zeros(T), np.zeros(T)
    for t in range(1, T + 1):
        u = np.arange(1, t + 1)
        cross[t - 1] = np.mean(S4 * (1 + M(2 * u)) / 2 + (S2**2 - S4) * M(u) ** 2)
        b, c = np.meshgrid(u, u, indexing="ij")
        a = c - b
        F = (distinct * M(a) * M(b) * M(c) + pair * (E2(a, b) * M(c) + E2(a, c) * M(b) + E2(b, c) * M(a))
             + S6 * E3(a, b, c))
        sq[t - 1] = F.sum() / t**2
    return StepMoments(cross, sq, np.full(T, S2))


def gd_step_monte_carlo(states) -> StepMoments:
    """Monte-Carlo moments of one gradient step from sampled sequences ``s_0..s_{T+1}``, shape (n, T+2, d)
    (e.g. ``RotationSequences.states``); real states. Used where no closed form is derived (noise,
    non-commuting W)."""
    s = np.asarray(states, dtype=np.float64)
    if s.ndim != 3 or s.shape[1] < 3:
        raise ValueError(f"states must have shape (n, T+2, d) with T >= 1, got {s.shape}")
    T = s.shape[1] - 2
    dots = np.einsum("nid,ntd->nit", s[:, :T], s[:, 1:T + 1])          # <s_{tau-1}, s_t>, tau-1 = 0..T-1
    cross, sq, target = np.zeros(T), np.zeros(T), np.zeros(T)
    for t in range(1, T + 1):
        g = np.einsum("nid,ni->nd", s[:, 1:t + 1], dots[:, :t, t - 1]) / t
        nxt = s[:, t + 1]
        cross[t - 1] = np.mean((g * nxt).sum(-1))
        sq[t - 1] = np.mean((g * g).sum(-1))
        target[t - 1] = np.mean((nxt * nxt).sum(-1))
    return StepMoments(cross, sq, target)


def gd_step_predict(states) -> np.ndarray:
    """The one-step directions ``g_t = G_t s_t`` at t = 1..T from the states ``s_0..s_T`` (n, T+1, d); returns
    (n, T, d). The gradient-step prediction of ``s_{t+1}`` is ``eta * g_t`` ({eq}`eq-ch7-gd`)."""
    s = np.asarray(states, dtype=np.float64)
    if s.ndim != 3 or s.shape[1] < 2:
        raise ValueError(f"states must have shape (n, T+1, d) with T >= 1, got {s.shape}")
    T = s.shape[1] - 1
    prev, cur = s[:, :T], s[:, 1:]
    scores = np.einsum("nid,ntd->nti", prev, cur) * np.tril(np.ones((T, T)))     # <s_{tau-1}, s_t>, tau <= t
    return np.einsum("nti,nid->ntd", scores, cur) / np.arange(1, T + 1)[None, :, None]


def scalar_step_floor(block_norms, d: int) -> float:
    """``lim_{T -> inf}`` of the optimal one-step risk for uniform angles: ``S2 - S4^2 / S6`` (0 iff all block
    norms are equal): one scalar eta cannot undo the block-dependent factors ``r_j^2 / 2``."""
    S2, S4, S6 = _power_sums(block_norms, d)
    return float(S2 - S4**2 / S6)


class BlockStep(NamedTuple):
    """The best block-scalar step: per-block step sizes ``eta`` (d/2,), key-query scales ``a`` and value scales
    ``b`` with ``b_j a_j = eta_j`` (one representative of the gauge ``(c a, b / c)``), and its mean risk."""

    eta: np.ndarray
    a: np.ndarray
    b: np.ndarray
    risk: float


def block_step_optimum(block_norms, d: int, T: int) -> BlockStep:
    """Best block-scalar step (``B = blockdiag(b_j I_2)``, ``A = blockdiag(a_j I_2)``) for uniform angles, pooled
    over positions 1..T ({eq}`eq-ch7-blockstep`). At position t its risk is
    ``S2 - sum_j b_j a_j r_j^4 + sum_j b_j^2 [a_j^2 r_j^6 (1 + 1/t)/4 + r_j^2/(2t) sum_{k != j} a_k^2 r_k^4]``,
    affine in 1/t, so the pooled risk replaces 1/t by ``h = mean_{t <= T} 1/t``; the best ``b`` is explicit and
    the rest is a maximisation over ``x_j = a_j^2 r_j^4`` on the simplex. With equal norms it is the scalar step
    of :func:`gd_step_theory`."""
    d = validate.positive_int("d", d)
    if d % 2:
        raise ValueError(f"d must be even (2-D rotation blocks), got {d}")
    T = validate.positive_int("T", T)
    r2 = check_block_norms(block_norms, d) ** 2
    h = float(np.mean(1.0 / np.arange(1, T + 1)))

    def gain(x):                                   # sum_j r_j^2 x_j / (x_j (1 - h) + 2 h X), X = sum x
        return np.sum(r2 * x / (x * (1 - h) + 2 * h * x.sum()))

    def objective(z):
        x = np.exp(z - z.max())
        return -gain(x / x.sum())

    z = minimize(objective, np.zeros(len(r2)), method="Nelder-Mead",
                 options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": 20000}).x
    x = np.exp(z - z.max())
    x /= x.sum()
    eta = 2 * x / (r2 * (x * (1 - h) + 2 * h))
    a = np.sqrt(x) / r2
    return BlockStep(eta, a, eta / a, float(r2.sum() - gain(x)))


def unitary_reduced_loss(A, B, P) -> np.ndarray:
    """Exact loss of the diagonal multi-head model on unitary sequences ({eq}`eq-ch7-reduced`), per position.

    ``A``, ``B`` (H, d): key-query and value diagonals of the heads; ``P`` (T-1, T): positional weights, row
    t-1 for position t (entries with tau > t are ignored). W = diag(e^{i theta_k}), theta_k i.i.d. uniform,
    ``|s_{0,k}| = 1``, no noise. With ``C = B^T A``, ``p_0 = P[t, t]`` (newest token) and ``p_1 = P[t, t-1]``
    (the query's own position):
    ``L_t = d - 2 p_0 tr C + ||p||^2 ||C||_F^2 + p_1^2 (||C 1||^2 - ||C||_F^2)``. Returns (T-1,).
    """
    A, B, P = (np.asarray(x, dtype=np.float64) for x in (A, B, P))
    if A.ndim != 2 or A.shape != B.shape:
        raise ValueError(f"A and B must both have shape (H, d), got {A.shape} and {B.shape}")
    if P.ndim != 2 or P.shape[1] != P.shape[0] + 1:
        raise ValueError(f"P must have shape (T-1, T), got {P.shape}")
    d = A.shape[1]
    C = B.T @ A
    tr, fro, row = np.trace(C), (C**2).sum(), (C.sum(1) ** 2).sum()
    out = []
    for t in range(1, P.shape[1]):
        p = P[t - 1, :t + 1]
        p0, p1 = p[-1], p[-2]
        out.append(d - 2 * p0 * tr + (p @ p) * fro + p1**2 * (row - fro))
    return np.asarray(out)


def unitary_min_loss(d: int, n_heads: int) -> float:
    """Smallest value of the unitary reduced loss at one position: ``max(d - H, 0)`` (C = B^T A has rank at most
    H, and ``min_p L_t = d - (tr C)^2 / ||C||_F^2 >= d - rank C``)."""
    d = validate.positive_int("d", d)
    return float(max(d - validate.positive_int("n_heads", n_heads), 0))


def unitary_zero_loss_weights(d: int, T: int, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A global minimiser of {eq}`eq-ch7-reduced` with H = d heads: ``A = scale I``, ``B = I``, ``P`` picking the
    newest token with weight ``1/scale`` (so ``p_0 C = I``). Returns ``(A, B, P)``."""
    d = validate.positive_int("d", d)
    T = validate.positive_int("T", T)
    scale = validate.positive("scale", scale)
    P = np.zeros((T - 1, T))
    P[np.arange(T - 1), np.arange(1, T)] = 1 / scale
    return scale * np.eye(d), np.eye(d), P


def chebyshev_weights(d: int, T: int, block_norms=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Zero-loss weights of the diagonal model for **real** commuting rotations with d/2 heads (the book's
    construction, {eq}`eq-ch7-cheb`): head j reads block j (``a_j = 1/r_j^2`` on its two coordinates, ``b_j = 1``
    there), and ``P`` puts ``2`` on the newest token and ``-1`` on the query's position, so that
    ``s_hat_{t+1} = 2 cos(theta) s_t - s_{t-1} = s_{t+1}``. Returns ``(A, B, P)`` with A, B of shape (d/2, d)."""
    d = validate.positive_int("d", d)
    if d % 2:
        raise ValueError(f"d must be even, got {d}")
    T = validate.positive_int("T", T)
    if T < 2:
        raise ValueError(f"T must be >= 2, got {T}")
    r2 = check_block_norms(block_norms, d) ** 2
    m = d // 2
    A, B = np.zeros((m, d)), np.zeros((m, d))
    for j in range(m):
        A[j, 2 * j:2 * j + 2] = 1 / r2[j]
        B[j, 2 * j:2 * j + 2] = 1
    P = np.zeros((T - 1, T))
    rows = np.arange(T - 1)
    P[rows, rows + 1] = 2.0
    P[rows, rows] = -1.0
    return A, B, P
