"""Bad input of the long-horizon bandits chapter: instances, streams, design, credit, estimators, driver."""

import numpy as np

from iclcore.experiments.ch15_bandits import exploration_data, run_etc
from iclcore.tasks import make_generator
from iclcore.tasks.bandits import (
    DelayedBandit,
    credit,
    direction_error,
    greedy_arms,
    lagged_design,
    played,
    pseudo_regret,
    sample_bandits,
    sample_streams,
)
from iclcore.theory.bandits import (
    direction_error_theory,
    etc_regret_theory,
    expected_max_normal,
    greedy_regret_rate,
    lasso_penalty,
    rank1_factor,
    sparse_recovery,
    support_recovery,
)

G = make_generator(0)
B = sample_bandits(2, 3, h=8, s=2, generator=make_generator(1))
X, Y = np.random.default_rng(0).standard_normal((20, 24)), np.zeros(20)

CASES = [
    (sample_bandits, (2, 3), {"h": 0, "s": 1, "generator": G}, "h"),             # horizon < 1
    (sample_bandits, (2, 3), {"h": 8, "s": 0, "generator": G}, "s"),             # sparsity out of range
    (sample_bandits, (2, 3), {"h": 8, "s": 9, "generator": G}, "s"),
    (sample_bandits, (2, 3), {"h": 8, "s": 2, "max_lag": 9, "generator": G}, "max_lag"),
    (sample_bandits, (2, 3), {"h": 8, "s": 2, "n_arms": 1, "generator": G}, "n_arms"),
    (sample_bandits, (2, 3), {"h": 8, "s": 2, "noise": -1.0, "generator": G}, "noise"),
    (sample_bandits, (0, 3), {"h": 8, "s": 2, "generator": G}, "reps"),
    (sample_bandits, (2, 0), {"h": 8, "s": 2, "generator": G}, "d"),
    (sample_bandits, (2, 3), {"h": 8, "s": 2, "weights": (1.0, 0.5), "generator": G}, "weights"),
    (sample_bandits, (2, 3), {"h": 8, "s": 2, "first_lag": 8, "generator": G}, "first_lag"),
    (DelayedBandit, (np.array([[1, 9]]), np.ones((1, 2)), np.ones((1, 3)), 8, 2, 0.1), {}, "lags"),
    (B.with_horizon, (0,), {}, "h"),
    (B.with_horizon, (int(B.lags.max()),), {}, "h"),
    (sample_streams, (B, 0), {"generator": G}, "T"),
    (lagged_design, (np.zeros((5, 2)), 0), {}, "h"),
    (lagged_design, (np.zeros(5), 2), {}, "phi"),
    (played, (np.zeros((4, 2, 3)), np.zeros(3, int)), {}, "arms"),
    (credit, (np.array([1, 2]), np.array([1.0]), 5), {}, "lags"),
    (credit, (np.array([1]), np.array([1.0]), 0), {}, "T"),
    (pseudo_regret, (B.beta, np.zeros((2, 5, 2, 4)), np.zeros((2, 5), int), np.ones((2, 5))), {}, "beta"),
    (pseudo_regret, (B.beta, np.zeros((2, 5, 2, 3)), np.zeros((2, 5), int), np.ones((2, 4))), {}, "credits"),
    (greedy_arms, (np.zeros((2, 5, 2, 3)), np.zeros(3)), {}, "beta_hat"),
    (direction_error, (np.ones(3), np.ones(4)), {}, "beta_hat"),
    (rank1_factor, (np.ones(3),), {}, "theta_hat"),
    (sparse_recovery, (X, Y, 5, 1, 1.0), {}, "d"),
    (sparse_recovery, (X, Y, 3, 9, 1.0), {}, "s"),
    (sparse_recovery, (X, Y[:5], 3, 1, 1.0), {}, "X"),
    (support_recovery, (X, Y, np.array([8]), 3), {}, "lags"),
    (lasso_penalty, (0, 10, 1.0), {}, "n"),
    (lasso_penalty, (10, 10, -1.0), {}, "noise"),
    (expected_max_normal, (0,), {}, "n_arms"),
    (greedy_regret_rate, (2.5, 2), {}, "direction_error"),
    (direction_error_theory, (20, np.array([1, 2]), np.ones(2)), {"p": 18, "d": 3, "noise": 1.0}, "n"),
    (direction_error_theory, (20, np.array([1, 2]), np.ones(3)), {"p": 6, "d": 3, "noise": 1.0}, "lags"),
    (etc_regret_theory, (np.ones(5), 6, 0.1, 2), {}, "n"),
    (run_etc, (B, {}), {"seed": 0}, "runs"),
    (run_etc, (B, {50: 60}), {"seed": 0}, "n"),
    (run_etc, (B, {50: 5}), {"seed": 0}, "runs"),                               # n below the largest lag
    (run_etc, (B, {50: 20}), {"seed": 0, "policies": ("greedy",)}, "policies"),
    (run_etc, (B, {50: 20}), {}, "seed"),
    (run_etc, (B, {50: 20}), {"seed": 0, "learner_horizon": 0}, "learner_horizon"),
    (exploration_data, (B, 0), {"seed": 0}, "n"),
]
