"""Task-feature aligned prompts: exact moments (eq-ch2-tfamoments) and effective sample size (eq-ch2-tfaneff)."""

import numpy as np
import pytest
import torch

from iclcore import theory
from iclcore.evaluate import evaluate
from iclcore.models import PGD
from iclcore.tasks import TaskAlignedRegression, make_generator, squared_error


@pytest.mark.parametrize("alpha, noise", [(0.0, 0.0), (0.4, 0.0), (0.7, 0.5)])
def test_tfa_moments_against_monte_carlo(alpha, noise):
    d, n = 6, 5
    A, B, C = theory.tfa_moments(d, n, alpha, noise)
    Z, y = TaskAlignedRegression(d, n, alpha, noise, dtype=torch.float64)(2**18, make_generator(1))
    X, ys, x = Z[:, :-1, :-1], Z[:, :-1, -1], Z[:, -1, :-1]
    f = torch.einsum("bi,bti,bt->b", x, X, ys)                  # x^T X^T y
    assert (y**2).mean().item() == pytest.approx(A, rel=0.02)
    assert (y * f).mean().item() == pytest.approx(B, rel=0.03)
    assert (f**2).mean().item() == pytest.approx(C, rel=0.05)


def test_tfa_optimal_w_is_the_monte_carlo_optimum_and_its_neighbours_are_worse():
    d, n, alpha = 5, 8, 0.5
    w, risk = theory.tfa_optimal(d, n, alpha, 0.3)
    task = TaskAlignedRegression(d, n, alpha, 0.3, dtype=torch.float64)
    model = PGD(d, n_members=3, W0=np.stack([s * w * np.eye(d) for s in (0.8, 1.0, 1.25)])).double()
    risks = evaluate(model, task, {"risk": squared_error}, members=["0.8 w*", "w*", "1.25 w*"],
                     n_samples=2**17, seed=5).metric("risk")
    assert risks["w*"] == pytest.approx(risk, rel=0.02)
    assert risks["w*"] < min(risks["0.8 w*"], risks["1.25 w*"])


def test_alignment_zero_is_the_iid_design():
    for noise in (0.0, 0.4):
        iid = theory.pgd_optimal(np.eye(7), np.eye(7), 9, noise)[1]
        assert theory.tfa_risk(7, 9, 0.0, noise) == pytest.approx(iid)
    assert theory.tfa_effective_n(7, 9, 0.0) == pytest.approx(9)


@pytest.mark.parametrize("alpha", [0.1, 0.3, 0.6, 1.0])
def test_noiseless_relative_risk_is_iid_at_the_effective_sample_size(alpha):
    d, n = 20, 10
    relative = theory.tfa_risk(d, n, alpha) / theory.tfa_moments(d, n, alpha)[0]
    n_eff = theory.tfa_effective_n(d, n, alpha)
    assert relative == pytest.approx(theory.iid_isotropic_risk(d, n_eff) / d, rel=1e-12)
    assert n_eff > n and n_eff <= n * (d + 1) / 2 + 1e-9


def test_alignment_improves_the_relative_risk():
    d, n = 20, 10
    rel = [theory.tfa_risk(d, n, a) / theory.tfa_moments(d, n, a)[0] for a in np.linspace(0, 0.9, 10)]
    assert np.all(np.diff(rel) < 0)
