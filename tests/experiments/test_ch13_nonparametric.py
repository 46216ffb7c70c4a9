"""Chapter 13's drivers: member naming, frozen and pooled members, evaluation samplers, basis read-out."""

import numpy as np
import pytest
import torch

from iclcore.experiments.ch13_nonparametric import (
    baseline_risks,
    basis_kernel,
    evaluation_tasks,
    member_tasks,
    model_risks,
    pretrain,
)
from iclcore.tasks import SmoothPrior, make_generator, stack


def _tasks():
    return member_tasks(d=1, s=1.0, noise=0.3, ns=[4, 8], frozen=[8], pools=[3], pool_n=6, task_seed=10)


def test_member_tasks_names_and_pools():
    tasks = _tasks()
    assert list(tasks) == [("learned", 4), ("learned", 8), ("frozen", 8), ("pool", 3)]
    assert tasks[("pool", 3)].n == 6 and tasks[("pool", 3)].n_tasks == 3 and tasks[("learned", 4)].n_tasks is None
    assert all(t.query_noise == 0.0 for t in tasks.values())


def test_pretrain_freezes_the_frozen_member_only():
    tasks = _tasks()
    pre = pretrain(tasks, n_features=4, steps=20, batch_size=8, lr=1e-2, init_seed=0, data_seed=1, width=8,
                   progress=False)
    assert pre.history.shape == (20, 4) and pre.model.learn_features == (True, True, False, True)
    assert pre.n_of == {("learned", 4): 4, ("learned", 8): 8, ("frozen", 8): 8, ("pool", 3): 6}
    everyone = pretrain(tasks, n_features=4, steps=2, batch_size=8, lr=1e-2, init_seed=0, data_seed=1, width=8,
                        freeze_all=True, progress=False)
    assert not any(everyone.model.learn_features)


def test_evaluation_tasks_fresh_or_own_pool():
    tasks = _tasks()
    fresh, own = evaluation_tasks(tasks), evaluation_tasks(tasks, on_pool=True)
    assert fresh[("pool", 3)].n_tasks is None
    torch.testing.assert_close(own[("pool", 3)].pool, tasks[("pool", 3)].pool)
    assert all(t.query_noise == 0.0 for t in (*fresh.values(), *own.values()))


def test_model_risks_mean_and_standard_error():
    tasks = _tasks()
    pre = pretrain(tasks, n_features=4, steps=2, batch_size=8, lr=1e-2, init_seed=0, data_seed=1, width=8,
                   progress=False)
    res = model_risks(pre.model, tasks, n_samples=500, seed=3)
    Z, y = stack(tasks)(500, make_generator(3))                          # the same single batch
    with torch.no_grad():
        err = ((pre.model(Z) - y) ** 2).double().numpy()
    np.testing.assert_allclose(res.array("risk"), err.mean(1), rtol=1e-6)
    np.testing.assert_allclose(res.array("se"), err.std(1) / np.sqrt(500), rtol=1e-4)


def test_baseline_members():
    prior = SmoothPrior(1, 1.0, n_freq=16)
    res, n_star = baseline_risks(prior, [4, 16], 0.5, n_samples=200, seed=0)
    assert res.members == (("projection", 4), ("GP", 4), ("projection", 16), ("GP", 16))
    assert set(n_star) == {4, 16} and n_star[16] >= n_star[4]
    assert res[("GP", 16)]["risk"] < res[("projection", 16)]["risk"]


def test_basis_kernel_recovers_a_kernel_built_on_the_basis():
    prior = SmoothPrior(1, 1.0, n_freq=8)
    Gamma = torch.randn(2, 3, 3, generator=torch.Generator().manual_seed(0))

    def features(x):                                                     # phi = first 3 basis functions
        return prior.basis(x.double())[..., :3].expand(2, -1, -1)

    K = basis_kernel(features, Gamma, prior)
    assert K.shape == (2, 8, 8)
    np.testing.assert_allclose(K[:, :3, :3], Gamma.numpy(), atol=1e-10)
    assert np.abs(K[:, 3:, :]).max() == pytest.approx(0, abs=1e-10)
