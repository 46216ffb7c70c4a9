"""Bad input of the mesa-optimization chapter's code: the complex AR sampler, the closed forms, the drivers."""

import numpy as np
import torch

from iclcore.experiments.ch11_mesa import Law, diagonal_start, long_context_error, mesa_experiment
from iclcore.models import AugmentedLinearAttention
from iclcore.tasks import DiagonalARSequences, make_generator, sample_start
from iclcore.theory.mesa import (
    block_step_predict,
    empirical_moments,
    flow_endpoint,
    harmonic_weight,
    mesa_risk,
    mesa_step_predict,
    optimal_product,
    pooled_risk,
    recovery_floor,
    relative_error,
    scalar_descent,
    start_moments,
)

G = make_generator(0)
MOM = (1.0, 3.0, 15.0, 6.0)
S = np.ones((2, 4, 3), dtype=complex)
MEMBERS = {"g": (Law("gaussian"), (1.0, 1.0))}

CASES = [
    (DiagonalARSequences, (0, 5), {}, "d"),
    (DiagonalARSequences, (3, 1), {}, "T"),
    (DiagonalARSequences, (3, 5), {"start": "uniform"}, "start"),
    (DiagonalARSequences, (3, 5), {"scale": 0.0}, "scale"),
    (DiagonalARSequences, (3, 5), {"scale": -1.0}, "scale"),
    (DiagonalARSequences, (3, 5), {"start": "sparse", "modulus_spread": 1.0}, "modulus_spread"),
    (DiagonalARSequences, (3, 5), {"start": "sparse", "modulus_spread": -0.1}, "modulus_spread"),
    (DiagonalARSequences, (3, 5), {"start": "gaussian", "modulus_spread": 0.2}, "modulus_spread"),
    (DiagonalARSequences, (3, 5), {"tokens": "plain"}, "tokens"),
    (DiagonalARSequences, (3, 5), {"horizon": 6}, "horizon"),
    (DiagonalARSequences, (3, 5), {"dtype": torch.float32}, "dtype"),
    (DiagonalARSequences(3, 5), (0, G), {}, "batch_size"),
    (sample_start, ("sparse", 0, 4, G), {}, "d"),
    (sample_start, ("sparse", 3, 0, G), {}, "batch_size"),
    (sample_start, ("ones", 3, 4, G), {"scale": float("nan")}, "scale"),
    (start_moments, ("gaussian", 0), {}, "d"),
    (start_moments, ("cauchy", 3), {}, "start"),
    (start_moments, ("unit_modulus", 3), {"modulus_spread": 2.0}, "modulus_spread"),
    (empirical_moments, (np.ones(3),), {}, "starts"),
    (harmonic_weight, (0,), {}, "T"),
    (mesa_risk, (MOM, 0.5, 0), {}, "t"),
    (mesa_risk, (MOM, float("inf"), 3), {}, "c"),
    (mesa_risk, ((1.0, 2.0), 0.5, 3), {}, "moments"),
    (mesa_risk, ((1.0, -2.0, 1.0, 0.0), 0.5, 3), {}, "moments"),
    (relative_error, ((0.0, 1.0, 1.0, 0.0), 0.5, 3), {}, "moments"),
    (optimal_product, (MOM, 0), {}, "T"),
    (optimal_product, ((1.0, 1.0, 0.0, 0.0), 5), {}, "moments"),
    (pooled_risk, (MOM, 0.5, -1), {}, "T"),
    (recovery_floor, ("moments",), {}, "moments"),
    (scalar_descent, (MOM, 5, 0.1, 0.1, 0.0, 10), {}, "lr"),
    (scalar_descent, (MOM, 5, 0.1, 0.1, 0.1, -1), {}, "steps"),
    (scalar_descent, (MOM, 5, float("nan"), 0.1, 0.1, 10), {}, "a0"),
    (scalar_descent, (MOM, 0, 0.1, 0.1, 0.1, 10), {}, "T"),
    (flow_endpoint, (0.5, -0.5, 1.0), {}, "a0"),
    (flow_endpoint, (0.5, 1.5, 0.0), {}, "c"),
    (block_step_predict, (np.ones((2, 1, 3)), np.eye(3), np.eye(3)), {}, "states"),
    (block_step_predict, (S, np.eye(2), np.eye(3)), {}, "B"),
    (block_step_predict, (S, np.eye(3), np.eye(3), [0]), {}, "positions"),
    (block_step_predict, (S, np.eye(3), np.eye(3), [4]), {}, "positions"),
    (mesa_step_predict, (S, float("nan")), {}, "c"),
    (mesa_step_predict, (np.ones((4, 3)), 1.0), {}, "states"),
    (Law, ("laplace",), {}, "start"),
    (Law, ("sparse", 1.0, 1.5), {}, "modulus_spread"),
    (diagonal_start, (AugmentedLinearAttention(3, n_members=2), [(1.0, 1.0)]), {}, "inits"),
    (mesa_experiment, ({}, 3, 5), {}, "members"),
    (mesa_experiment, (MEMBERS, 0, 5), {}, "d"),
    (mesa_experiment, (MEMBERS, 3, 1), {}, "T"),
    (long_context_error, (mesa_experiment(MEMBERS, 3, 5)[1], MEMBERS, [2], 0), {}, "n_samples"),
    (long_context_error, (mesa_experiment(MEMBERS, 3, 5)[1], MEMBERS, [0], 8), {}, "positions"),
    (long_context_error, (mesa_experiment(MEMBERS, 3, 5)[1], {}, [2], 8), {}, "members"),
]
