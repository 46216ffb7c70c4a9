"""Checkers for the coding exercises of the nonparametric-ICL chapter (Chapter 13).

* :func:`check_empirical_coefficients` -- ``fn(x, y, n_basis) -> b_hat``, the empirical cosine coefficients
  ``b_hat_k = (1/n) sum_i psi_k(x_i) y_i`` on [0, 1] (what linear attention computes on the true basis);
* :func:`check_oracle_truncation` -- ``fn(lam, v, n) -> N*``, the number of basis functions that minimises the
  projection estimator's risk {eq}`eq-ch13-projection`;
* :func:`check_optimal_shrinkage` -- ``fn(lam, v, n) -> gamma``, the best diagonal ``Gamma`` of
  {eq}`eq-ch13-linear-risk`.

Each calls the reader's function on several cases (edge cases included), prints a verdict and returns a
:class:`iclcore.exercises.base.Verdict`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from iclcore.exercises.base import Case, Verdict, check_function


def _cos_basis(x: np.ndarray, n_basis: int, scale_all: bool = False, scale_none: bool = False) -> np.ndarray:
    k = np.arange(n_basis)
    c = np.where(k > 0, np.sqrt(2.0), 1.0)
    if scale_all:
        c = np.full(n_basis, np.sqrt(2.0))
    if scale_none:
        c = np.ones(n_basis)
    return c * np.cos(np.pi * np.outer(x, k))                               # (n, K)


def reference_coefficients(x, y, n_basis) -> np.ndarray:
    """``b_hat_k = (1/n) sum_i psi_k(x_i) y_i`` for ``k = 0..n_basis-1``, ``psi_0 = 1``,
    ``psi_k = sqrt(2) cos(pi k x)``."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    return _cos_basis(x, n_basis).T @ y / len(x)


def check_empirical_coefficients(fn: Callable, show: bool = True) -> Verdict:
    """Check ``fn(x, y, n_basis)``: for points ``x`` (n,) in [0, 1] and labels ``y`` (n,), the vector (n_basis,)
    of empirical coefficients in the orthonormal cosine basis."""
    rng = np.random.default_rng(13)
    cases = [Case("one example", (np.array([0.3]), np.array([2.0]), 3)),
             Case("five examples, four basis functions", (rng.random(5), rng.standard_normal(5), 4))]
    x = rng.random(40)
    cases += [Case("a pure cosine y = sqrt(2) cos(2 pi x) (40 points)", (x, np.sqrt(2) * np.cos(2 * np.pi * x), 6)),
              Case("only the constant function", (rng.random(7), rng.standard_normal(7), 1))]

    def no_sqrt2(x, y, K):
        return _cos_basis(np.asarray(x), K, scale_none=True).T @ y / len(x)

    def sqrt2_everywhere(x, y, K):
        return _cos_basis(np.asarray(x), K, scale_all=True).T @ y / len(x)

    wrong = [(no_sqrt2, "cos(pi k x) has mean square 1/2 on [0, 1]: the orthonormal basis is sqrt(2) cos(pi k x) "
                        "for k >= 1 (and 1 for k = 0)."),
             (sqrt2_everywhere, "The constant function psi_0 = 1 already has norm 1: the factor sqrt(2) is for k >= 1 "
                                "only."),
             (lambda x, y, K: reference_coefficients(x, y, K) * len(x),
              "Attention averages over the examples: divide the sum by n."),
             (lambda x, y, K: _cos_basis(np.asarray(x) * 2, K).T @ y / len(x),
              "The basis is cos(pi k x) on [0, 1], not cos(2 pi k x): with 2 pi, half of the frequencies are missing.")]
    return check_function(fn, reference_coefficients, cases, name="empirical coefficients", wrong_answers=wrong,
                          rtol=1e-8, atol=1e-10, show=show)


def reference_truncation(lam, v, n) -> int:
    """``argmin_N sum_{j>N} lam_j + sum_{j<=N} v_j / n`` over ``N = 0..J`` (the smallest minimiser)."""
    lam, v = np.asarray(lam, dtype=np.float64), np.asarray(v, dtype=np.float64)
    risks = np.r_[lam.sum(), lam.sum() - np.cumsum(lam) + np.cumsum(v) / n]
    return int(np.argmin(risks))


def _truncation_cases() -> list[Case]:
    lam = (1.0 + np.arange(64) ** 2) ** -1.5
    return [Case("s = 1 prior, v = 1.75, n = 64", (lam, np.full(64, 1.75), 64)),
            Case("s = 1 prior, v = 1.75, n = 1000", (lam, np.full(64, 1.75), 1000)),
            Case("s = 2 prior, v = 1.3, n = 500", ((1.0 + np.arange(64) ** 2) ** -2.5, np.full(64, 1.3), 500)),
            Case("n so small that no basis function pays off", (lam, np.full(64, 1.75), 1)),
            Case("unequal coefficient variances", (np.array([1.0, 0.5, 0.3, 0.02]), np.array([4.0, 1.0, 1.0, 1.0]),
                                                    5))]


def check_oracle_truncation(fn: Callable, show: bool = True) -> Verdict:
    """Check ``fn(lam, v, n)``: for prior variances ``lam`` (J,) sorted in decreasing order and coefficient
    variances ``v`` (J,), the integer ``N*`` in ``0..J`` that minimises the projection risk."""
    wrong = [(lambda lam, v, n: int(np.sum(np.asarray(lam) > np.asarray(v))),
              "Keep basis function j while it carries more signal than its estimation costs: lam_j > v_j / n. "
              "You compared lam_j with v_j (forgot the 1/n)."),
             (lambda lam, v, n: int(np.sum(np.asarray(lam) > 1.0 / n)),
              "The cost of estimating a coefficient is v_j / n, not 1/n: the variance v_j ~ E f^2 + sigma^2 matters."),
             (lambda lam, v, n: max(reference_truncation(lam, v, n), 1),
              "N = 0 is allowed: when even the first coefficient costs more to estimate than it carries, predict 0."),
             (lambda lam, v, n: reference_truncation(lam, v, n) + 1,
              "Off by one: N counts the basis functions kept (N = 0 keeps none).")]
    return check_function(fn, reference_truncation, _truncation_cases(), name="oracle truncation",
                          wrong_answers=wrong, rtol=0, atol=0, show=show)


def reference_shrinkage(lam, v, n) -> np.ndarray:
    """``gamma_j = lam_j / (lam_j + v_j / n)``, the minimiser of {eq}`eq-ch13-linear-risk`."""
    lam, v = np.asarray(lam, dtype=np.float64), np.asarray(v, dtype=np.float64)
    return lam / (lam + v / n)


def check_optimal_shrinkage(fn: Callable, show: bool = True) -> Verdict:
    """Check ``fn(lam, v, n)``: the best diagonal ``gamma`` (J,) for prior variances ``lam`` and coefficient
    variances ``v``."""
    cases = [Case(c.label, c.args) for c in _truncation_cases()]
    wrong = [(lambda lam, v, n: np.asarray(lam) / (np.asarray(lam) + np.asarray(v)),
              "The empirical coefficient averages n examples: its variance is v_j / n, not v_j."),
             (lambda lam, v, n: (np.asarray(v) / n) / (np.asarray(lam) + np.asarray(v) / n),
              "Inverted: gamma_j -> 1 when the signal lam_j dominates the variance v_j / n, and -> 0 when it "
              "does not."),
             (lambda lam, v, n: (np.arange(len(lam)) < reference_truncation(lam, v, n)).astype(float),
              "That is the projection estimator (gamma = 0 or 1). Minimise (gamma - 1)^2 lam + gamma^2 v / n over "
              "gamma: the best gamma is in between.")]
    return check_function(fn, reference_shrinkage, cases, name="optimal shrinkage", wrong_answers=wrong,
                          rtol=1e-8, atol=1e-12, show=show)
