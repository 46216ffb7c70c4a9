"""Checkers for the coding exercises of Chapter 10 (mechanics of next-token prediction).

* :func:`check_priority_adjacency` -- ``fn(tokens, labels, query, K) -> A``, the adjacency matrix of the
  token-priority graph ``G^(query)`` ({eq}`eq-ch10-tpg`);
* :func:`check_constraint_table` -- ``fn(tokens, labels, K) -> C``, the constraints of the graph-SVM
  ({eq}`eq-ch10-svm`) as a table ``C[k, i, j]`` in {0, 1, 2}.

Each calls the reader's function on several data sets, prints a verdict with a hint when the answer matches a
known mistake, and returns a :class:`iclcore.exercises.base.Verdict`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from iclcore.exercises.base import Case, Verdict, check_function
from iclcore.theory import token_priority as tp

HAND_TOKENS = np.array([[0, 1, 2, 3], [0, 1, 3, 3], [0, 1, 3, 3], [1, 2, 3, 3], [0, 2, 2, 3], [2, 3, 3, 3]])
HAND_LABELS = np.array([0, 1, 0, 1, 0, 2])
"""The chapter's hand-made data set: every sequence ends with token 3; SCCs {0, 1} > {2} > {3}."""


def _random_data(rng, n, T, K):
    X = rng.integers(0, K, (n, T))
    return X, X[np.arange(n), rng.integers(0, T, n)]


def _datasets() -> list[tuple[str, np.ndarray, np.ndarray, int]]:
    rng = np.random.default_rng(10)
    out = [("the chapter's hand-made data set", HAND_TOKENS, HAND_LABELS, 4)]
    for label, n, T, K in [("12 random sequences, 5 tokens", 12, 4, 5), ("40 random sequences, 6 tokens", 40, 5, 6)]:
        X, y = _random_data(rng, n, T, K)
        out.append((label, X, y, K))
    return out


def _reference_adjacency(tokens, labels, query, K):
    return tp.adjacency(tp.priority_graph(tokens, labels, query), K)


def _adjacency_cases() -> list[Case]:
    cases = []
    for label, X, y, K in _datasets():
        queries = sorted(set(X[:, -1].tolist()))
        cases.append(Case(f"{label}, query {queries[0]}", (X, y, queries[0], K)))
        if len(queries) > 1:
            cases.append(Case(f"{label}, query {queries[-1]}", (X, y, queries[-1], K)))
    cases.append(Case("a query that never ends a sequence (no edges)", (HAND_TOKENS, HAND_LABELS, 1, 4)))
    return cases


def _planted_edges(tokens, labels, query, K, *, every_query=False, drop_last=False, count=False):
    """Plausible wrong adjacencies: ignoring the query, dropping the last token, or counting repeated edges."""
    A = np.zeros((K, K), dtype=np.int64)
    for row, y in zip(tokens, labels, strict=True):
        if every_query or row[-1] == query:
            for j in set((row[:-1] if drop_last else row).tolist()) - {int(y)}:
                A[y, j] = A[y, j] + 1 if count else 1
    return A


def _edges_all_queries(tokens, labels, query, K):
    return _planted_edges(tokens, labels, query, K, every_query=True)


def _edges_without_last(tokens, labels, query, K):
    return _planted_edges(tokens, labels, query, K, drop_last=True)


def _edge_counts(tokens, labels, query, K):
    return _planted_edges(tokens, labels, query, K, count=True)


def check_priority_adjacency(fn: Callable, show: bool = True) -> Verdict:
    """Check ``fn(tokens, labels, query, K)``: for sequences (n, T) of token ids (last token = query), labels
    (n,), a query token and the vocabulary size K, it must return the 0/1 adjacency matrix (K, K) of
    ``G^(query)`` ({eq}`eq-ch10-tpg`): ``A[i, j] = 1`` when some sequence ending with ``query`` has label i and
    contains token j != i."""
    wrong = [
        (lambda X, y, q, K: _reference_adjacency(X, y, q, K).T,
         "Your edges point the wrong way: the label beat the other tokens, so the edge goes FROM the label "
         "y TO each other token j (A[y, j] = 1)."),
        (lambda X, y, q, K: _reference_adjacency(X, y, q, K) + np.diag(
            [int(any(yy == t and (row == t).any() and row[-1] == q for row, yy in zip(X, y, strict=True)))
             for t in range(K)]),
         "A token is not preferred to itself: skip j == y (no self-loops)."),
        (_edges_all_queries,
         "G^(query) uses only the sequences whose LAST token is the query (filter on tokens[:, -1] == query)."),
        (_edges_without_last,
         "The last token belongs to the sequence too: the label also beats it (include position T)."),
        (_edge_counts,
         "Return 0/1 (an edge exists or not), not the number of sequences that give it."),
    ]
    return check_function(fn, _reference_adjacency, _adjacency_cases(), name="priority graph adjacency",
                          wrong_answers=wrong, rtol=0, atol=1e-9, show=show)


def _constraint_cases() -> list[Case]:
    return [Case(label, (X, y, K)) for label, X, y, K in _datasets()]


def check_constraint_table(fn: Callable, show: bool = True) -> Verdict:
    """Check ``fn(tokens, labels, K)``: it must return the graph-SVM's constraints ({eq}`eq-ch10-svm`) as an
    integer table (K, K, K): ``C[k, i, j] = 1`` for each edge ``i -> j`` of ``G^(k)`` between two different
    SCCs (the constraint ``(v_i - v_j)^T W v_k >= 1``), ``2`` for each edge ``i -> j`` inside one SCC (the
    constraint ``= 0``), and 0 elsewhere."""
    wrong = [
        (lambda X, y, K: (tp.constraint_table(X, y, K) > 0).astype(int),
         "Every edge got '>= 1'. Inside an SCC the edges form cycles (a -> b and b -> a), and a margin of 1 "
         "both ways is impossible: those become equalities (mark them 2). networkx finds the SCCs: "
         "nx.strongly_connected_components(G)."),
        (lambda X, y, K: tp.constraint_table(X, y, K, equality=False),
         "The edges inside an SCC are not dropped: each becomes an equality constraint (mark it 2)."),
        (lambda X, y, K: tp.constraint_table(X, y, K).transpose(0, 2, 1),
         "Your table is transposed: C[k, i, j] is about the edge i -> j, i.e. label i beat token j."),
        (lambda X, y, K: tp.constraint_table(X, y, K).transpose(2, 1, 0),
         "The first index is the query k (the last token), as in (v_i - v_j)^T W v_k."),
    ]
    return check_function(fn, lambda X, y, K: tp.constraint_table(X, y, K), _constraint_cases(),
                          name="graph-SVM constraint table", wrong_answers=wrong, rtol=0, atol=1e-9, show=show)
