"""The estimators of one call signature: brute force on single prompts, Monte Carlo for the closed-form risks,
Bayes optimality on paired prompts, and the prefix (no-peeking) property."""

import numpy as np
import pytest
import torch

from iclcore.models import Ensemble
from iclcore.tasks import make_generator
from iclcore.tasks.linear_dynamics import LinearDynamics
from iclcore.tasks.regression_prompts import RegressionPrompts, prefix_risk
from iclcore.theory.estimators import (
    GaussianPosteriorMean,
    LeastSquares,
    NearestNeighbours,
    OneStepGD,
    PoolPosteriorMean,
    Ridge,
    TransitionLeastSquares,
    gd_step_risk,
    least_squares_risk,
    optimal_gd_steps,
)


def _prompts(d=3, n=8, noise=0.5, B=5, seed=0):
    Z, _ = RegressionPrompts(d, n, noise, dtype=torch.float64)(B, make_generator(seed))
    return Z, Z[..., :-1].numpy(), Z[..., -1].numpy()


def _mc_curves(estimators, d, n, noise, samples=40_000, seed=1):
    Z, y = RegressionPrompts(d, n, noise, dtype=torch.float64)(samples, make_generator(seed))
    pred = Ensemble(estimators)(Z)
    err = (pred - y) ** 2                                          # (E, B, n)
    return {name: (err[i].mean(0).numpy(), err[i].std(0).numpy() / np.sqrt(samples))
            for i, name in enumerate(estimators)}


def test_brute_force_on_single_prompts():
    d, n, lam = 3, 8, 0.3
    Z, X, Y = _prompts(d, n)
    ols, ridge = LeastSquares()(Z).numpy(), Ridge(lam)(Z).numpy()
    knn, gd = NearestNeighbours(2)(Z).numpy(), OneStepGD(0.1)(Z).numpy()
    for b in range(Z.shape[0]):
        for k in range(n):
            Xk, yk, x = X[b, :k], Y[b, :k], X[b, k]
            beta_ols = np.linalg.pinv(Xk) @ yk if k else np.zeros(d)
            assert ols[b, k] == pytest.approx(x @ beta_ols, abs=1e-10)
            assert ridge[b, k] == pytest.approx(x @ np.linalg.solve(Xk.T @ Xk + lam * np.eye(d), Xk.T @ yk), abs=1e-10)
            assert gd[b, k] == pytest.approx(0.1 * x @ Xk.T @ yk, abs=1e-10)
            near = np.argsort(np.linalg.norm(Xk - x, axis=1))[:2]
            assert knn[b, k] == pytest.approx(Y[b, near].mean() if k else 0.0, abs=1e-10)


def test_predictions_never_peek_at_their_own_label_or_later_pairs():
    Z, _, _ = _prompts()
    pool = torch.randn(4, 3, generator=make_generator(3), dtype=torch.float64)
    for est in [LeastSquares(), Ridge(0.5), GaussianPosteriorMean(0.5), PoolPosteriorMean(pool, 0.5),
                NearestNeighbours(3), OneStepGD(optimal_gd_steps(3, 8, 0.5))]:
        k = 5
        Z2 = Z.clone()
        Z2[:, k, -1] += 3.0                        # the label to be predicted at k
        Z2[:, k + 1:] = torch.randn(Z2[:, k + 1:].shape, generator=make_generator(4), dtype=torch.float64)
        torch.testing.assert_close(est(Z2)[:, : k + 1], est(Z)[:, : k + 1])


def test_posterior_mean_is_ridge_with_lam_noise_squared_and_min_norm_without_noise():
    Z, X, Y = _prompts()
    torch.testing.assert_close(GaussianPosteriorMean(0.5)(Z), Ridge(0.25)(Z))
    torch.testing.assert_close(GaussianPosteriorMean(0.0)(Z), LeastSquares()(Z))
    S = np.diag([1.0, 0.25, 0.04])
    post = GaussianPosteriorMean(0.5, S)(Z).numpy()
    b, k = 2, 4
    beta = np.linalg.solve(X[b, :k].T @ X[b, :k] + 0.25 * np.linalg.inv(S), X[b, :k].T @ Y[b, :k])
    assert post[b, k] == pytest.approx(X[b, k] @ beta, abs=1e-10)
    noiseless = GaussianPosteriorMean(0.0, S)(Z).numpy()             # interpolates with the smallest S-norm
    root = np.sqrt(S)
    assert noiseless[b, k] == pytest.approx(X[b, k] @ root @ np.linalg.pinv(X[b, :k] @ root) @ Y[b, :k], abs=1e-10)


def test_pool_posterior_mean_brute_force_and_limits():
    Z, X, Y = _prompts()
    pool = np.random.default_rng(0).normal(size=(6, 3))
    pred = PoolPosteriorMean(pool, 0.5)(Z).numpy()
    b, k = 1, 3
    sse = ((Y[b, :k, None] - X[b, :k] @ pool.T) ** 2).sum(0)
    w = np.exp(-(sse - sse.min()) / 0.5)
    assert pred[b, k] == pytest.approx((w / w.sum()) @ (pool @ X[b, k]), abs=1e-10)
    assert pred[b, 0] == pytest.approx((pool @ X[b, 0]).mean(), abs=1e-10)  # no data: the pool average
    one = PoolPosteriorMean(pool[:1], 0.5)(Z).numpy()
    np.testing.assert_allclose(one, X @ pool[0], atol=1e-10)                    # a pool of one task is known


def test_least_squares_risk_matches_monte_carlo():
    d, n, noise = 4, 14, 0.5
    mc = _mc_curves({"ols": LeastSquares()}, d, n, noise)["ols"]
    for k in [0, 1, d + 4, d + 6, n - 1]:                  # finite-variance lengths (not d-3 .. d+3)
        assert mc[0][k] == pytest.approx(least_squares_risk(d, k, noise), abs=4 * mc[1][k] + 1e-3)
    assert all(np.isinf(least_squares_risk(d, k, noise)) for k in (d - 1, d, d + 1))
    assert [least_squares_risk(d, k) for k in range(6)] == [4, 3, 2, 1, 0, 0]


def test_gd_step_risk_matches_monte_carlo_and_its_step_is_the_best():
    d, n, noise = 3, 10, 0.5
    steps = optimal_gd_steps(d, n, noise)
    np.testing.assert_allclose(steps[1:], 1 / (np.arange(1, n) + 1 + d + noise**2))
    mc = _mc_curves({"best": OneStepGD(steps), "short": OneStepGD(0.7 * steps), "long": OneStepGD(1.3 * steps)},
                    d, n, noise)
    for k in range(n):
        assert mc["best"][0][k] == pytest.approx(gd_step_risk(d, k, noise), abs=4 * mc["best"][1][k])
    assert np.all(mc["best"][0][1:] < mc["short"][0][1:]) and np.all(mc["best"][0][1:] < mc["long"][0][1:])


def test_bayes_estimators_beat_the_others_on_their_own_prior():
    d, n, noise = 3, 10, 0.5
    mc = _mc_curves({"bayes": GaussianPosteriorMean(noise), "ridge": Ridge(1.0), "ols": LeastSquares(),
                     "knn": NearestNeighbours(3)}, d, n, noise, samples=20_000)
    for name in ("ridge", "ols", "knn"):
        assert np.all(mc["bayes"][0][1:] <= mc[name][0][1:] + 1e-3), name
    task = RegressionPrompts(d, n, noise, n_tasks=4, pool_seed=5, dtype=torch.float64)
    Z, y = task(20_000, make_generator(6))
    est = Ensemble({"pool": PoolPosteriorMean(task.pool, noise), "gauss": GaussianPosteriorMean(noise)})
    risk = torch.stack([prefix_risk(k)(est(Z), y) for k in range(n)], -1)
    assert torch.all(risk[0, 2:] < 0.8 * risk[1, 2:])        # knowing the pool is worth a lot after 2 examples


def test_transition_least_squares_brute_force_and_noiseless_recovery():
    S, _ = LinearDynamics(3, 12, noise=0.1, dtype=torch.float64)(4, make_generator(0))
    pred = TransitionLeastSquares(0.01)(S).numpy()
    s = S.numpy()
    b, t = 2, 6
    P, N = s[b, : t - 1], s[b, 1:t]                                      # transitions j -> j+1, j < t
    A = N.T @ P @ np.linalg.inv(P.T @ P + 0.01 * np.eye(3))
    np.testing.assert_allclose(pred[b, t - 1], A @ s[b, t - 1], atol=1e-10)
    assert np.all(pred[:, 0] == 0)
    S0, S0_next = LinearDynamics(3, 12, noise=0.0, dtype=torch.float64)(4, make_generator(1))
    exact = TransitionLeastSquares(1e-9)(S0)
    torch.testing.assert_close(exact[:, 4:], S0_next[:, 4:], atol=1e-5, rtol=1e-5)   # d + 1 transitions pin A down
