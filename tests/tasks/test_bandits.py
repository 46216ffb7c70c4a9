"""The delayed-reward bandit (iclcore.tasks.bandits): design, rewards, credit and regret against direct formulas."""

import numpy as np
import pytest

from iclcore.tasks import make_generator
from iclcore.tasks.bandits import (
    credit,
    delayed_rewards,
    direction_error,
    greedy_arms,
    lagged_design,
    lags_recovered,
    played,
    pseudo_regret,
    sample_bandits,
    sample_streams,
)


def _bandit(reps=3, h=20, s=3, seed=0, **kw):
    return sample_bandits(reps, 4, h=h, s=s, noise=0.3, generator=make_generator(seed), **kw)


def test_instances_are_valid_and_reproducible():
    b = _bandit(reps=50, h=40, s=5, max_lag=12, first_lag=2)
    assert b.lags.shape == (50, 5) and b.w.shape == (50, 5) and b.beta.shape == (50, 4)
    assert b.lags.min() >= 2 and b.lags.max() < 12 and np.all(np.diff(b.lags, axis=1) > 0)
    assert np.all((b.w >= 0.5) & (b.w <= 1.5))
    np.testing.assert_allclose(np.linalg.norm(b.beta, axis=1), 1.0)
    again = _bandit(reps=50, h=40, s=5, max_lag=12, first_lag=2)
    np.testing.assert_array_equal(b.lags, again.lags)
    assert b.pattern().shape == (50, 40) and np.allclose(b.pattern().sum(1), b.w.sum(1))
    theta = b.theta()
    assert theta.shape == (50, 40, 4) and np.all(np.linalg.matrix_rank(theta) == 1)
    assert np.count_nonzero(np.linalg.norm(theta, axis=2), axis=1).max() == 5     # s non-zero rows
    wider = b.with_horizon(100)
    assert wider.h == 100 and np.array_equal(wider.lags, b.lags)


def test_lagged_design_equals_a_loop_and_is_toeplitz():
    rng = np.random.default_rng(1)
    phi, h = rng.standard_normal((9, 3)), 4
    X = lagged_design(phi, h)
    loop = np.zeros((9, h * 3))
    for t in range(9):
        for j in range(h):
            if t - j >= 0:
                loop[t, j * 3:(j + 1) * 3] = phi[t - j]
    np.testing.assert_array_equal(X, loop)
    np.testing.assert_array_equal(X[1:, 3:], X[:-1, :-3])                    # each row shifts the previous one
    assert lagged_design(phi, 20).shape == (9, 60) and not lagged_design(phi, 20)[:, 27:].any()
    batch = lagged_design(np.stack([phi, 2 * phi]), h)
    np.testing.assert_allclose(batch[1], 2 * X)


def test_rewards_equal_the_design_times_theta():
    b = _bandit(reps=2, h=15)
    streams = sample_streams(b, 30, generator=make_generator(2))
    phi = played(streams.contexts, streams.explore_arms).astype(float)
    r = delayed_rewards(b, phi, streams.eps)
    for k in range(2):
        direct = lagged_design(phi[k], b.h) @ b.theta()[k].ravel() + b.noise * streams.eps[k]
        np.testing.assert_allclose(r[k], direct, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(phi[0, 3], streams.contexts[0, 3, streams.explore_arms[0, 3]])


def test_credit_known_values():
    np.testing.assert_allclose(credit(np.array([1, 3]), np.array([2.0, 0.5]), 6), [2.5, 2.5, 2.5, 2, 2, 0])
    np.testing.assert_allclose(credit(np.array([0]), np.array([1.0]), 4), np.ones(4))
    b = _bandit(reps=4)
    np.testing.assert_allclose(credit(b.lags, b.w, 50)[:, 0], b.w.sum(1))
    assert credit(b.lags, b.w, 50).shape == (4, 50)


def test_total_reward_is_credit_weighted_scores():
    """sum_t r_t (noise-free) = sum_t c_t phi_t^T beta: the identity behind the regret."""
    b = sample_bandits(3, 4, h=10, s=3, noise=0.0, generator=make_generator(5))
    streams = sample_streams(b, 25, generator=make_generator(6))
    phi = played(streams.contexts, streams.explore_arms).astype(float)
    total = delayed_rewards(b, phi, streams.eps).sum(1)
    weighted = (credit(b.lags, b.w, 25) * np.einsum("rtd,rd->rt", phi, b.beta)).sum(1)
    np.testing.assert_allclose(total, weighted, rtol=1e-10)


def test_regret_greedy_and_errors():
    b = _bandit(reps=2)
    streams = sample_streams(b, 40, generator=make_generator(3))
    best = greedy_arms(streams.contexts, b.beta)
    c = credit(b.lags, b.w, 40)
    assert np.allclose(pseudo_regret(b.beta, streams.contexts, best, c), 0)
    worst = greedy_arms(streams.contexts, -b.beta)
    assert np.all(pseudo_regret(b.beta, streams.contexts, worst, c) >= 0)
    assert direction_error(b.beta, b.beta) == pytest.approx([0, 0], abs=1e-12)
    assert direction_error(-b.beta[0], b.beta[0]) == pytest.approx(2)
    assert direction_error(np.zeros(4), b.beta[0]) == 1
    assert lags_recovered(np.array([[3, 1]]), np.array([[1, 3]]))[0]
    assert not lags_recovered(np.array([1, 4]), np.array([1, 3]))
