"""Retrieval-correlated prompts: exact moments (eq-ch2-ragmoments) and the kappa rule (eq-ch2-kappa)."""

import numpy as np
import pytest
import torch

from iclcore import theory
from iclcore.evaluate import evaluate
from iclcore.models import PGD
from iclcore.tasks import RetrievalRegression, make_generator, squared_error
from iclcore.theory.rag import rag_moments, rag_optimal


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


def test_rag_optimal_w_is_the_monte_carlo_optimum():
    d, n, alpha = 5, 8, 0.5
    w, risk = rag_optimal(d, n, alpha, 0.2)
    task = RetrievalRegression(d, n, alpha, 0.2, dtype=torch.float64)
    res = evaluate(PGD(d, W0=w * np.eye(d)).double(), task, {"risk": squared_error}, n_samples=2**17, seed=5)
    assert res[0]["risk"] == pytest.approx(risk, rel=0.02)


def test_rag_reduces_to_iid_and_the_kappa_rule_is_exact_at_alpha_zero():
    d = 7
    iid = theory.pgd_optimal(np.eye(d), np.eye(d), 9, 0.3)[1]
    assert theory.rag_risk(d, 9, 0.0, 0.3) == pytest.approx(iid)
    assert theory.iid_isotropic_risk(d, 9, 0.3) == pytest.approx(iid)
    assert theory.iid_isotropic_risk(d, theory.rag_kappa(d, 0.0) * 9, 0.3) == pytest.approx(iid)


def test_kappa_rule_in_its_regime_and_where_it_breaks():
    for alpha in (0.1, 0.2, 0.3, 0.4):   # d = 20, n = 10: kappa n <~ d
        rag = theory.rag_risk(20, 10, alpha)
        assert rag == pytest.approx(theory.iid_isotropic_risk(20, theory.rag_kappa(20, alpha) * 10), rel=0.01)
    assert theory.rag_risk(20, 40, 0.5) > 1.3 * theory.iid_isotropic_risk(20, theory.rag_kappa(20, 0.5) * 40)


def test_the_plus_one_in_kappa_matters():
    """kappa = alpha^2 d (without the +1) misses the exact risk by more than 10 % for every alpha <= 0.4."""
    for alpha in (0.1, 0.2, 0.3, 0.4):
        wrong = theory.iid_isotropic_risk(20, alpha**2 * 20 * 10)
        assert abs(wrong / theory.rag_risk(20, 10, alpha) - 1) > 0.10
