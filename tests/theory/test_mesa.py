"""Closed forms of the mesa-optimization chapter, checked against Monte Carlo and against each other's limits."""

import numpy as np
import pytest

from iclcore.tasks import DiagonalARSequences, make_generator, sample_start
from iclcore.theory import (
    block_step_predict,
    empirical_moments,
    flow_endpoint,
    harmonic_weight,
    mesa_risk,
    mesa_step_predict,
    optimal_product,
    pooled_risk,
    recovery_floor,
    relative_error,
    scalar_descent,
    start_moments,
)

LAWS = [("gaussian", 0.7, 0.0), ("sparse", 1.3, 0.0), ("sparse", 1.0, 0.5), ("unit_modulus", 0.8, 0.0),
        ("unit_modulus", 1.0, 0.4), ("ones", 0.9, 0.0)]


@pytest.mark.parametrize("start, scale, spread", LAWS)
def test_moments_equal_monte_carlo(start, scale, spread):
    starts = sample_start(start, 4, 2**17, make_generator(0), scale, spread).numpy()
    mc, exact = empirical_moments(starts), start_moments(start, 4, scale, spread)
    np.testing.assert_allclose(mc, exact, rtol=0.03, atol=1e-12)


@pytest.mark.parametrize("start, scale, spread", LAWS)
def test_risk_of_one_step_equals_monte_carlo(start, scale, spread):
    """{eq}`eq-ch11-risk` at several positions and step sizes against the explicit predictor on samples."""
    d, T = 3, 12
    states = DiagonalARSequences(d, T, start, scale, spread).states(2**14, make_generator(1)).numpy()
    mom = start_moments(start, d, scale, spread)
    for c in (0.3 / scale**2, 1.1 / scale**2):
        pred = mesa_step_predict(states[:, :T + 1], c)
        mc = (np.abs(pred - states[:, 2:]) ** 2).sum(-1).mean(0)
        np.testing.assert_allclose(mc, mesa_risk(mom, c, np.arange(1, T + 1)), rtol=0.04, atol=1e-10)


def test_optimal_product_closed_forms_and_minimum():
    d, T, s = 5, 20, 0.5
    h = harmonic_weight(T)
    assert h == pytest.approx(np.mean(1 / np.arange(1, T + 1)))
    gauss = start_moments("gaussian", d, s)
    assert optimal_product(gauss, T) == pytest.approx(1 / (s**2 * (5 + (d - 1) * h)))
    assert optimal_product(gauss, np.inf) == pytest.approx(1 / (5 * s**2))            # the authors' theory line
    for T_ in (1, 7, 100):
        assert optimal_product(start_moments("sparse", d, 2.0), T_) == pytest.approx(0.25)   # 1/kappa^2, any T
    grid = np.linspace(0.3, 1.2, 2001)
    best = grid[np.argmin([pooled_risk(gauss, c, T) for c in grid])]
    assert best == pytest.approx(optimal_product(gauss, T), abs=1e-3)
    # pooled risk = mean of the per-position risks
    assert pooled_risk(gauss, 0.6, T) == pytest.approx(mesa_risk(gauss, 0.6, np.arange(1, T + 1)).mean())


def test_recovery_floor():
    assert recovery_floor(start_moments("gaussian", 5, 2.0)) == pytest.approx(0.4)
    assert recovery_floor(start_moments("sparse", 5, 3.0)) == pytest.approx(0.0, abs=1e-12)
    assert recovery_floor(start_moments("unit_modulus", 5)) == pytest.approx(0.0, abs=1e-12)
    assert recovery_floor(start_moments("sparse", 5, 1.0, 0.5)) > 0.1
    mom = start_moments("gaussian", 3)
    # the floor is the long-context relative error at the best step m4/m6
    assert relative_error(mom, mom.m4 / mom.m6, np.inf) == pytest.approx(recovery_floor(mom))
    # sparse starts: the error does not depend on the position (m24 = 0)
    sp = start_moments("sparse", 4, 1.0, 0.3)
    np.testing.assert_allclose(relative_error(sp, 0.8, [1, 5, 1000]), relative_error(sp, 0.8, np.inf))


def test_scalar_descent_converges_to_the_flow_endpoint():
    mom, T = start_moments("gaussian", 5, 0.5), 20
    c = optimal_product(mom, T)
    for a0, b0 in [(0.1, 0.1), (0.5, 1.5), (2.0, 2.0), (-0.3, 1.0)]:
        path = scalar_descent(mom, T, a0, b0, 1e-3, 40000)
        assert path[-1].prod() == pytest.approx(c, rel=1e-6)
        # a small step conserves a^2 - b^2 (exactly conserved by the flow)
        assert path[-1, 0] ** 2 - path[-1, 1] ** 2 == pytest.approx(a0**2 - b0**2, abs=2e-3)
        np.testing.assert_allclose(path[-1], flow_endpoint(a0, b0, c), atol=2e-3)
    # on the line a0 = -b0 the flow goes to the saddle
    assert np.abs(scalar_descent(mom, T, -0.5, 0.5, 1e-2, 20000)[-1]).max() < 0.05


def test_flow_endpoint_solves_its_equations():
    for a0, b0, c in [(0.5, 1.5, 0.7), (2.0, 0.1, 1.3), (-1.0, -0.2, 0.4)]:
        a, b = flow_endpoint(a0, b0, c)
        assert a * b == pytest.approx(c)
        assert a**2 - b**2 == pytest.approx(a0**2 - b0**2)
        assert np.sign(a) == np.sign(a0 + b0)


def test_block_step_predict_matches_the_explicit_sum_and_recovers_sparse_starts():
    rng = np.random.default_rng(3)
    states = DiagonalARSequences(3, 6, "gaussian").states(5, make_generator(2)).numpy()[:, :7]
    B, A = rng.normal(size=(3, 3)), rng.normal(size=(3, 3))
    brute = np.zeros((5, 6, 3), dtype=complex)
    for t in range(1, 7):
        G = sum(np.einsum("ni,nj->nij", states[:, tau], states[:, tau - 1].conj()) for tau in range(1, t + 1)) / t
        brute[:, t - 1] = np.einsum("ij,njk,kl,nl->ni", B, G, A, states[:, t])
    np.testing.assert_allclose(block_step_predict(states, B, A), brute, atol=1e-12)
    np.testing.assert_allclose(block_step_predict(states, B, A, [2, 5]), brute[:, [1, 4]], atol=1e-12)
    sparse = DiagonalARSequences(4, 30, "sparse", 2.0).states(64, make_generator(4)).numpy()
    pred = mesa_step_predict(sparse[:, :31], 0.25)                     # c = 1/kappa^2: exact at every position
    np.testing.assert_allclose(pred, sparse[:, 2:], atol=1e-10)
