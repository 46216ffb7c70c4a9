"""The two-layer-MLP task: shapes, the chain is consistent, Var y = E||h||^2 = d (Monte Carlo), the loss."""

import math

import torch

from iclcore.tasks.base import make_generator
from iclcore.tasks.mlp_regression import ChainLoss, MLPRegression


def test_the_chain_is_the_network():
    task = MLPRegression(3, 4, 6)
    g = make_generator(0)
    P, targets = task(5, g)
    assert P.shape == (5, 6, 8) and targets is P
    X, H, y = task.split(P)
    assert (H >= 0).all()
    U, beta = task.networks(5, make_generator(0))                 # same generator state: the same networks
    torch.testing.assert_close(H, math.sqrt(2 / 4) * torch.relu(X @ U.transpose(1, 2)))
    torch.testing.assert_close(y, (H @ beta[..., None])[..., 0])


def test_label_and_thought_variance_is_d_for_every_width():
    for d, m in [(3, 1), (3, 4), (6, 2)]:
        P, _ = MLPRegression(d, m, 8, dtype=torch.float64)(20_000, make_generator(d + m))
        _, H, y = MLPRegression(d, m, 8).split(P)
        assert abs((y**2).mean().item() / d - 1) < 0.05
        assert abs((H**2).sum(-1).mean().item() / d - 1) < 0.03


def test_tanh_task_and_seeded_draws():
    task = MLPRegression(2, 3, 4, act="tanh")
    a, _ = task(4, make_generator(1))
    b, _ = task(4, make_generator(1))
    torch.testing.assert_close(a, b)
    assert (task.split(a)[1].abs() <= math.sqrt(2 / 3)).all()


def test_chain_loss_parts_and_record():
    d, m = 2, 3
    P, _ = MLPRegression(d, m, 5)(4, make_generator(0))
    pred = torch.zeros(2, 4, 5, m + 1)                              # two members predicting 0
    _, H, y = MLPRegression(d, m, 5).split(P)
    labels = (y**2).mean() / d
    thoughts = (H**2).sum(-1).mean() / d
    icl, cot = ChainLoss(d, m, thoughts=0.0), ChainLoss(d, m)
    torch.testing.assert_close(icl(pred, P), labels.expand(2))
    torch.testing.assert_close(cot(pred, P), (labels + thoughts).expand(2))
    assert cot.label_history().shape == (1, 2)
    torch.testing.assert_close(torch.from_numpy(cot.label_history()[0]), labels.expand(2))
