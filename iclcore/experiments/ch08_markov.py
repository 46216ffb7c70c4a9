"""Drivers of Chapter 8 (self-attention as a context-conditioned Markov chain), too long for the notebook.

* :func:`teacher_data` -- (prompt, next token) pairs sampled from a tied-embedding attention **teacher**;
* :func:`mle_vs_n` -- the convex MLE on nested data sets of growing size n, all fits in one batched solve;
* :func:`collapse_summary` -- entropy ratio and top-1 share of generated trajectories, per score matrix;
* :func:`growth_slopes` -- the log-log growth rate of each token's count along generated trajectories.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from iclcore.models.tied_attention import TiedEmbeddingAttention
from iclcore.tasks.markov import histogram_entropy, sample_tokens, token_counts, top_share, uniform_prompts
from iclcore.theory.ccmc import base_chain, base_chain_entropy, ccmc_mle, stationary_distribution


def teacher_data(W_star, n: int, T: int, generator: torch.Generator,
                 groups: Sequence[Sequence[int]] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` prompts of length ``T`` (uniform, or from one token group each) and next tokens sampled from a
    :class:`TiedEmbeddingAttention` whose score matrix is ``W_star`` (K, K). Returns (prompts (n, T), y (n,))."""
    W_star = torch.as_tensor(W_star, dtype=torch.float64)
    K = W_star.shape[0]
    teacher = TiedEmbeddingAttention(K).set_scores(W_star)
    prompts = uniform_prompts(n, T, K, generator, groups=groups)
    with torch.no_grad():
        y = sample_tokens(teacher(prompts)[0], generator)
    return prompts, y


def mle_vs_n(W_star, ns: Sequence[int], reps: int, T: int, generator: torch.Generator,
             groups: Sequence[Sequence[int]] | None = None, count_weighting: bool = True) -> np.ndarray:
    """The maximum-likelihood estimate of ``W_star`` from the first n samples of ``reps`` independent data sets
    of size ``max(ns)`` (nested: each data set grows, so the error curve over n is smooth).

    All ``reps * len(ns)`` fits are one batched Newton solve (:func:`iclcore.theory.ccmc.ccmc_mle`).
    Returns ``W_hat`` of shape (reps, len(ns), K, K).
    """
    K = np.shape(W_star)[0]
    counts, lasts, ys, problems = [], [], [], []
    for r in range(reps):
        prompts, y = teacher_data(W_star, max(ns), T, generator, groups)
        m, last = token_counts(prompts, K).numpy(), prompts[:, -1].numpy()
        for k, n in enumerate(ns):
            counts.append(m[:n])
            lasts.append(last[:n])
            ys.append(y[:n].numpy())
            problems.append(np.full(n, r * len(ns) + k))
    W_hat = ccmc_mle(np.concatenate(counts), np.concatenate(lasts), np.concatenate(ys), K=K,
                     problems=np.concatenate(problems), n_problems=reps * len(ns), count_weighting=count_weighting)
    return W_hat.reshape(reps, len(ns), K, K)


def collapse_summary(tokens: torch.Tensor, W_tilde, last: int = 1000) -> dict[str, np.ndarray]:
    """For trajectories (G, R, T) generated from score matrices (G, K, K): per score matrix, the mean over runs
    of the entropy of the last ``last`` tokens divided by the base chain's stationary entropy (``ratio``),
    the mean top-1 share (``top1``), the base chain's largest stationary probability (``pi_max``), and the
    mean sorted token shares (``ranks``, (G, K))."""
    W = np.asarray(W_tilde, dtype=np.float64)
    K = W.shape[-1]
    H_base = np.array([base_chain_entropy(w) for w in W])
    pi_max = np.array([stationary_distribution(base_chain(w)).max() for w in W])
    h = token_counts(tokens[..., -last:].long(), K)
    ranks = (h.sort(-1, descending=True).values / h.sum(-1, keepdim=True)).mean(-2).numpy()
    return {"ratio": histogram_entropy(tokens, K, last=last).mean(-1).numpy() / H_base,
            "top1": top_share(tokens, K, k=1, last=last).mean(-1).numpy(), "pi_max": pi_max, "ranks": ranks,
            "H_base": H_base}


def growth_slopes(tokens: torch.Tensor, K: int, lengths: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Counts of each token after the first ``lengths`` positions of trajectories (R, T): returns the mean
    log-count (len(lengths), K) and the least-squares slope of mean log-count against log length (K,)."""
    counts = torch.nn.functional.one_hot(tokens.long(), K).to(torch.float64).cumsum(-2)   # (R, T, K)
    at = counts[:, [L - 1 for L in lengths]]                                             # (R, len, K)
    mean_log = at.log().mean(0).numpy()
    x = np.log(np.asarray(lengths, dtype=np.float64))
    slopes = np.polyfit(x, mean_log, 1)[0]
    return mean_log, slopes
