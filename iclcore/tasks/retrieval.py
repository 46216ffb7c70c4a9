"""Retrieval-augmented (query-correlated) linear-regression prompts (Li, Rawat & Oymak 2024, Sec. 4).

The book's design of retrieval-correlated prompts ({eq}`eq-ch2-rag`; Chapter 2 says what is the paper's):
every in-context feature is a noisy copy of the query, as if the examples had been *retrieved* as
neighbours of the query,

    x ~ N(0, I_d),   x_i = alpha x + sqrt(1 - alpha^2) g_i,   g_i ~ N(0, I_d) i.i.d.,
    beta ~ N(0, I_d),   y_i = beta^T x_i + xi_i,   y = beta^T x + xi,   xi_i, xi ~ N(0, noise^2).

Each x_i is marginally N(0, I_d); only its correlation ``alpha`` with the query changes. Tokens are laid
out as in :class:`iclcore.tasks.LinearRegression`: ``Z`` (B, n+1, d+1) with the query's label hidden.
"""

from __future__ import annotations

import math

import torch

from iclcore import validate
from iclcore.tasks.linear_regression import CorrelatedRegression


class RetrievalRegression(CorrelatedRegression):
    """Sampler of retrieval-correlated prompts; ``task(batch_size, generator) -> (Z (B, n+1, d+1), y (B,))``.

    Parameters
    ----------
    d, n : feature dimension and number of in-context examples.
    alpha : correlation between each example's features and the query's, in [-1, 1].
    noise : label-noise standard deviation (examples and query).
    dtype : dtype of the returned tensors.
    """

    def __call__(self, batch_size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        B, n, d, g = validate.positive_int("batch_size", batch_size), self.n, self.d, generator
        f64 = torch.float64
        beta = torch.randn(B, d, generator=g, dtype=f64)
        x = torch.randn(B, 1, d, generator=g, dtype=f64)
        X = self.alpha * x + math.sqrt(1.0 - self.alpha**2) * torch.randn(B, n, d, generator=g, dtype=f64)
        X_all = torch.cat([X, x], dim=1)                                       # (B, n+1, d), query last
        y_all = torch.einsum("btd,bd->bt", X_all, beta) + self.noise * torch.randn(B, n + 1, generator=g, dtype=f64)
        Z = torch.cat([X_all, y_all.unsqueeze(-1)], dim=-1)
        Z[:, -1, -1] = 0.0  # the query's label is hidden
        return Z.to(self.dtype), y_all[:, -1].to(self.dtype)
