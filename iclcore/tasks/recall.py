"""Token tasks for recall: (N-gram, multi-query) associative recall, copying and selective copying (Li et al.
2025, Sec. 3), and the two metrics that go with every token task: :func:`lm_loss` and :func:`token_accuracy`.

Unlike the regression samplers, these samplers return **token ids**, not token vectors::

    tokens, targets = task(batch_size, generator)     # both (B, T), dtype long

``targets[b, t]`` is the token the model must predict **at position t** (from tokens ``<= t``), or
:data:`IGNORE` (-100, the ``ignore_index`` of :func:`torch.nn.functional.cross_entropy`) where nothing is
asked. The loss and the accuracy therefore only look at answer positions. The same sampler class with a
larger ``n_pairs`` (same vocabulary) gives the longer test prompts of a length-generalisation experiment.

Every key in a prompt is distinct and so is every value, so the prompt has one right answer and the
hand-built CAT of chapter 6 ({eq}`eq-ch6-construction`) answers it at every length.
"""

from __future__ import annotations

import torch
from torch import nn

from iclcore import validate

IGNORE = -100
"""Target id of the positions that are not scored (``ignore_index`` of ``F.cross_entropy``)."""


def _members(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Logits (B, T, V) or (E, B, T, V) for targets (B, T) (or per-member targets (E, B, T)) -> (E, B, T, V)."""
    if targets.dim() == 3 and logits.dim() == 4 and logits.shape[:-1] == targets.shape:
        return logits
    if targets.dim() != 2 or logits.dim() not in (3, 4) or logits.shape[-3:-1] != targets.shape:
        raise ValueError(f"logits must have shape (B, T, V) or (E, B, T, V) for targets (B, T)={tuple(targets.shape)}, "
                         f"got {tuple(logits.shape)}")
    return logits[None] if logits.dim() == 3 else logits


def _member_targets(targets: torch.Tensor, E: int) -> torch.Tensor:
    return targets if targets.dim() == 3 else targets.expand(E, *targets.shape)


def lm_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean next-token cross-entropy (nats) over the scored positions, one value per member: (E,).

    ``logits`` (B, T, V) (one model: E = 1) or (E, B, T, V) (an ensemble); ``targets`` (B, T) token ids (or
    (E, B, T), one set per member), with :data:`IGNORE` where nothing is asked. The loss of language modelling
    and of every recall task.
    """
    lgs = _members(logits, targets)
    return torch.stack([nn.functional.cross_entropy(lg.reshape(-1, lg.shape[-1]), tg.reshape(-1), ignore_index=IGNORE)
                        for lg, tg in zip(lgs, _member_targets(targets, lgs.shape[0]), strict=True)])


def token_accuracy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Fraction of scored positions (target != :data:`IGNORE`) where the argmax token is the target: (E,).

    Shapes as in :func:`lm_loss`. The accuracy of recall and copying, and of name copying in a story.
    """
    asked = targets != IGNORE
    if not asked.any():
        raise ValueError("targets must score at least one position (all are IGNORE)")
    lgs = _members(logits, targets)
    asked = _member_targets(asked, lgs.shape[0])
    hits = (lgs.argmax(-1) == _member_targets(targets, lgs.shape[0])) & asked
    return hits.flatten(1).sum(-1).double() / asked.flatten(1).sum(-1)


def _distinct(batch_size: int, n_choices: int, k: int, generator: torch.Generator) -> torch.Tensor:
    """``k`` distinct integers in ``[0, n_choices)`` per row, uniformly at random: (B, k) long."""
    return torch.rand(batch_size, n_choices, generator=generator).argsort(dim=-1)[:, :k]


class AssociativeRecall:
    """Multi-query associative recall (Zoology's MQAR; Li et al. 2025, the AR and N-gram AR tasks).

    A prompt lists ``n_pairs`` key-value pairs and then ``n_queries`` of its keys (distinct, in random
    order); at the last token of each query the model must output that key's value::

        k_1 v_1 k_2 v_2 ... k_N v_N  q_1 q_2 ... q_Q          (ngram = 1, T = 2N + Q)
        a_1 b_1 v_1 ... a_N b_N v_N  (a b)_1 ... (a b)_Q      (ngram = 2, T = 3N + 2Q)

    Parameters
    ----------
    n_pairs : number N of key-value pairs (the context length knob).
    n_queries : number Q of queries per prompt, 1 <= Q <= N.
    n_keys : size of the key alphabet (token ids ``0 .. n_keys - 1``). With ``ngram = g`` a key is a
        g-tuple of alphabet tokens, so there are ``n_keys ** g`` keys; a prompt needs N distinct keys.
    n_values : number of value tokens (ids ``n_keys .. n_keys + n_values - 1``), at least N.
    ngram : length g of a key (1 = plain AR, 2 = bigram keys).

    ``vocab_size = n_keys + n_values``. Keys and values of one prompt are distinct.
    """

    def __init__(self, n_pairs: int, n_queries: int = 4, n_keys: int = 64, n_values: int = 64, ngram: int = 1):
        self.ngram = validate.int_in_range("ngram", ngram, 1, 4)
        self.n_keys = validate.positive_int("n_keys", n_keys)
        n_distinct = self.n_keys**self.ngram
        self.n_values = validate.positive_int("n_values", n_values)
        self.n_pairs = validate.int_in_range("n_pairs", n_pairs, 1, min(n_distinct, self.n_values))
        self.n_queries = validate.int_in_range("n_queries", n_queries, 1, self.n_pairs)
        self.vocab_size = self.n_keys + self.n_values
        self.seq_len = (self.ngram + 1) * self.n_pairs + self.ngram * self.n_queries

    def __call__(self, batch_size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        B = validate.positive_int("batch_size", batch_size)
        N, Q, g = self.n_pairs, self.n_queries, self.ngram
        key_ids = _distinct(B, self.n_keys**g, N, generator)                       # (B, N) key index
        digits = torch.stack([(key_ids // self.n_keys**(g - 1 - j)) % self.n_keys for j in range(g)], -1)
        values = self.n_keys + _distinct(B, self.n_values, N, generator)            # (B, N)
        asked = _distinct(B, N, Q, generator)                                       # (B, Q) pair index
        context = torch.cat([digits, values.unsqueeze(-1)], dim=-1).reshape(B, N * (g + 1))
        queries = torch.gather(digits, 1, asked.unsqueeze(-1).expand(B, Q, g)).reshape(B, Q * g)
        tokens = torch.cat([context, queries], dim=1)
        targets = torch.full_like(tokens, IGNORE)
        answer_pos = context.shape[1] + g * torch.arange(1, Q + 1) - 1             # last token of each query
        targets[:, answer_pos] = torch.gather(values, 1, asked)
        return tokens, targets


class Copying:
    """Copy a sequence of distinct tokens: ``s x_1 ... x_n  s x_1 ... x_{n-1}`` (Li et al. 2025, copying).

    ``s`` is a separator (id ``n_tokens``). From the second ``s`` on, the model must predict the next token
    of the copy: ``x_1`` at the second ``s``, then ``x_{j+1}`` at the copied ``x_j``. T = 2n + 1; n answers.

    Parameters
    ----------
    length : number n of tokens to copy (the context length knob), at most ``n_tokens``.
    n_tokens : alphabet size (ids ``0 .. n_tokens - 1``); ``vocab_size = n_tokens + 1``.
    """

    def __init__(self, length: int, n_tokens: int = 64):
        self.n_tokens = validate.positive_int("n_tokens", n_tokens)
        self.length = validate.int_in_range("length", length, 1, self.n_tokens)
        self.vocab_size = self.n_tokens + 1
        self.seq_len = 2 * self.length + 1

    @property
    def separator(self) -> int:
        return self.n_tokens

    def __call__(self, batch_size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        B = validate.positive_int("batch_size", batch_size)
        n = self.length
        x = _distinct(B, self.n_tokens, n, generator)                               # (B, n)
        sep = torch.full((B, 1), self.separator, dtype=torch.long)
        tokens = torch.cat([sep, x, sep, x[:, :-1]], dim=1)                         # (B, 2n + 1)
        targets = torch.full_like(tokens, IGNORE)
        targets[:, n + 1:] = x
        return tokens, targets


class SelectiveCopying:
    """Copy the data tokens of a noisy sequence, skipping the noise (Li et al. 2025, selective copying).

    A prompt is ``s  r_1 ... r_{3n}  s  x_1 ... x_{n-1}``: the region r holds n distinct data tokens
    ``x_1..x_n`` in order, each preceded by 0, 1 or 2 noise tokens (uniformly, independently), and is filled up
    with noise to length 3n. From the second separator on, the model must predict the next data token: ``x_1``
    at the second ``s``, then ``x_{j+1}`` at the copied ``x_j``. T = 4n + 1; n answers. Unlike :class:`Copying`,
    the distance from ``x_j`` to ``x_{j+1}`` in the region is random (1 to 3), so no fixed offset finds it.

    Parameters
    ----------
    length : number n of data tokens (the context length knob), at most ``n_tokens``.
    n_tokens : data alphabet (ids ``0 .. n_tokens - 1``); the noise token is ``n_tokens``, the separator
        ``n_tokens + 1``; ``vocab_size = n_tokens + 2``.
    """

    MAX_GAP = 2
    """At most this many noise tokens precede a data token in the region."""

    def __init__(self, length: int, n_tokens: int = 64):
        self.n_tokens = validate.positive_int("n_tokens", n_tokens)
        self.length = validate.int_in_range("length", length, 1, self.n_tokens)
        self.vocab_size = self.n_tokens + 2
        self.seq_len = 4 * self.length + 1

    @property
    def noise(self) -> int:
        return self.n_tokens

    @property
    def separator(self) -> int:
        return self.n_tokens + 1

    def __call__(self, batch_size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        B = validate.positive_int("batch_size", batch_size)
        n = self.length
        x = _distinct(B, self.n_tokens, n, generator)                               # (B, n)
        gaps = torch.randint(0, self.MAX_GAP + 1, (B, n), generator=generator)       # noise before each x_j
        pos = torch.cumsum(gaps + 1, dim=1) - 1                                       # position of x_j in r
        region = torch.full((B, 3 * n), self.noise, dtype=torch.long)
        region.scatter_(1, pos, x)
        sep = torch.full((B, 1), self.separator, dtype=torch.long)
        tokens = torch.cat([sep, region, sep, x[:, :-1]], dim=1)                    # (B, 4n + 1)
        targets = torch.full_like(tokens, IGNORE)
        targets[:, 3 * n + 1:] = x
        return tokens, targets
