"""Random smooth functions on the cube [0, 1]^d, and in-context regression prompts built from them.

The task prior of {eq}`eq-ch13-prior`: a function is a random series in the tensor-product cosine basis,

    f(x) = sum_k beta_k psi_k(x),   psi_k(x) = prod_i c(k_i) cos(pi k_i x_i),   c(0) = 1, c(m >= 1) = sqrt(2),
    beta_k ~ N(0, lam_k) independent,   lam_k = (1 + |k|^2)^-(s + d/2),

over the frequencies ``k`` in ``{0, ..., n_freq - 1}^d``. The ``psi_k`` are orthonormal in L^2([0, 1]^d), so
``lam_k`` is the energy a random function puts on ``psi_k`` on average. The decay exponent ``s + d/2`` makes
the prior the Gaussian counterpart of a Sobolev ball of smoothness ``s``: its Bayes risk decays at the
minimax rate ``n^(-2s/(2s+d))`` ({eq}`eq-ch13-bayes`).

* :class:`SmoothPrior` holds the frequencies and variances (sorted by decreasing variance) and evaluates the
  basis;
* :class:`SmoothFunctionRegression` is the prompt sampler: ``x_i ~ Unif([0, 1]^d)``, ``y_i = f(x_i) + noise
  * z_i``, a fresh function per prompt, or one drawn from a fixed pool of ``n_tasks`` pretraining tasks.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import torch

from iclcore import validate


def default_n_freq(d: int) -> int:
    """Frequencies per axis when none is given: 64 for d = 1, about 256 basis functions in all for d >= 2."""
    d = validate.positive_int("d", d)
    return 64 if d == 1 else max(3, round(256 ** (1 / d)))


class SmoothPrior:
    """The Gaussian prior of {eq}`eq-ch13-prior` over functions on [0, 1]^d.

    Parameters
    ----------
    d : input dimension, >= 1.
    s : smoothness, > 0 (the prior variances decay as ``|k|^-(2s+d)``).
    n_freq : frequencies per axis (the basis has ``J = n_freq^d`` functions); default :func:`default_n_freq`.

    Attributes: ``freqs`` (J, d) integer frequencies and ``variances`` (J,) float64, both sorted by decreasing
    variance (``variances[0] = 1`` is the constant function); ``J``; ``signal`` = ``E||f||^2 = sum_k lam_k``.
    """

    def __init__(self, d: int, s: float, n_freq: int | None = None):
        self.d = validate.positive_int("d", d)
        self.s = validate.positive("s", s)
        self.n_freq = default_n_freq(d) if n_freq is None else validate.positive_int("n_freq", n_freq)
        if self.n_freq ** self.d > 20_000:
            raise ValueError(f"n_freq: n_freq^d = {self.n_freq}^{self.d} basis functions is too many (max 20000)")
        freqs = np.array(list(itertools.product(range(self.n_freq), repeat=self.d)), dtype=np.int64)
        lam = (1.0 + (freqs**2).sum(axis=1)) ** -(self.s + self.d / 2)
        order = np.argsort(-lam, kind="stable")
        self.freqs, self.variances = freqs[order], lam[order]

    @property
    def J(self) -> int:
        """Number of basis functions."""
        return len(self.variances)

    @property
    def signal(self) -> float:
        """``E ||f||^2 = sum_k lam_k`` (the mean square of a random function over the cube)."""
        return float(self.variances.sum())

    def basis(self, x: torch.Tensor) -> torch.Tensor:
        """``psi_k(x)`` for every basis function: ``x`` (..., d) -> (..., J), in ``x``'s dtype."""
        if x.shape[-1] != self.d:
            raise ValueError(f"x must have last dimension d={self.d}, got shape {tuple(x.shape)}")
        k = torch.as_tensor(self.freqs, dtype=x.dtype)
        c = torch.where(k > 0, torch.tensor(math.sqrt(2.0), dtype=x.dtype), torch.tensor(1.0, dtype=x.dtype))
        return (c * torch.cos(math.pi * x[..., None, :] * k)).prod(dim=-1)

    def sample_coefficients(self, batch_size: int, generator: torch.Generator,
                            dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """``beta ~ N(0, diag(lam))``, shape (B, J)."""
        B = validate.positive_int("batch_size", batch_size)
        std = torch.as_tensor(np.sqrt(self.variances), dtype=dtype)
        return torch.randn(B, self.J, generator=generator, dtype=dtype) * std

    def __call__(self, x: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
        """The functions with coefficients ``beta`` (B, J) at points ``x`` (B, ..., d) -> (B, ...)."""
        psi = self.basis(x)
        return (psi * beta.reshape(beta.shape[0], *([1] * (psi.dim() - 2)), self.J)).sum(-1)

    def __repr__(self) -> str:
        return f"SmoothPrior(d={self.d}, s={self.s:g}, n_freq={self.n_freq}, J={self.J})"


class SmoothFunctionRegression:
    """Sampler of in-context nonparametric regression prompts; ``task(batch_size, generator) -> (Z, y)``.

    Each prompt draws a function ``f`` from :class:`SmoothPrior` (or from a fixed pool of ``n_tasks`` of
    them), ``n + 1`` points ``x ~ Unif([0, 1]^d)`` and labels ``y_i = f(x_i) + noise * z_i``
    ({eq}`eq-ch13-prompt`). Tokens are ``[x_i; y_i]``, the query ``[x; 0]`` comes last.

    Parameters
    ----------
    d, n, s : input dimension (>= 1), number of in-context examples (>= 1), smoothness (> 0).
    noise : label-noise standard deviation sigma >= 0 of the examples.
    query_noise : noise std of the query's target (default ``noise``); ``0`` makes the target ``f(x)``
        itself, so the squared error measures the excess risk directly.
    n_freq : frequencies per axis of the prior (default :func:`default_n_freq`).
    n_tasks : ``None`` (a fresh function per prompt: infinite task diversity) or the size m >= 1 of a fixed
        pool of pretraining functions, drawn once from ``task_seed``; each prompt picks one uniformly.
    dtype : dtype of the returned tensors.

    Returns ``Z`` of shape (B, n+1, d+1) and ``y`` of shape (B,). Because ``x`` lies in the open cube, no
    real token is all zeros, so zero tokens left-padded by :func:`iclcore.tasks.stack` are recognisable.
    """

    def __init__(self, d: int, n: int, s: float, noise: float = 0.0, query_noise: float | None = None,
                 n_freq: int | None = None, n_tasks: int | None = None, task_seed: int = 0,
                 dtype: torch.dtype = torch.float32):
        self.prior = SmoothPrior(d, s, n_freq)
        self.d, self.s = self.prior.d, self.prior.s
        self.n = validate.positive_int("n", n)
        self.noise = validate.nonnegative("noise", noise)
        self.query_noise = self.noise if query_noise is None else validate.nonnegative("query_noise", query_noise)
        self.dtype = dtype
        self.n_tasks = None if n_tasks is None else validate.positive_int("n_tasks", n_tasks)
        if isinstance(task_seed, bool) or not isinstance(task_seed, int):
            raise ValueError(f"task_seed must be an int, got {task_seed!r}")
        self.task_seed = task_seed
        self.pool = None
        if self.n_tasks is not None:
            pool_gen = torch.Generator().manual_seed(task_seed)
            self.pool = self.prior.sample_coefficients(self.n_tasks, pool_gen, torch.float64)

    @property
    def token_dim(self) -> int:
        """Width D = d + 1 of a token."""
        return self.d + 1

    def coefficients(self, batch_size: int, generator: torch.Generator) -> torch.Tensor:
        """The coefficients of the prompts' functions, shape (B, J): fresh draws, or picks from the pool."""
        if self.pool is None:
            return self.prior.sample_coefficients(batch_size, generator, self.dtype)
        pick = torch.randint(self.n_tasks, (validate.positive_int("batch_size", batch_size),), generator=generator)
        return self.pool[pick].to(self.dtype)

    def __call__(self, batch_size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        B, n, d, dt = validate.positive_int("batch_size", batch_size), self.n, self.d, self.dtype
        beta = self.coefficients(B, generator)
        x = torch.rand(B, n + 1, d, generator=generator, dtype=dt)
        f = self.prior(x, beta)                                               # (B, n+1)
        sigma = torch.full((n + 1,), self.noise, dtype=dt)
        sigma[-1] = self.query_noise
        y_all = f + sigma * torch.randn(B, n + 1, generator=generator, dtype=dt)
        Z = torch.cat([x, y_all.unsqueeze(-1)], dim=-1)
        Z[:, -1, -1] = 0.0  # the query's label is hidden
        return Z, y_all[:, -1].clone()
