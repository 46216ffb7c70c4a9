"""The coding-exercise checkers of the distillation chapter: solutions pass, common mistakes get their hints."""

import numpy as np

from iclcore.exercises.distillation import check_min_norm_interpolator, check_optimal_mask, check_optimal_surrogate
from iclcore.theory import ridgeless_fixed_point


def _min_norm(X, y):
    return X.T @ np.linalg.solve(X @ X.T, y)


def _mask(lam, n):
    kappa, gamma = ridgeless_fixed_point(lam, n)
    return lam > kappa * (1 / np.sqrt(1 - gamma) - 1)


def _surrogate(lam, beta, n):
    kappa, gamma = ridgeless_fixed_point(lam, n)
    s, c = lam / (lam + kappa), gamma / (1 - gamma)
    return beta * s / (s**2 + c * (1 - s) ** 2)


def test_the_solutions_pass():
    assert check_min_norm_interpolator(_min_norm, show=False)
    assert check_min_norm_interpolator(lambda X, y: np.linalg.pinv(X) @ y, show=False)
    assert check_optimal_mask(_mask, show=False)
    assert check_optimal_surrogate(_surrogate, show=False)


def test_common_mistakes_get_their_hints():
    def not_smallest(X, y):                                   # interpolates, plus a null-space direction
        null = np.linalg.svd(X)[2][-1]
        return _min_norm(X, y) + 0.3 * null

    def unresolved(X, y):
        raise NotImplementedError

    gradient = check_min_norm_interpolator(lambda X, y: X.T @ y, show=False)
    assert not gradient and "does not fit the labels" in gradient.hint
    bigger = check_min_norm_interpolator(not_smallest, show=False)
    assert not bigger and "not the smallest" in bigger.hint
    todo = check_min_norm_interpolator(unresolved, show=False)
    assert not todo and "not implemented" in todo.message
    top_n = check_optimal_mask(lambda lam, n: lam >= np.sort(lam)[::-1][n - 1], show=False)
    assert not top_n and "threshold" in top_n.hint
    everything = check_optimal_mask(lambda lam, n: np.ones(lam.size, bool), show=False)
    assert not everything and "true labels" in everything.hint
    teacher = check_optimal_surrogate(lambda lam, beta, n: beta, show=False)
    assert not teacher and "teacher itself" in teacher.hint
    undo = check_optimal_surrogate(lambda lam, beta, n: beta * (lam + ridgeless_fixed_point(lam, n)[0]) / lam,
                                   show=False)
    assert not undo and "variance term" in undo.hint
