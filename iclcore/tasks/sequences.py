"""Sequence tasks of the selective-attention chapter (the book's own designs, in the spirit of Zhang et al. 2024),
each with the metric that goes with it.

* :func:`spiky_transitions` — K tokens whose target attention rows need a different spikiness per query
  (query-selectivity, {eq}`eq-ch5-spiky`); metric :func:`row_kl`.
* :class:`NeedleRetrieval` — retrieve the value of the one context key that matches the query, at any
  context length n (dilution and length generalisation, {eq}`eq-ch5-needle`); metric: squared error.
* :class:`DecoyRetrieval` — needle retrieval where the needle's key appears a second time with a corrupted
  value (value-selectivity, {eq}`eq-ch5-value`); metric: squared error.
* :func:`synthetic_stories` and :class:`LMWindows` — a small generated "story" language whose names must be
  copied from earlier in the text (a tiny passkey test inside ordinary language modelling). Nothing is
  downloaded: the corpus is generated from a seed in well under a second. Metrics:
  :func:`iclcore.tasks.recall.lm_loss` and :func:`iclcore.tasks.recall.token_accuracy` (name copying, on the
  targets of :meth:`LMWindows.held_out` with ``copy_only=True``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from iclcore import validate
from iclcore.tasks.recall import IGNORE

# ----------------------------------------------------------------------------------------------------------
# Query-selectivity: spiky transitions

def _softplus(z: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, z)


def _softplus_inv(y: np.ndarray) -> np.ndarray:
    return y + np.log(-np.expm1(-y))


@dataclass
class SpikyTransitions:
    """Target attention rows ``P*(j | i) = softmax_j(beta_i x_i^T M x_j)`` ({eq}`eq-ch5-spiky`).

    ``X`` (K, d) unit token embeddings, ``M`` (d, d), ``beta`` (K,) per-query inverse temperatures with
    ``beta_i = softplus(a^T x_i + b)`` (so SSA with ``inv_temp = softplus`` represents P* exactly), ``P`` (K, K).
    Tensors are float64.
    """

    X: torch.Tensor
    M: torch.Tensor
    a: torch.Tensor
    b: float
    beta: torch.Tensor
    P: torch.Tensor

    def kl_rows(self, log_P_hat: torch.Tensor) -> torch.Tensor:
        """Row-averaged ``KL(P* || P_hat)`` in nats, from log-probabilities (K, K) (or (E, K, K) -> (E,))."""
        return row_kl(log_P_hat, self.P)


def row_kl(log_P_hat: torch.Tensor, P: torch.Tensor) -> torch.Tensor:
    """The metric of the query-selectivity task: row-averaged ``KL(P || P_hat)`` in nats, one value per member.

    ``log_P_hat`` (E, K, K) log-probabilities (or (K, K): a scalar), ``P`` target rows (K, K) or (E, K, K).
    """
    if log_P_hat.shape[-2:] != P.shape[-2:]:
        raise ValueError(f"log_P_hat must end in the shape of P {tuple(P.shape[-2:])}, got {tuple(log_P_hat.shape)}")
    return (P * (P.log() - log_P_hat)).sum(-1).mean(-1)


def spiky_transitions(K: int = 16, d: int = 4, beta_range: tuple[float, float] = (0.5, 8.0),
                      seed: int = 0) -> SpikyTransitions:
    """Sample the query-selectivity task (the book's design; {eq}`eq-ch5-spiky`).

    K random unit embeddings in R^d (d < K, so a single bilinear form cannot give every query its own
    sharpness), a Gaussian ``M`` with unit-variance entries, and per-query inverse temperatures spread over
    ``beta_range`` as a smooth (softplus-affine) function of the embedding.
    """
    K = validate.positive_int("K", K)
    d = validate.positive_int("d", d)
    lo, hi = (validate.positive("beta_range[0]", beta_range[0]), validate.positive("beta_range[1]", beta_range[1]))
    if not lo < hi:
        raise ValueError(f"beta_range must be increasing (low < high), got {beta_range}")
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((K, d))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    M = rng.standard_normal((d, d))
    direction = rng.standard_normal(d)
    direction /= np.linalg.norm(direction)
    z = X @ direction
    z_lo, z_hi = _softplus_inv(np.array([lo, hi]))
    slope = (z_hi - z_lo) / (z.max() - z.min())
    a, b = slope * direction, float(z_lo - slope * z.min())
    beta = _softplus(X @ a + b)
    logits = beta[:, None] * (X @ M @ X.T)
    P = np.exp(logits - logits.max(1, keepdims=True))
    P /= P.sum(1, keepdims=True)
    t = lambda v: torch.as_tensor(v, dtype=torch.float64)  # noqa: E731
    return SpikyTransitions(t(X), t(M), t(a), b, t(beta), t(P))


# ----------------------------------------------------------------------------------------------------------
# Needle retrieval

def _length_range(n: int | tuple[int, int], low: int) -> tuple[int, int]:
    """A context length ``n`` >= ``low``, or a ``(low_n, high_n)`` range of them, as a (low, high) pair."""
    if isinstance(n, tuple):
        lo = validate.int_in_range("n[0]", n[0], low, 1 << 20)
        return lo, validate.int_in_range("n[1]", n[1], lo, 1 << 20)
    return (validate.int_in_range("n", n, low, 1 << 20),) * 2


def _keys_and_values(B: int, n_range: tuple[int, int], d: int, dtype: torch.dtype, generator: torch.Generator):
    """A context length n drawn from ``n_range``, keys uniform on the unit sphere (B, n, d), values N(0, 1) (B, n)."""
    lo, hi = n_range
    n = lo if lo == hi else int(torch.randint(lo, hi + 1, (1,), generator=generator))
    x = torch.randn(B, n, d, generator=generator, dtype=dtype)
    return n, x / x.norm(dim=-1, keepdim=True), torch.randn(B, n, generator=generator, dtype=dtype)


class NeedleRetrieval:
    """Needle-in-a-haystack retrieval with a variable context length ({eq}`eq-ch5-needle`).

    A prompt holds n context tokens ``[x_j; y_j]`` (keys ``x_j`` uniform on the unit sphere of R^d, values
    ``y_j ~ N(0, 1)``) and a query token ``[x_q; 0]`` with ``x_q = x_t + noise * g`` for one target position
    t (g standard Gaussian). The target is ``y_t``.

    ``n`` is an int or a ``(low, high)`` range: each batch then uses one length drawn uniformly from it.
    ``__call__(batch_size, generator) -> (Z (B, n+1, d+1), y (B,))``; :meth:`sample` also returns t (B,).
    """

    def __init__(self, d: int = 16, n: int | tuple[int, int] = 32, noise: float = 0.1,
                 dtype: torch.dtype = torch.float32):
        self.d = validate.positive_int("d", d)
        self.n_range = _length_range(n, low=1)
        self.noise = validate.nonnegative("noise", noise)
        self.dtype = dtype

    def sample(self, batch_size: int, generator: torch.Generator):
        """``(Z, y, target_index)``; see the class docstring."""
        B = validate.positive_int("batch_size", batch_size)
        n, x, y = _keys_and_values(B, self.n_range, self.d, self.dtype, generator)
        t = torch.randint(0, n, (B,), generator=generator)
        rows = torch.arange(B)
        xq = x[rows, t] + self.noise * torch.randn(B, self.d, generator=generator, dtype=self.dtype)
        Z = torch.cat([torch.cat([x, y[..., None]], -1),
                       torch.cat([xq, xq.new_zeros(B, 1)], -1)[:, None]], dim=1)
        return Z, y[rows, t], t

    def __call__(self, batch_size: int, generator: torch.Generator):
        Z, y, _ = self.sample(batch_size, generator)
        return Z, y


class DecoyRetrieval:
    """Needle retrieval with a decoy: the needle's key appears twice, once with a corrupted value
    (value-selectivity, {eq}`eq-ch5-value`; the book's design).

    A prompt holds n context tokens ``[x_j; f_j; y_j]`` and a query ``[x_q; 0; 0]``: keys ``x_j`` uniform on the
    unit sphere of R^d, values ``y_j ~ N(0, 1)``, and flag ``f_j = 0``, except for one **decoy** token that
    repeats the needle's key exactly, carries the flag ``f = 1`` and a value ``decoy_scale * N(0, 1)``
    unrelated to the target. The query is ``x_q = x_t + noise * g`` and the target is the needle's value ``y_t``.
    Needle and decoy have the same key, so no attention pattern can tell them apart; only something that reads
    the flag of each *value* can.

    ``n`` >= 2 (an int or a ``(low, high)`` range as in :class:`NeedleRetrieval`).
    ``__call__(batch_size, generator) -> (Z (B, n+1, d+2), y (B,))``.
    """

    def __init__(self, d: int = 16, n: int | tuple[int, int] = 32, noise: float = 0.1, decoy_scale: float = 2.0,
                 dtype: torch.dtype = torch.float32):
        self.d = validate.positive_int("d", d)
        self.n_range = _length_range(n, low=2)
        self.noise = validate.nonnegative("noise", noise)
        self.decoy_scale = validate.nonnegative("decoy_scale", decoy_scale)
        self.dtype = dtype

    def __call__(self, batch_size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        B = validate.positive_int("batch_size", batch_size)
        n, x, y = _keys_and_values(B, self.n_range, self.d, self.dtype, generator)
        pair = torch.rand(B, n, generator=generator).argsort(dim=-1)[:, :2]       # needle, decoy positions
        rows, t, c = torch.arange(B), pair[:, 0], pair[:, 1]
        x[rows, c] = x[rows, t]
        y[rows, c] = self.decoy_scale * torch.randn(B, generator=generator, dtype=self.dtype)
        flag = torch.zeros(B, n, 1, dtype=self.dtype)
        flag[rows, c] = 1.0
        xq = x[rows, t] + self.noise * torch.randn(B, self.d, generator=generator, dtype=self.dtype)
        Z = torch.cat([torch.cat([x, flag, y[..., None]], -1),
                       torch.cat([xq, xq.new_zeros(B, 2)], -1)[:, None]], dim=1)
        return Z, y[rows, t]


# ----------------------------------------------------------------------------------------------------------
# A generated story language

NAMES = ("Ada Ben Cleo Dan Eve Finn Gus Hana Ivo Jade Kai Lea Milo Nia Omar Pia Quin Rosa Sam Tara Ugo Vera "
         "Wes Xena Yuri Zoe Alma Bo Cyd Dora Eli Fay Gil Hugo Iris Jon Kira Lou Mae Ned").split()
ANIMALS = "cat dog fox owl bear frog duck goat hen mouse wolf crab deer lion seal".split()
OBJECTS = ("ball book kite cake hat key lamp map box cup coin drum bell rope shoe fork leaf ring sock "
           "stone").split()
PLACES = "park lake hill farm town wood cave beach river garden market school bridge tower field".split()
ADJECTIVES = "big small red blue old young happy sad quick slow brave shy tall tiny green bright".split()
VERBS = "found lost took saw made broke dropped hid liked kept".split()
MOVES = "walked ran went hopped rode".split()
FUNCTION = ("once there was a named . had friend the to , in it and then of end story with who "
            "said hello gave back home day next every").split()
VOCAB: tuple[str, ...] = tuple(dict.fromkeys(FUNCTION + ANIMALS + OBJECTS + PLACES + ADJECTIVES + VERBS + MOVES
                                             + NAMES))


@dataclass
class StoryCorpus:
    """A token stream of generated stories.

    ``tokens`` (N,) int64 ids into ``vocab``; ``copy_dist`` (N,) int64: for a name that already occurred in
    its story, the distance back to its previous occurrence (the token must be *copied* from context),
    else 0. ``story_start`` (N,) bool marks the first token of each story.
    """

    tokens: np.ndarray
    copy_dist: np.ndarray
    story_start: np.ndarray
    vocab: tuple[str, ...]

    def decode(self, ids) -> str:
        """Token ids -> text."""
        return " ".join(self.vocab[int(i)] for i in ids)


_ADJ_OF = {noun: ADJECTIVES[(3 * i) % len(ADJECTIVES):(3 * i) % len(ADJECTIVES) + 3]
           for i, noun in enumerate(ANIMALS + OBJECTS)}  # each noun has three favourite adjectives


def _zipf_cdf(k: int, s: float = 1.1) -> np.ndarray:
    p = 1.0 / np.arange(1, k + 1) ** s
    return np.cumsum(p / p.sum())


_CDF = {len(ANIMALS): _zipf_cdf(len(ANIMALS)), len(OBJECTS): _zipf_cdf(len(OBJECTS)),
        len(PLACES): _zipf_cdf(len(PLACES))}


def _story(rng: np.random.Generator, n_filler: tuple[int, int]) -> list[str]:
    """One story: two characters are introduced, filler sentences mention them, the ending names both."""
    i1, i2 = rng.choice(len(NAMES), size=2, replace=False)
    n1, n2 = NAMES[i1], NAMES[i2]
    n_sent = int(rng.integers(n_filler[0], n_filler[1] + 1))
    u = rng.random((n_sent + 1, 6))                          # all the randomness of the story, drawn at once
    zipf = lambda items, v: items[int(np.searchsorted(_CDF[len(items)], v))]  # noqa: E731
    pick = lambda items, v: items[int(v * len(items))]  # noqa: E731
    animal, obj = zipf(ANIMALS, u[0, 0]), zipf(OBJECTS, u[0, 1])
    words = ["once", "there", "was", "a", pick(_ADJ_OF[animal], u[0, 2]), animal, "named", n1, ".",
             n1, "had", "a", "friend", "named", n2, "."]
    for r in u[1:]:
        who, other = (n1, n2) if r[0] < 0.5 else (n2, n1)
        kind, place = int(4 * r[1]), zipf(PLACES, r[2])
        if kind == 0:
            words += [who, pick(VERBS, r[3]), "the", pick(_ADJ_OF[obj], r[4]), obj, "."]
        elif kind == 1:
            words += [who, pick(MOVES, r[3]), "to", "the", place, "."]
        elif kind == 2:
            words += [who, "said", "hello", "to", other, "in", "the", place, "."]
        else:
            obj = zipf(OBJECTS, r[5])
            words += ["then", who, "found", "a", pick(_ADJ_OF[obj], r[4]), obj, "."]
    words += ["the", "end", "of", "the", "story", "of", n1, "and", n2, "."]
    return words


def synthetic_stories(n_tokens: int, seed: int = 0, n_filler: tuple[int, int] = (2, 10)) -> StoryCorpus:
    """Generate about ``n_tokens`` tokens of stories (the book's own corpus; nothing is downloaded).

    Each story introduces two names (drawn from 40) and mentions them again later: every later mention is a
    token that only the context can predict (``copy_dist > 0``). Nouns follow a Zipf law and each noun has
    three favourite adjectives, so local statistics reward a model too. ``n_filler`` is the range of filler
    sentences per story (longer stories = longer copy distances).
    """
    validate.positive_int("n_tokens", n_tokens)
    lo = validate.int_in_range("n_filler[0]", n_filler[0], 0, 1000)
    validate.int_in_range("n_filler[1]", n_filler[1], lo, 1000)
    rng = np.random.default_rng(seed)
    index = {w: i for i, w in enumerate(VOCAB)}
    names = set(NAMES)
    tokens, copy_dist, start = [], [], []
    while len(tokens) < n_tokens:
        story = _story(rng, n_filler)
        last_seen: dict[str, int] = {}
        for pos, w in enumerate(story):
            tokens.append(index[w])
            copy_dist.append(pos - last_seen[w] if w in names and w in last_seen else 0)
            start.append(pos == 0)
            if w in names:
                last_seen[w] = pos
    return StoryCorpus(np.array(tokens, dtype=np.int64), np.array(copy_dist, dtype=np.int64),
                       np.array(start, dtype=bool), VOCAB)


class LMWindows:
    """Random windows of a token stream for next-token training: ``(idx (B, T), targets (B, T))``.

    ``__call__(batch_size, generator)`` draws window starts uniformly; :meth:`windows` gives fixed windows
    and :meth:`held_out` evenly spaced ones (evaluation). :meth:`copy_positions` marks the targets that are
    names to copy from *inside* the window.
    """

    def __init__(self, corpus: StoryCorpus, T: int):
        self.corpus = corpus
        self.T = validate.int_in_range("T", T, 1, len(corpus.tokens) - 2)
        self._tokens = torch.as_tensor(corpus.tokens)
        self._copy = torch.as_tensor(corpus.copy_dist)

    def windows(self, starts: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Windows beginning at ``starts`` (B,): inputs tokens[s : s+T], targets tokens[s+1 : s+T+1]."""
        offsets = starts[:, None] + torch.arange(self.T + 1)
        seq = self._tokens[offsets]
        return seq[:, :-1], seq[:, 1:]

    def copy_positions(self, starts: torch.Tensor) -> torch.Tensor:
        """Boolean (B, T): the target at position t is a name whose previous mention lies inside the window."""
        dist = self._copy[starts[:, None] + torch.arange(1, self.T + 1)]
        return (dist > 0) & (dist <= torch.arange(1, self.T + 1))

    def held_out(self, n_windows: int = 256, copy_only: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """``n_windows`` evenly spaced windows ``(idx, targets)``, a fixed pair for :func:`iclcore.evaluate.evaluate`.

        ``copy_only=True`` sets every target that is not a name to copy from inside the window to
        :data:`iclcore.tasks.recall.IGNORE`, so :func:`iclcore.tasks.recall.token_accuracy` measures name copying.
        """
        n = validate.int_in_range("n_windows", n_windows, 1, len(self._tokens) - self.T - 1)
        starts = torch.linspace(0, len(self._tokens) - self.T - 2, n).long()
        idx, targets = self.windows(starts)
        if copy_only:
            targets = targets.masked_fill(~self.copy_positions(starts), IGNORE)
        return idx, targets

    def __call__(self, batch_size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        B = validate.positive_int("batch_size", batch_size)
        starts = torch.randint(0, len(self._tokens) - self.T - 1, (B,), generator=generator)
        return self.windows(starts)


# ----------------------------------------------------------------------------------------------------------
# Judging generated stories (Chapter 17): the grammar of the generator, and n-gram baselines

_CLASSES = {"NAME": set(NAMES), "ANIMAL": set(ANIMALS), "OBJECT": set(OBJECTS), "PLACE": set(PLACES),
            "ADJ": set(ADJECTIVES), "VERB": set(VERBS), "MOVE": set(MOVES)}
STORY_SENTENCES = (
    "once there was a ADJ ANIMAL named NAME",
    "NAME had a friend named NAME",
    "NAME VERB the ADJ OBJECT",
    "NAME MOVE to the PLACE",
    "NAME said hello to NAME in the PLACE",
    "then NAME found a ADJ OBJECT",
    "the end of the story of NAME and NAME",
)
"""The sentence templates of :func:`synthetic_stories` (without the final "."; upper case = a word class)."""


def grammatical_sentences(words) -> tuple[int, int]:
    """``(number of grammatical sentences, number of complete sentences)`` in a list of words: the sentences
    are the runs that end with "."; a sentence is grammatical if it matches one of :data:`STORY_SENTENCES`
    word by word (word classes, not the story's coherence: any name fits NAME)."""
    sentences, cur = [], []
    for w in words:
        if w == ".":
            sentences.append(cur)
            cur = []
        else:
            cur.append(w)
    ok = 0
    for s in sentences:
        for pattern in STORY_SENTENCES:
            p = pattern.split()
            if len(p) == len(s) and all(w in _CLASSES[q] if q in _CLASSES else w == q
                                        for q, w in zip(p, s, strict=True)):
                ok += 1
                break
    return ok, len(sentences)


def ngram_cross_entropy(train: np.ndarray, test: np.ndarray, V: int, order: int = 2,
                        alpha: float = 0.01) -> float:
    """Held-out cross-entropy (nats/token) of an add-``alpha`` n-gram model counted on ``train`` token ids:
    ``order`` 1 = unigram, 2 = bigram (the best a model that sees only the current token can do), 3 = trigram."""
    validate.int_in_range("order", order, 1, 3)
    validate.positive("alpha", alpha)
    V = validate.positive_int("V", V)
    train, test = np.asarray(train, dtype=np.int64), np.asarray(test, dtype=np.int64)
    if train.size < order or test.size < order or train.min() < 0 or train.max() >= V or test.min() < 0 \
            or test.max() >= V:
        raise ValueError(f"train and test must hold at least {order} token ids in [0, {V})")
    k = order - 1

    def context_ids(x: np.ndarray) -> np.ndarray:
        c = np.zeros(x.size - k, dtype=np.int64)
        for j in range(k):
            c = c * V + x[j:x.size - k + j]
        return c

    ctx, nxt = context_ids(train), train[k:]
    counts: dict[int, np.ndarray] = {}
    for c in np.unique(ctx):
        counts[int(c)] = np.bincount(nxt[ctx == c], minlength=V).astype(float)
    tc, tn = context_ids(test), test[k:]
    nll = 0.0
    for c in np.unique(tc):
        row = counts.get(int(c), np.zeros(V)) + alpha
        nll -= np.log(row[tn[tc == c]] / row.sum()).sum()
    return float(nll / tn.size)
