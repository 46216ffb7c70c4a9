"""Closed forms of in-context autoregressive learning, checked against Monte Carlo."""

import numpy as np
import pytest
import torch

from iclcore.models import AugmentedLinearAttention, DiagonalPositionalAttention
from iclcore.tasks import RotationSequences, make_generator, sequence_risk
from iclcore.theory import (
    angle_cos_moments,
    block_step_optimum,
    chebyshev_weights,
    gd_step_monte_carlo,
    gd_step_predict,
    gd_step_theory,
    scalar_step_floor,
    unitary_min_loss,
    unitary_reduced_loss,
    unitary_zero_loss_weights,
)


def _states(n=2**15, seed=0, **kw):
    return RotationSequences(kw.pop("d", 4), kw.pop("T", 8), dtype=torch.float64, **kw).states(
        n, make_generator(seed)).numpy()


def test_cos_moments_by_monte_carlo():
    rng = np.random.default_rng(0)
    theta = 0.6 + np.pi * 0.3 * (2 * rng.random(400000) - 1)
    m = angle_cos_moments(6, 0.3, 0.6)
    np.testing.assert_allclose(m, [np.cos(n * theta).mean() for n in range(7)], atol=5e-3)
    np.testing.assert_allclose(angle_cos_moments(4), [1, 0, 0, 0, 0])


def test_uniform_closed_form_is_the_simple_formula():
    r2 = np.array([0.8, 0.2])
    S2, S4, S6 = r2.sum(), (r2**2).sum(), (r2**3).sum()
    mom = gd_step_theory(4, 10, block_norms=np.sqrt(r2))
    t = np.arange(1, 11)
    np.testing.assert_allclose(mom.cross, S4 / 2)
    np.testing.assert_allclose(mom.sq, S6 / 4 + (S2 * S4 / 2 - S6 / 4) / t)
    # equal norms, d = 4: eta*(T) = 4 / (1 + 3 h_T) with h_T the mean of 1/t
    for T in (1, 5, 30):
        h = np.mean(1 / np.arange(1, T + 1))
        assert gd_step_theory(4, T).optimal_eta() == pytest.approx(4 / (1 + 3 * h))


@pytest.mark.parametrize("kw", [{}, {"block_norms": [2.0, 1.0]}, {"angle_spread": 0.3},
                                {"angle_spread": 0.25, "angle_center": 0.6}, {"d": 6, "block_norms": [1, 2, 3]}])
def test_closed_form_moments_equal_monte_carlo(kw):
    d, T = kw.get("d", 4), 8
    law = {k: v for k, v in kw.items() if k != "d"}
    theory = gd_step_theory(d, T, **law)
    mc = gd_step_monte_carlo(_states(d=d, T=T, seed=1, **law))
    np.testing.assert_allclose(mc.cross, theory.cross, rtol=0.03, atol=2e-3)
    np.testing.assert_allclose(mc.sq, theory.sq, rtol=0.03, atol=2e-3)
    assert mc.mean_risk(theory.optimal_eta()) == pytest.approx(theory.mean_risk(), rel=0.02)


def test_the_optimal_step_minimises_the_risk_and_the_phases_do_not_matter():
    mom = gd_step_theory(4, 12)
    eta = mom.optimal_eta()
    assert mom.mean_risk(eta) < min(mom.mean_risk(0.95 * eta), mom.mean_risk(1.05 * eta))
    fixed = gd_step_monte_carlo(_states(T=12, seed=2, start="fixed"))
    assert fixed.mean_risk(eta) == pytest.approx(mom.mean_risk(), rel=0.02)


def test_gd_predict_matches_the_attention_block():
    s = _states(n=4, T=5, seed=3, family="orthogonal")
    model = AugmentedLinearAttention(4).double()
    with torch.no_grad():
        model.W_PV[0, :, 4:8] = torch.eye(4)
        model.W_KQ[0, 8:, 4:8] = torch.eye(4)
    tokens, _ = RotationSequences(4, 5, family="orthogonal", dtype=torch.float64)(4, make_generator(3))
    np.testing.assert_allclose(model(tokens)[0].detach().numpy(), gd_step_predict(s[:, :-1]), atol=1e-12)


def test_scalar_floor_is_the_large_context_limit():
    norms = [2.0, 1.0]
    assert scalar_step_floor(norms, 4) == pytest.approx(1 - 0.68**2 / 0.52)
    assert scalar_step_floor([1.0, 1.0, 1.0], 6) == pytest.approx(0.0, abs=1e-12)
    risks = [gd_step_theory(4, T, norms).mean_risk() for T in (10, 40, 120)]
    assert risks[0] > risks[1] > risks[2] > scalar_step_floor(norms, 4)


def test_block_step_equals_scalar_step_for_equal_norms():
    best = block_step_optimum(None, 4, 12)
    np.testing.assert_allclose(best.eta, gd_step_theory(4, 12).optimal_eta(), rtol=1e-6)
    assert best.risk == pytest.approx(gd_step_theory(4, 12).mean_risk(), rel=1e-8)


def test_block_step_risk_by_monte_carlo():
    norms, T = [2.0, 1.0], 10
    best = block_step_optimum(norms, 4, T)
    np.testing.assert_allclose(best.a * best.b, best.eta)
    model = AugmentedLinearAttention(4).double()
    with torch.no_grad():
        model.W_PV[0, :, 4:8] = torch.diag(torch.tensor(np.repeat(best.b, 2)))
        model.W_KQ[0, 8:, 4:8] = torch.diag(torch.tensor(np.repeat(best.a, 2)))
    x, y = RotationSequences(4, T, block_norms=norms, dtype=torch.float64)(2**15, make_generator(4))
    assert sequence_risk(model(x), y).item() == pytest.approx(best.risk, rel=0.02)
    assert best.risk < gd_step_theory(4, T, norms).mean_risk() - 0.01


def _model_with(A, B, P, d, T):
    m = DiagonalPositionalAttention(d, T, n_heads=A.shape[0]).double()
    with torch.no_grad():
        m.A[0], m.B[0], m.P[0] = (torch.tensor(v) for v in (A, B, P))
    return m


def test_unitary_reduced_loss_by_monte_carlo():
    rng = np.random.default_rng(5)
    d, T, H = 3, 6, 2
    A, B, P = 0.6 * rng.normal(size=(H, d)), 0.6 * rng.normal(size=(H, d)), 0.5 * rng.normal(size=(T - 1, T))
    x, y = RotationSequences(d, T, tokens="plain", family="unitary", dtype=torch.float64)(2**16, make_generator(6))
    pred = _model_with(A, B, P, d, T)(x)
    per_position = (pred - y[..., :d]).abs().pow(2).sum(-1).mean(1)[0].detach().numpy()
    np.testing.assert_allclose(per_position, unitary_reduced_loss(A, B, P), rtol=0.03)


def test_unitary_minimum_with_few_heads():
    d, T = 4, 5
    rng = np.random.default_rng(7)
    for H in (1, 2, 3):
        floor = unitary_min_loss(d, H)
        for _ in range(200):
            A, B, P = rng.normal(size=(H, d)), rng.normal(size=(H, d)), rng.normal(size=(T - 1, T))
            assert unitary_reduced_loss(A, B, P).min() >= floor - 1e-9
        A = B = np.eye(d)[:H]                                   # a projector on H coordinates, newest token only
        P = np.zeros((T - 1, T))
        P[np.arange(T - 1), np.arange(1, T)] = 1.0
        np.testing.assert_allclose(unitary_reduced_loss(A, B, P), floor)
    assert unitary_min_loss(4, 6) == 0.0
    np.testing.assert_allclose(unitary_reduced_loss(*unitary_zero_loss_weights(4, T, scale=3.0)), 0.0, atol=1e-12)


def test_chebyshev_weights_by_monte_carlo():
    A, B, P = chebyshev_weights(6, 7, block_norms=[1.0, 2.0, 0.5])
    x, y = RotationSequences(6, 7, tokens="plain", block_norms=[1.0, 2.0, 0.5], dtype=torch.float64)(
        256, make_generator(8))
    assert sequence_risk(_model_with(A, B, P, 6, 7)(x), y).item() < 1e-20
