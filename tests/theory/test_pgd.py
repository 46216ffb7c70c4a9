"""The optimal one-step PGD: closed forms (eq-ch1-risk, eq-ch1-opt, eq-ch2-rank) against each other and Monte Carlo."""

import numpy as np
import pytest
import torch

from iclcore.tasks import LinearRegression, make_generator
from iclcore.theory import pgd_optimal, pgd_risk


def test_isotropic_noiseless_closed_form():
    for d, n in [(2, 3), (5, 20), (8, 40)]:
        W, risk = pgd_optimal(np.eye(d), np.eye(d), n)
        assert risk == pytest.approx(d * (d + 1) / (n + d + 1))
        np.testing.assert_allclose(W, np.eye(d) / (n + d + 1))


def test_noise_is_included_and_floor_is_noise():
    d, sigma = 4, 0.5
    _, risk = pgd_optimal(np.eye(d), np.eye(d), 20, noise=sigma)
    assert risk == pytest.approx(d * (d + 1 + sigma**2) / (20 + d + 1 + sigma**2) + sigma**2)
    _, big_n = pgd_optimal(np.eye(d), np.eye(d), 10**7, noise=sigma)
    assert big_n == pytest.approx(sigma**2, rel=1e-4)


def _random_cov(d, seed):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(d, d))
    return A @ A.T / d + 0.2 * np.eye(d)


def test_optimum_is_the_written_out_formula_and_stationary():
    Sx, Sb, n, noise = _random_cov(4, 0), _random_cov(4, 1), 7, 0.3
    W, risk = pgd_optimal(Sx, Sb, n, noise=noise)
    M = np.trace(Sx @ Sb) + noise**2
    np.testing.assert_allclose(W, Sb @ np.linalg.inv((n + 1) * Sx @ Sb + M * np.eye(4)), rtol=1e-9, atol=1e-12)
    assert pgd_risk(W, Sx, Sb, n, noise=noise) == pytest.approx(risk, rel=1e-10)
    rng = np.random.default_rng(2)
    for _ in range(5):  # any perturbation increases the (convex quadratic) risk
        assert pgd_risk(W + 1e-2 * rng.normal(size=W.shape), Sx, Sb, n, noise=noise) > risk


def test_the_shrinkage_matters():
    """A plain step I/n, or W* with its (n+1) dropped, misses L* by far more than a 5 % tolerance."""
    d, n, eye = 5, 20, np.eye(5)
    _, best = pgd_optimal(eye, eye, n)
    assert pgd_risk(eye / n, eye, eye, n) / best > 1.10
    assert pgd_risk(eye / (1 + d), eye, eye, n) / best > 1.10       # Sigma_b [Sigma_x Sigma_b + M I]^-1, M = d


def test_rank_constrained_risk_is_achieved_and_monotone():
    Sx, Sb = _random_cov(5, 3), _random_cov(5, 4)
    risks = []
    for r in range(1, 6):
        W, risk = pgd_optimal(Sx, Sb, 10, noise=0.2, rank=r)
        assert np.linalg.matrix_rank(W, tol=1e-9) == r
        assert pgd_risk(W, Sx, Sb, 10, noise=0.2) == pytest.approx(risk, rel=1e-10)
        risks.append(risk)
    assert np.all(np.diff(risks) < 0)
    assert risks[-1] == pytest.approx(pgd_optimal(Sx, Sb, 10, noise=0.2)[1])


def test_singular_feature_covariance():
    """A feature that never varies: the optimum ignores it, and the risk is that of the remaining d - 1."""
    Sx = np.diag([1.0, 1.0, 0.0])
    W, risk = pgd_optimal(Sx, np.eye(3), 8)
    _, risk2 = pgd_optimal(np.eye(2), np.eye(2), 8)
    assert risk == pytest.approx(risk2) and np.all(np.isfinite(W)) and np.allclose(W[2], 0)


def test_closed_form_matches_monte_carlo():
    d, n, sigma = 5, 20, 0.5
    Sx = np.diag([2.0, 1.0, 0.5, 0.25, 0.1])
    Sb = _random_cov(d, 5)
    W, risk = pgd_optimal(Sx, Sb, n, noise=sigma)
    task = LinearRegression(d, n, Sx, Sb, noise=sigma, dtype=torch.float64)
    Z, y = task(200_000, make_generator(0))
    X, ys, x = Z[:, :-1, :-1], Z[:, :-1, -1], Z[:, -1, :-1]
    pred = torch.einsum("bi,ij,btj,bt->b", x, torch.tensor(W), X, ys)
    assert ((y - pred) ** 2).mean().item() == pytest.approx(risk, rel=0.02)
