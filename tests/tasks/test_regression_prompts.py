"""Regression prompts scored at every length: shapes, labels, the task pool, and the prefix metric."""

import numpy as np
import pytest
import torch

from iclcore.tasks import make_generator, stack
from iclcore.tasks.regression_prompts import RegressionPrompts, prefix_risk


def test_shapes_and_labels_follow_the_model():
    task = RegressionPrompts(3, 7, noise=0.0)
    Z, y = task(5, make_generator(0))
    assert Z.shape == (5, 7, 4) and y.shape == (5, 7)
    torch.testing.assert_close(Z[..., -1], y)
    beta = torch.linalg.lstsq(Z[0, :, :3], y[0]).solution            # noiseless: labels are linear in x
    torch.testing.assert_close(Z[0, :, :3] @ beta, y[0], atol=1e-5, rtol=1e-5)


def test_noise_and_prior_moments_by_monte_carlo():
    task = RegressionPrompts(4, 6, noise=0.5, dtype=torch.float64)
    Z, y = task(40_000, make_generator(1))
    assert y.var().item() == pytest.approx(4 + 0.25, rel=0.03)         # E y^2 = tr(Sigma_beta) + noise^2
    aniso = RegressionPrompts(2, 3, Sigma_beta=np.diag([4.0, 0.0]), dtype=torch.float64)
    Z, y = aniso(40_000, make_generator(2))
    ratio = y / Z[..., 0]                                       # beta_2 = 0: y = beta_1 x_1 in every prompt
    torch.testing.assert_close(ratio, ratio[:, :1].expand_as(ratio))
    assert y.var().item() == pytest.approx(4.0, rel=0.03)


def test_a_pool_holds_T_tasks_and_is_reproducible():
    task = RegressionPrompts(3, 8, noise=0.0, n_tasks=4, pool_seed=7, dtype=torch.float64)
    assert task.pool.shape == (4, 3)
    torch.testing.assert_close(task.pool, RegressionPrompts(3, 8, n_tasks=4, pool_seed=7, dtype=torch.float64).pool)
    assert not torch.equal(task.pool, RegressionPrompts(3, 8, n_tasks=4, pool_seed=8, dtype=torch.float64).pool)
    Z, y = task(200, make_generator(3))
    beta = torch.linalg.lstsq(Z[..., :3], y.unsqueeze(-1)).solution[..., 0]     # (200, 3) recovered tasks
    dist = torch.cdist(beta, task.pool)
    assert dist.min(-1).values.max() < 1e-6                                      # every prompt uses a pool task
    assert len(set(dist.argmin(-1).tolist())) == 4                                # and every pool task is used
    assert RegressionPrompts(3, 8).pool is None


def test_prefix_risk_per_length_and_on_average():
    pred = torch.zeros(2, 3, 4)                                                  # (E, B, n)
    y = torch.arange(12.0).reshape(3, 4)                                         # shared targets (B, n)
    for k in range(4):
        torch.testing.assert_close(prefix_risk(k)(pred, y), (y[:, k] ** 2).mean().expand(2))
    torch.testing.assert_close(prefix_risk()(pred, y), (y**2).mean().expand(2))
    vec = torch.ones(1, 3, 4, 2)                                                 # vector targets: sum over d
    torch.testing.assert_close(prefix_risk(1)(vec, torch.zeros(3, 4, 2)), torch.tensor([2.0]))
    with pytest.raises(ValueError, match="pred"):
        prefix_risk(0)(torch.zeros(3, 4), y)                                    # no member axis
    with pytest.raises(ValueError, match="k"):
        prefix_risk(4)(pred, y)


def test_stacked_pools_give_one_member_each():
    tasks = stack({T: RegressionPrompts(2, 5, n_tasks=T, pool_seed=T) for T in (1, 3)})
    Z, y = tasks(6, make_generator(4))
    assert Z.shape == (2, 6, 5, 3) and y.shape == (2, 6, 5)
    beta = torch.linalg.lstsq(Z[0, :, :, :2], y[0].unsqueeze(-1)).solution[..., 0]
    torch.testing.assert_close(beta, tasks[1].pool.expand(6, 2), atol=1e-4, rtol=1e-4)   # a pool of one task
