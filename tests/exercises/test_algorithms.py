"""The coding-exercise checkers of "Transformers as algorithms": solutions pass, common mistakes get their hints."""

import numpy as np

from iclcore.exercises.algorithms import check_least_squares_risk, check_pool_posterior, check_prefix_ridge


def _ridge(X, y, lam):
    d = X.shape[1]
    return np.array([X[k] @ np.linalg.solve(X[:k].T @ X[:k] + lam * np.eye(d), X[:k].T @ y[:k])
                     for k in range(len(y))])


def _pool(X, y, pool, noise):
    out = []
    for k in range(len(y)):
        sse = ((y[:k, None] - X[:k] @ pool.T) ** 2).sum(0)
        w = np.exp(-(sse - sse.min()) / (2 * noise**2))
        out.append((w / w.sum()) @ (pool @ X[k]))
    return np.array(out)


def _ols_risk(d, k, noise):
    s2 = noise**2
    if s2 == 0:
        return max(d - k, 0)
    return s2 + (d - k) + s2 * k / (d - k - 1) if k < d else s2 + s2 * d / (k - d - 1)


def test_the_solutions_pass():
    assert check_prefix_ridge(_ridge, show=False)
    assert check_pool_posterior(_pool, show=False)
    assert check_least_squares_risk(_ols_risk, show=False)


def test_common_mistakes_get_their_hints():
    def peek(X, y, lam):
        d = X.shape[1]
        return np.array([X[k] @ np.linalg.solve(X[: k + 1].T @ X[: k + 1] + lam * np.eye(d), X[: k + 1].T @ y[: k + 1])
                         for k in range(len(y))])

    v = check_prefix_ridge(peek, show=False)
    assert not v and "peeks" in v.hint
    v = check_prefix_ridge(lambda X, y, lam: np.array([X[k] @ np.linalg.pinv(X[:k]) @ y[:k] if k else 0.0
                                                        for k in range(len(y))]), show=False)
    assert not v and "least squares" in v.hint
    v = check_pool_posterior(lambda X, y, pool, noise: (pool @ X.T).mean(0), show=False)
    assert not v and "Equal weights" in v.hint

    def sigma_not_variance(X, y, pool, noise):
        return _pool(X, y, pool, np.sqrt(noise))                     # exp(-sse / (2 noise))

    v = check_pool_posterior(sigma_not_variance, show=False)
    assert not v and "variance" in v.hint
    v = check_least_squares_risk(lambda d, k, s: _ols_risk(d, k, s) - s**2, show=False)
    assert not v and "query" in v.hint
    def no_bias(d, k, s):
        return s**2 + s**2 * d / (k - d - 1) if k > d else s**2 * (1 + k / (d - k - 1))

    v = check_least_squares_risk(no_bias, show=False)
    assert not v and "bias" in v.hint
