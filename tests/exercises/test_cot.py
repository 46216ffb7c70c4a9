"""The coding-exercise checkers of the CoT chapter: solutions pass, common mistakes get their hints."""

import numpy as np

from iclcore.exercises.cot import check_filter_share, check_label_step


def _label_step(H, y):
    return np.array([H[k] @ np.linalg.pinv(H[:k]) @ y[:k] if k else 0.0 for k in range(len(y))])


def _share(A, types, query, key, self_too=False):
    types = np.asarray(types)
    shares = []
    for t in range(1, len(types)):
        if types[t] == query:
            stop = t + 1 if self_too else t
            shares.append(A[t, :stop][types[:stop] == key].sum() / A[t, :stop].sum())
    return float(np.mean(shares))


def test_the_solutions_pass():
    assert check_label_step(_label_step, show=False)
    assert check_filter_share(_share, show=False)


def test_common_mistakes_get_their_hints():
    peek = check_label_step(lambda H, y: np.array([H[k] @ np.linalg.pinv(H[: k + 1]) @ y[: k + 1]
                                                   for k in range(len(y))]), show=False)
    assert not peek and "before k" in peek.hint
    selfish = check_filter_share(lambda A, t, q, k: _share(A, t, q, k, self_too=True), show=False)
    assert not selfish and "itself" in selfish.hint
