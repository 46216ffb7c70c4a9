"""Next-token prediction data sets over a vocabulary: (sequence of token ids, next token) pairs.

Chapter 10 ({cite:t}`li2024mechanics`) trains one attention layer whose prediction is a convex combination
of the tokens of its input, so a label must **appear in its own sequence**. Two data sources:

* :class:`TokenPriorityTask`, the book's *priority* generator. For every member and every last token
  (query) k the other K - 1 tokens are split into ranked **levels** (some levels are ties of 2-3 tokens); the
  query itself comes last (a token does not predict itself unless it is alone). A sequence is
  ``T - 1`` tokens drawn uniformly with replacement followed by the query k; its next token is a token of the
  highest level present, chosen among the distinct top-level tokens present with fixed preferences q. Ties
  create cycles in the token-priority graph ({eq}`eq-ch10-tpg`), so they are its strongly connected
  components. With ``structure=False`` the label is the token at a uniformly random position instead: the
  data keep no priority order (a break switch of the chapter).
* :func:`random_label_data`, the protocol of the paper's experiments: a few random sequences with a label
  drawn from each sequence; the priority graph then has an irregular structure.

Token ids are ``int64`` tensors: sequences ``(E, n, T)`` (the last position is the query), labels ``(E, n)``,
with a leading member axis E (one independent data set per ensemble member). :func:`token_embeddings` gives
the vocabulary's embedding vectors; :func:`log_prob_nll` is the training loss and metric of the task.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from iclcore import validate
from iclcore.tasks.base import make_generator


def _gen(seed: int | torch.Generator) -> torch.Generator:
    return seed if isinstance(seed, torch.Generator) else make_generator(seed)


def _exponential(shape: tuple, g: torch.Generator) -> torch.Tensor:
    """Exponential(1) draws (a Dirichlet(1) weight vector is a normalised row of them)."""
    return -torch.log1p(-torch.rand(shape, generator=g, dtype=torch.float64))


def _tie_sizes(tie_sizes, K: int) -> tuple[int, ...]:
    sizes = tuple(tie_sizes)
    if any(isinstance(s, bool) or not isinstance(s, int) or s < 2 for s in sizes) or sum(sizes) > K - 1:
        raise ValueError(f"tie_sizes must be integers >= 2 with sum <= K - 1 = {K - 1}, got {tie_sizes!r}")
    return sizes


class TokenPriorityTask:
    """Ranked levels of tokens per (member, query); a sampler of (sequence, next token) pairs.

    Parameters
    ----------
    K : vocabulary size (tokens 0..K-1).
    T : sequence length, the query (last token) included; ``T >= 2``.
    tie_sizes : sizes of the tied levels (cycles of the priority graph), the same for every member and
        query, e.g. ``(2, 3)``; the other tokens are singleton levels. ``()`` gives a strict ranking
        (an acyclic priority graph). A list of such tuples gives one per member.
    n_members : number E of independent members (each its own levels and preferences).
    structure : ``True`` labels by priority; ``False`` labels by a uniformly random position (no priority).
    min_pref : the within-tie preferences are ``q ∝ Dirichlet(1) + min_pref`` (normalised per query).
    seed : seed (or generator) of the levels and preferences.
    members : optional names of the members (default 0..E-1).

    Attributes: ``level`` (E, K, K) int64, ``level[e, k, j]`` = level of token j for query k (0 = highest);
    ``pref`` (E, K, K) float64, within-tie preference of token j for query k.
    ``task(batch_size, generator) -> (tokens (E, B, T), labels (E, B))``.
    """

    def __init__(self, K: int, T: int, tie_sizes: Sequence = (2, 3), n_members: int = 1, structure: bool = True,
                 min_pref: float = 0.05, seed: int | torch.Generator = 0, members: Sequence | None = None):
        self.K = validate.int_in_range("K", K, 2, 10_000)
        self.T = validate.int_in_range("T", T, 2, 10_000)
        self.n_members = E = validate.positive_int("n_members", n_members)
        if not isinstance(structure, bool):
            raise ValueError(f"structure must be a bool, got {structure!r}")
        self.structure = structure
        self.min_pref = validate.nonnegative("min_pref", min_pref)
        per_member = list(tie_sizes) if len(tie_sizes) and not isinstance(tie_sizes[0], int) else [tie_sizes] * E
        if len(per_member) != E:
            raise ValueError(f"tie_sizes: {len(per_member)} tie structures for n_members={E}")
        self.tie_sizes = [_tie_sizes(s, K) for s in per_member]
        if members is not None and len(members) != E:
            raise ValueError(f"members: {len(members)} names for n_members={E}")
        self.members = tuple(range(E)) if members is None else tuple(members)
        g = _gen(seed)
        level = torch.empty(E, K, K, dtype=torch.int64)
        for e in range(E):
            sizes = list(self.tie_sizes[e]) + [1] * (K - 1 - sum(self.tie_sizes[e]))
            for k in range(K):
                group_sizes = torch.tensor(sizes)[torch.randperm(len(sizes), generator=g)]
                others = torch.tensor([j for j in range(K) if j != k])[torch.randperm(K - 1, generator=g)]
                level[e, k, others] = torch.repeat_interleave(torch.arange(len(sizes)), group_sizes)
                level[e, k, k] = len(sizes)                 # the query itself comes last under its own query
        self.level = level
        pref = _exponential((E, K, K), g)
        pref = pref / pref.sum(-1, keepdim=True) + self.min_pref
        self.pref = pref / pref.sum(-1, keepdim=True)

    def top_level_mask(self, tokens: torch.Tensor) -> torch.Tensor:
        """Tokens of the highest level present in each sequence: (E, B, T) -> bool (E, B, K).

        Defined by the generator's levels (the ground truth), whatever the labels were.
        """
        lv = self._levels_of(tokens)                                            # (E, B, T)
        top = lv.min(-1).values                                                 # (E, B)
        present = tokens_present(tokens, self.K)
        query = tokens[..., -1]
        lv_vocab = self.level[torch.arange(self.n_members)[:, None], query]     # (E, B, K)
        return present & (lv_vocab == top[..., None])

    def _levels_of(self, tokens: torch.Tensor) -> torch.Tensor:
        E = self.n_members
        if tokens.dim() != 3 or tokens.shape[0] != E or tokens.shape[-1] != self.T:
            raise ValueError(f"tokens must have shape ({E}, B, {self.T}), got {tuple(tokens.shape)}")
        query = tokens[..., -1]
        rows = self.level[torch.arange(E)[:, None], query]                      # (E, B, K)
        return rows.gather(-1, tokens)

    def __call__(self, batch_size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        validate.positive_int("batch_size", batch_size)
        E, K, T = self.n_members, self.K, self.T
        context = torch.randint(K, (E, batch_size, T - 1), generator=generator)
        query = torch.randint(K, (E, batch_size, 1), generator=generator)
        tokens = torch.cat([context, query], dim=-1)
        if not self.structure:
            pos = torch.randint(T, (E, batch_size, 1), generator=generator)
            return tokens, tokens.gather(-1, pos).squeeze(-1)
        top = self.top_level_mask(tokens)                                       # (E, B, K)
        pref = self.pref[torch.arange(E)[:, None], query.squeeze(-1)]           # (E, B, K)
        weights = (pref * top).reshape(E * batch_size, K)
        labels = torch.multinomial(weights, 1, generator=generator).reshape(E, batch_size)
        return tokens, labels

    def dataset(self, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        """A fixed training set of ``n`` sequences per member: (tokens (E, n, T), labels (E, n))."""
        validate.positive_int("n", n)
        return self(n, make_generator(seed))


def random_label_data(n: int, T: int, K: int, n_members: int = 1,
                      seed: int | torch.Generator = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """E small data sets as in the paper's experiments: n sequences of T tokens drawn uniformly from K (with
    replacement; the last one is the query), each labelled with the token at a uniformly random position.

    Returns tokens (E, n, T) and labels (E, n), int64.
    """
    validate.positive_int("n", n)
    validate.int_in_range("T", T, 2, 10_000)
    validate.int_in_range("K", K, 2, 10_000)
    E = validate.positive_int("n_members", n_members)
    g = _gen(seed)
    tokens = torch.randint(K, (E, n, T), generator=g)
    pos = torch.randint(T, (E, n, 1), generator=g)
    return tokens, tokens.gather(-1, pos).squeeze(-1)


def token_embeddings(K: int, d: int, kind: str = "orthonormal", n_members: int = 1,
                     seed: int | torch.Generator = 0) -> torch.Tensor:
    """Embedding vectors of the K tokens, one set per member: (E, K, d) float64.

    ``kind="orthonormal"``: the first K standard basis vectors of R^d (needs d >= K), so that
    ``W[i, k]`` is the score of key token i under query token k. ``kind="random"``: independent uniform
    directions on the unit sphere (the paper's default), drawn from ``seed``.
    """
    validate.positive_int("K", K)
    validate.positive_int("d", d)
    E = validate.positive_int("n_members", n_members)
    if kind == "orthonormal":
        if d < K:
            raise ValueError(f"d must be >= K={K} for orthonormal embeddings, got {d}")
        return torch.eye(d, dtype=torch.float64)[:K].expand(E, K, d).clone()
    if kind == "random":
        v = torch.randn(E, K, d, generator=_gen(seed), dtype=torch.float64)
        return v / v.norm(dim=-1, keepdim=True)
    raise ValueError(f"kind must be 'orthonormal' or 'random', got {kind!r}")


def tokens_present(tokens: torch.Tensor, K: int) -> torch.Tensor:
    """Which vocabulary tokens occur in each sequence: (..., T) -> bool (..., K)."""
    validate.positive_int("K", K)
    if tokens.dtype not in (torch.int64, torch.int32) or (tokens.numel() and (tokens.min() < 0 or tokens.max() >= K)):
        raise ValueError(f"tokens must be integer ids in [0, {K}), got dtype {tokens.dtype}")
    out = torch.zeros(*tokens.shape[:-1], K, dtype=torch.bool)
    return out.scatter_(-1, tokens.long(), True)


def log_prob_nll(log_probs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of the next token, per member: log-probabilities (E, B, K), labels (E, B) -> (E,).

    ``-(1/B) sum_i log P(y_i | X_i)``, the loss {eq}`eq-ch10-loss`.
    """
    if log_probs.dim() != 3 or labels.shape != log_probs.shape[:2]:
        raise ValueError(f"log_probs must be (E, B, K) and labels (E, B), got {tuple(log_probs.shape)} and "
                         f"{tuple(labels.shape)}")
    return -log_probs.gather(-1, labels.long().unsqueeze(-1)).squeeze(-1).mean(-1)
