import numpy as np

from iclcore.exercises.ccmc import check_ccmc_row, check_next_tokens


def _row(W, m, i):
    w = m * np.exp(W[i] - W[i].max())
    return w / w.sum()


def _step(W, m, i, u):
    w = m * np.exp(W[i])
    c = np.cumsum(w, 1) / w.sum(1, keepdims=True)
    return np.minimum((c <= u[:, None]).sum(1), W.shape[0] - 1)


def test_the_solutions_pass():
    assert check_ccmc_row(_row, show=False)
    assert check_next_tokens(_step, show=False)


def test_common_mistakes_get_their_hints():
    base = check_ccmc_row(lambda W, m, i: np.exp(W[i]) / np.exp(W[i]).sum(), show=False)
    assert not base and "counts m_j are missing" in base.hint
    transposed = check_ccmc_row(lambda W, m, i: _row(W.T, m, i), show=False)
    assert not transposed and "column" in transposed.hint
    presence = check_ccmc_row(lambda W, m, i: _row(W, (m > 0).astype(float), i), show=False)
    assert not presence and "OFTEN" in presence.hint
    greedy = check_next_tokens(lambda W, m, i, u: (m * np.exp(W[i])).argmax(1), show=False)
    assert not greedy and "greedy" in greedy.hint
