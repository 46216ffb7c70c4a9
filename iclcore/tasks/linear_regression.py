"""In-context linear regression prompts (Garg et al. 2022; Li, Rawat & Oymak 2024, Sec. 2).

A prompt holds n examples and one query, as tokens ``z_i = [x_i; y_i]`` and ``z_{n+1} = [x; 0]``
({eq}`eq-ch1-prompt`):

    Z = [[x_1, y_1], ..., [x_n, y_n], [x, 0]]   shape (n+1, d+1),   target y = beta^T x + xi.

:class:`LinearRegression` draws features independently of the task (any covariances, per-position noise);
:class:`TaskAlignedRegression` draws features stretched along the task vector (task-feature alignment,
{eq}`eq-ch2-tfa`).
"""

from __future__ import annotations

import numpy as np
import torch

from iclcore import validate
from iclcore.linalg import sqrtm_psd


class LinearRegression:
    """Sampler of linear-regression prompts; call it as ``task(batch_size, generator) -> (Z, y)``.

    Parameters
    ----------
    d, n : feature dimension and number of in-context examples.
    Sigma_x, Sigma_beta : (d, d) covariances of the features and of the task vector (default identity).
    noise : label-noise standard deviation; a float, or a length-n sequence of per-position std's.
    query_noise : std of the noise on the query label; defaults to ``noise`` when it is a float, and
        must be given when ``noise`` is per-position.
    dtype : dtype of the returned tensors (float32 for training, float64 for tight checks).

    Returns ``Z`` of shape (B, n+1, d+1) and ``y`` of shape (B,).
    """

    def __init__(self, d: int, n: int, Sigma_x=None, Sigma_beta=None, noise=0.0, query_noise=None,
                 dtype: torch.dtype = torch.float32):
        self.d = validate.positive_int("d", d)
        self.n = validate.positive_int("n", n)
        eye = np.eye(d)
        self.Sigma_x = validate.covariance("Sigma_x", eye if Sigma_x is None else Sigma_x, d=d)
        self.Sigma_beta = validate.covariance("Sigma_beta", eye if Sigma_beta is None else Sigma_beta, d=d)
        noise_arr = np.asarray(noise, dtype=np.float64)
        if noise_arr.ndim == 0:
            validate.nonnegative("noise", float(noise_arr))
            noise_arr = np.full(n, float(noise_arr))
            q = float(noise) if query_noise is None else query_noise
        else:
            if noise_arr.shape != (n,):
                raise ValueError(f"noise must be a float or have shape (n,)=({n},), got {noise_arr.shape}")
            if not np.all(np.isfinite(noise_arr)) or noise_arr.min() < 0:
                raise ValueError("noise must hold finite standard deviations >= 0")
            if query_noise is None:
                raise ValueError("query_noise must be given when noise is per-position")
            q = query_noise
        self.noise = noise_arr
        self.query_noise = validate.nonnegative("query_noise", q)
        self.dtype = dtype
        # symmetric square roots of the covariances (x = g @ L with g ~ N(0, I) has covariance S);
        # None for the identity, to skip a matmul per batch
        self._Lx = None if np.array_equal(self.Sigma_x, eye) else torch.from_numpy(sqrtm_psd(self.Sigma_x))
        self._Lb = None if np.array_equal(self.Sigma_beta, eye) else torch.from_numpy(sqrtm_psd(self.Sigma_beta))
        sigma = np.r_[self.noise, self.query_noise]
        self._sigma = None if not sigma.any() else torch.tensor(sigma, dtype=torch.float64)

    @property
    def token_dim(self) -> int:
        """Width D = d + 1 of a token."""
        return self.d + 1

    def __call__(self, batch_size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        B, n, d = validate.positive_int("batch_size", batch_size), self.n, self.d
        g, dt = generator, self.dtype
        beta = torch.randn(B, d, generator=g, dtype=dt)
        X = torch.randn(B, n + 1, d, generator=g, dtype=dt)
        if self._Lb is not None:
            beta = beta @ self._Lb.to(dt)
        if self._Lx is not None:
            X = X @ self._Lx.to(dt)
        y_all = (X @ beta.unsqueeze(-1)).squeeze(-1)
        if self._sigma is not None:
            y_all = y_all + self._sigma.to(dt) * torch.randn(B, n + 1, generator=g, dtype=dt)
        Z = torch.empty(B, n + 1, d + 1, dtype=dt)
        Z[..., :d] = X
        Z[..., d] = y_all
        Z[:, -1, -1] = 0.0  # the query's label is hidden
        return Z, y_all[:, -1].clone()


class CorrelatedRegression:
    """What the correlated designs of Chapter 2 share: ``d``, ``n``, a correlation ``alpha`` in [-1, 1], the
    label-noise standard deviation ``noise`` and the output dtype; prompts ``Z`` (B, n+1, d+1), query last."""

    def __init__(self, d: int, n: int, alpha: float, noise: float = 0.0, dtype: torch.dtype = torch.float32):
        self.d = validate.positive_int("d", d)
        self.n = validate.positive_int("n", n)
        self.alpha = validate.in_interval("alpha", alpha, -1.0, 1.0)
        self.noise = validate.nonnegative("noise", noise)
        self.dtype = dtype

    @property
    def token_dim(self) -> int:
        """Width D = d + 1 of a token."""
        return self.d + 1


class TaskAlignedRegression(CorrelatedRegression):
    """Sampler of task-feature aligned prompts ({eq}`eq-ch2-tfa`); ``task(batch_size, generator) -> (Z, y)``.

    The book's design of a task-feature alignment (the features lean towards the task direction): with
    ``beta ~ N(0, I_d)`` and ``u = beta / ||beta||``, every feature (examples and query) is

        x_i = sqrt(1 - alpha^2) g_i + alpha sqrt(d) zeta_i u,   g_i ~ N(0, I_d),  zeta_i ~ N(0, 1),

    so given beta, ``x_i ~ N(0, (1 - alpha^2) I + alpha^2 d u u^T)``: a share alpha^2 of a feature's energy
    ``E||x_i||^2 = d`` lies along the task. Averaged over beta the feature covariance is still I_d.
    Labels ``y_i = beta^T x_i + xi_i``, ``y = beta^T x + xi`` with ``xi ~ N(0, noise^2)``.

    Parameters
    ----------
    d, n : feature dimension and number of in-context examples.
    alpha : alignment, in [-1, 1] (only alpha^2 matters; alpha = 0 is the i.i.d. isotropic design).
    noise : label-noise standard deviation (examples and query).
    dtype : dtype of the returned tensors.

    Returns ``Z`` of shape (B, n+1, d+1) (the query's label hidden) and ``y`` of shape (B,).
    """

    def __call__(self, batch_size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        B, n, d, g, dt = validate.positive_int("batch_size", batch_size), self.n, self.d, generator, self.dtype
        beta = torch.randn(B, d, generator=g, dtype=dt)
        u = beta / beta.norm(dim=-1, keepdim=True)
        G = torch.randn(B, n + 1, d, generator=g, dtype=dt)
        zeta = torch.randn(B, n + 1, 1, generator=g, dtype=dt)
        X = (1.0 - self.alpha**2) ** 0.5 * G + self.alpha * d**0.5 * zeta * u[:, None, :]   # query last
        y_all = torch.einsum("btd,bd->bt", X, beta)
        if self.noise:
            y_all = y_all + self.noise * torch.randn(B, n + 1, generator=g, dtype=dt)
        Z = torch.cat([X, y_all.unsqueeze(-1)], dim=-1)
        Z[:, -1, -1] = 0.0  # the query's label is hidden
        return Z, y_all[:, -1].clone()
