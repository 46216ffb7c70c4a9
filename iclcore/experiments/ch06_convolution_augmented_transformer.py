"""Chapter 6 (convolution-augmented transformer): the learned models, the hand-built CAT and the read-outs.

* :func:`recall_gpt` builds the chapter's learned models (a TinyGPT with a vanilla or a CAT block);
* :func:`cat_recall_construction` sets the weights of a :class:`iclcore.models.cat.CAT` by hand so that it
  solves associative recall and copying at every length ({eq}`eq-ch6-construction`);
* :func:`accuracy_by_length` evaluates models on prompts of several lengths (:func:`iclcore.evaluate.evaluate`
  with :func:`iclcore.tasks.recall.token_accuracy`);
* :func:`answer_attention` reads the first attention layer at every answer position ({eq}`eq-ch6-mass`);
* :func:`landmark_retrieval_mc` simulates landmark retrieval under random keys (the Monte Carlo side of
  {eq}`eq-ch6-landmark`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn

from iclcore import validate
from iclcore.evaluate import Results, evaluate
from iclcore.models.cat import CAT, cat_block
from iclcore.models.gpt import TinyGPT
from iclcore.tasks.recall import IGNORE, token_accuracy


def recall_gpt(vocab_size: int, window: int | None, d_model: int = 32, max_len: int = 256, n_layers: int = 1,
               seed: int = 0, positions: bool | None = None) -> TinyGPT:
    """The chapter's learned models: ``TinyGPT(n_layers, n_heads=1)`` with one of two attention blocks.

    ``window=None``: vanilla softmax attention with learned absolute positions (the baseline: without
    positions an attention model could not even tell keys from values by place). ``window=w``: the CAT block
    ({eq}`eq-ch6-cat`) with window w on Q, K and V and **no** positional encoding. ``positions`` overrides the
    default (learned absolute positions for the baseline, none for a CAT).
    """
    learned = window is None if positions is None else positions
    return TinyGPT(vocab_size, d_model=d_model, n_layers=n_layers, n_heads=1, max_len=max_len,
                   attention="vanilla" if window is None else cat_block(window),
                   pos_encoding="learned" if learned else "none", seed=seed)


def accuracy_by_length(model: nn.Module, task_at: Callable[[int], object], lengths: Sequence[int],
                       n_prompts: int = 1024, seed: int = 10_000, batch_size: int = 512) -> Results:
    """Answer accuracy of ``model`` (one model or an :class:`iclcore.models.Ensemble`) on ``task_at(n)``.

    Length n is evaluated on ``n_prompts`` fresh prompts drawn with seed ``seed + n`` (the same prompts for
    every member). Returns :class:`iclcore.evaluate.Results` whose metric ``"accuracy"`` holds, per member,
    an array over ``lengths``: ``res[name]["accuracy"]``.
    """
    if len(lengths) == 0:
        raise ValueError("lengths must hold at least one context length")
    runs = [evaluate(model, task_at(int(n)), {"accuracy": token_accuracy}, n_samples=n_prompts,
                     batch_size=batch_size, seed=seed + int(n)) for n in lengths]
    return Results(runs[0].members, {"accuracy": np.stack([r.metrics["accuracy"] for r in runs], axis=-1)})


@torch.no_grad()
def answer_attention(model: nn.Module, tokens: torch.Tensor, targets: torch.Tensor, head: int = 0,
                     batch_size: int = 256) -> dict[str, torch.Tensor]:
    """Read the first attention layer at every answer position (the attention peak and its score gap).

    ``model`` is a :class:`iclcore.models.CAT` or a :class:`iclcore.models.TinyGPT` (both offer
    ``first_attention``); ``tokens``, ``targets`` (B, T) as drawn from a recall task, processed
    ``batch_size`` prompts at a time. For each answer position t the *peak* is the visible position the head
    attends to most. Returns 1-D tensors over the answer positions of the batch (float64):

    * ``mass``: attention on the peak;
    * ``gap``: the effective score gap ``c_hat = s_peak - log mean_{s != peak} exp(s_s)``, so that
      ``mass = e^c_hat / (e^c_hat + L - 1)`` exactly ({eq}`eq-ch6-mass`); for the hand-built CAT, ``c_hat = c``;
    * ``L``: number of visible positions, t + 1;
    * ``offset``: peak position minus the position of the answer token in the prompt (keys, values and
      copied tokens are distinct, so it is unique). The hand-built CAT attends at offset 0.
    """
    if not hasattr(model, "first_attention"):
        raise ValueError(f"model must be a CAT or a TinyGPT, got {type(model).__name__}")
    validate.positive_int("batch_size", batch_size)
    parts = [_answer_attention(model, tk, tg, head) for tk, tg in zip(tokens.split(batch_size),
                                                                      targets.split(batch_size), strict=True)]
    return {k: torch.cat([p[k] for p in parts]) for k in parts[0]}


def _answer_attention(model: nn.Module, tokens: torch.Tensor, targets: torch.Tensor,
                      head: int) -> dict[str, torch.Tensor]:
    attn, h = model.first_attention(tokens)
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


@torch.no_grad()
def cat_recall_construction(vocab_size: int, c: float = 4.0, dtype: torch.dtype = torch.float64) -> CAT:
    """A :class:`iclcore.models.cat.CAT` with hand-set weights that solves associative recall and copying
    ({eq}`eq-ch6-construction`).

    The residual stream has two blocks of width V = ``vocab_size``: the embedding writes the one-hot token
    into block 1; the key filter is a shift by one (``k~_t = x_{t-1}``), query and value filters are the
    identity; ``W_q W_k^T = c I`` on block 1, so position s scores c exactly when the token *before* s is
    the query token; ``W_v`` copies block 1 into block 2 and the readout reads block 2 only. The output is
    then the attention-weighted histogram of the visible tokens, whose largest entry is the token after the
    query as soon as ``e^c`` exceeds the number of times any other token is visible (at most 2 in
    :mod:`iclcore.tasks.recall` prompts). No weight depends on the prompt length. Float64 by default.
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


def landmark_retrieval_mc(n: int, block: int, d: int, n_trials: int = 2000, seed: int = 0) -> float:
    """Monte Carlo: how often the block summary (landmark) of the right block scores highest.

    ``n`` independent uniform random unit keys in R^d are cut into ``n // block`` blocks of B = ``block``
    keys; a long convolution (here the mean over a block) turns each block into one landmark token. The
    query equals one of the keys; retrieval succeeds when the landmark of that key's block has the largest
    inner product with the query (Li et al. 2025, Landmark CAT under a random context; the Gaussian closed form
    is :func:`iclcore.theory.cat.landmark_retrieval_theory`). Only the inner products matter, and for an
    independent uniform unit key ``<q, k> ~ 2 Beta((d-1)/2, (d-1)/2) - 1`` exactly, so they are
    drawn directly (O(n) per prompt instead of O(n d)). Returns the success rate.
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
