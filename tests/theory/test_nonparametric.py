"""Closed forms of Chapter 13 against Monte Carlo and scikit-learn, and their asymptotic rates."""

import itertools

import numpy as np
import pytest
import torch
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import DotProduct

from iclcore.evaluate import evaluate
from iclcore.tasks import SmoothFunctionRegression, SmoothPrior, make_generator, squared_error, stack
from iclcore.theory import (
    BasisAttention,
    GPPosteriorMean,
    bayes_risk_bound,
    best_attention_risk,
    coefficient_noise,
    fourth_moments,
    gp_bayes_risk,
    minimax_exponent,
    optimal_attention,
    oracle_projection,
    projection_gamma,
    projection_risk,
    shrinkage_risk,
)

NOISE = 0.5


def _mc(estimator, prior, n, samples=20_000, seed=0):
    """Monte Carlo excess risk and its standard error."""
    task = SmoothFunctionRegression(prior.d, n, prior.s, NOISE, query_noise=0.0, n_freq=prior.n_freq,
                                    dtype=torch.float64)
    m = {"risk": squared_error, "m4": lambda p, y: ((p - y) ** 4).mean(-1)}
    r = evaluate(estimator, task, m, n_samples=samples, batch_size=2000, seed=seed)
    risk, m4 = r[0]["risk"], r[0]["m4"]
    return risk, np.sqrt((m4 - risk**2) / samples)


def test_minimax_exponent():
    assert minimax_exponent(1, 1) == pytest.approx(2 / 3) and minimax_exponent(2, 4) == pytest.approx(0.5)


def test_fourth_moments_by_quadrature():
    p = SmoothPrior(2, 1.0, n_freq=4)
    axis = (np.arange(20) + 0.5) / 20
    x = torch.tensor(list(itertools.product(axis, repeat=2)), dtype=torch.float64)
    psi2 = p.basis(x).numpy() ** 2
    np.testing.assert_allclose(fourth_moments(p), psi2.T @ psi2 / len(x), atol=1e-12)


def test_coefficient_variance_by_monte_carlo():
    """v_j = n Var(b_hat_j) averaged over the prior (eq-ch13-vj): one example, E (psi_j(x) y - beta_j)^2."""
    p = SmoothPrior(1, 1.0, n_freq=16)
    task = SmoothFunctionRegression(1, 1, 1.0, NOISE, n_freq=16, dtype=torch.float64)
    g = make_generator(4)
    beta = task.coefficients(200_000, g)
    x = torch.rand(200_000, 1, generator=g, dtype=torch.float64)
    y = (p.basis(x) * beta).sum(-1) + NOISE * torch.randn(200_000, generator=g, dtype=torch.float64)
    v_mc = ((p.basis(x) * y[:, None] - beta) ** 2).mean(0).numpy()
    np.testing.assert_allclose(v_mc[:6], coefficient_noise(p, NOISE)[:6], rtol=0.03)
    assert coefficient_noise(p, NOISE)[5] == pytest.approx(p.signal + NOISE**2, rel=0.01)   # ~ M


@pytest.mark.parametrize("d, n", [(1, 8), (1, 40), (2, 12)])
def test_projection_and_best_attention_risks_match_monte_carlo(d, n):
    p = SmoothPrior(d, 1.0, n_freq=None if d == 1 else 6)
    N, r_proj = oracle_projection(p, n, NOISE)
    assert r_proj == pytest.approx(projection_risk(p, n, NOISE, N))
    m, se = _mc(BasisAttention(p, projection_gamma(p, N)), p, n, seed=1)
    assert abs(m - r_proj) < 4 * se
    Gamma, r_best = optimal_attention(p, n, NOISE, n_features=5)
    assert r_best == pytest.approx(best_attention_risk(p, n, NOISE, 5), rel=1e-9)
    m, se = _mc(BasisAttention(p, Gamma), p, n, seed=2)
    assert abs(m - r_best) < 4 * se
    assert np.linalg.matrix_rank(Gamma) == 5


def test_ordering_of_the_linear_estimators():
    """Projection >= best diagonal taper >= best full Gamma; the taper's risk is the Bayes sum with sigma^2 -> v_j."""
    p = SmoothPrior(1, 1.0)
    for n in (4, 32, 256):
        v = coefficient_noise(p, NOISE)
        gamma = p.variances / (p.variances + v / n)
        taper = shrinkage_risk(p, n, NOISE, gamma)
        assert taper == pytest.approx(np.sum(p.variances * (v / n) / (p.variances + v / n)))
        assert oracle_projection(p, n, NOISE)[1] >= taper >= best_attention_risk(p, n, NOISE) - 1e-12
        assert best_attention_risk(p, n, NOISE, 3) >= best_attention_risk(p, n, NOISE) - 1e-12
        assert shrinkage_risk(p, n, NOISE, gamma * 1.1) > taper and shrinkage_risk(p, n, NOISE, gamma * 0.9) > taper


def test_gp_posterior_mean_equals_scikit_learn():
    p = SmoothPrior(1, 1.5, n_freq=20)
    Z, _ = SmoothFunctionRegression(1, 9, 1.5, NOISE, n_freq=20, dtype=torch.float64)(3, make_generator(5))
    ours = GPPosteriorMean(p, NOISE)(Z)[0].numpy()
    root = np.sqrt(p.variances)
    for b in range(3):
        X = p.basis(Z[b, :-1, :1]).numpy() * root                     # features whose dot product is the kernel
        gpr = GaussianProcessRegressor(DotProduct(sigma_0=0.0, sigma_0_bounds="fixed"), alpha=NOISE**2,
                                       optimizer=None).fit(X, Z[b, :-1, 1].numpy())
        query = p.basis(Z[b, -1:, :1]).numpy() * root
        assert ours[b] == pytest.approx(gpr.predict(query)[0], rel=1e-8, abs=1e-10)


def test_gp_feature_and_kernel_forms_agree():
    p = SmoothPrior(1, 1.0, n_freq=6)                                # J = 6 < n = 10: feature form
    Z, _ = SmoothFunctionRegression(1, 10, 1.0, NOISE, n_freq=6, dtype=torch.float64)(4, make_generator(6))
    feature_form = GPPosteriorMean(p, NOISE)(Z)
    psi = p.basis(Z[:, :-1, :1])
    K = psi @ torch.diag(torch.as_tensor(p.variances)) @ psi.transpose(1, 2) + NOISE**2 * torch.eye(10)
    alpha = torch.linalg.solve(K, Z[:, :-1, 1:])
    direct = (p.basis(Z[:, -1:, :1]) @ torch.diag(torch.as_tensor(p.variances)) @ psi.transpose(1, 2) @ alpha)
    torch.testing.assert_close(feature_form[0], direct[:, 0, 0])


def test_gp_bayes_risk_matches_monte_carlo_and_the_bound():
    p = SmoothPrior(1, 1.0)
    for n in (8, 32):
        theory = gp_bayes_risk(p, n, NOISE, n_designs=512, seed=1)
        m, se = _mc(GPPosteriorMean(p, NOISE), p, n, samples=8000, seed=3)
        assert abs(m - theory) < 4 * se + 0.01 * theory
        assert bayes_risk_bound(p, n, NOISE) < theory


def test_estimators_ignore_left_padding():
    p = SmoothPrior(1, 1.0)
    Zs, _ = stack([SmoothFunctionRegression(1, 3, 1.0, NOISE, dtype=torch.float64),
                   SmoothFunctionRegression(1, 8, 1.0, NOISE, dtype=torch.float64)])(5, make_generator(7))
    for est in (GPPosteriorMean(p, NOISE), BasisAttention(p, projection_gamma(p, 3))):
        torch.testing.assert_close(est(Zs)[0], est(Zs[0, :, -4:])[0])


def test_rates():
    """Asymptotically the best linear attention, the projection estimator and the Bayes bound decay at the
    minimax rate; with a fixed number of features the floor flattens."""
    for s, tol in [(1.0, 0.03), (2.0, 0.05)]:
        p = SmoothPrior(1, s)
        ns = np.array([512, 2048])
        for f in (best_attention_risk, lambda p, n, noise: oracle_projection(p, n, noise)[1], bayes_risk_bound):
            slope = np.diff(np.log([f(p, n, NOISE) for n in ns]))[0] / np.diff(np.log(ns))[0]
            assert slope == pytest.approx(-minimax_exponent(s, 1), abs=tol)
    p = SmoothPrior(1, 1.0)
    fixed = np.log(best_attention_risk(p, 4096, NOISE, 3) / best_attention_risk(p, 1024, NOISE, 3)) / np.log(4)
    assert fixed > -0.3                                                # N = 3 features: an approximation floor


def test_projection_risk_with_zero_noise_and_zero_features():
    p = SmoothPrior(1, 1.0)
    assert projection_risk(p, 10, 0.0, 0) == pytest.approx(p.signal)
    assert oracle_projection(p, 1, 10.0)[0] == 0                       # one very noisy example: predict 0
