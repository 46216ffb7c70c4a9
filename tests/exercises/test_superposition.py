"""The coding-exercise checkers of the task-superposition chapter: solutions pass, common mistakes get hints."""

import numpy as np

from iclcore.exercises.superposition import check_task_counts, check_task_shares


def _counts(p, n):
    raw = np.asarray(p) * n
    c = np.floor(raw + 1e-9).astype(int)
    for k in sorted(range(len(p)), key=lambda k: (-(raw[k] - c[k]), k))[: n - c.sum()]:
        c[k] += 1
    return c


def test_the_solutions_pass():
    assert check_task_counts(_counts, show=False)
    assert check_task_shares(lambda P: (P / P.sum(1, keepdims=True)).mean(0), show=False)


def test_common_mistakes_get_their_hints():
    rounded = check_task_counts(lambda p, n: np.round(np.asarray(p) * n).astype(int), show=False)
    assert not rounded and "largest remainders" in rounded.hint
    mean = check_task_shares(lambda P: P.mean(0), show=False)
    assert not mean and "share" in mean.hint
    ratio = check_task_shares(lambda P: P.mean(0) / P.mean(0).sum(), show=False)
    assert not ratio and "ratio of means" in ratio.hint
