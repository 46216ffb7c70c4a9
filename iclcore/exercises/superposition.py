"""Checkers for the coding exercises of the task-superposition chapter (Chapter 18).

* :func:`check_task_counts` -- ``fn(proportions, n) -> (M,)`` ints: how many of n demonstrations each task gets,
  ``round(pi_k n)`` by largest remainders so that the counts sum to n;
* :func:`check_task_shares` -- ``fn(P) -> (M,)``: the mean normalised share of each task's answer,
  ``r_k = mean_b P_bk / sum_k' P_bk'`` ({eq}`eq-ch18-share`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from iclcore.exercises.base import Case, Verdict, check_function
from iclcore.tasks import make_generator
from iclcore.tasks.superposition import task_counts


def _counts_cases() -> list[Case]:
    return [
        Case("two tasks, half and half, n = 10", ((0.5, 0.5), 10)),
        Case("three equal tasks, n = 10 (one remainder)", ((1 / 3, 1 / 3, 1 / 3), 10)),
        Case("(0.25, 0.75), n = 6", ((0.25, 0.75), 6)),
        Case("(0.7, 0.2, 0.1), n = 8", ((0.7, 0.2, 0.1), 8)),
        Case("one task only, n = 5", ((0.0, 1.0), 5)),
    ]


def check_task_counts(fn: Callable, show: bool = True) -> Verdict:
    """Check ``fn(proportions, n)`` against :func:`iclcore.tasks.task_counts`; ``show`` prints the verdict."""
    return check_function(
        fn, task_counts, _counts_cases(), name="my_task_counts", rtol=0, atol=0, show=show,
        wrong_answers=[
            (lambda p, n: np.round(np.asarray(p) * n).astype(int),
             "Rounding each count on its own can miss n (three equal tasks, n = 10 gives 3 + 3 + 3): hand the "
             "leftover demonstrations to the largest remainders."),
            (lambda p, n: np.floor(np.asarray(p) * n).astype(int),
             "Flooring loses demonstrations: the counts must sum to n."),
        ])


def _shares_reference(P):
    P = np.asarray(P, dtype=float)
    return (P / P.sum(1, keepdims=True)).mean(0)


def _shares_cases() -> list[Case]:
    g = make_generator(0)
    import torch

    def probs(n_prompts, M, scale):
        logits = scale * torch.randn(n_prompts, M + 2, generator=g, dtype=torch.float64)
        return torch.softmax(logits, -1)[:, :M].numpy()

    return [
        Case("two prompts, two tasks", (np.array([[0.6, 0.2], [0.1, 0.1]]),)),
        Case("50 prompts, two tasks", (probs(50, 2, 2.0),)),
        Case("40 prompts, three tasks, sharp outputs", (probs(40, 3, 4.0),)),
    ]


def check_task_shares(fn: Callable, show: bool = True) -> Verdict:
    """Check ``fn(P)`` (P: (n_prompts, M) answer probabilities) against the mean normalised shares
    ({eq}`eq-ch18-share`); ``show`` prints the verdict."""
    return check_function(
        fn, _shares_reference, _shares_cases(), name="my_task_shares", rtol=1e-8, atol=1e-12, show=show,
        wrong_answers=[
            (lambda P: np.asarray(P).mean(0),
             "That is the mean probability, not the share: divide by the mass on the M answers first."),
            (lambda P: np.asarray(P).mean(0) / np.asarray(P).mean(0).sum(),
             "That normalises the averages (a ratio of means); the share is normalised per prompt, then averaged."),
        ])
