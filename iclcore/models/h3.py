"""A simplified one-layer H3 (Fu et al. 2023), as analysed by Li, Rawat & Oymak (2024, Sec. 3).

For tokens ``Z`` (T, D) with T = n + 1 (the query last) and hidden width h:

    q = Z W_q,   k = Z W_k,   v = Z W_v                      (each T x h)
    u = k * v                                                (elementwise "gate")
    s_t = sum_{j <= t} f_{t-j} * u_j                         (causal *long* convolution, filter f: (n+1) x h)
    y_hat = ((q * s) W_o)_{T}                                (the output at the query position)

The paper's H3 also runs a shift-SSM on k and parameterises f as a state-space model; with free filter
taps of full length n + 1 neither matters for the prediction studied here (a short filter, as in real H3
code, could *not* express per-position weights). The part of y_hat that is odd in the labels is

    y_hat_odd = sum_i y_i x^T P_i x_i,   P_i = sum_c W_o[c] f_{n+1-i, c} g_c h_c^T      (Book eq. 2.4)

with ``g_c = W_q[:d, c]`` and ``h_c = W_v[d, c] W_k[:d, c] + W_k[d, c] W_v[:d, c]``: a *weighted* PGD whose
weight on example i comes from filter tap ``f_{n+1-i}`` (:meth:`H3.effective_preconditioners`,
:meth:`H3.effective_weights`). Tap 0 would let the query token convolve with itself; it carries no label,
so it is masked (fixed at 0), just as linear attention leaves the query out of its sum.
"""

from __future__ import annotations

import torch
from torch import nn

from iclcore import validate
from iclcore.models.linear_attention import ensemble_prompts


def causal_conv(u: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """Causal long convolution along the sequence: ``s_t = sum_{j<=t} f_{t-j} * u_j``, per channel.

    ``u``: (..., T, h); ``f``: (E, L, h) with L >= T (taps by lag). Returns (..., T, h). Written as a Toeplitz
    product for clarity (T is tiny here); an FFT gives the same result in O(T log T) for long sequences.
    """
    T = u.shape[-2]
    lag = torch.arange(T)[:, None] - torch.arange(T)[None, :]             # t - j
    K = f[:, lag.clamp(min=0), :] * (lag >= 0)[None, :, :, None]          # (E, T, T, h)
    return torch.einsum("etjh,e...jh->e...th", K, u)


class H3(nn.Module):
    """Simplified 1-layer H3 with a free long-convolution filter (one filter tap per lag).

    Parameters
    ----------
    token_dim : width D of a token (d + 1 for regression prompts).
    n_ctx : the longest number of examples n the model accepts (filter length n_ctx + 1).
    hidden : width h of q, k, v (default D).
    n_models : ensemble size E (see :mod:`iclcore.models`); left-padded prompts of several lengths can share
        one model because a zero token contributes nothing and taps are indexed by lag from the query.
    init_scale, seed : ``W_q, W_k, W_v ~ N(0, init_scale^2 / D)``, ``W_o ~ N(0, init_scale^2 / h)`` and the filter
        taps ``~ N(0, init_scale^2)``, all drawn from ``seed`` (random filter: flat weights must be *learned*).

    ``forward(Z)``: ``Z`` (B, T, D) or (E, B, T, D) with T - 1 <= n_ctx; returns (E, B).
    """

    def __init__(self, token_dim: int, n_ctx: int, hidden: int | None = None, n_models: int = 1,
                 init_scale: float = 0.3, seed: int = 0):
        super().__init__()
        D = validate.positive_int("token_dim", token_dim)
        L = validate.positive_int("n_ctx", n_ctx) + 1
        h = D if hidden is None else validate.positive_int("hidden", hidden)
        E = validate.positive_int("n_models", n_models)
        validate.positive("init_scale", init_scale)
        g = torch.Generator().manual_seed(seed)
        std = init_scale / D**0.5
        self.W_q = nn.Parameter(std * torch.randn(E, D, h, generator=g))
        self.W_k = nn.Parameter(std * torch.randn(E, D, h, generator=g))
        self.W_v = nn.Parameter(std * torch.randn(E, D, h, generator=g))
        self.W_o = nn.Parameter(init_scale / h**0.5 * torch.randn(E, h, generator=g))
        self.filter = nn.Parameter(init_scale * torch.randn(E, L, h, generator=g))
        self.register_buffer("tap_mask", (torch.arange(L) > 0).float()[None, :, None])  # tap 0 masked
        self.token_dim, self.n_ctx, self.hidden, self.n_models = D, L - 1, h, E

    def taps(self) -> torch.Tensor:
        """The filter with tap 0 masked, shape (E, n_ctx + 1, h)."""
        return self.filter * self.tap_mask

    def forward(self, Z: torch.Tensor) -> torch.Tensor:
        Z = ensemble_prompts(Z, self.token_dim, self.n_models)
        if Z.shape[-2] - 1 > self.n_ctx:
            raise ValueError(f"Z holds {Z.shape[-2] - 1} examples but the filter covers n_ctx={self.n_ctx}")
        T = Z.shape[-2]
        k = torch.einsum("ebtd,edh->ebth", Z, self.W_k)
        v = torch.einsum("ebtd,edh->ebth", Z, self.W_v)
        q_last = torch.einsum("ebd,edh->ebh", Z[..., -1, :], self.W_q)
        # Only the query position is read out, so we need the last row of causal_conv(k * v, taps) only:
        # s_T = sum_j f_{T-1-j} * u_j.
        f_last = self.taps()[:, :T, :].flip(1)                               # f_{T-1-j} for j = 0..T-1
        s_last = torch.einsum("ebth,eth->ebh", k * v, f_last)
        return torch.einsum("ebh,ebh,eh->eb", q_last, s_last, self.W_o)

    @torch.no_grad()
    def effective_preconditioners(self, n: int) -> torch.Tensor:
        """Per-position preconditioners ``P_i`` of eq. 2.4 for an n-example prompt, shape (E, n, d, d).

        The odd-in-labels part of the prediction is ``sum_i y_i x^T P_i x_i`` (position i = 1 first).
        """
        validate.int_in_range("n", n, 1, self.n_ctx)
        d = self.token_dim - 1
        G = self.W_q[:, :d, :]                                                  # g_c
        H = self.W_v[:, d, None, :] * self.W_k[:, :d, :] + self.W_k[:, d, None, :] * self.W_v[:, :d, :]  # h_c
        lagged = self.taps()[:, 1:n + 1, :].flip(1)                            # tap n+1-i for position i
        return torch.einsum("eac,ec,eic,ebc->eiab", G, self.W_o, lagged, H)

    @torch.no_grad()
    def effective_weights(self, n: int) -> torch.Tensor:
        """Sample weights ``omega_i`` (E, n), normalised to mean 1: ``P_i ~= omega_i * mean_j P_j``.

        ``omega_i`` is the least-squares coefficient of ``P_i`` on the mean preconditioner; when the model
        is an exact WPGD (``P_i = omega_i W``) it recovers the weights up to the overall scale.
        """
        P = self.effective_preconditioners(n)
        P_bar = P.mean(dim=1, keepdim=True)
        return (P * P_bar).sum((-1, -2)) / (P_bar * P_bar).sum((-1, -2))
