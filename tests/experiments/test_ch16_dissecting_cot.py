"""Drivers of the CoT chapter: curve names and ranges, the filtering probe's even-spread value, steps_to_reach."""

import numpy as np
import torch

from iclcore.experiments.ch16_dissecting_cot import filtering_mass, risk_curves, steps_to_reach, thought_risk
from iclcore.models.cot_gpt import CoTGPT
from iclcore.tasks.base import make_generator
from iclcore.tasks.mlp_regression import MLPRegression


def test_risk_curves_names_and_the_zero_predictor():
    task = MLPRegression(2, 2, 5)
    models = {"ICL": CoTGPT(2, 2, 5, cot=False, d_model=8), "CoT": CoTGPT(2, 2, 5, d_model=8)}
    for p in list(models["ICL"].parameters()) + list(models["CoT"].parameters()):
        torch.nn.init.zeros_(p)                                               # predicts 0: risk = Var y / d ~ 1
    out = risk_curves(models, task, n_samples=4000, seed=0)
    assert set(out) == {"ICL", "CoT", "CoT (own thought)", "least squares on (x, y)",
                        "step-wise least squares (true thought)", "step-wise least squares (own thought)"}
    assert all(v.shape == (5,) for v in out.values())
    assert np.allclose(out["ICL"], 1.0, atol=0.12) and np.allclose(out["CoT (own thought)"], out["ICL"])
    assert abs(thought_risk(models["CoT"], task, n_samples=4000).mean() - 1.0) < 0.1


def test_even_attention_gives_the_share_of_each_type():
    model = CoTGPT(2, 2, 6, d_model=8, n_layers=1)
    for p in model.gpt.blocks[0].qkv.parameters():
        torch.nn.init.zeros_(p)                                               # equal scores: uniform attention
    P, _ = MLPRegression(2, 2, 6)(50, make_generator(0))
    mass = filtering_mass(model, P, "h", "y", skip_first=0)
    n_prev = [t for t in range(1, 18) if t % 3 == 1]                          # h-token positions
    expected = np.mean([(t // 3) / t for t in n_prev])                        # earlier y-tokens among t tokens
    assert mass.shape == (1, 2) and np.allclose(mass, expected)


def test_steps_to_reach():
    h = np.r_[np.ones(100), np.zeros(100)]
    assert steps_to_reach(h, 0.5, window=10) == 105
    assert steps_to_reach(np.ones(50), 0.5, window=10) == float("inf")
