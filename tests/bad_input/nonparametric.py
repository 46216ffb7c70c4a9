"""Bad input of the nonparametric chapter: prior, sampler, model, closed forms, estimators, drivers."""

import numpy as np
import torch

from iclcore.experiments.ch13_nonparametric import baseline_risks, basis_kernel, member_tasks, pretrain
from iclcore.models import FeatureLinearAttention
from iclcore.tasks import SmoothFunctionRegression, SmoothPrior
from iclcore.theory import (
    BasisAttention,
    GPPosteriorMean,
    bayes_risk_bound,
    best_attention_risk,
    coefficient_noise,
    gp_bayes_risk,
    minimax_exponent,
    optimal_attention,
    oracle_projection,
    projection_gamma,
    projection_risk,
    shrinkage_risk,
)

P = SmoothPrior(1, 1.0, n_freq=8)

CASES = [
    (SmoothPrior, (0, 1.0), {}, "d"),
    (SmoothPrior, (1, 0.0), {}, "s"),
    (SmoothPrior, (1, -1.0), {}, "s"),
    (SmoothPrior, (1, 1.0), {"n_freq": 0}, "n_freq"),
    (SmoothPrior, (5, 1.0), {"n_freq": 10}, "n_freq"),                       # 10^5 basis functions
    (P.basis, (torch.zeros(3, 2),), {}, "x"),
    (SmoothFunctionRegression, (1, 0, 1.0), {}, "n"),
    (SmoothFunctionRegression, (0, 4, 1.0), {}, "d"),
    (SmoothFunctionRegression, (1, 4, 0.0), {}, "s"),
    (SmoothFunctionRegression, (1, 4, 1.0, -0.1), {}, "noise"),
    (SmoothFunctionRegression, (1, 4, 1.0, 0.1), {"query_noise": -1.0}, "query_noise"),
    (SmoothFunctionRegression, (1, 4, 1.0), {"n_tasks": 0}, "n_tasks"),
    (SmoothFunctionRegression, (1, 4, 1.0), {"n_tasks": 2, "task_seed": 1.5}, "task_seed"),
    (FeatureLinearAttention, (0, 4), {}, "d"),
    (FeatureLinearAttention, (1, 0), {}, "n_features"),
    (FeatureLinearAttention, (1, 4), {"width": 0}, "width"),
    (FeatureLinearAttention, (1, 4), {"depth": 0}, "depth"),
    (FeatureLinearAttention, (1, 4), {"n_members": 0}, "n_members"),
    (FeatureLinearAttention, (1, 4), {"n_members": 2, "learn_features": [True]}, "learn_features"),
    (FeatureLinearAttention, (1, 4), {"input_scale": 0.0}, "input_scale"),
    (FeatureLinearAttention(1, 4), (torch.zeros(2, 3, 5),), {}, "Z"),
    (FeatureLinearAttention(1, 4).features, (torch.zeros(3, 2),), {}, "x"),
    (minimax_exponent, (0.0, 1), {}, "s"),
    (minimax_exponent, (1.0, 0), {}, "d"),
    (coefficient_noise, (P, -0.5), {}, "noise"),
    (shrinkage_risk, (P, 0, 0.5, np.ones(P.J)), {}, "n"),
    (shrinkage_risk, (P, 4, 0.5, np.ones(3)), {}, "gamma"),
    (shrinkage_risk, (P, 4, 0.5, np.ones(P.J)), {"coefficient_variance": -np.ones(P.J)}, "coefficient_variance"),
    (shrinkage_risk, ("prior", 4, 0.5, np.ones(8)), {}, "prior"),
    (projection_gamma, (P, P.J + 1), {}, "n_features"),
    (projection_risk, (P, 4, 0.5, -1), {}, "n_features"),
    (projection_risk, (P, 4, -0.5, 2), {}, "noise"),
    (oracle_projection, (P, 2.5, 0.5), {}, "n"),
    (oracle_projection, (P, 4, 0.5), {"coefficient_variance": np.ones(3)}, "coefficient_variance"),
    (optimal_attention, (P, 4, 0.5), {"n_features": 0}, "n_features"),
    (optimal_attention, (P, 0, 0.5), {}, "n"),
    (best_attention_risk, (P, 4, -1.0), {}, "noise"),
    (bayes_risk_bound, (P, 0, 0.5), {}, "n"),
    (bayes_risk_bound, (P, 4, -0.5), {}, "noise"),
    (gp_bayes_risk, (P, 4, 0.0), {}, "noise"),
    (gp_bayes_risk, (P, 4, 0.5), {"n_designs": 0}, "n_designs"),
    (gp_bayes_risk, (P, 0, 0.5), {}, "n"),
    (GPPosteriorMean, (P, 0.0), {}, "noise"),
    (GPPosteriorMean(P, 0.5), (torch.zeros(2, 3, 4),), {}, "Z"),
    (BasisAttention, (P, np.ones((3, 3))), {}, "Gamma"),
    (BasisAttention(P, np.ones(P.J)), (torch.zeros(2, 3),), {}, "Z"),
    (member_tasks, (), {"d": 1, "s": 1.0, "noise": 0.1, "ns": []}, "ns"),
    (member_tasks, (), {"d": 1, "s": 1.0, "noise": 0.1, "ns": [0]}, "n"),
    (pretrain, ({},), {"n_features": 4, "steps": 1, "batch_size": 2, "lr": 0.1, "init_seed": 0, "data_seed": 0},
     "tasks"),
    (baseline_risks, (P, [], 0.5), {"n_samples": 10, "seed": 0}, "ns"),
    (baseline_risks, (P, [4], 0.5), {"n_samples": 0, "seed": 0}, "n_samples"),
    (basis_kernel, (lambda x: x, torch.zeros(1, 1, 1), P), {"points_per_axis": 0}, "points_per_axis"),
]
