"""Checkers for the coding exercises of the chapter "Dissecting chain-of-thought".

* :func:`check_label_step` -- ``fn(H, y) -> predictions (n,)``: least squares of the labels on the thoughts of
  the examples before each k, applied to the k-th thought (the CoT oracle with the true thought);
* :func:`check_filter_share` -- ``fn(A, types, query, key) -> float``: the filtering probe ({eq}`eq-ch16-filter`)
  of one attention matrix.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from iclcore.exercises.base import Case, Verdict, check_function
from iclcore.theory.cot import stepwise_least_squares


def _reference_label_step(H, y):
    H = torch.as_tensor(np.asarray(H, dtype=np.float64))[None]
    y = torch.as_tensor(np.asarray(y, dtype=np.float64))[None]
    X = torch.zeros(*H.shape[:-1], 1, dtype=torch.float64)
    return stepwise_least_squares(X, H, y, own_thought=False)[0].numpy()


def _label_step_peeking(H, y):
    return np.array([H[k] @ np.linalg.pinv(H[: k + 1]) @ y[: k + 1] for k in range(len(y))])


def check_label_step(fn: Callable, show: bool = True) -> Verdict:
    """Check ``fn(H, y)``: thoughts H (n, m), labels y (n,) -> the n least-squares predictions from the earlier
    examples ({eq}`eq-ch16-identified`'s companion step ``h -> y``)."""
    rng = np.random.default_rng(16)
    cases = []
    for label, n, m in [("n = 8 examples, m = 2", 8, 2), ("n = 4 examples, m = 6 (fewer examples than units)", 4, 6),
                        ("a single example", 1, 3), ("n = 10 examples, m = 1", 10, 1)]:
        H = np.abs(rng.standard_normal((n, m)))
        cases.append(Case(label, (H, H @ rng.standard_normal(m))))
    return check_function(fn, _reference_label_step, cases, name="my_label_step",
                          wrong_answers=[(_label_step_peeking, "prediction k must use the examples before k only: "
                                          "H[:k], y[:k], not H[:k+1]")], rtol=1e-6, atol=1e-8, show=show)


def _reference_share(A, types, query, key, self_attention=False):
    A, types = np.asarray(A, dtype=np.float64), np.asarray(types)
    shares = []
    for t in range(1, len(types)):
        if types[t] == query:
            row = A[t, : t + 1] if self_attention else A[t, :t]
            kinds = types[: t + 1] if self_attention else types[:t]
            shares.append(row[kinds == key].sum() / row.sum())
    return float(np.mean(shares))


def check_filter_share(fn: Callable, show: bool = True) -> Verdict:
    """Check ``fn(A, types, query, key)``: one (T, T) causal attention matrix and the T token types -> the share of
    attention that rows of type ``query`` (t >= 1) put on earlier tokens of type ``key``, self excluded."""
    rng = np.random.default_rng(61)
    cases = []
    for label, n, q, k in [("3 examples, h-tokens to y-tokens", 3, "h", "y"),
                           ("4 examples, x-tokens to h-tokens", 4, "x", "h"),
                           ("5 examples, y-tokens to y-tokens", 5, "y", "y")]:
        types = ["x", "h", "y"] * n
        T = len(types)
        A = np.tril(rng.exponential(size=(T, T)))
        A[np.arange(T), np.arange(T)] *= 5                              # strong self-attention
        cases.append(Case(label, (A / A.sum(1, keepdims=True), types, q, k)))
    return check_function(fn, _reference_share, cases, name="my_filter_share",
                          wrong_answers=[(lambda A, t, q, k: _reference_share(A, t, q, k, self_attention=True),
                                          "leave the token's attention to itself out of both sums")],
                          rtol=1e-6, atol=1e-9, show=show)
