"""Chapter 2 theory (WPGD, retrieval, LoRA) against closed forms and Monte Carlo."""

import numpy as np
import pytest
import torch

from iclcore import theory
from iclcore.models import PGD, WPGD
from iclcore.tasks import LinearRegression, RetrievalRegression, make_generator
from iclcore.theory.lora import lora_residual_spectrum
from iclcore.theory.rag import rag_moments, rag_optimal
from iclcore.theory.wpgd import wpgd_isotropic_risk
from iclcore.train import evaluate_risk


def test_wpgd_spec_example_and_homogeneous_limit():
    nv = [0.0] * 10 + [25.0] * 10
    w, risk = theory.wpgd_isotropic(5, nv)
    assert risk == pytest.approx(1.6727, abs=1e-3)
    assert theory.la_isotropic_hetero(5, nv) == pytest.approx(2.4026, abs=1e-3)
    assert w[-1] / w[0] == pytest.approx(6 / 31)
    # homogeneous noise: both reduce to the PGD optimum d(d+1+s^2)/(n+d+1+s^2) (+ query noise)
    s2 = 0.49
    _, wp = theory.wpgd_isotropic(4, [s2] * 12, query_noise=0.7)
    la = theory.la_isotropic_hetero(4, [s2] * 12, query_noise=0.7)
    _, pgd = theory.pgd_optimal(np.eye(4), np.eye(4), 12, noise=0.7)
    assert wp == pytest.approx(pgd) and la == pytest.approx(pgd)


def test_wpgd_weights_are_the_minimiser():
    nv = np.array([0, 1, 4, 9, 16, 25.0])
    w, risk = theory.wpgd_isotropic(3, nv)
    assert wpgd_isotropic_risk(w, 3, nv) == pytest.approx(risk)
    rng = np.random.default_rng(0)
    for _ in range(5):
        assert wpgd_isotropic_risk(w + 1e-3 * rng.normal(size=6), 3, nv) > risk


def test_wpgd_and_la_against_monte_carlo():
    d, nv = 4, np.array([0.0] * 6 + [16.0] * 6)
    task = LinearRegression(d, 12, noise=np.sqrt(nv), query_noise=0.0, dtype=torch.float64)
    w, risk = theory.wpgd_isotropic(d, nv)
    model = WPGD(d, 12).double()
    with torch.no_grad():
        model.W.copy_(torch.eye(d, dtype=torch.float64))
        model.omega.copy_(torch.tensor(w[::-1].copy()))   # omega is indexed by lag from the query
    assert evaluate_risk(model, task, 2**17, seed=3)[0] == pytest.approx(risk, rel=0.02)
    n = 12
    c = (1 - theory.la_isotropic_hetero(d, nv) / d) / n   # optimal uniform coefficient: S = 1 - L/d
    pgd = PGD(d, W0=c * np.eye(d)).double()
    assert evaluate_risk(pgd, task, 2**17, seed=4)[0] == pytest.approx(theory.la_isotropic_hetero(d, nv), rel=0.02)


@pytest.mark.parametrize("alpha, noise", [(0.0, 0.0), (0.4, 0.0), (0.7, 0.5), (1.0, 0.0)])
def test_rag_moments_against_monte_carlo(alpha, noise):
    d, n = 6, 5
    A, B, C = rag_moments(d, n, alpha, noise)
    Z, y = RetrievalRegression(d, n, alpha, noise, dtype=torch.float64)(2**17, make_generator(1))
    X, ys, x = Z[:, :-1, :-1], Z[:, :-1, -1], Z[:, -1, :-1]
    f = torch.einsum("bi,bti,bt->b", x, X, ys)                  # x^T X^T y
    assert (y**2).mean().item() == pytest.approx(A, rel=0.03)
    assert (y * f).mean().item() == pytest.approx(B, rel=0.03)
    assert (f**2).mean().item() == pytest.approx(C, rel=0.04)


def test_rag_reduces_to_iid_and_matches_kappa_rule_in_the_valid_regime():
    d = 7
    assert theory.rag_risk(d, 9, 0.0, 0.3) == pytest.approx(theory.pgd_optimal(np.eye(d), np.eye(d), 9, 0.3)[1])
    assert theory.iid_isotropic_risk(d, 9, 0.3) == pytest.approx(theory.pgd_optimal(np.eye(d), np.eye(d), 9, 0.3)[1])
    for alpha in (0.2, 0.3):   # spec R3 numbers: d = 20, n = 10
        rag = theory.rag_risk(20, 10, alpha)
        assert rag == pytest.approx(theory.iid_isotropic_risk(20, theory.rag_kappa(20, alpha) * 10), rel=0.01)
    assert theory.rag_risk(20, 40, 0.5) > 1.3 * theory.iid_isotropic_risk(20, theory.rag_kappa(20, 0.5) * 40)


def test_rag_optimal_w_is_the_monte_carlo_optimum():
    d, n, alpha = 5, 8, 0.5
    w, risk = rag_optimal(d, n, alpha, 0.2)
    task = RetrievalRegression(d, n, alpha, 0.2, dtype=torch.float64)
    model = PGD(d, W0=w * np.eye(d)).double()
    assert evaluate_risk(model, task, 2**17, seed=5)[0] == pytest.approx(risk, rel=0.02)


def _spike(d, u, height):
    S = np.eye(d) + (height - 1) * np.outer(u, u)
    return S * d / np.trace(S)


def test_lora_risk_endpoints_and_exact_rank_two_recovery():
    d, n = 6, 15
    rng = np.random.default_rng(0)
    e1 = np.eye(d)[0]
    u = rng.normal(size=d)
    u /= np.linalg.norm(u)
    old, new = _spike(d, e1, 5.0), _spike(d, u, 5.0)
    W0, _ = theory.pgd_optimal(np.eye(d), old, n)
    assert theory.lora_risk(np.eye(d), old, new, n, 0) == pytest.approx(theory.pgd_risk(W0, np.eye(d), new, n))
    _, star = theory.pgd_optimal(np.eye(d), new, n)
    assert theory.lora_risk(np.eye(d), old, new, n, d) == pytest.approx(star)
    # same-trace rotation of the spike: the residual has rank 2, so LoRA rank 2 is exact
    s = lora_residual_spectrum(np.eye(d), old, new, n)
    assert s[2:].max() < 1e-10 * s[0]
    assert theory.lora_risk(np.eye(d), old, new, n, 2) == pytest.approx(star)
    assert theory.lora_risk(np.eye(d), old, new, n, 1) > star
    # a trace-changing shift (M changes) leaves a small full-rank residual
    grown = old + 3 * np.outer(u, u)
    assert theory.lora_risk(np.eye(d), old, grown, n, 2) > theory.pgd_optimal(np.eye(d), grown, n)[1] * (1 + 1e-4)


def test_lora_risk_is_achieved_by_the_constructed_update_nonisotropic():
    """Build the rank-r update from the SVD of R and check its risk with pgd_risk (general Sigma_x)."""
    rng = np.random.default_rng(1)
    d, n, r = 4, 9, 1
    G = rng.normal(size=(d, d))
    Sx = G @ G.T / d + 0.3 * np.eye(d)
    old = np.diag([2.0, 1.0, 0.5, 0.2])
    new = np.diag([0.2, 1.0, 0.5, 2.0])
    noise = 0.3
    W0, _ = theory.pgd_optimal(Sx, old, n, noise)
    vals, vecs = np.linalg.eigh(Sx)
    root, inv_root = (vecs * np.sqrt(vals)) @ vecs.T, (vecs / np.sqrt(vals)) @ vecs.T
    B = root @ new @ root
    M = np.trace(Sx @ new) + noise**2
    cv, cU = np.linalg.eigh((n + 1) * B + M * np.eye(d))
    C_half, C_inv_half = (cU * np.sqrt(cv)) @ cU.T, (cU / np.sqrt(cv)) @ cU.T
    R = B @ C_inv_half - root @ W0 @ root @ C_half
    U, s, Vt = np.linalg.svd(R)
    D_A = (U[:, :r] * s[:r]) @ Vt[:r] @ C_inv_half       # rank-r change of A = Sx^1/2 W Sx^1/2
    W = W0 + inv_root @ D_A @ inv_root
    expected = theory.lora_risk(Sx, old, new, n, r, noise)
    assert theory.pgd_risk(W, Sx, new, n, noise) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("call, match", [
    (lambda: theory.wpgd_isotropic(0, [1.0]), "d must be"),
    (lambda: theory.wpgd_isotropic(3, [-1.0]), "noise_vars must hold"),
    (lambda: theory.la_isotropic_hetero(3, []), "noise_vars must be a non-empty"),
    (lambda: theory.rag_risk(5, 10, 1.5), r"alpha must be in \[-1.0, 1.0\]"),
    (lambda: theory.rag_risk(5, 0, 0.5), "n must be"),
    (lambda: theory.rag_risk(5, 3, 0.5, noise=-1), "noise must be"),
    (lambda: theory.lora_risk(np.eye(3), np.eye(3), np.eye(3), 5, 4), r"rank must be in \[0, 3\]"),
    (lambda: theory.lora_risk(np.eye(3), np.eye(2), np.eye(3), 5, 1), "Sigma_beta_old must have shape"),
])
def test_bad_input_raises(call, match):
    with pytest.raises(ValueError, match=match):
        call()
