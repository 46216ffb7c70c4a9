"""Convolution-augmented attention (CAT; Li, Zhang, Huang & Oymak, AAAI 2025): torch modules only.

A CAT layer runs a short causal convolution over the token embeddings before the key, query and value
projections of a causal softmax attention layer ({eq}`eq-ch6-cat`; Li et al. 2025, the CAT layer of Sec. 2):

    Q = conv(H, f_q) W_q,   K = conv(H, f_k) W_k,   V = conv(H, f_v) W_v,
    out = softmax(mask(Q K^T / sqrt(d_head))) V W_o

with ``conv(H, f)_t = sum_{j < w} f_j * h_{t-j}`` (window w, per channel, zero before the prompt starts; the
book's one causal convolution :func:`iclcore.models.sequence_ops.causal_conv`).

* :class:`CausalConv1d`, :class:`CATAttention`: the layer;
* :class:`CAT`: the minimal one-layer CAT language model (embedding, CAT layer + residual, readout), which
  carries the hand-built solution of chapter 6;
* :func:`cat_block`: a factory that plugs the CAT block into :class:`iclcore.models.TinyGPT` (shared interface
  ``(d_model, n_heads) -> module`` mapping (B, T, d_model) -> (B, T, d_model), causally).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from iclcore import validate
from iclcore.models.sequence_ops import causal_conv, causal_mask

AttentionFactory = Callable[[int, int], nn.Module]


class CausalConv1d(nn.Module):
    """Short causal convolution along the sequence: ``y_t = sum_{j < w} f_j * h_{t-j}`` ({eq}`eq-ch6-cat`).

    ``weight`` has shape (w, d) (depthwise: one filter per channel) or (w, 1) (``one_dim=True``: one
    1-dimensional filter shared by all channels, the paper's "1-D" CAT). ``weight[j]`` multiplies the token
    j positions back; tokens before the start of the prompt are zero, so the layer never looks ahead
    (:func:`iclcore.models.sequence_ops.causal_conv`). Input and output: (B, T, d).
    """

    def __init__(self, d: int, window: int = 3, one_dim: bool = False):
        super().__init__()
        self.d = validate.positive_int("d", d)
        self.window = validate.positive_int("window", window)
        bound = 1.0 / math.sqrt(self.window)               # the default init of torch.nn.Conv1d
        self.weight = nn.Parameter(torch.empty(self.window, 1 if one_dim else self.d).uniform_(-bound, bound))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return causal_conv(h, self.weight)


class CATAttention(nn.Module):
    """Causal multi-head softmax attention with short convolutions on K/Q/V ({eq}`eq-ch6-cat`).

    Parameters
    ----------
    d_model, n_heads : width of the residual stream and number of heads (``d_model % n_heads == 0``).
    window : convolution window w; ``window=1`` keeps only a per-channel scale (no mixing of positions).
    conv_on : which of ``"q"``, ``"k"``, ``"v"`` get a convolution (``""`` = vanilla softmax attention).
    one_dim : share one 1-D filter across channels instead of one filter per channel.

    Shared attention interface: ``forward(h)`` maps (B, T, d_model) -> (B, T, d_model), causally.
    :meth:`scores` and :meth:`attention_map` expose the (B, n_heads, T, T) pre-softmax scores and
    attention probabilities.
    """

    def __init__(self, d_model: int, n_heads: int = 1, window: int = 3, conv_on: str = "qkv",
                 one_dim: bool = False):
        super().__init__()
        self.d_model = validate.positive_int("d_model", d_model)
        self.n_heads = validate.int_in_range("n_heads", n_heads, 1, self.d_model)
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model must be divisible by n_heads, got d_model={d_model}, n_heads={n_heads}")
        if not isinstance(conv_on, str) or not set(conv_on) <= set("qkv"):
            raise ValueError(f"conv_on must be a subset of 'qkv', got {conv_on!r}")
        self.window, self.conv_on = validate.positive_int("window", window), conv_on
        self.convs = nn.ModuleDict({p: CausalConv1d(d_model, window, one_dim) if p in conv_on else nn.Identity()
                                    for p in "qkv"})
        self.W_q, self.W_k, self.W_v, self.W_o = (nn.Linear(d_model, d_model, bias=False) for _ in range(4))

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        B, T, _ = x.shape
        return x.view(B, T, self.n_heads, -1).transpose(1, 2)            # (B, H, T, d_head)

    def scores(self, h: torch.Tensor) -> torch.Tensor:
        """Causally masked scores ``q_t . k_s / sqrt(d_head)`` (``-inf`` for s > t): (B, H, T, T)."""
        q = self._heads(self.W_q(self.convs["q"](h)))
        k = self._heads(self.W_k(self.convs["k"](h)))
        s = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
        return s.masked_fill(~causal_mask(h.shape[-2], h.device), float("-inf"))

    def attention_map(self, h: torch.Tensor) -> torch.Tensor:
        """Attention probabilities (B, H, T, T); row t sums to 1 over positions s <= t."""
        return self.scores(h).softmax(dim=-1)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        v = self._heads(self.W_v(self.convs["v"](h)))
        out = self.attention_map(h) @ v                              # (B, H, T, d_head)
        return self.W_o(out.transpose(1, 2).reshape(h.shape))


class CAT(nn.Module):
    """The minimal one-layer CAT language model: ``logits = readout(h + CATAttention(h))``, ``h = embed(x)``.

    No positional encoding, no normalisation, no MLP: nothing in the model depends on the prompt length.
    Chapter 6 sets its weights by hand (the construction {eq}`eq-ch6-construction`) and trains the same
    attention block inside :class:`iclcore.models.TinyGPT` (``n_layers=1``), whose block adds LayerNorm and
    an MLP. ``forward(tokens)``: (B, T) long -> logits (B, T, vocab_size). Parameters are drawn from ``seed``.
    """

    def __init__(self, vocab_size: int, d_model: int = 64, n_heads: int = 1, window: int = 3,
                 conv_on: str = "qkv", one_dim: bool = False, seed: int = 0):
        super().__init__()
        self.vocab_size = validate.positive_int("vocab_size", vocab_size)
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            self.embed = nn.Embedding(vocab_size, d_model)
            self.attn = CATAttention(d_model, n_heads, window=window, conv_on=conv_on, one_dim=one_dim)
            self.readout = nn.Linear(d_model, vocab_size, bias=False)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        h = self.embed(tokens)
        return self.readout(h + self.attn(h))

    def first_attention(self, tokens: torch.Tensor) -> tuple[CATAttention, torch.Tensor]:
        """The attention block and the hidden states it sees, ``(attn, h (B, T, d_model))``."""
        return self.attn, self.embed(tokens)


def cat_block(window: int = 3, conv_on: str = "qkv", one_dim: bool = False) -> AttentionFactory:
    """A factory ``(d_model, n_heads) -> CATAttention`` to plug into ``TinyGPT(attention=...)``."""
    validate.positive_int("window", window)
    if not isinstance(conv_on, str) or not set(conv_on) <= set("qkv"):
        raise ValueError(f"conv_on must be a subset of 'qkv', got {conv_on!r}")
    return lambda d_model, n_heads: CATAttention(d_model, n_heads, window=window, conv_on=conv_on,
                                                 one_dim=one_dim)
