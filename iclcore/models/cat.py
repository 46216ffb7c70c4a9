"""Convolution-augmented attention (CAT; Li, Zhang, Huang & Oymak, AAAI 2025).

A CAT layer runs a short causal convolution over the token embeddings before the key, query and value
projections of a causal softmax attention layer (Li et al. 2025, the CAT layer of Sec. 2):

    Q = conv(H, f_q) W_q,   K = conv(H, f_k) W_k,   V = conv(H, f_v) W_v,
    out = softmax(mask(Q K^T / sqrt(d_head))) V W_o                               (Book eq. 6.2)

with ``conv(H, f)_t = sum_{j < w} f_j * h_{t-j}`` (window w, per channel, zero before the prompt starts).

The module also holds

* :class:`CAT`, the minimal one-layer CAT language model, and :func:`cat_block`, a factory that plugs the
  CAT block into :class:`iclcore.models.TinyGPT` (shared interface ``(d_model, n_heads) -> module`` mapping
  (B, T, d_model) -> (B, T, d_model), causal);
* :func:`cat_recall_construction`, the hand-built CAT that solves associative recall and copying at every
  context length (Li et al. 2025, the AR construction and length-generalisation theorem; Book eq. 6.3);
* :func:`one_layer_gpt`, :func:`train_side_by_side`, :func:`recall_accuracy`, :func:`accuracy_by_length`,
  :func:`answer_attention` to build, train and read the chapter's models;
* :func:`landmark_retrieval_mc` and :func:`landmark_retrieval_theory`, the convolution-vs-attention trade-off
  of landmark (block-summary) attention under random keys (Li et al. 2025, Landmark CAT; Book eq. 6.5).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from scipy import integrate, stats
from torch import nn

from iclcore import validate
from iclcore.models.attention import ModelStack
from iclcore.models.gpt import TinyGPT, lm_loss
from iclcore.tasks.base import make_generator
from iclcore.tasks.recall import IGNORE
from iclcore.train import fit_online

AttentionFactory = Callable[[int, int], nn.Module]


class CausalConv1d(nn.Module):
    """Short causal convolution along the sequence: ``y_t = sum_{j < w} f_j * h_{t-j}`` (Book eq. 6.2).

    ``weight`` has shape (w, d) (depthwise: one filter per channel) or (w, 1) (``one_dim=True``: one
    1-dimensional filter shared by all channels, the paper's "1-D" CAT). ``weight[j]`` multiplies the token
    j positions back; tokens before the start of the prompt are zero, so the layer never looks ahead.
    Input and output: (B, T, d).
    """

    def __init__(self, d: int, window: int = 3, one_dim: bool = False):
        super().__init__()
        self.d = validate.positive_int("d", d)
        self.window = validate.positive_int("window", window)
        bound = 1.0 / math.sqrt(self.window)               # the default init of torch.nn.Conv1d
        self.weight = nn.Parameter(torch.empty(self.window, 1 if one_dim else self.d).uniform_(-bound, bound))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        T = h.shape[-2]
        padded = F.pad(h, (0, 0, self.window - 1, 0))       # w - 1 zero tokens on the left: causal
        return sum(self.weight[j] * padded[..., self.window - 1 - j: self.window - 1 - j + T, :]
                   for j in range(self.window))


class CATAttention(nn.Module):
    """Causal multi-head softmax attention with short convolutions on K/Q/V (Book eq. 6.2).

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
        if not set(conv_on) <= set("qkv"):
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
        future = torch.ones(h.shape[-2], h.shape[-2], dtype=torch.bool, device=h.device).triu(1)
        return s.masked_fill(future, float("-inf"))

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
    It carries the hand-built solution (:func:`cat_recall_construction`); the chapter trains the same
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


def cat_block(window: int = 3, conv_on: str = "qkv", one_dim: bool = False) -> AttentionFactory:
    """A factory ``(d_model, n_heads) -> CATAttention`` to plug into ``TinyGPT(attention=...)``."""
    validate.positive_int("window", window)
    return lambda d_model, n_heads: CATAttention(d_model, n_heads, window=window, conv_on=conv_on,
                                                 one_dim=one_dim)


# --------------------------------------------------------------------------------------------------------
# Training and read-outs


def one_layer_gpt(vocab_size: int, window: int | None, d_model: int = 32, max_len: int = 256,
                  seed: int = 0) -> TinyGPT:
    """The chapter's learned models: ``TinyGPT(n_layers=1, n_heads=1)`` with one of two attention blocks.

    ``window=None``: vanilla softmax attention with learned absolute positions (the baseline: without
    positions a one-layer model could not even tell keys from values by place). ``window=w``: the CAT block
    with window w on Q, K and V and **no** positional encoding.
    """
    if window is None:
        return TinyGPT(vocab_size, d_model=d_model, n_layers=1, n_heads=1, max_len=max_len, attention="vanilla",
                       pos_encoding="learned", seed=seed)
    return TinyGPT(vocab_size, d_model=d_model, n_layers=1, n_heads=1, max_len=max_len,
                   attention=cat_block(window), pos_encoding="none", seed=seed)


def train_side_by_side(models: Sequence[nn.Module], task, steps: int, lr: float = 1e-2, batch_size: int = 64,
                       seed: int = 0, desc: str = "training", progress: bool = True) -> np.ndarray:
    """Train several token models on the same stream of prompts in one batched run.

    The models are wrapped in a :class:`iclcore.models.ModelStack` and trained by
    :func:`iclcore.train.fit_online` on the sum of their cross-entropies at the answer positions
    (:func:`iclcore.models.lm_loss`): exactly as if each were trained alone. Returns the loss history
    (steps, len(models)).
    """
    return fit_online(ModelStack(list(models)), task, steps=steps, lr=lr, batch_size=batch_size, seed=seed,
                      loss_fn=lm_loss, progress=progress, desc=desc)


@torch.no_grad()
def recall_accuracy(model: nn.Module, task, n_prompts: int = 2048, seed: int = 10_000,
                    batch_size: int = 512) -> float:
    """Fraction of answer positions where the model's argmax token is the target (fresh seeded prompts)."""
    validate.positive_int("n_prompts", n_prompts)
    validate.positive_int("batch_size", batch_size)
    gen, right, total, done = make_generator(seed), 0, 0, 0
    while done < n_prompts:
        b = min(batch_size, n_prompts - done)
        tokens, targets = task(b, gen)
        asked = targets != IGNORE
        right += (model(tokens).argmax(-1)[asked] == targets[asked]).sum().item()
        total += asked.sum().item()
        done += b
    return right / total


def _first_attention(model: nn.Module, tokens: torch.Tensor) -> tuple[nn.Module, torch.Tensor]:
    """The first attention block of ``model`` (:class:`CAT` or ``TinyGPT``) and the input it sees."""
    if isinstance(model, CAT):
        return model.attn, model.embed(tokens)
    if hasattr(model, "layer_inputs") and hasattr(model, "blocks"):
        return model.blocks[0].attn, model.layer_inputs(tokens)[0]
    raise ValueError(f"model must be a CAT or a TinyGPT, got {type(model).__name__}")


def accuracy_by_length(model: nn.Module, task_at: Callable[[int], object], lengths: Sequence[int],
                       n_prompts: int = 1024, seed: int = 10_000) -> np.ndarray:
    """:func:`recall_accuracy` of ``model`` on ``task_at(n)`` for each context length n in ``lengths``."""
    return np.array([recall_accuracy(model, task_at(n), n_prompts=n_prompts, seed=seed + n) for n in lengths])


@torch.no_grad()
def answer_attention(model: nn.Module, tokens: torch.Tensor, targets: torch.Tensor,
                     head: int = 0) -> dict[str, torch.Tensor]:
    """Read the first attention layer at every answer position (the attention peak and its score gap).

    For each answer position t the *peak* is the visible position the head attends to most. Returns 1-D
    tensors over the answer positions of the batch (float64):

    * ``mass``: attention on the peak;
    * ``gap``: the effective score gap ``c_hat = s_peak - log mean_{s != peak} exp(s_s)``, so that
      ``mass = e^c_hat / (e^c_hat + L - 1)`` exactly (Book eq. 6.4); for the hand-built CAT, ``c_hat = c``;
    * ``L``: number of visible positions, t + 1;
    * ``offset``: peak position minus the position of the answer token in the prompt (keys, values and
      copied tokens are distinct, so it is unique). The hand-built CAT attends at offset 0.
    """
    attn, h = _first_attention(model, tokens)
    s = attn.scores(h)[:, head].double()                                  # (B, T, T), -inf above diagonal
    b_idx, t_idx = torch.nonzero(targets != IGNORE, as_tuple=True)
    rows = s[b_idx, t_idx]                                                # (n, T)
    peak = rows.argmax(-1)
    n, L = torch.arange(len(peak)), (t_idx + 1).double()
    s_peak = rows[n, peak]
    others = rows.clone()
    others[n, peak] = float("-inf")
    gap = s_peak - (torch.logsumexp(others, dim=-1) - torch.log(L - 1))
    answer_pos = (tokens[b_idx] == targets[b_idx, t_idx].unsqueeze(-1)).int().argmax(-1)
    return {"mass": rows.softmax(-1)[n, peak], "gap": gap, "L": L, "offset": peak - answer_pos}


# --------------------------------------------------------------------------------------------------------
# The hand-built CAT


def construction_mass(c: float | np.ndarray, L: int | np.ndarray) -> np.ndarray:
    """Attention on the correct position in the hand-built CAT, ``e^c / (e^c + L - 1)`` (Book eq. 6.4).

    One visible position scores c (the one right after the queried key), the other L - 1 score 0.
    """
    c, L = np.asarray(c, dtype=np.float64), np.asarray(L, dtype=np.float64)
    if np.any(L < 1):
        raise ValueError(f"L must be >= 1, got {L}")
    return 1.0 / (1.0 + (L - 1) * np.exp(-c))


@torch.no_grad()
def cat_recall_construction(vocab_size: int, c: float = 4.0, dtype: torch.dtype = torch.float64) -> CAT:
    """A :class:`CAT` with hand-set weights that solves associative recall and copying (Book eq. 6.3).

    The residual stream has two blocks of width V = ``vocab_size``: the embedding writes the one-hot token
    into block 1; the key filter is a shift by one (``k~_t = x_{t-1}``), query and value filters are the
    identity; ``W_q W_k^T = c I`` on block 1, so position s scores c exactly when the token *before* s is
    the query token; ``W_v`` copies block 1 into block 2 and the readout reads block 2 only. The output is
    then the attention-weighted histogram of the visible tokens, whose largest entry is the token after the
    query as soon as ``e^c`` exceeds the number of times any other token is visible (at most 2 in
    :mod:`iclcore.tasks.recall` prompts). No weight depends on the prompt length.
    """
    V = validate.positive_int("vocab_size", vocab_size)
    validate.positive("c", c)
    model = CAT(V, d_model=2 * V, n_heads=1, window=2, conv_on="qkv").to(dtype)
    eye, zero = torch.eye(V, dtype=dtype), torch.zeros(V, V, dtype=dtype)
    block1_to_1 = torch.block_diag(eye, zero)                             # keep block 1, drop block 2
    model.embed.weight.copy_(torch.cat([eye, zero], dim=1))               # one-hot into block 1
    attn = model.attn
    for name, lag in (("q", 0), ("k", 1), ("v", 0)):
        w = attn.convs[name].weight
        w.zero_()
        w[lag] = 1.0                                                      # identity (lag 0) or shift (lag 1)
    attn.W_q.weight.copy_(c * math.sqrt(2 * V) * block1_to_1)             # undoes the 1/sqrt(d_head) scale
    attn.W_k.weight.copy_(block1_to_1)
    attn.W_v.weight.copy_(torch.cat([torch.cat([zero, zero], 1), torch.cat([eye, zero], 1)], 0))  # 1 -> 2
    attn.W_o.weight.copy_(torch.eye(2 * V, dtype=dtype))
    model.readout.weight.copy_(torch.cat([zero, eye], dim=1))             # read block 2
    return model.eval()


# --------------------------------------------------------------------------------------------------------
# Landmark attention: the convolution-vs-attention trade-off


def landmark_retrieval_mc(n: int, block: int, d: int, n_trials: int = 2000, seed: int = 0) -> float:
    """Monte Carlo: how often the block summary (landmark) of the right block scores highest.

    ``n`` independent uniform random unit keys in R^d are cut into ``n // block`` blocks of B = ``block``
    keys; a long convolution (here the mean over a block) turns each block into one landmark token. The
    query equals one of the keys; retrieval succeeds when the landmark of that key's block has the largest
    inner product with the query (Li et al. 2025, Landmark CAT under a random context). Only the inner
    products matter, and for an independent uniform unit key ``<q, k> ~ 2 Beta((d-1)/2, (d-1)/2) - 1``
    exactly, so they are drawn directly (O(n) per prompt instead of O(n d)). Returns the success rate.
    """
    validate.positive_int("n", n)
    B = validate.int_in_range("block", block, 1, n)
    if n % B:
        raise ValueError(f"block must divide n={n}, got {block}")
    validate.int_in_range("d", d, 2, 1_000_000)
    validate.positive_int("n_trials", n_trials)
    rng = np.random.default_rng(seed)
    inner = 2 * rng.beta((d - 1) / 2, (d - 1) / 2, size=(n_trials, n)) - 1   # <q, k_j> for every key
    target = rng.integers(0, n, size=n_trials)
    inner[np.arange(n_trials), target] = 1.0                                  # <q, q> = 1
    landmark_scores = inner.reshape(n_trials, n // B, B).mean(axis=-1)        # <q, mean of the block>
    return float(np.mean(landmark_scores.argmax(-1) == target // B))


def landmark_retrieval_theory(n: int, block: int, d: int) -> float:
    """Gaussian approximation of :func:`landmark_retrieval_mc` (Book eq. 6.5).

    For random unit keys, ``<q, k> ~ N(0, 1/d)`` for k != q. The right landmark scores
    ``1/B + N(0, (B-1)/(d B^2))`` and each of the other M - 1 = n/B - 1 landmarks ``N(0, 1/(d B))``, so

        P(success) = E_Z[ Phi( sqrt(dB) (1/B + sqrt((B-1)/(d B^2)) Z) )^(M-1) ],   Z ~ N(0, 1),

    which is close to 1 while d >> 2 B log(n/B) and falls to chance 1/M when B -> n.
    """
    validate.positive_int("n", n)
    B = validate.int_in_range("block", block, 1, n)
    if n % B:
        raise ValueError(f"block must divide n={n}, got {B}")
    d = validate.int_in_range("d", d, 2, 1_000_000)
    M = n // B
    mean, sd = math.sqrt(d * B) / B, math.sqrt((B - 1) / B)              # right landmark in units of 1/sqrt(dB)

    def integrand(z: float) -> float:
        return stats.norm.pdf(z) * math.exp((M - 1) * stats.norm.logcdf(mean + sd * z))

    return float(integrate.quad(integrand, -12, 12, limit=200)[0])
