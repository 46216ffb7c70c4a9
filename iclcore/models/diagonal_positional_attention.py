"""Diagonal multi-head linear attention with positional weights, on non-augmented tokens (Sander et al. 2024,
Sec. 5; the indexing follows the official code).

Tokens are the states themselves, ``s_0, ..., s_{T-1}`` (real, or complex for unitary W). Each head h has a
diagonal key-query ``a_h`` and a diagonal value ``b_h`` (vectors in R^d); one positional matrix ``P`` weighs
the context positions. At position t = 1..T-1 the prediction of ``s_{t+1}`` is ({eq}`eq-ch7-diag`)

    s_hat_{t+1} = sum_h sum_{tau <= t} P[t, tau] (b_h * s_tau) <a_h * s_tau, s_{t-1}>,

with ``<x, y> = sum_k x_k conj(y_k)``: the score compares every context token with the token **before** the
newest one (the official code's indexing; a query on the newest token itself cannot predict anything in the
unitary case, see the chapter). Only ``C = B^T A`` (``C_jk = sum_h b_hj a_hk``) and ``P`` enter the unitary
reduced loss ({eq}`eq-ch7-reduced`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from iclcore import validate


class DiagonalPositionalAttention(nn.Module):
    """Parameters
    ----------
    d : state dimension (complex dimension for unitary sequences).
    T : number of tokens (T >= 2); predictions are made at positions t = 1..T-1.
    n_heads : number of heads H, one int or one per member (members with fewer heads mask the others).
    n_members : number E of independent members trained as one batch.
    init_scale, seed : ``a_h, b_h`` and ``P`` start i.i.d. ``N(0, init_scale^2)``.
    query : "previous" (the score's query is ``s_{t-1}``, as above) or "newest" (``s_t``; in the unitary case
        no weights then beat the zero predictor).

    ``forward(s)``: states (B, T, d) or (E, B, T, d), real or complex -> (E, B, T-1, d), same dtype.
    """

    def __init__(self, d: int, T: int, n_heads: int | Sequence[int] = 1, n_members: int = 1,
                 init_scale: float = 0.1, seed: int = 0, query: str = "previous"):
        super().__init__()
        if query not in ("previous", "newest"):
            raise ValueError(f"query must be 'previous' or 'newest', got {query!r}")
        self.query = query
        self.d = validate.positive_int("d", d)
        self.T = validate.positive_int("T", T)
        if T < 2:
            raise ValueError(f"T must be >= 2, got {T}")
        E = validate.positive_int("n_members", n_members)
        validate.positive("init_scale", init_scale)
        heads = [n_heads] * E if isinstance(n_heads, int) else list(n_heads)
        if len(heads) != E:
            raise ValueError(f"n_heads must be one int or one per member ({E}), got {len(heads)}")
        heads = [validate.positive_int("n_heads", h) for h in heads]
        H = max(heads)
        self.n_heads, self.n_members = tuple(heads), E
        self.register_buffer("head_mask", (torch.arange(H)[None, :] < torch.tensor(heads)[:, None]).float())
        rows, cols = torch.arange(1, T)[:, None], torch.arange(T)[None, :]
        self.register_buffer("pos_mask", (cols <= rows).float())                  # (T-1, T): tau <= t
        g = torch.Generator().manual_seed(seed)
        self.A = nn.Parameter(init_scale * torch.randn(E, H, d, generator=g))
        self.B = nn.Parameter(init_scale * torch.randn(E, H, d, generator=g))
        self.P = nn.Parameter(init_scale * torch.randn(E, T - 1, T, generator=g))

    def heads(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The masked key-query and value diagonals ``(A, B)``, each (E, H, d); row h is head h."""
        m = self.head_mask[..., None]
        return self.A * m, self.B * m

    def positional_weights(self) -> torch.Tensor:
        """``P`` (E, T-1, T) with the non-causal entries zeroed; row t-1 holds the weights of position t."""
        return self.P * self.pos_mask

    def coupling(self) -> torch.Tensor:
        """``C = B^T A`` (E, d, d), ``C_jk = sum_h b_hj a_hk``."""
        A, B = self.heads()
        return (B.transpose(-1, -2) @ A).detach()

    def forward(self, s: torch.Tensor) -> torch.Tensor:
        if s.dim() == 3:
            s = s.unsqueeze(0)
        if s.dim() != 4 or s.shape[-2:] != (self.T, self.d) or s.shape[0] not in (1, self.n_members):
            raise ValueError(f"s must have shape (B, {self.T}, {self.d}) or ({self.n_members}, B, {self.T}, "
                             f"{self.d}), got {tuple(s.shape)}")
        A, B = (w.to(s.dtype) for w in self.heads())
        P = self.positional_weights().to(s.dtype)
        query = (s[..., :-1, :] if self.query == "previous" else s[..., 1:, :]).conj()   # s_{t-1} (or s_t)
        # score[h, t, tau] = sum_k a_hk s_tau,k conj(s_{t-1},k), weighted by P[t, tau]
        scores = torch.einsum("ehk,ebsk,ebtk->ebhts", A, s, query) * P[:, None, None]
        return torch.einsum("ebhts,ebsj,ehj->ebtj", scores, s, B)
