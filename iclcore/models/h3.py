"""A simplified one-layer H3 (Fu et al. 2023), as analysed by Li, Rawat & Oymak (2024, Sec. 3).

For tokens ``Z`` (T, D) with T = n + 1 (the query last) and hidden width h:

    q = Z W_q,   k = Z W_k,   v = Z W_v                      (each T x h)
    u = k * v                                                (elementwise "gate")
    s_t = sum_{j <= t} f_{t-j} * u_j                         (causal *long* convolution, filter f: (n+1) x h,
                                                              :func:`iclcore.models.sequence_ops.causal_conv`)
    y_hat = ((q * s) W_o)_{T}                                (the output at the query position)

The paper's H3 also runs a shift-SSM on k and parameterises f as a state-space model; with free filter
taps of full length n + 1 neither matters for the prediction studied here (a short filter, as in real H3
code, could *not* express per-position weights). The part of y_hat that is odd in the labels is

    y_hat_odd = sum_i y_i x^T P_i x_i,   P_i = sum_c W_o[c] f_{n+1-i, c} g_c h_c^T      ({eq}`eq-ch2-h3`)

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
from iclcore.models.sequence_ops import causal_conv


class H3(nn.Module):
    """Simplified 1-layer H3 with a free long-convolution filter (one filter tap per lag).

    Parameters
    ----------
    token_dim : width D of a token (d + 1 for regression prompts).
    n_ctx : the longest number of examples n the model accepts (filter length n_ctx + 1).
    hidden : width h of q, k, v (default D).
    n_members : ensemble size E (see :mod:`iclcore.models`); left-padded prompts of several lengths can share
        one model because a zero token contributes nothing and taps are indexed by lag from the query.
    filter_length : number of taps (lags 1, ..., filter_length) the filter may use; default ``n_ctx`` (a long
        filter that reaches every example). A short filter, as in the short convolutions of real H3 code,
        cannot reach (or weight) examples further than ``filter_length`` positions from the query.
    init_scale, seed : ``W_q, W_k, W_v ~ N(0, init_scale^2 / D)``, ``W_o ~ N(0, init_scale^2 / h)`` and the filter
        taps ``~ N(0, init_scale^2)``, all drawn from ``seed`` (random filter: flat weights must be *learned*).

    ``forward(Z)``: ``Z`` (B, T, D) or (E, B, T, D) with T - 1 <= n_ctx; returns (E, B).
    """

    def __init__(self, token_dim: int, n_ctx: int, hidden: int | None = None, n_members: int = 1,
                 filter_length: int | None = None, init_scale: float = 0.3, seed: int = 0):
        super().__init__()
        D = validate.positive_int("token_dim", token_dim)
        L = validate.positive_int("n_ctx", n_ctx) + 1
        h = D if hidden is None else validate.positive_int("hidden", hidden)
        E = validate.positive_int("n_members", n_members)
        reach = L - 1 if filter_length is None else validate.int_in_range("filter_length", filter_length, 1, L - 1)
        validate.positive("init_scale", init_scale)
        g = torch.Generator().manual_seed(seed)
        std = init_scale / D**0.5
        self.W_q = nn.Parameter(std * torch.randn(E, D, h, generator=g))
        self.W_k = nn.Parameter(std * torch.randn(E, D, h, generator=g))
        self.W_v = nn.Parameter(std * torch.randn(E, D, h, generator=g))
        self.W_o = nn.Parameter(init_scale / h**0.5 * torch.randn(E, h, generator=g))
        self.filter = nn.Parameter(init_scale * torch.randn(E, L, h, generator=g))
        lags = torch.arange(L)
        # tap 0 (the query with itself) carries no label: masked; so are taps beyond filter_length
        self.register_buffer("tap_mask", ((lags > 0) & (lags <= reach)).float()[None, :, None])
        self.token_dim, self.n_ctx, self.hidden, self.n_members, self.filter_length = D, L - 1, h, E, reach

    def taps(self) -> torch.Tensor:
        """The filter with tap 0 (and taps beyond ``filter_length``) masked, shape (E, n_ctx + 1, h)."""
        return self.filter * self.tap_mask

    def forward(self, Z: torch.Tensor) -> torch.Tensor:
        Z = ensemble_prompts(Z, self.token_dim, self.n_members)
        if Z.shape[-2] - 1 > self.n_ctx:
            raise ValueError(f"Z holds {Z.shape[-2] - 1} examples but the filter covers n_ctx={self.n_ctx}")
        k = torch.einsum("ebtd,edh->ebth", Z, self.W_k)
        v = torch.einsum("ebtd,edh->ebth", Z, self.W_v)
        s = causal_conv(k * v, self.taps()[:, None], last_only=True)        # (E, B, 1, h), one filter per member
        q_last = torch.einsum("ebd,edh->ebh", Z[..., -1, :], self.W_q)      # only the query position is read
        return torch.einsum("ebh,ebh,eh->eb", q_last, s[..., 0, :], self.W_o)

    @torch.no_grad()
    def effective_preconditioners(self, n: int) -> torch.Tensor:
        """Per-position preconditioners ``P_i`` of {eq}`eq-ch2-h3` for an n-example prompt, shape (E, n, d, d).

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
