"""Weighted PGD under position-dependent noise (eq-ch2-wrisk, eq-ch2-wopt) against closed forms and Monte Carlo."""

import numpy as np
import pytest
import torch

from iclcore import theory
from iclcore.evaluate import evaluate
from iclcore.models import PGD, WPGD
from iclcore.tasks import LinearRegression, squared_error
from iclcore.theory.wpgd import wpgd_isotropic_risk

RISK = {"risk": squared_error}


def test_wpgd_chapter_example_and_homogeneous_limit():
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


def test_uniform_weights_are_the_best_uniform_coefficient():
    nv = np.array([0.0] * 5 + [9.0] * 5)
    la = theory.la_isotropic_hetero(4, nv)
    grid = np.linspace(0.0, 0.1, 2001)
    assert min(wpgd_isotropic_risk(np.full(10, c), 4, nv) for c in grid) == pytest.approx(la, rel=1e-5)


def test_wpgd_and_la_against_monte_carlo():
    d, n, nv = 4, 12, np.array([0.0] * 6 + [16.0] * 6)
    task = LinearRegression(d, n, noise=np.sqrt(nv), query_noise=0.0, dtype=torch.float64)
    w, risk = theory.wpgd_isotropic(d, nv)
    model = WPGD(d, n).double()
    with torch.no_grad():
        model.W.copy_(torch.eye(d, dtype=torch.float64))
        model.omega.copy_(torch.tensor(w[::-1].copy()))   # omega is indexed by lag from the query
    assert evaluate(model, task, RISK, n_samples=2**17, seed=3)[0]["risk"] == pytest.approx(risk, rel=0.02)
    c = (1 - theory.la_isotropic_hetero(d, nv) / d) / n   # optimal uniform coefficient: S = 1 - L/d
    pgd = PGD(d, W0=c * np.eye(d)).double()
    la = theory.la_isotropic_hetero(d, nv)
    assert evaluate(pgd, task, RISK, n_samples=2**17, seed=4)[0]["risk"] == pytest.approx(la, rel=0.02)
