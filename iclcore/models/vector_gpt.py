"""A small GPT-2-style transformer on real-valued tokens, with a linear read-in and read-out (after Garg et al.
2022 and Li, Ildiz, Papailiopoulos & Oymak 2023), batched over ensemble members.

:class:`VectorGPT` is the backbone: tokens ``u_t in R^{d_in}`` -> linear read-in (+ learned positions) ->
``n_layers`` pre-LayerNorm blocks ``h += attn(LN(h)); h += MLP(LN(h))`` (causal softmax attention, GELU MLP of
width 4 d_model) -> LN -> linear read-out to ``R^{d_out}`` at every position. It is the block of
:class:`iclcore.models.TinyGPT` (same pre-LN layout, same GPT-2 initialisation N(0, 0.02^2)), rewritten so that
E independent copies (``n_members=E``) run as one batched pass: every weight has a leading member axis.
:class:`iclcore.models.TinyGPT` reads token ids; this one reads vectors.

:class:`RegressionGPT` puts a regression prompt through it as the interleaved sequence
``x_1, y_1, x_2, y_2, ..., x_n, y_n`` ({eq}`eq-ch12-tokens`): an x-token is ``[x_i; 0]``, a y-token ``[0; y_i]``
(width d+1; the paper's format) or, with ``pair_tokens=True``, ``[x_i; y_i]`` (the label token carries its
input, which spares the model a previous-token head), and the prediction of ``y_i`` is read out at the token of
``x_i``, which (causally) sees the ``i-1`` earlier examples and ``x_i`` but not ``y_i``. One forward pass
therefore returns the prediction at every prompt length ``k = 0, ..., n-1`` (the call signature of the
estimators in :mod:`iclcore.theory.estimators`).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from iclcore import validate

READOUTS = ("x", "y")


class MemberLinear(nn.Module):
    """E independent affine maps ``u W_e + b_e``: u (E, ..., d_in) -> (E, ..., d_out)."""

    def __init__(self, n_members: int, d_in: int, d_out: int, bias: bool = True):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(n_members, d_in, d_out))
        self.bias = nn.Parameter(torch.zeros(n_members, 1, d_out)) if bias else None

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        E, shape = u.shape[0], u.shape[1:-1]
        flat = u.reshape(E, -1, u.shape[-1])
        out = flat @ self.weight if self.bias is None else torch.baddbmm(self.bias, flat, self.weight)
        return out.reshape(E, *shape, -1)


class MemberLayerNorm(nn.Module):
    """LayerNorm over the last axis with one (gain, shift) per member: h (E, B, T, D) -> (E, B, T, D)."""

    def __init__(self, n_members: int, d_model: int):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n_members, 1, 1, d_model))
        self.bias = nn.Parameter(torch.zeros(n_members, 1, 1, d_model))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(h, h.shape[-1:]) * self.weight + self.bias


class MemberBlock(nn.Module):
    """Pre-LN block ``h + attn(LN(h))`` then ``h + MLP(LN(h))`` for E members at once; h (E, B, T, D).

    ``attention=False`` replaces the attention by zero (the block becomes a per-token MLP: no token sees another).
    """

    def __init__(self, n_members: int, d_model: int, n_heads: int, attention: bool = True):
        super().__init__()
        self.n_heads, self.attention = n_heads, attention
        self.ln1, self.ln2 = MemberLayerNorm(n_members, d_model), MemberLayerNorm(n_members, d_model)
        self.qkv = MemberLinear(n_members, d_model, 3 * d_model)
        self.proj = MemberLinear(n_members, d_model, d_model)
        self.fc = MemberLinear(n_members, d_model, 4 * d_model)
        self.out = MemberLinear(n_members, 4 * d_model, d_model)

    def attend(self, h: torch.Tensor) -> torch.Tensor:
        """Causal multi-head softmax attention of every member, (E, B, T, D) -> (E, B, T, D)."""
        E, B, T, D = h.shape
        H = self.n_heads
        q, k, v = self.qkv(h).reshape(E * B, T, 3, H, D // H).permute(2, 0, 3, 1, 4)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)           # (E*B, H, T, D/H)
        return self.proj(y.transpose(1, 2).reshape(E, B, T, D))

    def attention_map(self, h: torch.Tensor) -> torch.Tensor:
        """Causal softmax attention weights of every head, (E, B, T, D) -> (E, B, H, T, T) (rows sum to 1).

        The weights the block would use on input ``h`` (before ``ln1``), also when ``attention=False``."""
        E, B, T, D = h.shape
        H = self.n_heads
        q, k, _ = self.qkv(self.ln1(h)).reshape(E, B, T, 3, H, D // H).permute(3, 0, 1, 4, 2, 5)
        scores = q @ k.transpose(-1, -2) / math.sqrt(D // H)                     # (E, B, H, T, T)
        mask = torch.ones(T, T, dtype=torch.bool, device=h.device).triu(1)
        return torch.softmax(scores.masked_fill(mask, float("-inf")), dim=-1)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        if self.attention:
            h = h + self.attend(self.ln1(h))
        return h + self.out(F.gelu(self.fc(self.ln2(h))))


class VectorGPT(nn.Module):
    """GPT-2-style causal transformer on real-valued tokens, E members batched ({eq}`eq-ch12-tokens`).

    Parameters
    ----------
    d_in, d_out : token width read in, and output width read out at every position.
    d_model, n_layers, n_heads : the usual sizes (``d_model`` divisible by ``n_heads``).
    max_len : longest sequence (rows of the learned position table).
    n_members : number E of independent models trained as one batch (see :mod:`iclcore.models`).
    attention : ``False`` removes every attention layer (a per-token MLP; for break switches and tests).
    seed : initialisation, GPT-2 style: every weight and the position table N(0, 0.02^2), biases 0, LayerNorm
        gains 1; member e is initialised exactly as a one-member model with seed ``seed + e``.

    ``forward(u)``: u (B, T, d_in) (shared by every member) or (E, B, T, d_in) -> (E, B, T, d_out).
    """

    def __init__(self, d_in: int, d_out: int, d_model: int = 32, n_layers: int = 2, n_heads: int = 2,
                 max_len: int = 64, n_members: int = 1, attention: bool = True, seed: int = 0):
        super().__init__()
        self.d_in = validate.positive_int("d_in", d_in)
        self.d_out = validate.positive_int("d_out", d_out)
        validate.positive_int("d_model", d_model)
        validate.positive_int("n_layers", n_layers)
        validate.int_in_range("n_heads", n_heads, 1, d_model)
        if d_model % n_heads:
            raise ValueError(f"d_model must be divisible by n_heads, got d_model={d_model}, n_heads={n_heads}")
        self.max_len = validate.positive_int("max_len", max_len)
        self.n_members = E = validate.positive_int("n_members", n_members)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValueError(f"seed must be an int, got {seed!r}")
        self.read_in = MemberLinear(E, d_in, d_model)
        self.pos = nn.Parameter(torch.zeros(E, 1, max_len, d_model))
        self.blocks = nn.ModuleList(MemberBlock(E, d_model, n_heads, attention) for _ in range(n_layers))
        self.ln_f = MemberLayerNorm(E, d_model)
        self.read_out = MemberLinear(E, d_model, d_out)
        self._init_weights(seed)

    @torch.no_grad()
    def _init_weights(self, seed: int) -> None:
        for e in range(self.n_members):
            g = torch.Generator().manual_seed(seed + e)
            for name, p in self.named_parameters():
                if name.endswith("weight") and "ln" not in name or name == "pos":
                    p[e].copy_(0.02 * torch.randn(p.shape[1:], generator=g))

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        if u.dim() == 3:
            u = u.unsqueeze(0)
        if u.dim() != 4 or u.shape[-1] != self.d_in or u.shape[0] not in (1, self.n_members) \
                or u.shape[-2] > self.max_len:
            raise ValueError(f"u must have shape (B, T, {self.d_in}) or ({self.n_members}, B, T, {self.d_in}) "
                             f"with T <= max_len={self.max_len}, got {tuple(u.shape)}")
        u = u.expand(self.n_members, *u.shape[1:])
        h = self.read_in(u) + self.pos[:, :, : u.shape[-2]]
        for block in self.blocks:
            h = block(h)
        return self.read_out(self.ln_f(h))

    @torch.no_grad()
    def attention_maps(self, u: torch.Tensor) -> list[torch.Tensor]:
        """Attention weights of every layer on tokens u (as in ``forward``): one (E, B, n_heads, T, T) per layer."""
        if u.dim() == 3:
            u = u.unsqueeze(0)
        u = u.expand(self.n_members, *u.shape[1:])
        h, maps = self.read_in(u) + self.pos[:, :, : u.shape[-2]], []
        for block in self.blocks:
            maps.append(block.attention_map(h))
            h = block(h)
        return maps


def interleave(Z: torch.Tensor, pair_tokens: bool = False) -> torch.Tensor:
    """Regression pairs ``Z = [x_i, y_i]`` (..., n, d+1) -> tokens ``[x_1;0], [0;y_1], ..., [0;y_n]`` (..., 2n, d+1)
    ({eq}`eq-ch12-tokens`); with ``pair_tokens=True`` the label token carries its input too, ``[x_i; y_i]``."""
    x_tok, y_tok = Z.clone(), Z.clone()
    x_tok[..., -1] = 0.0
    if not pair_tokens:
        y_tok[..., :-1] = 0.0
    return torch.stack([x_tok, y_tok], dim=-2).reshape(*Z.shape[:-2], 2 * Z.shape[-2], Z.shape[-1])


class RegressionGPT(nn.Module):
    """:class:`VectorGPT` on interleaved regression prompts: the prediction of every label from its prefix.

    Parameters
    ----------
    d, n : feature dimension and number of (x, y) pairs per prompt (the sequence has 2n tokens).
    d_model, n_layers, n_heads, n_members, attention, seed : as in :class:`VectorGPT`.
    readout : ``"x"`` (default) reads the prediction of ``y_i`` at the token of ``x_i``; ``"y"`` reads it at
        the token of ``y_i``, which sees the label it should predict (a leak, kept to test for peeking).
    pair_tokens : the label token is ``[x_i; y_i]`` instead of the paper's ``[0; y_i]``.

    ``forward(Z)``: pairs Z (B, n, d+1) or (E, B, n, d+1) -> predictions (E, B, n); entry k uses the first k
    pairs and ``x_{k+1}``.
    """

    def __init__(self, d: int, n: int, d_model: int = 32, n_layers: int = 2, n_heads: int = 2,
                 n_members: int = 1, attention: bool = True, readout: str = "x", pair_tokens: bool = False,
                 seed: int = 0):
        super().__init__()
        self.d = validate.positive_int("d", d)
        self.n = validate.positive_int("n", n)
        if readout not in READOUTS:
            raise ValueError(f"readout must be one of {READOUTS}, got {readout!r}")
        self.readout, self.pair_tokens = readout, bool(pair_tokens)
        self.gpt = VectorGPT(d + 1, 1, d_model, n_layers, n_heads, 2 * n, n_members, attention, seed)

    @property
    def n_members(self) -> int:
        return self.gpt.n_members

    def forward(self, Z: torch.Tensor) -> torch.Tensor:
        if Z.dim() not in (3, 4) or Z.shape[-1] != self.d + 1 or Z.shape[-2] > self.n:
            raise ValueError(f"Z must have shape (B, n, {self.d + 1}) or (E, B, n, {self.d + 1}) with n <= "
                             f"{self.n}, got {tuple(Z.shape)}")
        out = self.gpt(interleave(Z, self.pair_tokens))[..., 0]                                 # (E, B, 2n)
        return out[..., 0::2] if self.readout == "x" else out[..., 1::2]


class NextStateGPT(nn.Module):
    """:class:`VectorGPT` on a trajectory: predicts ``s_{t+1}`` at every position t ({eq}`eq-ch12-lds`).

    Parameters
    ----------
    d, T : state dimension and the longest trajectory (number of states read).
    pair_tokens : token t is ``[s_t; s_{t-1}]`` (``s_0 = 0``), i.e. the transition that ends at ``s_t``
        ({eq}`eq-ch12-lds-tokens`); ``False`` reads the states alone, as the paper does.
    d_model, n_layers, n_heads, n_members, attention, seed : as in :class:`VectorGPT`.

    ``forward(S)``: states (B, T, d) or (E, B, T, d) -> next-state predictions (E, B, T, d).
    """

    def __init__(self, d: int, T: int, d_model: int = 32, n_layers: int = 2, n_heads: int = 2,
                 n_members: int = 1, attention: bool = True, pair_tokens: bool = True, seed: int = 0):
        super().__init__()
        self.d = validate.positive_int("d", d)
        self.T = validate.positive_int("T", T)
        self.pair_tokens = bool(pair_tokens)
        width = 2 * d if self.pair_tokens else d
        self.gpt = VectorGPT(width, d, d_model, n_layers, n_heads, T, n_members, attention, seed)

    @property
    def n_members(self) -> int:
        return self.gpt.n_members

    def forward(self, S: torch.Tensor) -> torch.Tensor:
        if S.dim() not in (3, 4) or S.shape[-1] != self.d or S.shape[-2] > self.T:
            raise ValueError(f"S must have shape (B, T, {self.d}) or (E, B, T, {self.d}) with T <= {self.T}, "
                             f"got {tuple(S.shape)}")
        if self.pair_tokens:
            S = torch.cat([S, F.pad(S, (0, 0, 1, 0))[..., :-1, :]], dim=-1)    # [s_t; s_{t-1}]
        return self.gpt(S)


def param_count(model: nn.Module) -> int:
    """Parameters of one member (the total divided by ``n_members``)."""
    total = sum(p.numel() for p in model.parameters())
    return total // getattr(model, "n_members", 1)


__all__ = ["MemberLinear", "NextStateGPT", "RegressionGPT", "VectorGPT", "interleave", "param_count"]
