import numpy as np
import pytest
import torch

from iclcore.models import LinearAttention
from iclcore.tasks import LinearRegression, StackedTasks, make_generator
from iclcore.theory import pgd_optimal
from iclcore.train import evaluate_risk, fit_online


def test_ensemble_trains_exactly_like_separate_runs():
    tasks = [LinearRegression(2, 3), LinearRegression(2, 3, noise=0.5)]
    ens = LinearAttention(3, n_models=2, seed=0)
    singles = [LinearAttention(3, seed=0) for _ in tasks]
    for i, s in enumerate(singles):  # same initial weights as ensemble member i
        for name, p in s.named_parameters():
            p.data.copy_(getattr(ens, name).data[i : i + 1])
    fit_online(ens, StackedTasks(tasks), steps=20, batch_size=32, seed=1, progress=False)

    def sampler_for(i):  # member i sees the same prompts as inside the stack
        def sample(b, g):
            Z, y = StackedTasks(tasks)(b, g)
            return Z[i], y[i]
        return sample

    for i, s in enumerate(singles):
        fit_online(s, sampler_for(i), steps=20, batch_size=32, seed=1, progress=False)
        torch.testing.assert_close(s.W_q.data[0], ens.W_q.data[i], rtol=1e-5, atol=1e-6)


def test_training_reaches_the_optimal_pgd_risk():
    d, n = 3, 10
    task = LinearRegression(d, n)
    model = LinearAttention(d + 1, seed=0)
    hist = fit_online(model, task, steps=600, batch_size=512, lr=1e-2, seed=0, progress=False)
    assert hist.shape == (600, 1) and hist[-50:].mean() < hist[:50].mean()
    risk = evaluate_risk(model, task, n_prompts=2**15)
    assert risk[0] == pytest.approx(pgd_optimal(np.eye(d), np.eye(d), n)[1], rel=0.06)


def test_evaluate_risk_is_seeded():
    task, model = LinearRegression(2, 4), LinearAttention(3)
    assert evaluate_risk(model, task, 1000, seed=3) == evaluate_risk(model, task, 1000, seed=3)


@pytest.mark.parametrize("kwargs, match", [
    ({"steps": 0}, "steps must be"), ({"steps": 2, "lr": -1.0}, "lr must be"),
    ({"steps": 2, "batch_size": 0}, "batch_size must be"),
])
def test_bad_input_raises(kwargs, match):
    with pytest.raises(ValueError, match=match):
        fit_online(LinearAttention(3), LinearRegression(2, 3), progress=False, **kwargs)


def test_seed_must_be_int():
    with pytest.raises(ValueError, match="seed must be an int"):
        make_generator(1.5)
