"""LoRA on a pretrained PGD preconditioner (eq-ch2-whitened, eq-ch2-lora)."""

import numpy as np
import pytest

from iclcore import theory
from iclcore.linalg import sqrtm_psd
from iclcore.theory.lora import lora_residual_spectrum


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
    root = sqrtm_psd(Sx)
    inv_root = np.linalg.inv(root)
    B = root @ new @ root
    M = np.trace(Sx @ new) + noise**2
    C_half = sqrtm_psd((n + 1) * B + M * np.eye(d))
    C_inv_half = np.linalg.inv(C_half)
    R = B @ C_inv_half - root @ W0 @ root @ C_half
    U, s, Vt = np.linalg.svd(R)
    D_A = (U[:, :r] * s[:r]) @ Vt[:r] @ C_inv_half       # rank-r change of A = Sx^1/2 W Sx^1/2
    W = W0 + inv_root @ D_A @ inv_root
    expected = theory.lora_risk(Sx, old, new, n, r, noise)
    assert theory.pgd_risk(W, Sx, new, n, noise) == pytest.approx(expected, rel=1e-9)
