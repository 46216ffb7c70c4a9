"""Causal softmax attention, selective (temperature) attention, and the two one-layer models of chapter 5.

**Interface shared by every attention block of the book** (vanilla, selective, CAT): an ``nn.Module`` built as
``Block(d_model, n_heads, **kwargs)`` whose ``forward`` maps hidden states ``h`` of shape (B, T, d_model) to
(B, T, d_model), causally (position t sees positions 1..t). :class:`iclcore.models.TinyGPT` accepts any such
block. Blocks that can show their attention map offer ``attention_map(h) -> (B, n_heads, T, T)``.

Selective self-attention (SSA; Zhang et al., NeurIPS 2024) multiplies each query (and optionally each
value) by a learned scalar. On a query it is an *inverse temperature* (the book writes it vartheta, ``inv_temp``
in code; a temperature tau would divide the scores). The book's parameterisation, {eq}`eq-ch5-ssa`:

    inv_temp_q(x, i) = inv_temp_tok(x) * inv_temp_pos(i),
    inv_temp_tok(x) = softplus(u^T x + c) / softplus(c_0),          (u, c: attributes of TokenTemperature)
    inv_temp_pos(i) = 1 + softplus(beta) * log(i),                   (slope softplus(beta), the chapter's c)
    inv_temp_v(x) = 2 * sigmoid(u_v^T x + c_v),                      (the value scale)

one (u, c, beta, u_v, c_v) per head; i is the number of keys the query sees (its 1-based position).
At initialisation ``u = 0, c = c_0`` and ``u_v = 0, c_v = 0``, so the token and value temperatures are exactly
1; the position factor starts at ``1 + c_init log i`` with a small slope ``c_init = pos_slope`` (0.1 by
default; a softplus is never exactly 0). With ``pos_temp=False`` SSA therefore starts exactly as vanilla
attention, and with the position part it starts as vanilla attention with a mild log-length scaling. The
released code of the paper has only the position part (a learnable log-length slope per layer); the token
part here is the book's own form of the paper's description.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from iclcore import validate
from iclcore.models.sequence_ops import causal_mask

_SOFTPLUS_INV_1 = math.log(math.e - 1.0)  # softplus(_SOFTPLUS_INV_1) == 1


def _softplus_inv(y: float) -> float:
    """x with softplus(x) = y (y > 0)."""
    return y + math.log(-math.expm1(-y))


def rope(x: torch.Tensor, base: float = 10_000.0) -> torch.Tensor:
    """Rotary position embedding of queries or keys ``x`` (..., T, d_head) at positions 0..T-1 (d_head even)."""
    T, dh = x.shape[-2], x.shape[-1]
    inv_freq = base ** (-torch.arange(0, dh, 2, dtype=torch.float64) / dh)
    angle = torch.outer(torch.arange(T, dtype=torch.float64), inv_freq).repeat(1, 2).to(x.dtype)
    x1, x2 = x[..., : dh // 2], x[..., dh // 2:]
    return x * angle.cos() + torch.cat((-x2, x1), dim=-1) * angle.sin()


class TokenTemperature(nn.Module):
    """``inv_temp_tok(x) = softplus(u_h^T x + c_h) / softplus(c_0)`` per head ({eq}`eq-ch5-ssa`); 1 at init.

    ``forward(x)``: x (..., T, d) -> temperatures (..., n_heads, T).
    """

    def __init__(self, d: int, n_heads: int = 1):
        super().__init__()
        self.u = nn.Parameter(torch.zeros(n_heads, validate.positive_int("d", d)))
        self.c = nn.Parameter(torch.full((validate.positive_int("n_heads", n_heads),), _SOFTPLUS_INV_1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = torch.einsum("...td,hd->...ht", x, self.u) + self.c[:, None]
        return F.softplus(z) / F.softplus(torch.tensor(_SOFTPLUS_INV_1))


class PositionTemperature(nn.Module):
    """``inv_temp_pos(i) = 1 + slope_h * log(i)`` with ``slope_h = softplus(beta_h) > 0`` ({eq}`eq-ch5-ssa`).

    i is the number of keys the query sees. ``slope`` is the initial slope; ``learn=False`` keeps it fixed
    (fixed log-length scaling). ``forward(n_keys)``: (...,) tensor of key counts -> (n_heads, ...).
    """

    def __init__(self, n_heads: int = 1, slope: float = 0.1, learn: bool = True):
        super().__init__()
        validate.positive_int("n_heads", n_heads)
        beta = torch.full((n_heads,), _softplus_inv(validate.positive("slope", slope)))
        if learn:
            self.beta = nn.Parameter(beta)
        else:
            self.register_buffer("beta", beta)

    @property
    def slope(self) -> torch.Tensor:
        """The log-length slope per head, shape (n_heads,)."""
        return F.softplus(self.beta)

    def forward(self, n_keys: torch.Tensor) -> torch.Tensor:
        logn = torch.log(n_keys.to(self.beta.dtype))
        return 1 + self.slope.reshape(-1, *([1] * logn.dim())) * logn


class ValueTemperature(nn.Module):
    """``inv_temp_v(x) = 2 sigmoid(u_h^T x + c_h)`` in (0, 2), 1 at init ({eq}`eq-ch5-ssa`).

    ``forward(x)``: x (..., T, d) -> (..., n_heads, T).
    """

    def __init__(self, d: int, n_heads: int = 1):
        super().__init__()
        self.u = nn.Parameter(torch.zeros(n_heads, validate.positive_int("d", d)))
        self.c = nn.Parameter(torch.zeros(validate.positive_int("n_heads", n_heads)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 2 * torch.sigmoid(torch.einsum("...td,hd->...ht", x, self.u) + self.c[:, None])


class CausalSelfAttention(nn.Module):
    """Multi-head causal softmax attention, nanoGPT style (Vaswani et al. 2017).

    ``a_ij = softmax_{j<=i}(inv_temp_q(i) q_i^T k_j / sqrt(d_head))``, output ``W_o sum_j a_ij inv_temp_v(j) v_j``
    with every temperature 1 here; :class:`SelectiveAttention` overrides the two temperature methods.

    Parameters: ``d_model`` (divisible by ``n_heads``), ``n_heads``, ``bias`` (linear layers),
    ``rope`` (rotary position embedding on q and k).
    ``forward(h)``: (B, T, d_model) -> (B, T, d_model).
    """

    def __init__(self, d_model: int, n_heads: int, bias: bool = False, rope: bool = False):
        super().__init__()
        validate.positive_int("d_model", d_model)
        validate.int_in_range("n_heads", n_heads, 1, d_model)
        if d_model % n_heads:
            raise ValueError(f"d_model must be divisible by n_heads, got d_model={d_model}, n_heads={n_heads}")
        self.d_model, self.n_heads, self.d_head, self.rope = d_model, n_heads, d_model // n_heads, rope
        if rope and self.d_head % 2:
            raise ValueError(f"rope needs an even head size d_model / n_heads, got {self.d_head}")
        self.qkv = nn.Linear(d_model, 3 * d_model, bias=bias)
        self.proj = nn.Linear(d_model, d_model, bias=bias)

    def query_temperature(self, h: torch.Tensor) -> torch.Tensor:
        """Inverse temperature of each query, shape (B, n_heads, T). Vanilla: all ones."""
        return h.new_ones(h.shape[0], self.n_heads, h.shape[1])

    def value_temperature(self, h: torch.Tensor) -> torch.Tensor:
        """Scale of each value, shape (B, n_heads, T). Vanilla: all ones."""
        return h.new_ones(h.shape[0], self.n_heads, h.shape[1])

    def _qkv(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        if h.dim() != 3 or h.shape[-1] != self.d_model:
            raise ValueError(f"h must have shape (B, T, {self.d_model}), got {tuple(h.shape)}")
        B, T, _ = h.shape
        q, k, v = self.qkv(h).view(B, T, 3, self.n_heads, self.d_head).permute(2, 0, 3, 1, 4)
        if self.rope:
            q, k = rope(q), rope(k)
        q = q * self.query_temperature(h)[..., None]          # (B, H, T, d_head)
        v = v * self.value_temperature(h)[..., None]
        return q, k, v

    def scores(self, h: torch.Tensor, causal: bool = True) -> torch.Tensor:
        """Attention logits ``inv_temp_q q_i^T k_j / sqrt(d_head)``, shape (B, n_heads, T, T); -inf above the
        diagonal."""
        q, k, _ = self._qkv(h)
        s = q @ k.transpose(-1, -2) / math.sqrt(self.d_head)
        return s.masked_fill(~causal_mask(h.shape[1], h.device), float("-inf")) if causal else s

    def attention_map(self, h: torch.Tensor) -> torch.Tensor:
        """Causal attention weights ``a_ij``, shape (B, n_heads, T, T); each row sums to 1."""
        return torch.softmax(self.scores(h), dim=-1)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        q, k, v = self._qkv(h)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)   # = attention_map(h) @ v
        return self.proj(y.transpose(1, 2).reshape(h.shape))


class SelectiveAttention(CausalSelfAttention):
    """Selective self-attention (SSA; Zhang et al. 2024): queries scaled by ``inv_temp_tok(x_i) * inv_temp_pos(i)``,
    values optionally by ``inv_temp_v(x_j)`` ({eq}`eq-ch5-ssa`).

    Parameters (besides those of :class:`CausalSelfAttention`): ``token_temp``, ``pos_temp``, ``value_temp``
    switch the three temperatures on; ``pos_slope`` is the initial log-length slope and ``learn_pos_slope=False``
    keeps it fixed. The token and value temperatures start at 1; the position factor starts at
    ``1 + pos_slope * log i``. With all three off the layer *is* vanilla attention.
    """

    def __init__(self, d_model: int, n_heads: int, token_temp: bool = True, pos_temp: bool = True,
                 value_temp: bool = False, pos_slope: float = 0.1, learn_pos_slope: bool = True,
                 bias: bool = False, rope: bool = False):
        super().__init__(d_model, n_heads, bias=bias, rope=rope)
        self.inv_temp_tok = TokenTemperature(d_model, n_heads) if token_temp else None
        self.inv_temp_pos = PositionTemperature(n_heads, pos_slope, learn_pos_slope) if pos_temp else None
        self.inv_temp_v = ValueTemperature(d_model, n_heads) if value_temp else None

    def query_temperature(self, h: torch.Tensor) -> torch.Tensor:
        inv_temp = super().query_temperature(h)
        if self.inv_temp_tok is not None:
            inv_temp = inv_temp * self.inv_temp_tok(h)
        if self.inv_temp_pos is not None:
            inv_temp = inv_temp * self.inv_temp_pos(torch.arange(1, h.shape[1] + 1, device=h.device))[None]
        return inv_temp

    def value_temperature(self, h: torch.Tensor) -> torch.Tensor:
        inv_temp = super().value_temperature(h)
        return inv_temp if self.inv_temp_v is None else inv_temp * self.inv_temp_v(h)


# ----------------------------------------------------------------------------------------------------------
# The one-layer models of the chapter's designed tasks (query-selectivity, needle retrieval, value-selectivity)

class BilinearSoftmax(nn.Module):
    """Row-stochastic transition model ``P_hat(j | i) = softmax_j(inv_temp(x_i) x_i^T W x_j)`` over all K tokens
    ({eq}`eq-ch5-spiky`): one attention layer whose K queries and K keys are the fixed embeddings ``X`` (K, d).

    ``token_temp=False`` is vanilla attention (inv_temp = 1). ``forward(X)`` returns log-probabilities (K, K).
    """

    def __init__(self, d: int, token_temp: bool, init_scale: float = 0.1, seed: int = 0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        d = validate.positive_int("d", d)
        self.W = nn.Parameter(validate.positive("init_scale", init_scale) * torch.randn(d, d, generator=g))
        self.inv_temp = TokenTemperature(d, 1) if token_temp else None

    def temperature(self, X: torch.Tensor) -> torch.Tensor:
        """inv_temp(x_k) for each token, shape (K,)."""
        return X.new_ones(X.shape[0]) if self.inv_temp is None else self.inv_temp(X)[0]

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return torch.log_softmax(self.temperature(X)[:, None] * (X @ self.W @ X.T), dim=-1)

    @torch.no_grad()
    def normalized_weight_norm(self, X: torch.Tensor) -> torch.Tensor:
        """``||W||_F`` after moving the overall scale of inv_temp into W (geometric mean of inv_temp over tokens := 1).

        Only the product inv_temp(x) W is identified, so this is the fair norm to compare with vanilla's ``||W||_F``
        (for vanilla, inv_temp = 1 and it is ``||W||_F``). A 0-dimensional tensor.
        """
        return self.W.norm() * self.temperature(X).log().mean().exp()


class NeedleAttention(nn.Module):
    """One-head attention of the needle task: the query ``x_q`` reads the values of the n context tokens.

    Prompt ``Z`` (B, n+1, d+1): tokens ``[x_j; y_j]`` then the query ``[x_q; 0]``. Prediction
    ({eq}`eq-ch5-needle`) ``y_hat = sum_j a_j y_j``, ``a = softmax_j(inv_temp_pos(n) (W_q x_q)^T (W_k x_j) / sqrt(d))``
    over the n context tokens. ``pos_temp=False`` is vanilla attention; ``pos_temp=True`` uses
    ``inv_temp_pos(n) = 1 + slope log n``. ``value_temp=True`` also scales each value by the value temperature of
    its token, ``y_hat = sum_j a_j inv_temp_v(x_j) y_j`` ({eq}`eq-ch5-value`). ``forward(Z)`` -> (B,).
    """

    def __init__(self, d: int, pos_temp: bool, pos_slope: float = 0.1, init_scale: float = 1.0, seed: int = 0,
                 value_temp: bool = False):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        d = validate.positive_int("d", d)
        std = validate.positive("init_scale", init_scale) / d**0.5
        self.W_q = nn.Parameter(torch.eye(d) + std * torch.randn(d, d, generator=g))
        self.W_k = nn.Parameter(torch.eye(d) + std * torch.randn(d, d, generator=g))
        self.inv_temp_pos = PositionTemperature(1, pos_slope) if pos_temp else None
        self.inv_temp_v = ValueTemperature(d, 1) if value_temp else None
        self.d = d

    def temperature(self, n: int) -> float:
        """inv_temp_pos(n) (1 for vanilla)."""
        if self.inv_temp_pos is None:
            return 1.0
        return float(self.inv_temp_pos(torch.tensor(float(n)))[0].detach())

    def scores(self, Z: torch.Tensor) -> torch.Tensor:
        """Tempered logits of the query over the n context tokens, shape (B, n)."""
        if Z.dim() != 3 or Z.shape[-1] != self.d + 1:
            raise ValueError(f"Z must have shape (B, n+1, {self.d + 1}), got {tuple(Z.shape)}")
        x, xq = Z[:, :-1, :-1], Z[:, -1, :-1]
        s = torch.einsum("bd,bnd->bn", xq @ self.W_q.T, x @ self.W_k.T) / self.d**0.5
        if self.inv_temp_pos is not None:
            s = s * self.inv_temp_pos(torch.tensor(float(x.shape[1])))[0]
        return s

    @torch.no_grad()
    def query_geometry(self, Z: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Untempered logit on the target key and the norm kappa = ||w|| of the query's logit vector.

        The logit of the query on a key x is ``w^T x`` with ``w = W_k^T W_q x_q / sqrt(d)``; the inputs of
        {eq}`eq-ch5-random`. ``target`` (B,) indexes the target key. Returns two (B,) tensors.
        """
        xq = Z[:, -1, :-1]
        w = (xq @ self.W_q.T) @ self.W_k / self.d**0.5                      # (B, d)
        x_t = Z[torch.arange(Z.shape[0]), target, :-1]
        return (w * x_t).sum(-1), w.norm(dim=-1)

    def attention_map(self, Z: torch.Tensor) -> torch.Tensor:
        """Attention of the query over the context, shape (B, n)."""
        return torch.softmax(self.scores(Z), dim=-1)

    def value_scale(self, Z: torch.Tensor) -> torch.Tensor:
        """``inv_temp_v(x_j)`` of the n context tokens, shape (B, n) (all ones without a value temperature)."""
        if self.inv_temp_v is None:
            return Z.new_ones(Z.shape[0], Z.shape[1] - 1)
        return self.inv_temp_v(Z[:, :-1, :-1])[:, 0]

    def forward(self, Z: torch.Tensor) -> torch.Tensor:
        values = Z[:, :-1, -1] if self.inv_temp_v is None else Z[:, :-1, -1] * self.value_scale(Z)
        return (self.attention_map(Z) * values).sum(-1)
