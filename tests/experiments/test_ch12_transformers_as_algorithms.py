"""Drivers of "Transformers as algorithms": the baseline ensemble, risk curves and the stability probe."""

import numpy as np
import pytest
import torch

from iclcore.experiments.ch12_transformers_as_algorithms import regression_baselines, risk_curves, sensitivity_curves
from iclcore.models import Ensemble
from iclcore.tasks.regression_prompts import RegressionPrompts
from iclcore.theory.estimators import GaussianPosteriorMean, LeastSquares, OneStepGD, Ridge, gd_step_risk


def test_baselines_are_named_and_share_one_call():
    task = RegressionPrompts(2, 6, 0.5, n_tasks=3, pool_seed=0)
    base = regression_baselines(2, 6, 0.5, {"three": task.pool})
    assert ("pool posterior", "three") in base.members and "Bayes (posterior mean)" in base.members
    Z, _ = task(4, torch.Generator().manual_seed(0))
    assert base(Z).shape == (len(base.members), 4, 6)


def test_risk_curves_are_per_member_and_reproducible():
    task = RegressionPrompts(2, 6, 0.5)
    est = Ensemble({"ls": LeastSquares(), "bayes": GaussianPosteriorMean(0.5)})
    a = risk_curves(est, task, 6, n_samples=2048, seed=3)
    b = risk_curves(est, task, 6, n_samples=2048, seed=3)
    assert set(a) == {"ls", "bayes"} and a["ls"].shape == (6,)
    np.testing.assert_array_equal(a["bayes"], b["bayes"])
    gd = risk_curves(Ensemble({"gd": OneStepGD(0.1)}), task, 6, n_samples=2**14, seed=4)["gd"]
    assert gd[0] == pytest.approx(2.25, rel=0.05)                     # nothing seen: the label variance


def test_sensitivity_is_zero_before_any_example_and_decays_like_one_over_k():
    task = RegressionPrompts(2, 30, 0.5)
    out = sensitivity_curves({"ridge": Ridge(0.25), "gd": OneStepGD(0.05)}, task, n_samples=4096, seed=1)
    assert out["ridge"][0] == 0 and out["gd"][0] == 0
    gd = out["gd"]                                                     # eta x^T (x_1 y_1 - x_1' y_1'): constant in k
    assert gd[5] == pytest.approx(gd[25], rel=0.1)
    r = out["ridge"]
    slope = np.polyfit(np.log(np.arange(10, 30)), np.log(r[10:30]), 1)[0]
    assert -1.3 < slope < -0.8


def test_sensitivity_names_ensemble_members():
    task = RegressionPrompts(2, 5, 0.5)
    est = Ensemble({"a": Ridge(0.25), "b": Ridge(1.0)})
    out = sensitivity_curves({"pair": est}, task, n_samples=256, seed=0)
    assert set(out) == {("pair", 0), ("pair", 1)}
    assert gd_step_risk(2, 0, 0.5) == pytest.approx(2.25)
