"""Bad input of the knowledge-distillation chapter: data model, closed forms, interpolator, Monte Carlo driver."""

import numpy as np
import torch

from iclcore.experiments.ch09_distillation import simulate_risks
from iclcore.tasks import GaussianFeatures, excess_risk, power_law_signal, power_law_spectrum
from iclcore.theory import (
    min_norm_interpolator,
    optimal_mask,
    optimal_surrogate,
    ridgeless_fixed_point,
    surrogate_to_target_risk,
)

LAM, BETA = power_law_spectrum(10, 2.0), power_law_signal(10, 2.0, 1.5)

CASES = [
    (power_law_spectrum, (0, 2.0), {}, "d"),
    (power_law_spectrum, (10, 0.0), {}, "a"),
    (power_law_signal, (10, 2.0, -1.0), {}, "b"),
    (ridgeless_fixed_point, (LAM, 10), {}, "n"),                          # n >= d: no interpolation
    (ridgeless_fixed_point, (LAM, 2.5), {}, "n"),
    (ridgeless_fixed_point, (np.r_[LAM[:-1], 0.0], 3), {}, "lam"),        # a zero eigenvalue
    (ridgeless_fixed_point, (-LAM, 3), {}, "lam"),
    (ridgeless_fixed_point, (np.diag(LAM), 3), {}, "lam"),
    (surrogate_to_target_risk, (LAM, BETA, BETA, 12), {}, "n"),
    (surrogate_to_target_risk, (LAM, BETA[:-1], BETA, 3), {}, "beta_s"),
    (surrogate_to_target_risk, (LAM, BETA, BETA[:5], 3), {}, "beta_star"),
    (surrogate_to_target_risk, (LAM, BETA, BETA, 3, -0.1), {}, "sigma"),
    (surrogate_to_target_risk, (LAM, BETA, BETA, 3), {"fixed_point": (1.0, 1.5)}, "fixed_point"),
    (optimal_surrogate, (LAM, BETA, 0), {}, "n"),
    (optimal_surrogate, (np.r_[LAM, -1.0], BETA, 3), {}, "lam"),
    (optimal_surrogate, (LAM, BETA[:3], 3), {}, "beta_star"),
    (optimal_mask, (LAM, 10), {}, "n"),
    (min_norm_interpolator, (torch.zeros(5, 5), torch.zeros(5)), {}, "X"),
    (min_norm_interpolator, (torch.zeros(3, 5), torch.zeros(4)), {}, "Y"),
    (GaussianFeatures, (-LAM, 3, BETA), {}, "lam"),
    (GaussianFeatures, (LAM, 0, BETA), {}, "n"),
    (GaussianFeatures, (LAM, 3, BETA), {"noise": -1.0}, "noise"),
    (GaussianFeatures, (LAM, 3, {"short": BETA[:4]}), {}, "surrogates"),
    (GaussianFeatures, (LAM, 3, {}), {}, "surrogates"),
    (excess_risk, (torch.zeros(2, 4), BETA, LAM), {}, "beta_hat"),
    (simulate_risks, (LAM, BETA, {("a", 3): BETA}), {"trials": 0, "seed": 0}, "trials"),
    (simulate_risks, (LAM, BETA, {"a": BETA}), {"trials": 2, "seed": 0}, "surrogates"),
    (simulate_risks, (LAM, BETA, {("a", 10): BETA}), {"trials": 2, "seed": 0}, "n"),
]
