"""TinyGPT: a small causal language model a reader can hold in their head (after nanoGPT).

token embedding (+ learned positions) -> n_layers x [h += attn(LN(h)); h += MLP(LN(h))] -> LN -> vocab logits.

The attention block is pluggable: ``"vanilla"`` (:class:`CausalSelfAttention`), ``"ssa"``
(:class:`SelectiveAttention`), or any callable ``(d_model, n_heads) -> nn.Module`` that follows the interface
of :mod:`iclcore.models.attention` (h (B, T, d_model) -> (B, T, d_model), causal), e.g. a CAT block.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from iclcore import validate
from iclcore.models.attention import CausalSelfAttention, SelectiveAttention

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


def lm_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean next-token cross-entropy as a one-member loss vector (1,), the form ``fit_online`` expects.

    ``logits`` (B, T, V) or (E, B, T, V) and ``targets`` (B, T); positions with target -100 are ignored.
    """
    if logits.dim() == 3:
        logits = logits[None]
    return torch.stack([nn.functional.cross_entropy(lg.reshape(-1, lg.shape[-1]), targets.reshape(-1),
                                                    ignore_index=-100) for lg in logits])


@torch.no_grad()
def evaluate_lm(model: nn.Module, windows, n_windows: int = 256, batch_size: int = 64) -> dict[str, float]:
    """Held-out next-token loss and name-copy accuracy of a language model on evenly spaced windows.

    ``windows`` is an :class:`iclcore.tasks.LMWindows` (it fixes the context length T and the corpus).
    Returns ``loss`` (mean cross-entropy, nats), ``loss_first_half`` / ``loss_second_half`` (positions
    ``< T/2`` and ``>= T/2``), and ``copy_acc``: greedy accuracy on the names whose earlier mention lies
    inside the window (tokens only the context can predict).
    """
    validate.positive_int("n_windows", n_windows)
    n_tok = len(windows.corpus.tokens)
    starts = torch.linspace(0, n_tok - windows.T - 2, n_windows).long()
    model.eval()
    ce, hits, copies = [], 0, 0
    for chunk in starts.split(batch_size):
        x, y = windows.windows(chunk)
        logits = model(x)
        ce.append(nn.functional.cross_entropy(logits.transpose(1, 2), y, reduction="none"))
        mask = windows.copy_positions(chunk)
        hits += int((logits.argmax(-1) == y)[mask].sum())
        copies += int(mask.sum())
    ce = torch.cat(ce)
    half = windows.T // 2
    return {"loss": ce.mean().item(), "loss_first_half": ce[:, :half].mean().item(),
            "loss_second_half": ce[:, half:].mean().item(), "copy_acc": hits / max(copies, 1)}
