"""Direct reference models: preconditioned GD (PGD) and weighted PGD (WPGD) on the in-context examples.

Li, Rawat & Oymak (2024), Sec. 2-3. For a prompt ``Z = [[x_1, y_1], ..., [x_n, y_n], [x, 0]]``:

    PGD:   y_hat = x^T W X^T y          = sum_i (x^T W x_i) y_i           ({eq}`eq-ch1-pgd`)
    WPGD:  y_hat = x^T W X^T (omega * y) = sum_i omega_i (x^T W x_i) y_i   ({eq}`eq-ch2-wpgd`)

These are what a 1-layer linear attention (PGD) and a 1-layer H3 (WPGD) reduce to; training them directly
(or setting W from :func:`iclcore.theory.pgd_optimal`) gives the reference line for the trained networks.
Sample weights are indexed by *lag* from the query (lag 1 = the last example), so left-padded prompts of
different lengths (:func:`iclcore.tasks.stack`) share one parameter vector.
Ensemble convention of :mod:`iclcore.models`: inputs (B, T, d+1) or (E, B, T, d+1), outputs (E, B).
"""

from __future__ import annotations

import torch
from torch import nn

from iclcore import validate
from iclcore.models.linear_attention import ensemble_prompts


def _split(Z: torch.Tensor, token_dim: int, n_members: int):
    Z = ensemble_prompts(Z, token_dim, n_members)
    return Z[..., :-1, :-1], Z[..., :-1, -1], Z[..., -1, :-1]      # X (E,B,n,d), y (E,B,n), x (E,B,d)


class PGD(nn.Module):
    """One step of preconditioned GD from zero, ``y_hat = x^T W X^T y``; ``W`` (E, d, d) starts at ``W0``.

    ``W0``: optional (d, d) or (E, d, d) initial preconditioner (e.g. ``theory.pgd_optimal(...)[0]``);
    default zero (the PGD risk is a convex quadratic in W, so zero is a fine start).
    """

    def __init__(self, d: int, n_members: int = 1, W0=None):
        super().__init__()
        self.d = validate.positive_int("d", d)
        self.n_members = validate.positive_int("n_members", n_members)
        if W0 is None:
            W = torch.zeros(n_members, d, d)
        else:
            W = torch.as_tensor(W0, dtype=torch.float32)
            if W.shape not in ((d, d), (1, d, d), (n_members, d, d)):
                raise ValueError(f"W0 must have shape ({d}, {d}) or ({n_members}, {d}, {d}), got {tuple(W.shape)}")
            W = W.expand(n_members, d, d).clone()
        self.W = nn.Parameter(W)

    def forward(self, Z: torch.Tensor) -> torch.Tensor:
        X, y, x = _split(Z, self.d + 1, self.n_members)
        return torch.einsum("ebi,eij,ebtj,ebt->eb", x, self.W, X, y)

    @torch.no_grad()
    def effective_preconditioner(self) -> torch.Tensor:
        """``W`` itself, shape (E, d, d) (same convention as ``LinearAttention.effective_preconditioner``)."""
        return self.W.detach().clone()


class WPGD(nn.Module):
    """Weighted PGD ``y_hat = sum_i omega_i (x^T W x_i) y_i`` with free per-lag weights ``omega`` (E, n_ctx).

    ``W`` starts at zero and ``omega`` at one. ``n_ctx`` is the longest prompt the model accepts.
    """

    def __init__(self, d: int, n_ctx: int, n_members: int = 1):
        super().__init__()
        self.d = validate.positive_int("d", d)
        self.n_ctx = validate.positive_int("n_ctx", n_ctx)
        self.n_members = validate.positive_int("n_members", n_members)
        self.W = nn.Parameter(torch.zeros(n_members, d, d))
        self.omega = nn.Parameter(torch.ones(n_members, n_ctx))   # omega[:, k-1] weighs the example at lag k

    def forward(self, Z: torch.Tensor) -> torch.Tensor:
        X, y, x = _split(Z, self.d + 1, self.n_members)
        n = X.shape[-2]
        if n > self.n_ctx:
            raise ValueError(f"prompt has n={n} examples but the model was built with n_ctx={self.n_ctx}")
        w = self.omega[:, :n].flip(-1)                                   # position i <- lag n + 1 - i
        return torch.einsum("ebi,eij,ebtj,ebt,et->eb", x, self.W, X, y, w)

    @torch.no_grad()
    def effective_weights(self, n: int) -> torch.Tensor:
        """Per-position weights (E, n) of the examples of an n-example prompt (position 1 first)."""
        validate.int_in_range("n", n, 1, self.n_ctx)
        return self.omega[:, :n].flip(-1).detach().clone()
