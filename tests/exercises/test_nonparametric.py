"""The coding-exercise checkers of the nonparametric chapter: solutions pass, common mistakes get their hints."""

import numpy as np

from iclcore.exercises.nonparametric import (
    check_empirical_coefficients,
    check_optimal_shrinkage,
    check_oracle_truncation,
)


def _coefficients(x, y, K):
    k = np.arange(K)
    return (np.where(k > 0, np.sqrt(2), 1.0) * np.cos(np.pi * np.outer(x, k))).T @ y / len(x)


def _truncation(lam, v, n):
    return int(np.argmin(np.r_[lam.sum(), lam.sum() - np.cumsum(lam) + np.cumsum(v) / n]))


def test_the_solutions_pass():
    assert check_empirical_coefficients(_coefficients, show=False)
    assert check_oracle_truncation(_truncation, show=False)
    assert check_optimal_shrinkage(lambda lam, v, n: lam / (lam + v / n), show=False)


def test_common_mistakes_get_their_hints():
    no_sqrt2 = check_empirical_coefficients(lambda x, y, K: np.cos(np.pi * np.outer(x, np.arange(K))).T @ y / len(x),
                                            show=False)
    assert not no_sqrt2 and "mean square 1/2" in no_sqrt2.hint
    summed = check_empirical_coefficients(lambda x, y, K: _coefficients(x, y, K) * len(x), show=False)
    assert not summed and "divide the sum by n" in summed.hint
    no_n = check_oracle_truncation(lambda lam, v, n: int(np.sum(lam > v)), show=False)
    assert not no_n and "forgot the 1/n" in no_n.hint
    off = check_oracle_truncation(lambda lam, v, n: _truncation(lam, v, n) + 1, show=False)
    assert not off and "Off by one" in off.hint
    at_least_one = check_oracle_truncation(lambda lam, v, n: max(_truncation(lam, v, n), 1), show=False)
    assert not at_least_one and "N = 0 is allowed" in at_least_one.hint
    inverted = check_optimal_shrinkage(lambda lam, v, n: (v / n) / (lam + v / n), show=False)
    assert not inverted and "Inverted" in inverted.hint
    hard = check_optimal_shrinkage(lambda lam, v, n: (np.arange(len(lam)) < _truncation(lam, v, n)).astype(float),
                                   show=False)
    assert not hard and "projection estimator" in hard.hint
