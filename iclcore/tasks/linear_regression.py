"""In-context linear regression prompts (Garg et al. 2022; Li, Rawat & Oymak 2024, Sec. 2).

A prompt holds n examples and one query, as tokens ``z_i = [x_i; y_i]`` and ``z_{n+1} = [x; 0]``:

    Z = [[x_1, y_1], ..., [x_n, y_n], [x, 0]]   shape (n+1, d+1),   target y = beta^T x + xi.
"""

from __future__ import annotations

import numpy as np
import torch

from iclcore import validate


def _cholesky(name: str, S, d: int) -> torch.Tensor:
    S = validate.covariance(name, S, d=d)
    vals, vecs = np.linalg.eigh(S)  # a PSD square root works for singular covariances too
    return torch.tensor((vecs * np.sqrt(np.clip(vals, 0, None))) @ vecs.T, dtype=torch.float64)


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
        self._Lx = _cholesky("Sigma_x", self.Sigma_x, d)
        self._Lb = _cholesky("Sigma_beta", self.Sigma_beta, d)

    @property
    def token_dim(self) -> int:
        """Width D = d + 1 of a token."""
        return self.d + 1

    def __call__(self, batch_size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        B, n, d = validate.positive_int("batch_size", batch_size), self.n, self.d
        g = generator
        f64 = torch.float64
        beta = torch.randn(B, d, generator=g, dtype=f64) @ self._Lb
        X = torch.randn(B, n + 1, d, generator=g, dtype=f64) @ self._Lx
        sig = torch.cat([torch.as_tensor(self.noise, dtype=f64), torch.tensor([self.query_noise], dtype=f64)])
        y_all = torch.einsum("btd,bd->bt", X, beta) + sig * torch.randn(B, n + 1, generator=g, dtype=f64)
        Z = torch.cat([X, y_all.unsqueeze(-1)], dim=-1)
        Z[:, -1, -1] = 0.0  # the query's label is hidden
        return Z.to(self.dtype), y_all[:, -1].to(self.dtype)
