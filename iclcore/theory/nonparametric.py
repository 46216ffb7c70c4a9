"""Closed forms and baseline estimators for in-context nonparametric regression (Chapter 13).

Everything refers to the prior of {eq}`eq-ch13-prior` (:class:`iclcore.tasks.smooth_functions.SmoothPrior`):
``f = sum_k beta_k psi_k`` with ``beta_k ~ N(0, lam_k)`` and an orthonormal cosine basis ``psi_k``, examples
``x_i ~ Unif([0, 1]^d)``, labels ``y_i = f(x_i) + sigma z_i``. Risks are **excess** risks
``E (f_hat(x) - f(x))^2`` (the book's risk minus the query noise sigma^2), averaged over the prior, the
examples and the noise.

Linear attention on the true basis ({eq}`eq-ch13-model` with ``phi = psi``) predicts
``f_hat(x) = psi(x)^T Gamma b_hat`` with the empirical coefficients ``b_hat = (1/n) sum_i psi(x_i) y_i``:

* ``Gamma = diag(1, ..., 1, 0, ...)`` (N ones) is the **projection estimator**; its risk is
  :func:`projection_risk` and the best N is :func:`oracle_projection` ({eq}`eq-ch13-projection`);
* any diagonal ``Gamma`` (a shrunk projection) has risk :func:`shrinkage_risk`, whose per-coefficient variance
  is :func:`coefficient_noise` ({eq}`eq-ch13-vj`): the signal itself acts as noise;
* the best ``Gamma`` of rank <= N is :func:`optimal_attention` ({eq}`eq-ch13-best-la`).

The Bayes estimator is the GP posterior mean (:class:`GPPosteriorMean`); its risk, averaged over designs,
is :func:`gp_bayes_risk`, bounded below by :func:`bayes_risk_bound` ({eq}`eq-ch13-bayes`).
"""

from __future__ import annotations

import itertools

import numpy as np
import scipy.linalg
import torch

from iclcore import validate
from iclcore.tasks.smooth_functions import SmoothPrior


def _prior(prior) -> SmoothPrior:
    if not isinstance(prior, SmoothPrior):
        raise ValueError(f"prior must be a SmoothPrior, got {type(prior).__name__}")
    return prior


def _n(n) -> int:
    return validate.positive_int("n", n)


def minimax_exponent(s: float, d: int) -> float:
    """The exponent ``2s / (2s + d)`` of the minimax rate ``n^(-2s/(2s+d))`` of {eq}`eq-ch13-rate`."""
    s = validate.positive("s", s)
    d = validate.positive_int("d", d)
    return 2 * s / (2 * s + d)


def fourth_moments(prior: SmoothPrior) -> np.ndarray:
    """``E[psi_j(x)^2 psi_l(x)^2]`` for ``x ~ Unif([0, 1]^d)``, shape (J, J).

    Per axis ``E[psi_a^2 psi_b^2] = 1 + 1/2 [a = b >= 1]`` (``psi_a^2 = 1 + cos(2 pi a x)`` for a >= 1), and
    the tensor-product basis multiplies the axes."""
    k = _prior(prior).freqs
    same = (k[:, None, :] == k[None, :, :]) & (k[:, None, :] > 0)
    return np.prod(1.0 + 0.5 * same, axis=-1)


def coefficient_noise(prior: SmoothPrior, noise: float) -> np.ndarray:
    """``v_j = n Var(b_hat_j)`` averaged over the prior, shape (J,) ({eq}`eq-ch13-vj`):

        v_j = sum_l lam_l E[psi_j^2 psi_l^2] - lam_j + sigma^2  ~  E||f||^2 + sigma^2.

    The empirical coefficient ``b_hat_j = (1/n) sum_i psi_j(x_i) y_i`` is unbiased for ``beta_j`` but its
    variance carries the whole function, not only the label noise."""
    noise = validate.nonnegative("noise", noise)
    return fourth_moments(prior) @ prior.variances - prior.variances + noise**2


def _coefficient_variance(prior: SmoothPrior, noise: float, coefficient_variance) -> np.ndarray:
    """``coefficient_variance`` checked (shape (J,), finite, >= 0), or :func:`coefficient_noise` when None."""
    if coefficient_variance is None:
        return coefficient_noise(prior, noise)
    validate.nonnegative("noise", noise)
    v = np.asarray(coefficient_variance, dtype=np.float64)
    if v.shape != (prior.J,) or not np.all(np.isfinite(v)) or np.any(v < 0):
        raise ValueError(f"coefficient_variance must be a finite vector of shape ({prior.J},) with entries >= 0, "
                         f"got shape {v.shape}")
    return v


def shrinkage_risk(prior: SmoothPrior, n: int, noise: float, gamma, coefficient_variance=None) -> float:
    """Excess risk of ``f_hat = sum_j gamma_j b_hat_j psi_j`` (linear attention on the true basis with a
    diagonal ``Gamma``), {eq}`eq-ch13-linear-risk`:

        R(gamma) = sum_j (gamma_j - 1)^2 lam_j + gamma_j^2 v_j / n.

    ``gamma`` has shape (J,). ``coefficient_variance`` replaces ``v_j`` (default :func:`coefficient_noise`)."""
    prior, n = _prior(prior), _n(n)
    gamma = np.asarray(gamma, dtype=np.float64)
    if gamma.shape != (prior.J,) or not np.all(np.isfinite(gamma)):
        raise ValueError(f"gamma must be a finite vector of shape ({prior.J},), got shape {gamma.shape}")
    v = _coefficient_variance(prior, noise, coefficient_variance)
    lam = prior.variances
    return float(np.sum((gamma - 1) ** 2 * lam + gamma**2 * v / n))


def projection_gamma(prior: SmoothPrior, n_features: int) -> np.ndarray:
    """``gamma`` of the projection estimator on the ``n_features`` basis functions of largest variance."""
    N = validate.int_in_range("n_features", n_features, 0, _prior(prior).J)
    return (np.arange(prior.J) < N).astype(np.float64)


def projection_risk(prior: SmoothPrior, n: int, noise: float, n_features: int, coefficient_variance=None) -> float:
    """Excess risk of the projection estimator on N basis functions ({eq}`eq-ch13-projection`):
    ``sum_{j>N} lam_j + sum_{j<=N} v_j / n`` (approximation error + estimation error)."""
    return shrinkage_risk(prior, n, noise, projection_gamma(prior, n_features), coefficient_variance)


def oracle_projection(prior: SmoothPrior, n: int, noise: float, coefficient_variance=None) -> tuple[int, float]:
    """The number of basis functions ``N*(n)`` that minimises :func:`projection_risk`, and that risk."""
    prior, n = _prior(prior), _n(n)
    v = _coefficient_variance(prior, noise, coefficient_variance)
    risks = np.r_[prior.variances.sum(), prior.variances.sum() - np.cumsum(prior.variances) + np.cumsum(v) / n]
    N = int(np.argmin(risks))
    return N, float(risks[N])


def _quadrature(prior: SmoothPrior) -> tuple[np.ndarray, float]:
    """Midpoint grid on [0, 1]^d that integrates every product of four basis functions exactly."""
    Q = 2 * prior.n_freq
    if Q**prior.d > 200_000:
        raise ValueError(f"prior: a quadrature grid of {Q}^{prior.d} points is too large (n_freq or d too big)")
    axis = (np.arange(Q) + 0.5) / Q
    return np.array(list(itertools.product(axis, repeat=prior.d))), 1.0 / Q**prior.d


_MOMENT_CACHE: dict = {}


def _signal_moments(prior: SmoothPrior) -> np.ndarray:
    """``S_jk = E_x E_beta[psi_j(x) psi_k(x) f(x)^2]`` of the prior, by exact quadrature (cached per prior:
    dimension, frequencies and variances)."""
    key = (prior.d, prior.n_freq, prior.freqs.tobytes(), np.asarray(prior.variances, dtype=np.float64).tobytes())
    if key not in _MOMENT_CACHE:
        x, w = _quadrature(prior)
        psi = prior.basis(torch.from_numpy(x)).numpy()                      # (Q^d, J)
        f2 = psi**2 @ prior.variances                                       # E_beta f(x)^2 at each point
        if len(_MOMENT_CACHE) >= 16:
            _MOMENT_CACHE.pop(next(iter(_MOMENT_CACHE)))
        _MOMENT_CACHE[key] = psi.T @ (psi * (w * f2)[:, None])
    return _MOMENT_CACHE[key]


def attention_moments(prior: SmoothPrior, n: int, noise: float) -> np.ndarray:
    """``C = E[b_hat b_hat^T] = (1 - 1/n) Lambda + (S + sigma^2 I) / n``, shape (J, J), with
    ``S_jk = E[psi_j psi_k f^2]`` averaged over the prior (computed by exact quadrature)."""
    prior, n = _prior(prior), _n(n)
    noise = validate.nonnegative("noise", noise)
    S = _signal_moments(prior)
    return (1 - 1 / n) * np.diag(prior.variances) + (S + noise**2 * np.eye(prior.J)) / n


def optimal_attention(prior: SmoothPrior, n: int, noise: float, n_features: int | None = None
                      ) -> tuple[np.ndarray, float]:
    """The best linear attention on features in the span of the basis, with rank at most ``n_features``
    (default: no limit), and its excess risk ({eq}`eq-ch13-best-la`).

    The risk of ``psi(x)^T Gamma b_hat`` is ``tr Lambda - 2 tr(Gamma Lambda) + tr(Gamma C Gamma^T)``
    (:func:`attention_moments`), minimised by ``Gamma* = Lambda C^{-1}``; with a rank limit N the optimum keeps
    the top N singular directions of ``Lambda C^{-1/2}`` (Eckart-Young). Returns ``(Gamma (J, J), risk)``."""
    prior = _prior(prior)
    N = prior.J if n_features is None else validate.positive_int("n_features", n_features)
    C = attention_moments(prior, n, noise)
    ev, U = np.linalg.eigh(C)
    C_mhalf = (U / np.sqrt(ev)) @ U.T
    M = prior.variances[:, None] * C_mhalf                                  # Lambda C^{-1/2}
    Us, sv, Vt = np.linalg.svd(M)
    k = min(N, prior.J)
    G = (Us[:, :k] * sv[:k]) @ Vt[:k]                                       # best rank-k approximation
    Gamma = G @ C_mhalf
    return Gamma, float(prior.variances.sum() - np.sum(sv[:k] ** 2))


def best_attention_risk(prior: SmoothPrior, n: int, noise: float, n_features: int | None = None) -> float:
    """Excess risk of :func:`optimal_attention` (the floor a trained feature map + linear attention can reach
    with features in the basis' span). The squared singular values of ``Lambda C^{-1/2}`` are the generalised
    eigenvalues of ``(Lambda^2, C)``, computed without the singular vectors."""
    prior = _prior(prior)
    N = prior.J if n_features is None else validate.positive_int("n_features", n_features)
    C = attention_moments(prior, n, noise)
    mu = scipy.linalg.eigh(np.diag(prior.variances**2), C, eigvals_only=True)[::-1]
    return float(prior.variances.sum() - np.sum(mu[: min(N, prior.J)]))


def bayes_risk_bound(prior: SmoothPrior, n: int, noise: float) -> float:
    """``sum_k sigma^2 lam_k / (sigma^2 + n lam_k)`` ({eq}`eq-ch13-bayes`): a lower bound on the Bayes risk
    (Jensen: the posterior-covariance trace is convex in ``Psi^T Psi``, whose mean is ``n I``), asymptotically
    of the order ``n^(-2s/(2s+d))``."""
    prior, n = _prior(prior), _n(n)
    noise = validate.nonnegative("noise", noise)
    lam = prior.variances
    return float(np.sum(noise**2 * lam / (noise**2 + n * lam)))


def _posterior_trace(prior: SmoothPrior, psi: np.ndarray, noise: float) -> np.ndarray:
    """``tr Cov(beta | design)`` for designs ``psi`` (D, n, J): the Bayes excess risk of each design."""
    root = np.sqrt(prior.variances)
    G = np.einsum("dnj,dnk->djk", psi * root, psi * root) / noise**2
    inv = np.linalg.inv(G + np.eye(prior.J))
    return np.einsum("j,djj->d", prior.variances, inv)


def gp_bayes_risk(prior: SmoothPrior, n: int, noise: float, n_designs: int = 256, seed: int = 0) -> float:
    """The Bayes (GP posterior mean) excess risk at n examples: the posterior-covariance trace
    ``tr (Lambda^{-1} + Psi^T Psi / sigma^2)^{-1}``, exact for each design, averaged over ``n_designs``
    random designs ``x_i ~ Unif([0, 1]^d)`` drawn from ``seed`` ({eq}`eq-ch13-bayes`). Needs noise > 0."""
    prior, n = _prior(prior), _n(n)
    noise = validate.positive("noise", noise)
    n_designs = validate.positive_int("n_designs", n_designs)
    gen = torch.Generator().manual_seed(seed)
    total, done = 0.0, 0
    while done < n_designs:
        b = min(64, n_designs - done)
        x = torch.rand(b, n, prior.d, generator=gen, dtype=torch.float64)
        total += _posterior_trace(prior, prior.basis(x).numpy(), noise).sum()
        done += b
    return float(total / n_designs)


def _prompts(Z: torch.Tensor, d: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Split prompts (B, T, d+1) or (E, B, T, d+1) into examples x (E, B, n, d), labels (E, B, n), a mask of
    real (not left-padded) examples, and queries (E, B, d); float64."""
    if Z.dim() == 3:
        Z = Z.unsqueeze(0)
    if Z.dim() != 4 or Z.shape[-1] != d + 1:
        raise ValueError(f"Z must have shape (B, T, {d + 1}) or (E, B, T, {d + 1}), got {tuple(Z.shape)}")
    Z = Z.double()
    real = (Z[..., :-1, :] != 0).any(-1)
    return Z[..., :-1, :d], Z[..., :-1, -1], real, Z[..., -1, :d]


class BasisAttention:
    """Linear attention on the true basis, ``f_hat(x) = psi(x)^T Gamma b_hat``, ``b_hat = (1/n) sum_i
    psi(x_i) y_i`` ({eq}`eq-ch13-model` with ``phi = psi``): a baseline with the model's call signature.

    ``Gamma`` is (J, J) or one per member (E, J, J); ``projection_gamma`` gives the projection estimator.
    ``__call__(Z)``: prompts (B, T, d+1) or (E, B, T, d+1) -> predictions (E, B) in Z's dtype.
    """

    def __init__(self, prior: SmoothPrior, Gamma):
        self.prior = _prior(prior)
        G = torch.as_tensor(np.asarray(Gamma, dtype=np.float64))
        if G.dim() == 1:
            G = torch.diag(G)
        if G.dim() == 2:
            G = G.unsqueeze(0)
        if G.dim() != 3 or G.shape[1:] != (prior.J, prior.J):
            raise ValueError(f"Gamma must have shape ({prior.J},), ({prior.J}, {prior.J}) or (E, {prior.J}, "
                             f"{prior.J}), got {tuple(G.shape)}")
        self.Gamma = G

    def __call__(self, Z: torch.Tensor) -> torch.Tensor:
        x, y, real, xq = _prompts(Z, self.prior.d)
        psi = self.prior.basis(x) * real.unsqueeze(-1)
        b_hat = torch.einsum("ebnj,ebn->ebj", psi, y) / real.sum(-1).clamp(min=1).unsqueeze(-1)
        return torch.einsum("ebj,ejk,ebk->eb", self.prior.basis(xq), self.Gamma, b_hat).to(Z.dtype)


class GPPosteriorMean:
    """The Bayes estimator: the posterior mean of ``f(x)`` under the prior, given the prompt's examples
    (Gaussian-process regression with kernel ``k(x, x') = sum_k lam_k psi_k(x) psi_k(x')`` and noise
    variance ``sigma^2``). Left-padded zero tokens are ignored.

    ``__call__(Z)``: prompts (B, T, d+1) or (E, B, T, d+1) -> predictions (E, B) in Z's dtype. Equals
    scikit-learn's ``GaussianProcessRegressor`` with this kernel and ``alpha = sigma^2`` (tested).
    """

    def __init__(self, prior: SmoothPrior, noise: float):
        self.prior = _prior(prior)
        self.noise = validate.positive("noise", noise)

    def __call__(self, Z: torch.Tensor) -> torch.Tensor:
        x, y, real, xq = _prompts(Z, self.prior.d)
        lam = torch.as_tensor(self.prior.variances)
        psi = self.prior.basis(x) * real.unsqueeze(-1)                      # padded rows are zero
        n = psi.shape[-2]
        if n <= self.prior.J:                                               # kernel form, n x n
            K = torch.einsum("ebnj,j,ebmj->ebnm", psi, lam, psi) + self.noise**2 * torch.eye(n, dtype=psi.dtype)
            alpha = torch.linalg.solve(K, y.unsqueeze(-1)).squeeze(-1)
            k_q = torch.einsum("ebj,j,ebnj->ebn", self.prior.basis(xq), lam, psi)
            return (k_q * alpha).sum(-1).to(Z.dtype)
        root = lam.sqrt()                                                   # feature form, J x J
        A = torch.einsum("ebnj,ebnk->ebjk", psi * root, psi * root) + self.noise**2 * torch.eye(self.prior.J,
                                                                                             dtype=psi.dtype)
        u = torch.linalg.solve(A, torch.einsum("ebnj,ebn->ebj", psi * root, y).unsqueeze(-1)).squeeze(-1)
        return (self.prior.basis(xq) * root * u).sum(-1).to(Z.dtype)
