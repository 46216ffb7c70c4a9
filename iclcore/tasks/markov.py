"""Token sequences from a context-conditioned Markov chain (CCMC), and the metrics that go with them.

The CCMC of {cite:t}`ildiz2024markov` ({eq}`eq-ch8-ccmc`): for a prompt ``X = (x_1..x_T)`` over a vocabulary
of K tokens, with last token ``i = x_T`` and counts ``m_j(X) = #{t: x_t = j}``,

    P(y = j | X) = m_j(X) exp(W~[i, j]) / sum_l m_l(X) exp(W~[i, l]).

This module holds the **samplers** (prompts, next tokens, and the vectorised generation of whole
trajectories, {eq}`eq-ch8-generation`) and the **metrics** of generated text (histogram entropy, top-k share,
next-token negative log-likelihood). The closed forms and the maximum-likelihood estimator are in
:mod:`iclcore.theory.ccmc`; a unit test checks the samplers against them by Monte Carlo.

Every function draws from a ``torch.Generator`` (:func:`iclcore.tasks.make_generator`); nothing reads global
random state. Token ids are integers in ``[0, K)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from iclcore import validate

_BIG = 1e200  # rescale weighted counts above this (probabilities do not change under a common factor)


def _as_scores(W_tilde, name: str = "W_tilde") -> torch.Tensor:
    W = torch.as_tensor(np.asarray(W_tilde, dtype=np.float64) if not torch.is_tensor(W_tilde) else W_tilde,
                        dtype=torch.float64)
    if W.dim() not in (2, 3) or W.shape[-1] != W.shape[-2] or W.shape[-1] < 1:
        raise ValueError(f"{name} must be a square (K, K) matrix or a (G, K, K) stack, got shape {tuple(W.shape)}")
    if not torch.isfinite(W).all():
        raise ValueError(f"{name} must be finite")
    return W


def random_scores(K: int, spread: float, generator: torch.Generator, n: int | None = None) -> torch.Tensor:
    """A teacher score matrix ``W~`` with i.i.d. ``N(0, spread^2)`` entries (``spread`` is a standard
    deviation, the chapter's nu): (K, K), or a stack (n, K, K) if ``n``."""
    K = validate.positive_int("K", K)
    spread = validate.nonnegative("spread", spread)
    shape = (K, K) if n is None else (validate.positive_int("n", n), K, K)
    return spread * torch.randn(*shape, generator=generator, dtype=torch.float64)


def uniform_prompts(n: int, T: int, K: int, generator: torch.Generator,
                    groups: Sequence[Sequence[int]] | None = None) -> torch.Tensor:
    """``n`` prompts of ``T`` tokens, i.i.d. uniform over the vocabulary: int64 (n, T).

    ``groups``: a list of token groups of equal size (e.g. ``[[0, 1, 2], [3, 4, 5]]``); each prompt then picks
    one group uniformly and draws all its T tokens (the last one included) from that group. Tokens of
    different groups never meet in a prompt: the coverage failure of {eq}`eq-ch8-coverage`.
    """
    n, T, K = (validate.positive_int(k, v) for k, v in (("n", n), ("T", T), ("K", K)))
    if groups is None:
        return torch.randint(0, K, (n, T), generator=generator)
    G = torch.as_tensor(groups, dtype=torch.int64) if len(groups) else torch.zeros(0, 0, dtype=torch.int64)
    if G.dim() != 2 or G.numel() == 0 or G.min() < 0 or G.max() >= K:
        raise ValueError(f"groups must be a list of equal-size lists of token ids in [0, {K}), got {groups!r}")
    pick = torch.randint(0, G.shape[0], (n,), generator=generator)
    slot = torch.randint(0, G.shape[1], (n, T), generator=generator)
    return G[pick[:, None], slot]


def token_counts(tokens: torch.Tensor, K: int, weights: torch.Tensor | None = None) -> torch.Tensor:
    """Counts ``m_j = #{t: x_t = j}`` of token ids (..., T) -> float64 (..., K).

    ``weights`` (T,): position weights ``e^{b_t}``; then ``m_j = sum_{t: x_t = j} weights_t`` (the
    position-weighted counts of {eq}`eq-ch8-positional`).
    """
    K = validate.positive_int("K", K)
    tokens = torch.as_tensor(tokens, dtype=torch.int64)
    if tokens.numel() and (tokens.min() < 0 or tokens.max() >= K):
        raise ValueError(f"tokens must be ids in [0, {K})")
    w = torch.ones(tokens.shape, dtype=torch.float64) if weights is None else \
        torch.as_tensor(weights, dtype=torch.float64).expand(tokens.shape)
    return torch.zeros(*tokens.shape[:-1], K, dtype=torch.float64).scatter_add_(-1, tokens, w)


def sample_tokens(probs: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """One draw from each row of ``probs`` (..., K) (non-negative, need not be normalised): int64 (...).

    Inverse-CDF sampling, vectorised over every leading axis (one uniform per row).
    """
    probs = torch.as_tensor(probs)
    if probs.dim() < 1 or (probs < 0).any() or not torch.isfinite(probs).all():
        raise ValueError("probs must be a finite, non-negative (..., K) array")
    if (probs.sum(-1) <= 0).any():
        raise ValueError("probs: every row must have positive mass")
    return _sample(probs.to(torch.float64), generator)


def _sample(weights: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    c = weights.cumsum(-1)
    u = torch.rand(*c.shape[:-1], 1, generator=generator, dtype=torch.float64) * c[..., -1:]
    return (c <= u).sum(-1).clamp_max(c.shape[-1] - 1)


def next_token_nll(probs: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean negative log-likelihood of the next tokens ``y`` (B,) under ``probs`` (E, B, K): shape (E,).

    The metric that goes with (prompt, next token) data; it is also the training loss of
    :class:`iclcore.models.TiedEmbeddingAttention` (the maximum-likelihood objective of {eq}`eq-ch8-mle`).
    """
    p = probs.gather(-1, y.expand(*probs.shape[:-1]).unsqueeze(-1)).squeeze(-1)
    return -p.clamp_min(1e-300).log().mean(-1)


def _per_group(value, G: int, name: str, dtype) -> torch.Tensor:
    arr = torch.as_tensor(np.asarray(value, dtype=np.float64), dtype=dtype).reshape(-1)
    if arr.numel() == 1:
        arr = arr.expand(G)
    if arr.numel() != G:
        raise ValueError(f"{name} must be a number or one value per score matrix ({G}), got {arr.numel()} values")
    return arr.clone()


def generate_ccmc(W_tilde, prompt, steps: int, *, runs: int, generator: torch.Generator,
             window: int | Sequence[int | None] | None = None, keep_prompt: bool = True,
             recency: float | Sequence[float] = 0.0, count_weighting: bool = True) -> torch.Tensor:
    """Generate ``runs`` trajectories from the CCMC, appending each sampled token to the context
    ({eq}`eq-ch8-generation`). Vectorised over runs (and over a stack of score matrices): one loop over time.

    Parameters
    ----------
    W_tilde : score matrix (K, K), or a stack (G, K, K) (G independent chains, ``runs`` runs each).
    prompt : the initial prompt, token ids (T0,), shared by every run.
    steps : number of tokens to generate.
    runs, generator : runs per score matrix; the seeded generator.
    window : ``None`` (the whole context, the default) or an integer L >= 1: the context holds only the last
        L tokens (and, with ``keep_prompt``, the prompt too). One value, or one per score matrix (``None``
        entries for no window).
    keep_prompt : with a window, whether the prompt stays in the context (``True``: the model forgets only
        its own old output) or slides out of it like any token (``False``).
    recency : position bias ``b_t = recency * t`` on the attention logits ({eq}`eq-ch8-positional`): a token at
        position t is counted with weight ``e^{recency * t}``. ``> 0`` favours recent tokens, ``< 0`` discounts
        each new token against older ones (a repetition penalty). One value, or one per score matrix.
    count_weighting : ``False`` drops the counts: every token of the vocabulary is weighted 1, i.e. the
        **base Markov chain** ``P0(j | i) = softmax_j(W~[i, :])`` ({eq}`eq-ch8-base`).

    Returns the token ids, int32 of shape (runs, T0 + steps), or (G, runs, T0 + steps) for a stack.
    """
    W = _as_scores(W_tilde)
    single = W.dim() == 2
    W = W[None] if single else W
    G, K, _ = W.shape
    prompt = torch.as_tensor(prompt, dtype=torch.int64).reshape(-1)
    if prompt.numel() == 0 or prompt.min() < 0 or prompt.max() >= K:
        raise ValueError(f"prompt must hold at least one token id in [0, {K})")
    steps = validate.int_in_range("steps", steps, 0, 10**7)
    runs = validate.positive_int("runs", runs)
    if not isinstance(count_weighting, bool):
        raise ValueError(f"count_weighting must be a bool, got {count_weighting!r}")
    T0, total = prompt.numel(), prompt.numel() + steps
    windows = [window] if window is None or np.ndim(window) == 0 else list(window)
    if len(windows) == 1:
        windows = windows * G
    if len(windows) != G:
        raise ValueError(f"window must be None, an integer, or one value per score matrix ({G})")
    for L in windows:
        if L is not None:
            validate.positive_int("window", L)
    L = torch.tensor([total + 1 if L is None else int(L) for L in windows], dtype=torch.int64)
    beta = _per_group(recency, G, "recency", torch.float64)
    if not torch.isfinite(beta).all():
        raise ValueError("recency must be finite")
    first = T0 if keep_prompt else 0       # the first position that can slide out of the window

    tokens = torch.empty(G, runs, total, dtype=torch.int32)
    tokens[:, :, :T0] = prompt.to(torch.int32)
    # Weighted counts: position p carries weight e^{beta p}. They are stored relative to the newest position
    # t ("now") and divided by e^{shift} (the total of all rescalings so far), so that they never overflow:
    # stored weight of position p = exp(beta (p - t) - shift). Each step multiplies every stored weight by
    # e^{-beta} (now moves by one); rescaling divides them all by their maximum and adds its log to shift.
    pos = torch.arange(T0, dtype=torch.float64)
    w0 = torch.exp(-beta[:, None] * (T0 - 1 - pos))                        # (G, T0): prompt weights, now = T0 - 1
    counts = torch.zeros(G, runs, K, dtype=torch.float64)
    counts.scatter_add_(-1, prompt.expand(G, runs, T0), w0[:, None, :].expand(G, runs, T0).contiguous())
    # Tokens already outside the window at the start (when the prompt can slide out).
    for g in range(G):
        drop = T0 - int(L[g]) - first
        if drop > 0:
            ids = prompt[first:first + drop].expand(runs, drop)
            counts[g].scatter_add_(-1, ids, -w0[g, first:first + drop].expand(runs, drop).contiguous())
    counts.clamp_(min=0.0)
    shift = torch.zeros(G, dtype=torch.float64)
    exp_W = W.exp()
    g_idx = torch.arange(G)[:, None].expand(G, runs)
    last = tokens[:, :, T0 - 1].long()
    decay = torch.exp(-beta)[:, None, None]
    has_window = bool((L <= total).any())
    L_min = int(L.min())
    g_all = torch.arange(G)
    has_bias = bool((beta != 0).any())
    ones = torch.ones(G, runs, 1, dtype=torch.float64)
    new_weight = ones
    for t in range(T0, total):
        rows = exp_W[g_idx, last]                                            # (G, runs, K)
        y = _sample(rows * counts if count_weighting else rows, generator)
        tokens[:, :, t] = y.to(torch.int32)
        if has_bias:
            counts.mul_(decay)                                               # now = t
            top = counts.amax(dim=(1, 2))
            if bool((top > _BIG).any()):                                     # rescale: probabilities unchanged
                step_shift = torch.where(top > _BIG, top.log(), torch.zeros(G, dtype=torch.float64))
                counts.div_(step_shift.exp()[:, None, None])
                shift += step_shift
                new_weight = torch.exp(-shift)[:, None, None].expand(G, runs, 1)
        counts.scatter_add_(-1, y[..., None], new_weight)                    # position t: exp(0 - shift)
        if has_window and t - L_min >= first:
            old = (t - L).clamp(min=0)                                       # (G,) position leaving the window
            valid = ((t - L) >= first).to(torch.float64)
            ids = tokens[g_all, :, old].long()                               # (G, runs)
            w_old = valid if not has_bias else valid * torch.exp(beta * (old - t) - shift)
            counts.scatter_add_(-1, ids[..., None], -w_old[:, None, None].expand(G, runs, 1))
            counts.clamp_(min=0.0)
        last = y
    return tokens[0] if single else tokens


def token_histogram(tokens: torch.Tensor, K: int, last: int | None = None) -> torch.Tensor:
    """Histogram of each trajectory (..., T) over the vocabulary, float64 (..., K); ``last``: only the final
    ``last`` tokens of each trajectory."""
    tokens = torch.as_tensor(tokens)
    if last is not None:
        tokens = tokens[..., -validate.int_in_range("last", last, 1, tokens.shape[-1]):]
    return token_counts(tokens.long(), K)


def histogram_entropy(tokens: torch.Tensor, K: int, last: int | None = None) -> torch.Tensor:
    """Entropy (nats) of each trajectory's token histogram ({eq}`eq-ch8-entropy`), (..., T) -> (...)."""
    h = token_histogram(tokens, K, last)
    p = h / h.sum(-1, keepdim=True)
    return -(p * p.clamp_min(1e-300).log()).sum(-1)


def top_share(tokens: torch.Tensor, K: int, k: int = 1, last: int | None = None) -> torch.Tensor:
    """Share of each trajectory's ``k`` most frequent tokens, (..., T) -> (...)."""
    h = token_histogram(tokens, K, last)
    k = validate.int_in_range("k", k, 1, K)
    return h.sort(-1, descending=True).values[..., :k].sum(-1) / h.sum(-1)


def rank_shares(tokens: torch.Tensor, K: int, last: int | None = None) -> torch.Tensor:
    """Each trajectory's token shares sorted in decreasing order (rank 1 = its most frequent token), (..., K)."""
    h = token_histogram(tokens, K, last)
    return h.sort(-1, descending=True).values / h.sum(-1, keepdim=True)


__all__ = ["generate_ccmc", "histogram_entropy", "next_token_nll", "random_scores", "rank_shares", "sample_tokens",
           "token_counts", "token_histogram", "top_share", "uniform_prompts"]
