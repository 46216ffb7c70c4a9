"""The distillation closed forms (iclcore.theory.distillation): known values, optimality, and Monte Carlo."""

import numpy as np
import pytest
import torch

from iclcore.experiments.ch09_distillation import simulate_risks
from iclcore.tasks import power_law_signal, power_law_spectrum
from iclcore.theory import (
    amplification_threshold,
    mask_threshold,
    min_norm_interpolator,
    optimal_mask,
    optimal_surrogate,
    ridgeless_fixed_point,
    surrogate_to_target_risk,
)


def test_fixed_point_solves_its_equation():
    lam = power_law_spectrum(300, 1.7)
    for n in (1, 10, 150, 299):
        kappa, gamma = ridgeless_fixed_point(lam, n)
        s = lam / (lam + kappa)
        assert s.sum() == pytest.approx(n, rel=1e-10)
        assert gamma == pytest.approx(np.sum(s**2) / n, rel=1e-12) and 0 < gamma < 1
    kappas = [ridgeless_fixed_point(lam, n)[0] for n in (10, 50, 100)]
    assert kappas[0] > kappas[1] > kappas[2]                          # more samples, smaller implicit ridge


def test_isotropic_known_values():
    """For lam = c: kappa = c (d - n)/n, gamma = n/d, and the strong-label risk is c ||beta||^2 (1 - n/d) plus
    sigma^2 n/(d - n) (the classical ridgeless formulas)."""
    d, n, c, sigma = 80, 30, 0.7, 0.4
    lam = np.full(d, c)
    kappa, gamma = ridgeless_fixed_point(lam, n)
    assert kappa == pytest.approx(c * (d - n) / n, rel=1e-10) and gamma == pytest.approx(n / d, rel=1e-10)
    beta = np.random.default_rng(0).standard_normal(d)
    expected = c * beta @ beta * (1 - n / d) + sigma**2 * n / (d - n)
    assert surrogate_to_target_risk(lam, beta, beta, n, sigma) == pytest.approx(expected, rel=1e-10)
    # isotropic: the teacher itself is the optimal surrogate (the amplification threshold is exactly c),
    # and the best mask keeps every feature
    assert amplification_threshold(lam, n) == pytest.approx(c, rel=1e-10)
    np.testing.assert_allclose(optimal_surrogate(lam, beta, n), beta, rtol=1e-10)
    assert optimal_mask(lam, n).all()


def test_risk_formula_terms():
    """beta_s = 0 costs ||beta*||^2_Sigma (plus the interpolated noise); the risk is quadratic in beta_s."""
    lam, beta = power_law_spectrum(200, 2.0), power_law_signal(200, 2.0, 1.5)
    n = 50
    _, gamma = ridgeless_fixed_point(lam, n)
    assert surrogate_to_target_risk(lam, 0 * beta, beta, n) == pytest.approx(np.sum(lam * beta**2), rel=1e-12)
    assert surrogate_to_target_risk(lam, 0 * beta, beta, n, 0.5) == pytest.approx(
        np.sum(lam * beta**2) + 0.25 * gamma / (1 - gamma), rel=1e-12)
    r = [surrogate_to_target_risk(lam, t * beta, beta, n) for t in (0.0, 1.0, 2.0, 3.0)]
    assert r[3] - 3 * r[2] + 3 * r[1] - r[0] == pytest.approx(0, abs=1e-12)   # third difference of a quadratic


def test_optimal_surrogate_minimises_the_risk():
    rng = np.random.default_rng(1)
    lam = power_law_spectrum(150, 1.5)
    beta = rng.standard_normal(150)
    n = 40
    best = optimal_surrogate(lam, beta, n)
    r_best = surrogate_to_target_risk(lam, best, beta, n, 0.3)
    for _ in range(20):
        assert surrogate_to_target_risk(lam, best + 0.05 * rng.standard_normal(150), beta, n, 0.3) > r_best
    assert r_best < surrogate_to_target_risk(lam, beta, beta, n, 0.3)
    # amplification above the threshold, shrinkage below, whatever the sign of beta
    ratio = best / beta
    above = lam > amplification_threshold(lam, n)
    assert np.all(ratio[above] > 1) and np.all(ratio[~above] < 1) and np.all(ratio > 0)


def test_optimal_mask_is_the_best_mask():
    lam, beta = power_law_spectrum(300, 2.0), power_law_signal(300, 2.0, 1.5)
    n = 100
    keep = optimal_mask(lam, n)
    k_star = int(keep.sum())
    assert np.array_equal(keep, np.arange(300) < k_star)              # a decreasing spectrum: a top-k mask
    assert np.array_equal(keep, lam > mask_threshold(lam, n))
    risks = [surrogate_to_target_risk(lam, beta * (np.arange(300) < k), beta, n) for k in range(1, 301)]
    assert int(np.argmin(risks)) + 1 == k_star
    # flipping any single feature of the optimal mask does not help
    base = surrogate_to_target_risk(lam, beta * keep, beta, n)
    for i in (0, k_star - 1, k_star, 299):
        flipped = keep.copy()
        flipped[i] = ~flipped[i]
        assert surrogate_to_target_risk(lam, beta * flipped, beta, n) >= base


def test_fixed_point_override():
    lam, beta = power_law_spectrum(100, 2.0), power_law_signal(100, 2.0, 1.5)
    fp = ridgeless_fixed_point(lam, 30)
    with_fp = surrogate_to_target_risk(lam, beta, beta, 30, fixed_point=fp)
    assert with_fp == surrogate_to_target_risk(lam, beta, beta, 30)
    wrong = (fp[0] * 10, fp[1])
    assert not np.allclose(optimal_surrogate(lam, beta, 30, fixed_point=wrong), optimal_surrogate(lam, beta, 30))


def test_scaling_law_exponent_is_unchanged():
    """With d >> n, all three risks decay as n^-(b-1); the surrogates change only the constant."""
    d, a, b = 100_000, 2.0, 1.5
    lam, beta = power_law_spectrum(d, a), power_law_signal(d, a, b)
    ns = np.array([50, 100, 200, 400])
    curves = {"strong": [], "optimal": [], "mask": []}
    for n in ns:
        fp = ridgeless_fixed_point(lam, int(n))
        curves["strong"].append(surrogate_to_target_risk(lam, beta, beta, int(n), fixed_point=fp))
        curves["optimal"].append(surrogate_to_target_risk(lam, optimal_surrogate(lam, beta, int(n), fixed_point=fp),
                                                          beta, int(n), fixed_point=fp))
        curves["mask"].append(surrogate_to_target_risk(lam, beta * optimal_mask(lam, int(n), fixed_point=fp), beta,
                                                       int(n), fixed_point=fp))
    for name, values in curves.items():
        slope = np.polyfit(np.log(ns), np.log(values), 1)[0]
        assert slope == pytest.approx(-(b - 1), abs=0.02), name
    ratio = np.array(curves["optimal"]) / np.array(curves["strong"])
    assert ratio.max() - ratio.min() < 0.01 and ratio.max() < 0.7


def test_min_norm_interpolator_interpolates_with_minimum_norm():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(4, 7, 20, generator=g, dtype=torch.float64)
    Y = torch.randn(4, 7, 3, generator=g, dtype=torch.float64)
    B = min_norm_interpolator(X, Y)
    assert B.shape == (4, 20, 3)
    torch.testing.assert_close(X @ B, Y)
    pinv = torch.linalg.pinv(X) @ Y                                    # the min-norm solution, another way
    torch.testing.assert_close(B, pinv)
    torch.testing.assert_close(min_norm_interpolator(X[1], Y[1, :, 2]), B[1, :, 2])   # a vector y, no batch


def test_monte_carlo_matches_the_deterministic_equivalent():
    """At d=300, n=60 the deterministic equivalent is within 1/n + 3 standard errors of the simulated mean."""
    d, n, sigma = 300, 60, 0.3
    lam, beta = power_law_spectrum(d, 1.5), power_law_signal(d, 1.5, 2.0)
    surrogates = {"strong": beta, "optimal": optimal_surrogate(lam, beta, n), "mask": beta * optimal_mask(lam, n)}
    risks = simulate_risks(lam, beta, {(k, n): v for k, v in surrogates.items()}, trials=300, seed=5,
                           noise=sigma).metric("risk")
    for name, b in surrogates.items():
        r = risks[(name, n)]
        se = r.std(ddof=1) / np.sqrt(r.size)
        theory = surrogate_to_target_risk(lam, b, beta, n, sigma)
        assert r.mean() == pytest.approx(theory, rel=1 / n + 3 * se / r.mean())


def test_isotropic_monte_carlo_is_exact_in_the_bias():
    """Isotropic, noiseless: E||beta_hat - beta||^2 = ||beta||^2 (1 - n/d) exactly at any finite n, d."""
    d, n = 40, 10
    lam, beta = np.ones(d), np.random.default_rng(3).standard_normal(d)
    r = simulate_risks(lam, beta, {("strong", n): beta}, trials=2000, seed=11).metric("risk")[("strong", n)]
    se = r.std(ddof=1) / np.sqrt(r.size)
    assert abs(r.mean() - beta @ beta * (1 - n / d)) < 4 * se
    assert surrogate_to_target_risk(lam, beta, beta, n) == pytest.approx(beta @ beta * (1 - n / d))
