"""Checkers for the coding exercises of the knowledge-distillation chapter (Chapter 9).

* :func:`check_min_norm_interpolator` -- ``fn(X, y) -> beta_hat``, the minimum-norm solution of ``X beta = y``;
* :func:`check_optimal_mask` -- ``fn(lam, n) -> keep``, the best 0/1 mask of {eq}`eq-ch9-mask`;
* :func:`check_optimal_surrogate` -- ``fn(lam, beta_star, n) -> beta_s``, the surrogate of {eq}`eq-ch9-optimal`.

Each calls the reader's function on several cases (power-law, two-level and flat spectra; wide and nearly
square designs), prints a verdict, and returns a :class:`iclcore.exercises.base.Verdict`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from iclcore.exercises.base import Case, Verdict, check_function
from iclcore.tasks.gaussian_features import power_law_signal, power_law_spectrum
from iclcore.theory.distillation import (
    amplification_threshold,
    min_norm_interpolator,
    optimal_mask,
    optimal_surrogate,
    ridgeless_fixed_point,
)


def _designs() -> list[Case]:
    rng = np.random.default_rng(2024)
    cases = []
    for label, n, d, scales in [("isotropic design", 5, 12, None), ("anisotropic design", 8, 30, "power"),
                                ("nearly square design", 19, 20, None), ("one sample", 1, 6, None)]:
        X = rng.standard_normal((n, d))
        if scales == "power":
            X = X * np.arange(1, d + 1) ** -1.0
        cases.append(Case(label, (X, rng.standard_normal(n))))
    return cases


def _reference_interpolator(X, y) -> np.ndarray:
    return min_norm_interpolator(X, y).numpy()


def check_min_norm_interpolator(fn: Callable, show: bool = True) -> Verdict:
    """Check ``fn(X, y)``: for ``X`` of shape (n, d) with ``n < d`` and ``y`` of shape (n,), it must return the
    minimum-norm ``beta`` (shape (d,)) with ``X beta = y``."""
    cases = _designs()
    wrong = [(lambda X, y: X.T @ y,
              "X^T y points the right way (it is one gradient step from 0) but does not fit the labels: "
              "solve the n x n system (X X^T) a = y first, then beta = X^T a."),
             (lambda X, y: np.r_[np.linalg.solve(X[:, : len(y)], y), np.zeros(X.shape[1] - len(y))],
              "This fits the labels with the first n features only. It interpolates, but it is not the smallest "
              "interpolator: the minimum-norm one lies in the row space of X, beta = X^T a.")]
    verdict = check_function(fn, _reference_interpolator, cases, name="min-norm interpolator",
                             wrong_answers=wrong, rtol=1e-6, atol=1e-8, show=False)
    if not verdict and verdict.hint is None:
        verdict.hint = _diagnose_interpolator(fn, cases)
    if show:
        print(repr(verdict))
    return verdict


def _diagnose_interpolator(fn: Callable, cases: list[Case]) -> str | None:
    """A hint for an answer that matched no known wrong answer: does it interpolate at all?"""
    for case in cases:
        X, y = case.args
        try:
            beta = np.asarray(fn(X, y), dtype=np.float64)
        except Exception:  # noqa: BLE001 - the verdict already reports the error
            return None
        if beta.shape != (X.shape[1],):
            return None
        residual = np.linalg.norm(X @ beta - y) / max(np.linalg.norm(y), 1e-12)
        if residual > 1e-6:
            return (f"X @ beta misses y by {residual:.2g} (relative) on the {case.label}: an interpolator must fit "
                    "every label exactly. X^T X (d x d, rank n) is singular; the n x n Gram matrix X X^T is not.")
        reference = _reference_interpolator(X, y)
        if np.linalg.norm(beta) > np.linalg.norm(reference) * (1 + 1e-6):
            return ("Your beta fits the labels but is not the smallest: adding a null-space direction of X keeps "
                    "the fit. The minimum-norm solution lies in the row space: beta = X^T (X X^T)^{-1} y.")
    return None


def _spectra() -> list[tuple[str, np.ndarray, int]]:
    """Small problems (the verdict prints the arrays): power laws, a two-level and a flat spectrum."""
    two_level = np.r_[np.ones(5), np.full(25, 0.01)]
    return [("power law a=2, d=40", power_law_spectrum(40, 2.0), 15),
            ("power law a=1.5, d=30", power_law_spectrum(30, 1.5), 6),
            ("power law a=3, d=24", power_law_spectrum(24, 3.0), 4),
            ("two-level spectrum (5 strong, 25 weak features)", two_level, 10),
            ("flat spectrum, d=12", np.ones(12), 4)]


def check_optimal_mask(fn: Callable, show: bool = True) -> Verdict:
    """Check ``fn(lam, n)``: the bool mask (shape (d,)) of the features the best 0/1 surrogate keeps."""
    cases = [Case(label, (lam, n)) for label, lam, n in _spectra()]

    def top_n(lam, n):
        return lam >= np.sort(lam)[::-1][n - 1]

    wrong = [(lambda lam, n: np.ones_like(lam, dtype=bool),
              "Keeping every feature is training on the true labels. Compare the cost of keeping feature i, "
              "lam_i beta_i^2 (1 - s_i)^2 / (1 - gamma), with the cost of dropping it, lam_i beta_i^2."),
             (top_n, "Keeping the n strongest features is a good guess and often close, but the rule is a threshold "
                     "on lam_i: keep iff lam_i > kappa (1/sqrt(1 - gamma) - 1), with (kappa, gamma) from "
                     "ridgeless_fixed_point(lam, n)."),
             (lambda lam, n: lam > amplification_threshold(lam, n),
              "That is where the optimal surrogate switches from amplifying to shrinking, kappa gamma/(1-gamma). "
              "A mask cannot amplify, so its threshold is lower: compare keeping and dropping directly."),
             (lambda lam, n: ~optimal_mask(lam, n), "Your mask is inverted: keep the strong features, drop the weak.")]
    return check_function(fn, lambda lam, n: optimal_mask(lam, n), cases, name="optimal mask",
                          wrong_answers=wrong, rtol=0, atol=1e-12, show=show)


def check_optimal_surrogate(fn: Callable, show: bool = True) -> Verdict:
    """Check ``fn(lam, beta_star, n)``: the surrogate (shape (d,)) that minimises the target's risk."""
    rng = np.random.default_rng(9)
    cases = []
    for label, lam, n in _spectra():
        d = lam.size
        beta = power_law_signal(d, 2.0, 1.5) if label.startswith("power law a=2") else rng.standard_normal(d)
        cases.append(Case(label, (lam, beta, n)))

    def shrinkage(lam, n):
        kappa, _ = ridgeless_fixed_point(lam, n)
        return lam / (lam + kappa)

    wrong = [(lambda lam, beta, n: beta, "That is the teacher itself: the point of the exercise is that it is not "
                                         "optimal. Minimise the risk coordinate by coordinate."),
             (lambda lam, beta, n: beta / shrinkage(lam, n),
              "Dividing by s_i undoes the average shrinkage exactly, but ignores the variance term "
              "gamma/(1-gamma) * lam_i (1-s_i)^2 beta_s_i^2, which punishes large weights on weak features."),
             (lambda lam, beta, n: beta * shrinkage(lam, n),
              "Multiplying by s_i shrinks every feature. The strong features should be amplified: set the "
              "derivative of lam(s b - beta)^2 + c lam (1-s)^2 b^2 in b to zero, with c = gamma/(1-gamma).")]
    return check_function(fn, lambda lam, beta, n: optimal_surrogate(lam, beta, n), cases,
                          name="optimal surrogate", wrong_answers=wrong, rtol=1e-6, atol=1e-10, show=show)
