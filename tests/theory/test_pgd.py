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


def test_optimum_is_stationary_and_matches_pgd_risk():
    Sx, Sb = _random_cov(4, 0), _random_cov(4, 1)
    W, risk = pgd_optimal(Sx, Sb, 7, noise=0.3)
    assert pgd_risk(W, Sx, Sb, 7, noise=0.3) == pytest.approx(risk, rel=1e-10)
    rng = np.random.default_rng(2)
    for _ in range(5):  # any perturbation increases the (convex quadratic) risk
        assert pgd_risk(W + 1e-2 * rng.normal(size=W.shape), Sx, Sb, 7, noise=0.3) > risk


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


def test_closed_form_matches_monte_carlo():
    d, n, sigma = 5, 20, 0.5
    Sx = np.diag([2.0, 1.0, 0.5, 0.25, 0.1])
    Sb = _random_cov(d, 5)
    W, risk = pgd_optimal(Sx, Sb, n, noise=sigma)
    task = LinearRegression(d, n, Sx, Sb, noise=sigma, dtype=torch.float64)
    Z, y = task(200_000, make_generator(0))
    X, ys, x = Z[:, :-1, :-1], Z[:, :-1, -1], Z[:, -1, :-1]
    pred = torch.einsum("bi,ij,btj,bt->b", x, torch.tensor(W), X, ys)
    mc = ((y - pred) ** 2).mean().item()
    assert mc == pytest.approx(risk, rel=0.02)


@pytest.mark.parametrize("kwargs, match", [
    ({"Sigma_x": np.eye(3), "Sigma_beta": np.eye(4), "n": 5}, "Sigma_beta must have shape"),
    ({"Sigma_x": np.eye(3), "Sigma_beta": np.eye(3), "n": 0}, "n must be an integer >= 1"),
    ({"Sigma_x": np.eye(3), "Sigma_beta": np.eye(3), "n": 5, "rank": 4}, r"rank must be in \[1, 3\]"),
    ({"Sigma_x": np.eye(3), "Sigma_beta": np.eye(3), "n": 5, "noise": -1.0}, "noise must be"),
    ({"Sigma_x": -np.eye(3), "Sigma_beta": np.eye(3), "n": 5}, "positive semi-definite"),
    ({"Sigma_x": np.ones((3, 2)), "Sigma_beta": np.eye(3), "n": 5}, "square"),
])
def test_bad_input_raises(kwargs, match):
    with pytest.raises(ValueError, match=match):
        pgd_optimal(**kwargs)


def test_pgd_risk_rejects_wrong_shape():
    with pytest.raises(ValueError, match="W must have shape"):
        pgd_risk(np.eye(2), np.eye(3), np.eye(3), 4)
