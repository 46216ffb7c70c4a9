"""Retrieval-by-position ICL prompts, single-task and mixed (Xiong, Cai et al. 2024; Chapter 18).

A *task* ``j in {0, ..., L-1}`` maps a string ``x = (x_1, ..., x_L)`` of L **distinct** symbols of an alphabet of
size K to its symbol at position j: ``f_j(x) = x_j`` (0-based, {eq}`eq-ch18-task`). A prompt holds n
demonstrations ``(x_i, f_{j_i}(x_i))`` and a query ``x_q``; one token per demonstration,

    u_i = [onehot(x_{i,0}), ..., onehot(x_{i,L-1}), onehot(y_i)]   in R^{(L+1) K},

and the query token carries a zero answer block. Tokens: ``(B, n+1, (L+1) K)``; the model's next-symbol logits
are read at the last (query) token.

* :class:`PositionRetrieval` -- the training sampler: one task per prompt (``j_i = j`` for every i), the task
  drawn uniformly; ``shuffle_answers=True`` (a break switch) pairs every input with the answer of another
  demonstration, so the prompt carries no information about the task.
* :meth:`PositionRetrieval.mixed` -- test prompts mixing M tasks with proportions ``pi``: the counts
  :func:`task_counts` are shuffled over the n demonstrations; returns the M candidate answers ``x_{q, j_k}``.
* :func:`answer_cross_entropy` (training loss) and :func:`answer_probs` (the probability of each candidate).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from iclcore import validate


def check_proportions(proportions, M: int | None = None) -> np.ndarray:
    """Mixture proportions ``pi`` (M,): non-negative, summing to 1 (within 1e-6); raises ``ValueError`` naming
    ``proportions`` otherwise."""
    pi = np.asarray(proportions, dtype=float)
    if pi.ndim != 1 or pi.size == 0 or (M is not None and pi.size != M):
        want = "a non-empty 1-D sequence" if M is None else f"{M} values (one per task)"
        raise ValueError(f"proportions must be {want}, got shape {pi.shape}")
    if not np.all(np.isfinite(pi)) or np.any(pi < 0):
        raise ValueError(f"proportions must be non-negative, got {pi.tolist()}")
    if abs(pi.sum() - 1.0) > 1e-6:
        raise ValueError(f"proportions must sum to 1, got sum {pi.sum():.6g} for {pi.tolist()}")
    return pi


def task_counts(proportions, n: int) -> np.ndarray:
    """How many of n demonstrations each task gets: ``round(pi_k n)`` by largest remainders, so the counts sum to
    n exactly; ties go to the earlier task. ``(M,) -> (M,)`` ints."""
    pi = check_proportions(proportions)
    validate.positive_int("n", n)
    raw = pi * n
    counts = np.floor(raw + 1e-9).astype(int)
    order = sorted(range(pi.size), key=lambda k: (-(raw[k] - counts[k]), k))
    for k in order[: n - counts.sum()]:
        counts[k] += 1
    return counts


def encode(x: torch.Tensor, y: torch.Tensor | None, K: int) -> torch.Tensor:
    """Tokens of demonstrations ``x`` (B, n, L) with answers ``y`` (B, n), or of queries (``y=None``: zero answer
    block): ``(B, n, (L+1) K)`` float32."""
    sym = F.one_hot(x, K).float().flatten(-2)
    ans = torch.zeros(*x.shape[:-1], K) if y is None else F.one_hot(y, K).float()
    return torch.cat([sym, ans], -1)


class PositionRetrieval:
    """Sampler of single-task retrieval prompts; ``task(batch_size, generator) -> (u (B, n+1, (L+1)K), y (B,))``.

    Parameters
    ----------
    L : string length = number of tasks (positions), at least 2.
    K : alphabet size, at least L (the L symbols of a string are distinct).
    n_range : (low, high), the number of demonstrations is drawn uniformly in [low, high] once per batch.
    shuffle_answers : break switch -- every demonstration's answer is taken from another demonstration of the
        same prompt (a random derangement of the answers), which hides the task.
    """

    def __init__(self, L: int = 3, K: int = 6, n_range: tuple[int, int] = (2, 8), shuffle_answers: bool = False):
        self.L = validate.int_in_range("L", L, 2, 64)
        self.K = validate.int_in_range("K", K, L, 1024)
        if len(n_range) != 2 or not 1 <= n_range[0] <= n_range[1]:
            raise ValueError(f"n_range must be (low, high) with 1 <= low <= high, got {n_range!r}")
        self.n_range = (int(n_range[0]), int(n_range[1]))
        self.shuffle_answers = bool(shuffle_answers)

    @property
    def d_in(self) -> int:
        """Token width ``(L+1) K``."""
        return (self.L + 1) * self.K

    def strings(self, shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
        """Strings of L distinct symbols, uniformly at random: ``shape + (L,)`` int64."""
        count = int(np.prod(shape))
        x = torch.argsort(torch.rand(count, self.K, generator=generator), dim=-1)[:, : self.L]
        return x.reshape(*shape, self.L)

    def prompts(self, tasks: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Prompts whose demonstration i of prompt b follows task ``tasks[b, i]`` (B, n): returns the tokens
        (B, n+1, (L+1)K) and the query strings (B, L)."""
        B, n = tasks.shape
        if tasks.numel() and (tasks.min() < 0 or tasks.max() >= self.L):
            raise ValueError(f"tasks must lie in [0, {self.L - 1}], got range [{int(tasks.min())}, {int(tasks.max())}]")
        x = self.strings((B, n + 1), generator)
        y = x[:, :n].gather(-1, tasks[..., None])[..., 0]
        if self.shuffle_answers and n > 1:
            shift = torch.randint(1, n, (B, 1), generator=generator)
            y = y.gather(1, (torch.arange(n)[None] + shift) % n)
        u = torch.cat([encode(x[:, :n], y, self.K), encode(x[:, n:], None, self.K)], 1)
        return u, x[:, n]

    def neutral(self, batch_size: int, generator: torch.Generator, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Prompts of n uninformative demonstrations: each answer is a symbol *absent* from its string (needs
        K > L), so no demonstration points to a position. Returns tokens (B, n+1, (L+1)K) and query strings (B, L)."""
        B = validate.positive_int("batch_size", batch_size)
        validate.nonnegative("n", n)
        if self.K <= self.L:
            raise ValueError(f"K must exceed L for uninformative answers, got K={self.K}, L={self.L}")
        perm = torch.argsort(torch.rand(B * (n + 1), self.K, generator=generator), dim=-1).reshape(B, n + 1, self.K)
        x, other = perm[..., : self.L], perm[:, :n, self.L]
        u = torch.cat([encode(x[:, :n], other, self.K), encode(x[:, n:], None, self.K)], 1)
        return u, x[:, n]

    def __call__(self, batch_size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        B = validate.positive_int("batch_size", batch_size)
        lo, hi = self.n_range
        n = int(torch.randint(lo, hi + 1, (1,), generator=generator))
        j = torch.randint(0, self.L, (B,), generator=generator)
        u, xq = self.prompts(j[:, None].expand(B, n), generator)
        return u, xq.gather(-1, j[:, None])[:, 0]

    def mixed(self, batch_size: int, generator: torch.Generator, tasks, proportions, n: int
              ) -> tuple[torch.Tensor, torch.Tensor]:
        """Prompts mixing ``tasks`` (M distinct positions) with ``proportions`` (M,) over n demonstrations
        (counts by :func:`task_counts`, order shuffled per prompt): returns tokens (B, n+1, (L+1)K) and the
        candidate answers ``x_{q, j_k}`` (B, M), distinct because the symbols of a string are."""
        B = validate.positive_int("batch_size", batch_size)
        tasks = [int(t) for t in tasks]
        if len(set(tasks)) != len(tasks) or not all(0 <= t < self.L for t in tasks):
            raise ValueError(f"tasks must be distinct positions in [0, {self.L - 1}], got {tasks}")
        counts = task_counts(check_proportions(proportions, len(tasks)), n)
        seq = torch.tensor(np.repeat(tasks, counts))
        order = torch.argsort(torch.rand(B, n, generator=generator), dim=-1)
        u, xq = self.prompts(seq[order], generator)
        return u, xq[:, tasks]


def demo_tasks(u: torch.Tensor, L: int, K: int) -> torch.Tensor:
    """The task of every demonstration read back from the tokens (the position of its answer in its string,
    ``-1`` when the answer is absent): tokens (B, n+1, (L+1)K) -> (B, n) int64."""
    tok = u[:, :-1].reshape(*u.shape[:-2], u.shape[-2] - 1, L + 1, K)
    match = (tok[..., :L, :] * tok[..., L:, :]).sum(-1)                       # (B, n, L)
    return torch.where(match.sum(-1) > 0, match.argmax(-1), torch.full(match.shape[:-1], -1))


def answer_cross_entropy(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of the answer read at the last token: logits (E, B, T, K), targets (B,) -> (E,)."""
    E, B, _, K = logits.shape
    ce = F.cross_entropy(logits[:, :, -1].reshape(E * B, K), y.repeat(E), reduction="none")
    return ce.reshape(E, B).mean(1)


def answer_probs(logits: torch.Tensor, answers: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """Probability of each candidate answer at the last token, softmax(logits / temperature):
    logits (E, B, T, K), answers (B, M) -> (E, B, M)."""
    validate.positive("temperature", temperature)
    P = torch.softmax(logits[:, :, -1].double() / temperature, dim=-1)
    return P.gather(-1, answers[None].expand(P.shape[0], *answers.shape))
