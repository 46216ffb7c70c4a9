"""Checkers for the coding exercises of the chapter "Transformers as algorithms".

* :func:`check_prefix_ridge` -- ``fn(X, y, lam) -> predictions (n,)``: ridge regression refitted on every
  prefix, the call signature the chapter's baselines share ({eq}`eq-ch12-risk`);
* :func:`check_pool_posterior` -- ``fn(X, y, pool, noise) -> predictions (n,)``: the Bayes-optimal prediction
  when the task is one of a finite pool ({eq}`eq-ch12-dmmse`);
* :func:`check_least_squares_risk` -- ``fn(d, k, noise) -> risk``: the exact risk of least squares
  ({eq}`eq-ch12-ols`).

Each runs the reader's function on several cases (edge cases included: no example yet, fewer examples than
dimensions, a pool of one task), prints a verdict with a hint for the common mistakes, and returns a
:class:`iclcore.exercises.base.Verdict`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from iclcore.exercises.base import Case, Verdict, check_function
from iclcore.theory.estimators import PoolPosteriorMean, Ridge, least_squares_risk


def _prompts() -> list[tuple[str, np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(12)
    out = []
    for label, n, d in [("n = 8 pairs in d = 3", 8, 3), ("n = 3 pairs in d = 5 (fewer pairs than dimensions)", 3, 5),
                        ("a single pair", 1, 2), ("n = 12 pairs in d = 1", 12, 1)]:
        X = rng.standard_normal((n, d))
        y = X @ rng.standard_normal(d) + 0.5 * rng.standard_normal(n)
        out.append((label, X, y))
    return out


def _pairs(X, y) -> torch.Tensor:
    return torch.from_numpy(np.c_[np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)])


def _reference_ridge(X, y, lam):
    return Ridge(lam)(_pairs(X, y)).numpy()


def _ridge_with(X, y, lam, prefix: Callable[[int], slice]):
    d = X.shape[1]
    out = np.zeros(len(y))
    for k in range(len(y)):
        s = prefix(k)
        Xk, yk = X[s], y[s]
        out[k] = X[k] @ np.linalg.solve(Xk.T @ Xk + lam * np.eye(d), Xk.T @ yk)
    return out


def _least_squares(X, y):
    return np.array([X[k] @ np.linalg.pinv(X[:k]) @ y[:k] if k else 0.0 for k in range(len(y))])


def check_prefix_ridge(fn: Callable, show: bool = True) -> Verdict:
    """Check ``fn(X, y, lam)``: for pairs X (n, d), y (n,), return the n predictions
    ``y_hat_k = x_k^T (X_k^T X_k + lam I)^{-1} X_k^T y_k`` where ``X_k, y_k`` are the pairs *before* k
    (``y_hat_0 = 0``)."""
    cases = [Case(label, (X, y, lam)) for (label, X, y), lam in zip(_prompts(), [0.25, 1.0, 0.5, 0.1], strict=True)]
    wrong = [(lambda X, y, lam: _ridge_with(X, y, lam, lambda k: slice(0, k + 1)),
              "Your prediction at k uses the pair (x_k, y_k) itself: it peeks at the label it should predict. "
              "Fit on the pairs 0..k-1 only (X[:k], y[:k])."),
             (lambda X, y, lam: _ridge_with(X, y, lam, lambda k: slice(0, len(y))),
              "Your fit uses the whole prompt for every prediction. An in-context learner only sees the prefix: "
              "refit on X[:k], y[:k] for prediction k."),
             (lambda X, y, lam: _least_squares(X, y),
              "This is plain (minimum-norm) least squares: add lam * I to X_k^T X_k. The penalty is what keeps the "
              "fit stable when there are about as many pairs as dimensions."),
             (lambda X, y, lam: _ridge_with(X, y, lam, lambda k: slice(0, max(k - 1, 0))),
              "Off by one: prediction k should use the k pairs 0..k-1, yours uses one pair fewer.")]
    return check_function(fn, _reference_ridge, cases, name="prefix ridge", wrong_answers=wrong, rtol=1e-6,
                          atol=1e-9, show=show)


def _reference_pool(X, y, pool, noise):
    return PoolPosteriorMean(pool, noise)(_pairs(X, y)).numpy()


def _pool_with(X, y, pool, weights: Callable[[np.ndarray], np.ndarray]):
    fits = X @ pool.T                                              # (n, T)
    sse = np.vstack([np.zeros(pool.shape[0]), np.cumsum((y[:, None] - fits) ** 2, 0)[:-1]])
    w = np.apply_along_axis(weights, 1, sse)
    return (w * fits).sum(1)


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


def _mode(sse: np.ndarray) -> np.ndarray:
    best = (sse == sse.min()).astype(float)
    return best / best.sum()


def check_pool_posterior(fn: Callable, show: bool = True) -> Verdict:
    """Check ``fn(X, y, pool, noise)``: pairs X (n, d), y (n,), a pool (T, d) of task vectors and the noise
    std; return the n posterior-mean predictions ``sum_t w_t x_k^T beta_t`` with
    ``w_t ∝ exp(-||y_k - X_k beta_t||^2 / (2 noise^2))`` over the pairs before k."""
    rng = np.random.default_rng(3)
    cases = []
    for (label, X, y), T, noise in zip(_prompts(), [4, 6, 3, 1], [0.5, 1.0, 0.3, 0.5], strict=True):
        pool = rng.standard_normal((T, X.shape[1]))
        y = X @ pool[0] + noise * rng.standard_normal(len(y))            # the prompt's task is in the pool
        cases.append(Case(f"{label}, pool of {T}", (X, y, pool, noise)))
    wrong = [(lambda X, y, pool, noise: _pool_with(X, y, pool, lambda s: np.full(s.size, 1 / s.size)),
              "Equal weights ignore the data: the posterior weight of task t is exp(-SSE_t / (2 noise^2)), "
              "normalised over the pool."),
             (lambda X, y, pool, noise: _pool_with(X, y, pool, lambda s: _softmax(-s / (2 * noise))),
              "The exponent needs the noise *variance*: divide the squared error by 2 noise^2, not 2 noise."),
             (lambda X, y, pool, noise: _pool_with(X, y, pool, lambda s: _softmax(-s / noise**2)),
              "A factor 2 is missing: the Gaussian likelihood is exp(-SSE / (2 noise^2))."),
             (lambda X, y, pool, noise: _pool_with(X, y, pool, _mode),
              "You pick the single best task (the posterior mode). The Bayes prediction averages the tasks' "
              "predictions with their posterior weights."),
             (lambda X, y, pool, noise: _pool_with(X, y, pool, lambda s: _softmax(s / (2 * noise**2))),
              "The sign is flipped: a task that fits worse must get a *smaller* weight, exp(-SSE / (2 noise^2)).")]
    return check_function(fn, _reference_pool, cases, name="pool posterior mean", wrong_answers=wrong, rtol=1e-6,
                          atol=1e-9, show=show)


def check_least_squares_risk(fn: Callable, show: bool = True) -> Verdict:
    """Check ``fn(d, k, noise)``: the risk (query noise included) of minimum-norm least squares after k
    examples, for isotropic Gaussian x and beta, at k <= d - 2 and k >= d + 2."""
    cases = [Case(f"d = {d}, k = {k}, noise = {s}", (d, k, s))
             for d, k, s in [(5, 0, 0.5), (5, 2, 0.5), (5, 3, 1.0), (5, 9, 0.5), (3, 12, 1.0), (4, 20, 0.25),
                             (6, 2, 0.0), (2, 10, 0.0)]]
    wrong = [(lambda d, k, s: least_squares_risk(d, k, s) - s**2,
              "You return the excess risk. The book's risk includes the noise of the query label: add noise^2."),
             (lambda d, k, s: s**2 + (s**2 * d / (k - d) if k > d else (d - k) + s**2 * k / (d - k)),
              "The inverse-Wishart mean has a -1: E (X^T X)^{-1} = I / (k - d - 1) (and E (X X^T)^{-1} = "
              "I / (d - k - 1)), not 1 / (k - d)."),
             (lambda d, k, s: s**2 + (s**2 * d / (k - d - 1) if k > d else s**2 * k / (d - k - 1)),
              "With fewer examples than dimensions the fit cannot see the d - k directions orthogonal to the "
              "examples: add the bias d - k (E ||(I - P) beta||^2)."),
             (lambda d, k, s: s**2 + (s**2 * k / (k - d - 1) if k > d else (d - k) + s**2 * k / (d - k - 1)),
              "The variance of OLS is noise^2 tr((X^T X)^{-1}): d (the number of coefficients) on top, not k.")]
    return check_function(fn, least_squares_risk, cases, name="least-squares risk", wrong_answers=wrong,
                          rtol=1e-9, atol=1e-12, show=show)
