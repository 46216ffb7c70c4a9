"""Long-horizon bandit closed forms and estimators (iclcore.theory.bandits): known values and Monte Carlo."""

import numpy as np
import pytest

from iclcore.tasks import make_generator
from iclcore.tasks.bandits import (
    delayed_rewards,
    direction_error,
    lagged_design,
    played,
    sample_bandits,
    sample_streams,
)
from iclcore.theory.bandits import (
    direction_error_theory,
    etc_regret_theory,
    expected_max_normal,
    greedy_regret_rate,
    lasso_penalty,
    least_squares,
    min_norm_recovery,
    rank1_factor,
    sparse_recovery,
    support_recovery,
)


def test_expected_max_known_values_and_monte_carlo():
    assert expected_max_normal(1) == 0
    assert expected_max_normal(2) == pytest.approx(1 / np.sqrt(np.pi), rel=1e-10)
    assert expected_max_normal(3) == pytest.approx(1.5 / np.sqrt(np.pi), rel=1e-10)
    z = np.random.default_rng(0).standard_normal((400_000, 5))
    assert expected_max_normal(5) == pytest.approx(z.max(1).mean(), abs=3e-3)


@pytest.mark.parametrize("K", [2, 4])
def test_greedy_regret_rate_matches_monte_carlo(K):
    """E[max_a x_a^T beta - x_{argmax x^T beta_hat}^T beta] = e_K ||beta|| (1 - cos), for any K."""
    rng = np.random.default_rng(K)
    beta = np.array([2.0, 0.0, 0.0])
    beta_hat = np.array([np.cos(0.7), np.sin(0.7), 0.0])
    x = rng.standard_normal((300_000, K, 3))
    score = x @ beta
    regret = (score.max(1) - score[np.arange(len(x)), (x @ beta_hat).argmax(1)]).mean()
    assert greedy_regret_rate(1 - np.cos(0.7), K, beta_norm=2.0) == pytest.approx(regret, rel=0.02)
    random_arm = (score.max(1) - score[:, 0]).mean()
    assert greedy_regret_rate(1.0, K, beta_norm=2.0) == pytest.approx(random_arm, rel=0.02)


def test_direction_error_theory_matches_monte_carlo_for_a_lagged_design():
    b = sample_bandits(300, 3, h=10, s=2, noise=1.0, max_lag=10, generator=make_generator(7))
    streams = sample_streams(b, 200, generator=make_generator(8))
    phi = played(streams.contexts, streams.explore_arms).astype(float)
    y = delayed_rewards(b, phi, streams.eps)
    err = [direction_error(support_recovery(lagged_design(phi[r], 10), y[r], b.lags[r], 3).beta, b.beta[r])
           for r in range(b.reps)]
    theory = [direction_error_theory(200, b.lags[r], b.w[r], p=6, d=3, noise=1.0) for r in range(b.reps)]
    assert np.mean(err) == pytest.approx(np.mean(theory), rel=0.15)


def test_rank1_factor_and_sign():
    w, beta = np.array([0.5, 0.0, 1.0]), np.array([0.6, -0.8])
    w_hat, beta_hat = rank1_factor(np.outer(w, beta))
    np.testing.assert_allclose(beta_hat, beta, atol=1e-12)
    np.testing.assert_allclose(w_hat, w, atol=1e-12)
    w_hat, beta_hat = rank1_factor(np.outer(-w, beta))                # negative pattern: flipped to sum(w) >= 0
    np.testing.assert_allclose(beta_hat, -beta, atol=1e-12)
    assert w_hat.sum() > 0


def test_least_squares_is_minimum_norm_and_exact():
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((5, 12)), rng.standard_normal(5)
    np.testing.assert_allclose(least_squares(X, y), np.linalg.pinv(X) @ y, atol=1e-10)
    X, y = rng.standard_normal((30, 4)), rng.standard_normal(30)
    np.testing.assert_allclose(least_squares(X, y), np.linalg.lstsq(X, y, rcond=None)[0], atol=1e-10)


def test_estimators_recover_a_noiseless_instance():
    b = sample_bandits(1, 4, h=64, s=3, noise=0.0, max_lag=20, generator=make_generator(3))
    streams = sample_streams(b, 150, generator=make_generator(4))
    phi = played(streams.contexts, streams.explore_arms).astype(float)
    y = delayed_rewards(b, phi, streams.eps)[0]
    X = lagged_design(phi[0], 64)                                     # 150 rounds, 256 unknowns
    fit = sparse_recovery(X, y, 4, 3, noise=0.05, penalty=1.0)
    np.testing.assert_array_equal(fit.lags, b.lags[0])
    np.testing.assert_allclose(fit.beta, b.beta[0], atol=1e-8)
    np.testing.assert_allclose(fit.w, b.w[0], atol=1e-8)
    oracle = support_recovery(X, y, b.lags[0], 4)
    np.testing.assert_allclose(oracle.beta, b.beta[0], atol=1e-8)
    ols = min_norm_recovery(X, y, 4)                                  # under-determined: interpolates, not exact
    np.testing.assert_allclose(X @ ols.theta.ravel(), y, atol=1e-8)
    assert ols.theta.shape == (64, 4) and not np.allclose(ols.beta, b.beta[0], atol=1e-3)


def test_penalty_and_etc_formula():
    assert lasso_penalty(100, 50, 2.0, 0.5) == pytest.approx(0.5 * 2.0 * np.sqrt(2 * np.log(50) / 100))
    c = np.array([1.0, 1.0, 1.0, 0.5])
    e2 = expected_max_normal(2)
    assert etc_regret_theory(c, 2, 0.1, 2) == pytest.approx(e2 * (2 + 0.1 * 1.5))
    assert etc_regret_theory(c, 4, 0.1, 2) == pytest.approx(e2 * 3.5)     # exploring all the way: random arms
