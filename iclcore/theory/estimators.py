"""Classical learning algorithms that answer the same call as a trained transformer, and their exact risks.

**One call signature** (as in Garg et al.'s code): an estimator is a module whose ``forward`` takes what the
model takes and returns what the model returns, so plots and checks compare like with like.

* Regression estimators take the pairs ``Z`` (..., n, d+1) (``[x_i; y_i]``, all labels present) and return
  the predictions (..., n): entry k predicts ``y_{k+1}`` from the first k pairs and ``x_{k+1}`` only
  ({eq}`eq-ch12-risk`). :class:`LeastSquares` (minimum-norm OLS), :class:`Ridge`, :class:`GaussianPosteriorMean`
  (Bayes-optimal for a Gaussian prior), :class:`PoolPosteriorMean` (Bayes-optimal for a uniform prior on a finite
  task pool), :class:`NearestNeighbours`, :class:`OneStepGD`.
* Dynamics estimators take the states ``S`` (..., T, d) and return the predictions of the next states
  (..., T, d): entry t predicts ``s_{t+1}`` from ``s_1, ..., s_t``. :class:`TransitionLeastSquares`,
  :class:`ZeroNextState` (the context-free prediction).

Put several side by side with ``iclcore.models.Ensemble({name: estimator})`` and score them with
:func:`iclcore.evaluate.evaluate` on the same prompts as the model. All arithmetic is float64; the output has
the input's dtype.

Exact risks (isotropic Gaussian design ``x ~ N(0, I_d)``, ``beta ~ N(0, I_d)``, label noise sigma; the book's
convention includes the query noise): :func:`least_squares_risk` ({eq}`eq-ch12-ols`) and
:func:`gd_step_risk` with :func:`optimal_gd_steps` ({eq}`eq-ch12-gd`).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from iclcore import validate
from iclcore.linalg import sqrtm_psd
from iclcore.theory.pgd import pgd_optimal


def _pairs(Z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    if not torch.is_tensor(Z) or Z.dim() < 2 or Z.shape[-1] < 2:
        raise ValueError(f"Z must be a tensor of pairs (..., n, d+1) with d >= 1, got "
                         f"{tuple(Z.shape) if torch.is_tensor(Z) else type(Z).__name__}")
    Zd = Z.double()
    return Zd[..., :-1], Zd[..., -1]


def _exclusive_cumsum(a: torch.Tensor, dim: int) -> torch.Tensor:
    """``out_k = sum_{j<k} a_j`` along ``dim`` (the sum over the examples a prefix of length k has seen)."""
    c = a.cumsum(dim)
    return c - a


class PrefixEstimator(nn.Module):
    """Base class of the regression estimators: ``forward(Z)`` (..., n, d+1) -> predictions (..., n)."""

    def forward(self, Z: torch.Tensor) -> torch.Tensor:
        X, y = _pairs(Z)
        return self.predict(X, y).to(Z.dtype)

    def predict(self, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError


class LeastSquares(PrefixEstimator):
    """Minimum-norm least squares on every prefix: ``beta_k = pinv(X_k) y_k`` (the interpolator while k < d,
    ordinary least squares once k >= d); predicts 0 at k = 0."""

    def predict(self, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        out = torch.zeros_like(y)
        for k in range(1, X.shape[-2]):
            beta = torch.linalg.pinv(X[..., :k, :]) @ y[..., :k, None]
            out[..., k] = (X[..., k, None, :] @ beta)[..., 0, 0]
        return out


class _GramEstimator(PrefixEstimator):
    """``beta_k = (X_k^T X_k + P)^{-1} X_k^T y_k`` for a fixed positive-definite penalty P (d, d), all k at once."""

    def penalty(self, d: int) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def predict(self, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        G = _exclusive_cumsum(X.unsqueeze(-1) * X.unsqueeze(-2), dim=-3)          # (..., n, d, d)
        b = _exclusive_cumsum(X * y.unsqueeze(-1), dim=-2)                          # (..., n, d)
        beta = torch.linalg.solve(G + self.penalty(X.shape[-1]), b.unsqueeze(-1))[..., 0]
        return (X * beta).sum(-1)


class Ridge(_GramEstimator):
    """Ridge regression with penalty ``lam`` > 0 on every prefix: ``(X_k^T X_k + lam I)^{-1} X_k^T y_k``."""

    def __init__(self, lam: float):
        super().__init__()
        self.lam = validate.positive("lam", lam)

    def penalty(self, d: int) -> torch.Tensor:
        return self.lam * torch.eye(d, dtype=torch.float64)


class GaussianPosteriorMean(PrefixEstimator):
    """Bayes-optimal prediction for ``beta ~ N(0, Sigma_beta)`` and label noise ``noise``: the posterior mean
    ``(X^T X + noise^2 Sigma_beta^{-1})^{-1} X^T y`` (ridge with ``lam = noise^2`` when Sigma_beta = I).

    With ``noise = 0`` it is the minimum-norm interpolator in the metric of Sigma_beta,
    ``Sigma_beta^{1/2} pinv(X Sigma_beta^{1/2}) y``.
    """

    def __init__(self, noise: float, Sigma_beta=None, d: int | None = None):
        super().__init__()
        self.noise = validate.nonnegative("noise", noise)
        if Sigma_beta is None:
            self.Sigma_beta = None
        else:
            self.Sigma_beta = validate.covariance("Sigma_beta", Sigma_beta, d=d)
            if self.noise > 0 and np.linalg.eigvalsh(self.Sigma_beta).min() <= 0:
                raise ValueError("Sigma_beta must be positive definite when noise > 0")

    def predict(self, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        d = X.shape[-1]
        S = torch.eye(d, dtype=torch.float64) if self.Sigma_beta is None else torch.from_numpy(self.Sigma_beta)
        if S.shape != (d, d):
            raise ValueError(f"Sigma_beta has shape {tuple(S.shape)} but the prompts have d = {d}")
        if self.noise > 0:
            G = _exclusive_cumsum(X.unsqueeze(-1) * X.unsqueeze(-2), dim=-3)
            b = _exclusive_cumsum(X * y.unsqueeze(-1), dim=-2)
            beta = torch.linalg.solve(G + self.noise**2 * torch.linalg.inv(S), b.unsqueeze(-1))[..., 0]
            return (X * beta).sum(-1)
        root = torch.from_numpy(sqrtm_psd(S.numpy()))
        return LeastSquares().predict(X @ root, y)        # x^T root pinv(X root) y: whitened min-norm


class PoolPosteriorMean(PrefixEstimator):
    """Bayes-optimal prediction when beta is uniform on a finite pool of T tasks (the pretraining
    distribution of {eq}`eq-ch12-pool`): ``sum_t w_t x^T beta_t`` with posterior weights
    ``w_t ∝ exp(-||y_k - X_k beta_t||^2 / (2 noise^2))`` ({eq}`eq-ch12-dmmse`). It memorises the pool.

    ``pool``: (T, d) array of task vectors; ``noise`` > 0: the label-noise standard deviation.
    """

    def __init__(self, pool, noise: float):
        super().__init__()
        P = torch.as_tensor(np.asarray(pool, dtype=np.float64))
        if P.dim() != 2 or P.shape[0] < 1 or not torch.isfinite(P).all():
            raise ValueError(f"pool must be a finite (T, d) array of task vectors, got shape {tuple(P.shape)}")
        self.register_buffer("pool", P)
        self.noise = validate.positive("noise", noise)

    def predict(self, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if X.shape[-1] != self.pool.shape[1]:
            raise ValueError(f"pool has d = {self.pool.shape[1]} but the prompts have d = {X.shape[-1]}")
        fits = X @ self.pool.T                                                      # (..., n, T): x_j^T beta_t
        sse = _exclusive_cumsum((y.unsqueeze(-1) - fits) ** 2, dim=-2)             # (..., n, T)
        w = torch.softmax(-sse / (2 * self.noise**2), dim=-1)
        return (w * fits).sum(-1)


class NearestNeighbours(PrefixEstimator):
    """Average label of the ``neighbours`` nearest earlier examples (Euclidean distance in x; all of them while
    fewer are available); predicts 0 at k = 0."""

    def __init__(self, neighbours: int = 3):
        super().__init__()
        self.neighbours = validate.positive_int("neighbours", neighbours)

    def predict(self, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        n = X.shape[-2]
        dist = torch.cdist(X, X)                                                    # (..., n, n): query k, example j
        earlier = torch.ones(n, n, dtype=torch.bool).tril(-1)                       # j < k
        dist = dist.masked_fill(~earlier, math.inf)
        m = min(self.neighbours, max(n - 1, 1))
        near, idx = dist.topk(m, dim=-1, largest=False)                             # (..., n, m)
        valid = torch.isfinite(near)
        labels = torch.gather(y.unsqueeze(-2).expand(*y.shape[:-1], n, n), -1, idx)
        total = (labels * valid).sum(-1)
        return total / valid.sum(-1).clamp_min(1)


class OneStepGD(PrefixEstimator):
    """One gradient step from 0 on the prefix least-squares loss: ``y_hat = eta_k x^T X_k^T y_k``
    ({eq}`eq-ch12-gd`). ``steps``: a step size ``eta`` (float) or one per prompt length (length n)."""

    def __init__(self, steps):
        super().__init__()
        s = np.atleast_1d(np.asarray(steps, dtype=np.float64))
        if s.ndim != 1 or not np.all(np.isfinite(s)):
            raise ValueError(f"steps must be a finite step size or a 1-D array of them, got {steps!r}")
        self.register_buffer("steps", torch.from_numpy(s))

    def predict(self, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        n = X.shape[-2]
        if self.steps.numel() not in (1, n):
            raise ValueError(f"steps holds {self.steps.numel()} step sizes, prompts have n = {n} positions")
        b = _exclusive_cumsum(X * y.unsqueeze(-1), dim=-2)                          # X_k^T y_k
        return self.steps * (X * b).sum(-1)


class TransitionLeastSquares(nn.Module):
    """Least squares on the transitions seen so far: ``A_t = argmin sum_{j<t} ||s_{j+1} - A s_j||^2 +
    ridge ||A||_F^2`` and ``s_hat_{t+1} = A_t s_t`` ({eq}`eq-ch12-lds-ols`); predicts 0 at t = 1.

    ``forward(S)``: states (..., T, d) -> predictions of the next states (..., T, d).
    """

    def __init__(self, ridge: float = 1e-3):
        super().__init__()
        self.ridge = validate.positive("ridge", ridge)

    def forward(self, S: torch.Tensor) -> torch.Tensor:
        if not torch.is_tensor(S) or S.dim() < 2:
            raise ValueError(f"S must be a tensor of states (..., T, d), got "
                             f"{tuple(S.shape) if torch.is_tensor(S) else type(S).__name__}")
        s = S.double()
        d = s.shape[-1]
        prev, nxt = s[..., :-1, :], s[..., 1:, :]                                   # transitions j -> j+1
        G = torch.zeros(*s.shape[:-1], d, d, dtype=torch.float64)
        C = torch.zeros_like(G)
        G[..., 1:, :, :] = (prev.unsqueeze(-1) * prev.unsqueeze(-2)).cumsum(-3)    # sum_{j<t} s_j s_j^T
        C[..., 1:, :, :] = (nxt.unsqueeze(-1) * prev.unsqueeze(-2)).cumsum(-3)     # sum_{j<t} s_{j+1} s_j^T
        eye = torch.eye(d, dtype=torch.float64)
        # A_t = C_t (G_t + ridge I)^{-1}; solve the transposed system (G + ridge I) A_t^T = C_t^T
        A = torch.linalg.solve(G + self.ridge * eye, C.transpose(-1, -2)).transpose(-1, -2)
        return (A @ s.unsqueeze(-1))[..., 0].to(S.dtype)


class ZeroNextState(nn.Module):
    """Predicts ``s_hat_{t+1} = 0`` at every position: the best predictor that ignores the trajectory when the
    system matrix has mean 0 (``E[A] s_t = 0``). ``forward(S)``: states (..., T, d) -> zeros (..., T, d)."""

    def forward(self, S: torch.Tensor) -> torch.Tensor:
        if not torch.is_tensor(S) or S.dim() < 2:
            raise ValueError(f"S must be a tensor of states (..., T, d), got "
                             f"{tuple(S.shape) if torch.is_tensor(S) else type(S).__name__}")
        return torch.zeros_like(S)


# ---------------------------------------------------------------------------------------------------------
# Exact risks on isotropic Gaussian prompts (x ~ N(0, I_d), beta ~ N(0, I_d)); they include the query noise.

def _check(d: int, k: int, noise: float) -> None:
    validate.positive_int("d", d)
    validate.int_in_range("k", k, 0, 10**9)
    validate.nonnegative("noise", noise)


def least_squares_risk(d: int, k: int, noise: float = 0.0) -> float:
    """Exact risk of :class:`LeastSquares` after k examples ({eq}`eq-ch12-ols`):

        noise^2 + (d - k) + noise^2 k / (d - k - 1)     for k <= d - 2   (interpolation),
        noise^2 + noise^2 d / (k - d - 1)                for k >= d + 2   (ordinary least squares),

    from ``E (X X^T)^{-1} = I / (d - k - 1)`` and ``E (X^T X)^{-1} = I / (k - d - 1)`` (inverse Wishart means).
    For k in {d-1, d, d+1} the risk is infinite when noise > 0. Noiseless, it is ``max(d - k, 0)``.
    """
    _check(d, k, noise)
    s2 = noise**2
    if s2 == 0:
        return float(max(d - k, 0))
    if k <= d - 2:
        return float(s2 + (d - k) + s2 * k / (d - k - 1))
    if k >= d + 2:
        return float(s2 + s2 * d / (k - d - 1))
    return math.inf


def optimal_gd_steps(d: int, n: int, noise: float = 0.0) -> np.ndarray:
    """The best step size of :class:`OneStepGD` at every prompt length k = 0..n-1 ({eq}`eq-ch12-gd`):
    ``eta_k = 1 / (k + 1 + d + noise^2)`` (0 at k = 0), from the optimal preconditioner
    ``W* = eta_k I`` of :func:`iclcore.theory.pgd_optimal` with identity covariances."""
    validate.positive_int("d", d)
    validate.positive_int("n", n)
    validate.nonnegative("noise", noise)
    eye = np.eye(d)
    return np.array([0.0] + [pgd_optimal(eye, eye, k, noise)[0][0, 0] for k in range(1, n)])


def gd_step_risk(d: int, k: int, noise: float = 0.0) -> float:
    """Exact risk of :class:`OneStepGD` with the optimal step after k examples ({eq}`eq-ch12-gd`):
    ``d (d + 1 + noise^2) / (k + d + 1 + noise^2) + noise^2`` (``d + noise^2`` at k = 0)."""
    _check(d, k, noise)
    if k == 0:
        return float(d + noise**2)
    eye = np.eye(d)
    return pgd_optimal(eye, eye, k, noise)[1]
