"""Long-horizon contextual bandits (Chapter 15): the estimators of the delay structure and the closed forms.

**Estimators** of ``Theta = w beta^T`` from ``n`` exploration rounds (design of {eq}`eq-ch15-design`):

* :func:`sparse_recovery` -- the sparse estimator: the Lasso (scikit-learn) with penalty
  ``mu = c sigma sqrt(2 log(h d) / n)`` ({eq}`eq-ch15-lasso`), the ``s`` lags whose rows of the Lasso estimate
  are largest, a least-squares refit on those lags, and the rank-1 factor of the refit;
* :func:`min_norm_recovery` -- unstructured least squares on all ``h d`` coefficients (minimum-norm when
  ``n < h d``), then its rank-1 factor;
* :func:`support_recovery` -- least squares on given lags (the oracle that knows ``S``), then its rank-1 factor;
* :func:`rank1_factor` -- ``Theta_hat ~ w_hat beta_hat^T`` by the SVD, with the sign fixed so that
  ``sum(w_hat) > 0`` (the sign of a rank-1 factor is arbitrary; a greedy policy with ``-beta`` plays the worst arm).

**Closed forms** (the book's derivations, for contexts ``x_{t,a} ~ N(0, I_d)``):

* :func:`expected_max_normal` -- ``e_K = E max of K standard normals``;
* :func:`greedy_regret_rate` -- per unit of credit, a greedy policy with estimate ``beta_hat`` loses
  ``e_K ||beta|| (1 - cos(beta_hat, beta))`` per round, exactly, for any number of arms ({eq}`eq-ch15-greedy`);
  a uniformly random arm loses ``e_K ||beta||`` (the same formula at ``cos = 0``);
* :func:`direction_error_theory` -- first-order ``E[1 - cos]`` of the rank-1 factor of a least-squares fit on
  ``p`` columns ({eq}`eq-ch15-angle`);
* :func:`etc_regret_theory` -- the regret of explore-then-commit ({eq}`eq-ch15-etc`).
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import integrate, special
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso

from iclcore import validate


def _design(X, y) -> tuple[np.ndarray, np.ndarray]:
    X, y = np.asarray(X, np.float64), np.asarray(y, np.float64)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(f"X must have shape (n, p) and y shape (n,); got X {X.shape}, y {y.shape}")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
        raise ValueError("X and y must be finite")
    return X, y


def _blocks(X: np.ndarray, d: int) -> int:
    d = validate.positive_int("d", d)
    if X.shape[1] % d:
        raise ValueError(f"d must divide the number of columns of X ({X.shape[1]}), got {d}")
    return X.shape[1] // d


def rank1_factor(theta_hat, fix_sign: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The best rank-1 approximation ``w_hat beta_hat^T`` of ``theta_hat`` (rows = lags), with ``||beta_hat|| = 1``.

    Returns ``(w_hat, beta_hat)`` of shapes (h,), (d,). With ``fix_sign`` the pair is flipped if needed so that
    ``sum(w_hat) >= 0``: the model assumes a positive net effect of an action, and the SVD alone cannot tell
    ``(w, beta)`` from ``(-w, -beta)``.
    """
    theta_hat = np.asarray(theta_hat, np.float64)
    if theta_hat.ndim != 2 or not np.all(np.isfinite(theta_hat)):
        raise ValueError(f"theta_hat must be a finite (h, d) matrix, got shape {theta_hat.shape}")
    u, sv, vt = np.linalg.svd(theta_hat, full_matrices=False)
    w_hat, beta_hat = u[:, 0] * sv[0], vt[0]
    if fix_sign and w_hat.sum() < 0:
        w_hat, beta_hat = -w_hat, -beta_hat
    return w_hat, beta_hat


def least_squares(X, y) -> np.ndarray:
    """Least squares ``argmin ||X b - y||``, the minimum-norm solution when ``n < p`` (``X^T (X X^T)^{-1} y``)."""
    X, y = _design(X, y)
    n, p = X.shape
    try:                                       # normal equations on the smaller Gram matrix: fast, and accurate
        if n < p:                              # for the well-conditioned random designs of this chapter
            return X.T @ np.linalg.solve(X @ X.T, y)
        return np.linalg.solve(X.T @ X, X.T @ y)
    except np.linalg.LinAlgError:              # exactly singular (e.g. repeated rows): the SVD route
        return np.linalg.lstsq(X, y, rcond=None)[0]


def lasso_penalty(n: int, n_features: int, noise: float, scale: float = 1.0) -> float:
    """``mu = scale * sigma * sqrt(2 log(p) / n)`` of {eq}`eq-ch15-lasso` (the "universal" penalty for features of
    unit variance, in scikit-learn's scaling ``(1/2n)||y - X b||^2 + mu ||b||_1``)."""
    n = validate.positive_int("n", n)
    p = validate.int_in_range("n_features", n_features, 2, 10**9)
    return validate.nonnegative("scale", scale) * validate.nonnegative("noise", noise) * np.sqrt(2 * np.log(p) / n)


@dataclass(frozen=True)
class Recovery:
    """What an estimator recovered from one trajectory.

    lags : (s,) the lags it selected (all ``h`` for least squares).
    w, beta : the rank-1 factor ``w_hat`` (one weight per selected lag) and ``beta_hat`` (unit norm).
    theta : (h, d) the first-stage estimate of Theta (the Lasso's, or least squares').
    """

    lags: np.ndarray
    w: np.ndarray
    beta: np.ndarray
    theta: np.ndarray


def support_recovery(X, y, lags, d: int, fix_sign: bool = True) -> Recovery:
    """Least squares on the columns of the given ``lags`` only, then :func:`rank1_factor` (the oracle that knows
    the active lags, and the refit step of :func:`sparse_recovery`)."""
    X, y = _design(X, y)
    h = _blocks(X, d)
    lags = np.asarray(lags)
    if lags.ndim != 1 or lags.size == 0 or lags.min() < 0 or lags.max() >= h or np.unique(lags).size != lags.size:
        raise ValueError(f"lags must be distinct integers in [0, h) = [0, {h}), got {lags!r}")
    cols = (lags[:, None] * d + np.arange(d)).ravel()
    fit = least_squares(X[:, cols], y).reshape(lags.size, d)
    w_hat, beta_hat = rank1_factor(fit, fix_sign)
    theta = np.zeros((h, d))
    theta[lags] = fit
    return Recovery(lags, w_hat, beta_hat, theta)


def min_norm_recovery(X, y, d: int, fix_sign: bool = True) -> Recovery:
    """Unstructured least squares on all ``h d`` coefficients (minimum norm when ``n < h d``), then
    :func:`rank1_factor` of the whole ``(h, d)`` estimate."""
    X, y = _design(X, y)
    h = _blocks(X, d)
    theta = least_squares(X, y).reshape(h, d)
    w_hat, beta_hat = rank1_factor(theta, fix_sign)
    return Recovery(np.arange(h), w_hat, beta_hat, theta)


def sparse_recovery(X, y, d: int, s: int, noise: float, penalty: float = 0.5, fix_sign: bool = True) -> Recovery:
    """The sparse estimator: Lasso, keep the ``s`` largest rows, refit on them, rank-1 factor.

    ``X`` (n, h d) from :func:`iclcore.tasks.bandits.lagged_design`, ``y`` (n,) rewards; ``noise`` is the
    reward-noise standard deviation sigma the learner assumes, ``penalty`` the factor ``c`` of
    :func:`lasso_penalty` (``penalty = 0`` replaces the Lasso by minimum-norm least squares: no sparsity).
    The Lasso is scikit-learn's coordinate descent (no intercept: the rewards have mean zero).
    """
    X, y = _design(X, y)
    h = _blocks(X, d)
    s = validate.int_in_range("s", s, 1, h)
    mu = lasso_penalty(X.shape[0], X.shape[1], noise, penalty)
    if mu == 0:
        coef = least_squares(X, y)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            coef = Lasso(alpha=mu, fit_intercept=False, tol=1e-4, max_iter=2000,
                         precompute=X.shape[0] > X.shape[1]).fit(X, y).coef_
    theta = coef.reshape(h, d)
    lags = np.sort(np.argsort(-np.linalg.norm(theta, axis=1), kind="stable")[:s])
    refit = support_recovery(X, y, lags, d, fix_sign)
    return Recovery(lags, refit.w, refit.beta, theta)


def expected_max_normal(n_arms: int) -> float:
    """``e_K = E[max(Z_1, ..., Z_K)]`` for K independent standard normals (``e_1 = 0``, ``e_2 = 1/sqrt(pi)``,
    ``e_3 = 3/(2 sqrt(pi))``), by quadrature of ``K z phi(z) Phi(z)^(K-1)``."""
    return _expected_max_normal(validate.positive_int("n_arms", n_arms))


@functools.lru_cache(maxsize=64)
def _expected_max_normal(K: int) -> float:
    if K == 1:
        return 0.0

    def integrand(z: float) -> float:
        return K * z * np.exp(-z * z / 2) / np.sqrt(2 * np.pi) * special.ndtr(z) ** (K - 1)

    value, _ = integrate.quad(integrand, -np.inf, np.inf, epsabs=1e-13, epsrel=1e-12)
    return float(value)


def greedy_regret_rate(direction_error, n_arms: int, beta_norm: float = 1.0):
    """Expected regret per round and per unit of credit of the greedy policy ``argmax_a x_{t,a}^T beta_hat``,
    {eq}`eq-ch15-greedy`: ``e_K ||beta|| (1 - cos(beta_hat, beta))``; ``direction_error`` is ``1 - cos`` (0 to 2,
    array or scalar). A uniformly random arm is ``direction_error = 1``."""
    err = np.asarray(direction_error, np.float64)
    if np.any(~np.isfinite(err)) or np.any(err < 0) or np.any(err > 2):
        raise ValueError(f"direction_error (1 - cos) must lie in [0, 2], got {direction_error!r}")
    return expected_max_normal(n_arms) * validate.nonnegative("beta_norm", beta_norm) * err


def direction_error_theory(n: int, lags, w, *, p: int, d: int, noise: float) -> float:
    """First-order ``E[1 - cos(beta_hat, beta)]`` of the rank-1 factor of least squares on ``p`` columns,
    {eq}`eq-ch15-angle`::

        E[1 - cos] ~ sigma^2 (d - 1) / (2 ||w||^4) * sum_{j in S} w_j^2 / (n - j - p - 1)

    for ``||beta|| = 1``, contexts ``N(0, I_d)`` and a design with ``n - j`` visible rows for lag ``j``. It
    treats the lagged rows as independent (inverse-Wishart mean ``E[(X^T X)^{-1}] = I / (n - p - 1)``) and keeps
    the first order of the singular-vector perturbation ``(I - beta beta^T) E^T w / ||w||^2``. ``p = s d`` for the
    oracle (and for the sparse estimator once it has found the lags), ``p = h d`` for full least squares.
    """
    n = validate.positive_int("n", n)
    p = validate.positive_int("p", p)
    d = validate.positive_int("d", d)
    noise = validate.nonnegative("noise", noise)
    lags, w = np.asarray(lags, np.float64), np.asarray(w, np.float64)
    if lags.shape != w.shape or lags.ndim != 1 or lags.size == 0:
        raise ValueError(f"lags and w must be vectors of the same length s >= 1, got {lags.shape}, {w.shape}")
    room = n - lags - p - 1
    if np.any(room <= 0):
        raise ValueError(f"n must exceed max(lag) + p + 1 = {int(lags.max()) + p + 1} (least squares needs more "
                         f"rows than columns), got {n}")
    w2 = np.sum(w**2)
    return float(noise**2 * (d - 1) / (2 * w2**2) * np.sum(w**2 / room))


def etc_regret_theory(credits, n: int, direction_error: float, n_arms: int, beta_norm: float = 1.0) -> float:
    """Expected regret of explore-then-commit, {eq}`eq-ch15-etc`: uniform arms for the first ``n`` rounds, then
    the greedy policy of an estimate with ``1 - cos = direction_error``::

        Reg_T = e_K ||beta|| [ sum_{t < n} c_t + (1 - cos) sum_{t >= n} c_t ].

    ``credits``: (T,) the credits ``c_t`` of :func:`iclcore.tasks.bandits.credit`.
    """
    c = np.asarray(credits, np.float64)
    if c.ndim != 1 or not np.all(np.isfinite(c)):
        raise ValueError(f"credits must be a finite vector (T,), got shape {c.shape}")
    n = validate.int_in_range("n", n, 0, c.size)
    explore = greedy_regret_rate(1.0, n_arms, beta_norm) * c[:n].sum()
    return float(explore + greedy_regret_rate(direction_error, n_arms, beta_norm) * c[n:].sum())
