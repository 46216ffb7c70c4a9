"""References of the CoT chapter: the linear floor and the identification probability against Monte Carlo; the
step-wise oracle is exact once each step is identified."""

import numpy as np
import torch

from iclcore.tasks.base import make_generator
from iclcore.tasks.mlp_regression import MLPRegression
from iclcore.theory.cot import identified_probability, least_squares_xy, linear_floor, stepwise_least_squares


def test_linear_floor_matches_monte_carlo():
    d, m = 3, 2
    task = MLPRegression(d, m, 400, dtype=torch.float64)
    P, _ = task(400, make_generator(0))
    X, H, y = task.split(P)
    U, beta = task.networks(400, make_generator(0))
    c = np.sqrt(2 / m) * (beta[..., None] * U).sum(1) / 2                        # the best linear rule E[x y]
    risk = ((y - (X @ c[..., None])[..., 0]) ** 2).mean().item() / d
    assert abs(risk - linear_floor()) < 0.04
    ls = least_squares_xy(X[:, :60], y[:, :60])                                   # least squares tends to it
    assert abs(((ls[:, -1] - y[:, 59]) ** 2).mean().item() / d - 0.5 * (1 + d / (59 - d - 1))) < 0.12


def test_identified_probability_is_the_binomial_tail():
    assert identified_probability(3, 2) == 0.0
    assert abs(identified_probability(1, 3) - 7 / 8) < 1e-12
    task = MLPRegression(3, 2, 10)
    H = task.split(task(20_000, make_generator(1))[0])[1]
    for k in (3, 6, 9):
        mc = ((H[:, :k] > 0).sum(1) >= 3).double().mean().item()
        assert abs(mc - identified_probability(3, k)) < 0.01


def test_stepwise_oracle_is_exact_once_identified():
    d, m, n = 2, 2, 16
    task = MLPRegression(d, m, n, dtype=torch.float64)
    X, H, y = task.split(task(200, make_generator(2))[0])
    true = stepwise_least_squares(X, H, y, own_thought=False)
    own = stepwise_least_squares(X, H, y)
    for k in range(m, n):                                     # exact wherever the earlier thoughts span R^m
        full = torch.linalg.matrix_rank(H[:, :k]) == m
        assert full.any()
        assert ((true[full, k] - y[full, k]) ** 2).max() < 1e-12
    assert ((own[:, -1] - y[:, -1]) ** 2).mean() < 1e-3 * d                    # nearly always identified at k = 15
    assert ((own[:, 1] - y[:, 1]) ** 2).mean() > 0.1 * d                       # not after one example
