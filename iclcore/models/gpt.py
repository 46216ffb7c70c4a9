"""TinyGPT: a small causal language model a reader can hold in their head (after nanoGPT).

token embedding (+ learned positions) -> n_layers x [h += attn(LN(h)); h += MLP(LN(h))] -> LN -> vocab logits.

The attention block is pluggable: ``"vanilla"`` (:class:`CausalSelfAttention`), ``"ssa"``
(:class:`SelectiveAttention`), or any callable ``(d_model, n_heads) -> nn.Module`` that follows the interface
of :mod:`iclcore.models.selective_attention` (h (B, T, d_model) -> (B, T, d_model), causal), e.g. a CAT block
(:func:`iclcore.models.cat.cat_block`).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from iclcore import validate
from iclcore.models.selective_attention import CausalSelfAttention, SelectiveAttention

POS_ENCODINGS = ("learned", "rope", "none")


class MLP(nn.Module):
    """Position-wise feed-forward block ``W_2 GELU(W_1 h)`` with hidden width 4 d_model."""

    def __init__(self, d_model: int):
        super().__init__()
        self.fc = nn.Linear(d_model, 4 * d_model)
        self.proj = nn.Linear(4 * d_model, d_model)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.proj(nn.functional.gelu(self.fc(h)))


class Block(nn.Module):
    """Pre-norm transformer block: ``h + attn(LN(h))`` then ``h + MLP(LN(h))``."""

    def __init__(self, d_model: int, attn: nn.Module):
        super().__init__()
        self.ln1, self.attn = nn.LayerNorm(d_model), attn
        self.ln2, self.mlp = nn.LayerNorm(d_model), MLP(d_model)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        h = h + self.attn(self.ln1(h))
        return h + self.mlp(self.ln2(h))


class TinyGPT(nn.Module):
    """A small causal GPT with a pluggable attention block.

    Parameters
    ----------
    vocab_size, d_model, n_layers, n_heads : the usual sizes (d_model divisible by n_heads).
    max_len : longest sequence the model accepts (the learned position table has this many rows).
    attention : ``"vanilla"``, ``"ssa"`` or a callable ``(d_model, n_heads) -> nn.Module``.
    pos_encoding : ``"learned"`` (absolute, added to the embeddings), ``"rope"`` (rotary, inside the built-in
        attention blocks only) or ``"none"``.
    attn_kwargs : extra keyword arguments for the built-in blocks (e.g. ``{"value_temp": True}`` for SSA).
    seed : parameter initialisation: every Linear and Embedding, also inside a custom attention block, is drawn
        from N(0, 0.02^2) as in GPT-2 (biases 0); other parameters keep their own initialisation.

    ``forward(idx)``: token ids (B, T) -> next-token logits (B, T, vocab_size).
    """

    def __init__(self, vocab_size: int, d_model: int = 64, n_layers: int = 2, n_heads: int = 4,
                 max_len: int = 256, attention: str | Callable[[int, int], nn.Module] = "vanilla",
                 pos_encoding: str = "learned", attn_kwargs: dict | None = None, seed: int = 0):
        super().__init__()
        validate.positive_int("vocab_size", vocab_size)
        validate.positive_int("d_model", d_model)
        validate.positive_int("n_layers", n_layers)
        validate.positive_int("max_len", max_len)
        if pos_encoding not in POS_ENCODINGS:
            raise ValueError(f"pos_encoding must be one of {POS_ENCODINGS}, got {pos_encoding!r}")
        kwargs = dict(attn_kwargs or {})
        if attention in ("vanilla", "ssa"):
            cls = CausalSelfAttention if attention == "vanilla" else SelectiveAttention
            kwargs["rope"] = pos_encoding == "rope"
            make = lambda: cls(d_model, n_heads, **kwargs)  # noqa: E731
        elif callable(attention):
            if pos_encoding == "rope" or kwargs:
                raise ValueError("pos_encoding='rope' and attn_kwargs work with the built-in attention only; "
                                 "pass them to your own block instead")
            make = lambda: attention(d_model, n_heads)  # noqa: E731
        else:
            raise ValueError(f"attention must be 'vanilla', 'ssa' or a callable (d_model, n_heads) -> module, "
                             f"got {attention!r}")
        with torch.random.fork_rng():  # seeded construction that leaves the global random state alone
            torch.manual_seed(seed)
            self.tok_emb = nn.Embedding(vocab_size, d_model)
            self.pos_emb = nn.Embedding(max_len, d_model) if pos_encoding == "learned" else None
            self.blocks = nn.ModuleList(Block(d_model, make()) for _ in range(n_layers))
            self.ln_f = nn.LayerNorm(d_model)
            self.head = nn.Linear(d_model, vocab_size, bias=False)
        self.max_len, self.vocab_size = max_len, vocab_size
        self._init_weights(seed)

    @torch.no_grad()
    def _init_weights(self, seed: int) -> None:
        """GPT-2 initialisation of every Linear / Embedding (other parameters keep their own init)."""
        g = torch.Generator().manual_seed(seed)
        for module in self.modules():
            if isinstance(module, nn.Linear | nn.Embedding):
                module.weight.copy_(0.02 * torch.randn(module.weight.shape, generator=g))
                if getattr(module, "bias", None) is not None:
                    module.bias.zero_()

    def embed(self, idx: torch.Tensor) -> torch.Tensor:
        """Token (+ position) embeddings, (B, T) -> (B, T, d_model)."""
        if idx.dim() != 2 or idx.shape[1] > self.max_len:
            raise ValueError(f"idx must have shape (B, T) with T <= max_len={self.max_len}, got {tuple(idx.shape)}")
        h = self.tok_emb(idx)
        if self.pos_emb is not None:
            h = h + self.pos_emb(torch.arange(idx.shape[1], device=idx.device))
        return h

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        h = self.embed(idx)
        for block in self.blocks:
            h = block(h)
        return self.head(self.ln_f(h))

    @torch.no_grad()
    def layer_inputs(self, idx: torch.Tensor) -> list[torch.Tensor]:
        """The normalised input ``LN(h)`` that each block's attention sees, one (B, T, d_model) per layer."""
        h, out = self.embed(idx), []
        for block in self.blocks:
            out.append(block.ln1(h))
            h = block(h)
        return out

    @torch.no_grad()
    def attention_maps(self, idx: torch.Tensor) -> list[torch.Tensor]:
        """Attention weights of every layer, each (B, n_heads, T, T) (blocks must offer ``attention_map``)."""
        return [b.attn.attention_map(x) for b, x in zip(self.blocks, self.layer_inputs(idx), strict=True)]

    @torch.no_grad()
    def query_temperatures(self, idx: torch.Tensor) -> list[torch.Tensor]:
        """Query inverse temperatures of every layer, each (B, n_heads, T) (all ones for vanilla)."""
        return [b.attn.query_temperature(x) for b, x in zip(self.blocks, self.layer_inputs(idx), strict=True)]

    @torch.no_grad()
    def first_attention(self, idx: torch.Tensor) -> tuple[nn.Module, torch.Tensor]:
        """The first block's attention module and the normalised input it sees, ``(attn, LN(h) (B, T, d))``."""
        return self.blocks[0].attn, self.layer_inputs(idx)[0]
