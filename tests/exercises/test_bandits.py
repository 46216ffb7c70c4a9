"""The coding-exercise checkers of the long-horizon bandits chapter: solutions pass, common mistakes get hints."""

import numpy as np

from iclcore.exercises.bandits import check_credit, check_lagged_design, check_rank1_direction


def _design(phi, h):
    n, d = phi.shape
    X = np.zeros((n, h * d))
    for j in range(min(h, n)):
        X[j:, j * d:(j + 1) * d] = phi[: n - j]
    return X


def _credit(lags, w, T):
    t = np.arange(T)[:, None]
    return np.sum(w * (t + lags < T), axis=1)


def _direction(theta):
    u, sv, vt = np.linalg.svd(theta, full_matrices=False)
    return vt[0] if u[:, 0].sum() >= 0 else -vt[0]


def test_the_solutions_pass():
    assert check_lagged_design(_design, show=False)
    assert check_credit(_credit, show=False)
    assert check_rank1_direction(_direction, show=False)


def test_common_mistakes_get_their_hints():
    def future(phi, h):
        return _design(phi[::-1], h)[::-1]

    def wrapped(phi, h):
        return np.concatenate([np.roll(phi, j, axis=0) for j in range(h)], axis=1)

    def feature_major(phi, h):
        n, d = phi.shape
        return _design(phi, h).reshape(n, h, d).transpose(0, 2, 1).reshape(n, h * d)

    for fn, words in [(future, "ahead in time"), (wrapped, "circulant"), (feature_major, "lag by lag")]:
        verdict = check_lagged_design(fn, show=False)
        assert not verdict and words in verdict.hint
    full = check_credit(lambda lags, w, T: np.full(T, np.sum(w)), show=False)
    assert not full and "never collected" in full.hint
    off = check_credit(lambda lags, w, T: _credit(lags, w, T + 1)[:T], show=False)
    assert not off and "Off by one" in off.hint
    flipped = check_rank1_direction(lambda th: -_direction(th), show=False)
    assert not flipped and "wrong sign" in flipped.hint
    scaled = check_rank1_direction(lambda th: _direction(th) * np.linalg.norm(th, 2), show=False)
    assert not scaled and "unit norm" in scaled.hint
