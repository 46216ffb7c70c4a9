"""Checkers for the coding exercises of the long-horizon bandits chapter (Chapter 15).

* :func:`check_lagged_design` -- ``fn(phi, h) -> X``, the lagged design of {eq}`eq-ch15-design`;
* :func:`check_credit` -- ``fn(lags, w, T) -> c``, the credit of each round, {eq}`eq-ch15-credit`;
* :func:`check_rank1_direction` -- ``fn(theta_hat) -> beta_hat``, the unit direction of the best rank-1 factor
  with the sign fixed by ``sum(w_hat) >= 0``.

Each calls the reader's function on several cases (edge cases included), prints a verdict, and returns a
:class:`iclcore.exercises.base.Verdict` whose hint names the likely mistake.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from iclcore.exercises.base import Case, Verdict, check_function
from iclcore.tasks.bandits import credit, lagged_design
from iclcore.theory.bandits import rank1_factor


def _trajectories() -> list[Case]:
    rng = np.random.default_rng(15)
    return [Case("d = 2 features, h = 3 lags", (rng.standard_normal((6, 2)), 3)),
            Case("one feature, h = 4", (np.arange(1.0, 8.0)[:, None], 4)),
            Case("h = 1: only the round itself", (rng.standard_normal((5, 3)), 1)),
            Case("horizon longer than the trajectory (h > n)", (rng.standard_normal((3, 2)), 5))]


def _future(phi, h):
    """Row t holds phi_t, phi_{t+1}, ...: the lags point the wrong way in time."""
    return lagged_design(phi[::-1], h)[::-1]


def _wrapped(phi, h):
    """A circulant design: rounds before 0 wrap around to the end of the trajectory."""
    return np.concatenate([np.roll(phi, j, axis=0) for j in range(h)], axis=1)


def _feature_major(phi, h):
    """The right numbers, ordered feature by feature instead of lag by lag."""
    n, d = phi.shape
    return lagged_design(phi, h).reshape(n, h, d).transpose(0, 2, 1).reshape(n, h * d)


def _from_lag_one(phi, h):
    """Lags 1..h instead of 0..h-1: the round's own feature is missing."""
    n, d = phi.shape
    return lagged_design(np.concatenate([np.zeros((1, d)), phi[:-1]]), h)


def check_lagged_design(fn: Callable, show: bool = True) -> Verdict:
    """Check ``fn(phi, h)``: for played features ``phi`` of shape (n, d), return the (n, h*d) design whose row
    ``t`` is ``[phi_t, phi_{t-1}, ..., phi_{t-h+1}]``, with zeros for rounds before 0."""
    wrong = [(_future, "Your rows look ahead in time: row t must hold phi_t, phi_(t-1), ..., the features played "
                       "*before* the reward r_t, not after it."),
             (_wrapped, "Rounds before the first one must be zeros (nothing was played yet). np.roll wraps the end "
                        "of the trajectory around to the start: that is a circulant matrix, not this design."),
             (_feature_major, "The numbers are right but in the wrong order: the columns must go lag by lag "
                              "(all d features of lag 0, then all of lag 1, ...), i.e. reshape (n, h, d) -> "
                              "(n, h*d)."),
             (_from_lag_one, "Lag 0 is the round itself: the first block of row t is phi_t, not phi_(t-1).")]
    return check_function(fn, lagged_design, _trajectories(), name="lagged design", wrong_answers=wrong,
                          rtol=1e-12, atol=1e-12, show=show)


def _credit_cases() -> list[Case]:
    return [Case("three lags, T = 10", (np.array([1, 3, 4]), np.array([0.5, 1.0, 1.5]), 10)),
            Case("lag 0 only (an ordinary bandit)", (np.array([0]), np.array([2.0]), 5)),
            Case("a lag longer than the run", (np.array([2, 7]), np.array([1.0, 0.25]), 6)),
            Case("one round", (np.array([0, 1]), np.array([1.0, 1.0]), 1))]


def check_credit(fn: Callable, show: bool = True) -> Verdict:
    """Check ``fn(lags, w, T)``: the credit ``c_t = sum_{j in S, t + j < T} w_j`` of rounds ``t = 0..T-1``,
    shape (T,)."""
    wrong = [(lambda lags, w, T: np.full(T, np.sum(w)),
              "Every round gets the full sum of w: but a reward that would arrive after the last round T-1 is never "
              "collected. Keep only the lags with t + j < T."),
             (lambda lags, w, T: credit(lags, w, T + 1)[:T],
              "Off by one at the end: rounds are numbered 0..T-1, so the last reward collected is r_(T-1); keep "
              "t + j < T, not t + j <= T."),
             (lambda lags, w, T: credit(lags, w, T)[::-1],
              "Your credit is reversed in time: it is the *last* rounds whose delayed rewards fall outside the run, "
              "not the first.")]
    return check_function(fn, credit, _credit_cases(), name="credit", wrong_answers=wrong, rtol=1e-12,
                          atol=1e-12, show=show)


def _rank1_cases() -> list[Case]:
    rng = np.random.default_rng(3)
    cases = []
    for label, w, noise in [("clean rank-1, 3 lags", np.array([0.7, 1.2, 0.9]), 0.0),
                            ("noisy estimate, 5 rows, 2 active lags", np.array([0.0, 1.0, 0.0, 0.6, 0.0]), 0.05),
                            ("one lag", np.array([1.5]), 0.0),
                            ("a negative weight, positive sum", np.array([1.0, -0.3, 0.8]), 0.02),
                            ("all weights negative", np.array([-0.5, -1.0]), 0.0)]:
        beta = rng.standard_normal(4)
        beta /= np.linalg.norm(beta)
        cases.append(Case(label, (np.outer(w, beta) + noise * rng.standard_normal((w.size, 4)),)))
    return cases


def check_rank1_direction(fn: Callable, show: bool = True) -> Verdict:
    """Check ``fn(theta_hat)``: for an (h, d) estimate, the unit ``beta_hat`` (shape (d,)) of its best rank-1
    approximation ``w_hat beta_hat^T``, signed so that ``sum(w_hat) >= 0``."""
    wrong = [(lambda theta: -rank1_factor(theta)[1],
              "Right direction, wrong sign: (w, beta) and (-w, -beta) give the same matrix. Flip both when "
              "sum(w_hat) < 0, or a greedy policy will play the worst arm."),
             (lambda theta: rank1_factor(theta, fix_sign=False)[1],
              "The SVD's sign is arbitrary: fix it so that sum(w_hat) = s[0] * sum(u[:, 0]) >= 0."),
             (lambda theta: rank1_factor(theta)[1] * np.linalg.svd(theta, compute_uv=False)[0],
              "beta_hat must have unit norm: the scale belongs to w_hat = s[0] u[:, 0].")]
    return check_function(fn, lambda theta: rank1_factor(theta)[1], _rank1_cases(), name="rank-1 direction",
                          wrong_answers=wrong, rtol=1e-8, atol=1e-10, show=show)
