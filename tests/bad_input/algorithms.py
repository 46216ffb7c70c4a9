"""Bad input of the chapter "Transformers as algorithms": models, samplers, estimators, risks, drivers."""

import torch

from iclcore.experiments.ch12_transformers_as_algorithms import regression_baselines, risk_curves, sensitivity_curves
from iclcore.models.vector_gpt import NextStateGPT, RegressionGPT, VectorGPT
from iclcore.tasks.base import make_generator
from iclcore.tasks.linear_dynamics import LinearDynamics, stable_matrices
from iclcore.tasks.regression_prompts import RegressionPrompts, prefix_risk
from iclcore.theory.estimators import (
    GaussianPosteriorMean,
    LeastSquares,
    NearestNeighbours,
    OneStepGD,
    PoolPosteriorMean,
    Ridge,
    TransitionLeastSquares,
    ZeroNextState,
    gd_step_risk,
    least_squares_risk,
    optimal_gd_steps,
)

_Z = torch.zeros(2, 5, 4)

CASES = [
    (VectorGPT, (0, 1), {}, "d_in"),
    (VectorGPT, (3, 0), {}, "d_out"),
    (VectorGPT, (3, 1), {"d_model": 10, "n_heads": 3}, "d_model"),
    (VectorGPT, (3, 1), {"n_heads": 0}, "n_heads"),
    (VectorGPT, (3, 1), {"n_layers": 0}, "n_layers"),
    (VectorGPT, (3, 1), {"max_len": 0}, "max_len"),
    (VectorGPT, (3, 1), {"n_members": 0}, "n_members"),
    (VectorGPT, (3, 1), {"seed": 1.5}, "seed"),
    (VectorGPT(3, 1, 8, 1, 2, max_len=4), (torch.zeros(2, 5, 3),), {}, "u"),
    (RegressionGPT, (0, 5), {}, "d"),
    (RegressionGPT, (3, 0), {}, "n"),
    (RegressionGPT, (3, 5), {"readout": "z"}, "readout"),
    (RegressionGPT(3, 5, 8, 1, 2), (torch.zeros(2, 5, 3),), {}, "Z"),
    (NextStateGPT, (0, 5), {}, "d"),
    (NextStateGPT, (3, 0), {}, "T"),
    (NextStateGPT(3, 5, 8, 1, 2), (torch.zeros(2, 6, 3),), {}, "S"),
    (RegressionPrompts, (0, 5), {}, "d"),
    (RegressionPrompts, (3, 0), {}, "n"),
    (RegressionPrompts, (3, 5), {"noise": -1.0}, "noise"),
    (RegressionPrompts, (3, 5), {"n_tasks": 0}, "n_tasks"),
    (RegressionPrompts, (3, 5), {"Sigma_beta": torch.eye(2).numpy()}, "Sigma_beta"),
    (RegressionPrompts(3, 5), (0, make_generator(0)), {}, "batch_size"),
    (prefix_risk, (-1,), {}, "k"),
    (prefix_risk(0), (torch.zeros(2, 5), torch.zeros(2, 5)), {}, "pred"),
    (prefix_risk(7), (torch.zeros(1, 2, 5), torch.zeros(2, 5)), {}, "k"),
    (LinearDynamics, (0, 5), {}, "d"),
    (LinearDynamics, (3, 0), {}, "T"),
    (LinearDynamics, (3, 5), {"radius": 1.0}, "radius"),
    (LinearDynamics, (3, 5), {"radius": 1.5}, "radius"),
    (LinearDynamics, (3, 5), {"noise": -0.1}, "noise"),
    (LinearDynamics, (3, 5), {"start": -1.0}, "start"),
    (stable_matrices, (4, 3, 0.0, make_generator(0)), {}, "radius"),
    (stable_matrices, (0, 3, 0.5, make_generator(0)), {}, "batch_size"),
    (Ridge, (0.0,), {}, "lam"),
    (GaussianPosteriorMean, (-0.1,), {}, "noise"),
    (GaussianPosteriorMean, (0.5, [[1.0, 0.0], [0.0, 0.0]]), {}, "Sigma_beta"),
    (GaussianPosteriorMean(0.5, torch.eye(2).numpy()), (_Z,), {}, "Sigma_beta"),
    (PoolPosteriorMean, ([1.0, 2.0], 0.5), {}, "pool"),
    (PoolPosteriorMean, ([[1.0, 2.0]], 0.0), {}, "noise"),
    (PoolPosteriorMean([[1.0, 2.0]], 0.5), (_Z,), {}, "pool"),
    (NearestNeighbours, (0,), {}, "neighbours"),
    (OneStepGD, ([[1.0]],), {}, "steps"),
    (OneStepGD([0.1, 0.2]), (_Z,), {}, "steps"),
    (LeastSquares(), (torch.zeros(5),), {}, "Z"),
    (TransitionLeastSquares, (0.0,), {}, "ridge"),
    (TransitionLeastSquares(), ("states",), {}, "S"),
    (ZeroNextState(), (torch.zeros(3),), {}, "S"),
    (least_squares_risk, (0, 1), {}, "d"),
    (least_squares_risk, (3, -1), {}, "k"),
    (least_squares_risk, (3, 1, -0.5), {}, "noise"),
    (gd_step_risk, (3, -2), {}, "k"),
    (optimal_gd_steps, (3, 0), {}, "n"),
    (regression_baselines, (0, 5, 0.5), {}, "d"),
    (regression_baselines, (3, 5, -0.5), {}, "noise"),
    (risk_curves, (LeastSquares(), RegressionPrompts(3, 5), 0), {}, "n"),
    (sensitivity_curves, ({}, RegressionPrompts(3, 5)), {}, "predictors"),
    (sensitivity_curves, ({"ls": LeastSquares()}, RegressionPrompts(3, 5)), {"n_samples": 0}, "n_samples"),
]
