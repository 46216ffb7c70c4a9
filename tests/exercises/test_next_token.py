"""The Chapter 10 exercise checkers (iclcore.exercises.next_token) accept right answers and explain wrong ones."""

import numpy as np

from iclcore.exercises.next_token import check_constraint_table, check_priority_adjacency
from iclcore.theory import token_priority as tp


def _adjacency(X, y, q, K):
    A = np.zeros((K, K), dtype=int)
    for row, label in zip(X, y, strict=True):
        if row[-1] == q:
            for j in set(row.tolist()) - {int(label)}:
                A[label, j] = 1
    return A


def test_checkers_accept_the_reference_and_explain_mistakes():
    assert check_priority_adjacency(_adjacency, show=False)
    wrong = check_priority_adjacency(lambda X, y, q, K: _adjacency(X, y, q, K).T, show=False)
    assert not wrong and "wrong way" in wrong.hint
    assert check_constraint_table(lambda X, y, K: tp.constraint_table(X, y, K), show=False)
    v = check_constraint_table(lambda X, y, K: (tp.constraint_table(X, y, K) > 0).astype(int), show=False)
    assert not v and "equalities" in v.hint
    assert not check_constraint_table(lambda X, y, K: 1 / 0, show=False)
