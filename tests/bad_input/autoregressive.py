"""Bad input of Chapter 7's code: autoregressive sequences, the two attention models, the closed forms."""

import numpy as np
import torch

from iclcore.experiments.ch07_autoregressive import Member, gd_reference, risk_by_position
from iclcore.models import AugmentedLinearAttention, DiagonalPositionalAttention
from iclcore.tasks import make_generator
from iclcore.tasks.autoregressive import (
    RotationSequences,
    augment,
    block_rotation,
    haar_orthogonal,
    position_risk,
    roll_out,
    sample_angles,
    sequence_risk,
)
from iclcore.theory.autoregressive import (
    StepMoments,
    angle_cos_moments,
    block_step_optimum,
    chebyshev_weights,
    gd_step_monte_carlo,
    gd_step_predict,
    gd_step_theory,
    scalar_step_floor,
    unitary_min_loss,
    unitary_reduced_loss,
    unitary_zero_loss_weights,
)

G = make_generator(0)
W2 = torch.eye(2).expand(3, 2, 2)
S0 = torch.ones(3, 2)
MOM = StepMoments(np.ones(3), np.ones(3), np.ones(3))

CASES = [
    (RotationSequences, (3, 5), {}, "d"),
    (RotationSequences, (0, 5), {}, "d"),
    (RotationSequences, (4, 1), {}, "T"),
    (RotationSequences, (4, 5), {"tokens": "shuffled"}, "tokens"),
    (RotationSequences, (4, 5), {"family": "symplectic"}, "family"),
    (RotationSequences, (4, 5), {"start": "zero"}, "start"),
    (RotationSequences, (4, 5), {"angle_spread": 0.0}, "angle_spread"),
    (RotationSequences, (4, 5), {"angle_spread": 1.5}, "angle_spread"),
    (RotationSequences, (4, 5), {"angle_center": float("nan")}, "angle_center"),
    (RotationSequences, (4, 5), {"noise": -0.1}, "noise"),
    (RotationSequences, (4, 5), {"block_norms": [1.0, 2.0, 3.0]}, "block_norms"),
    (RotationSequences, (4, 5), {"block_norms": [1.0, -2.0]}, "block_norms"),
    (RotationSequences, (4, 5), {"family": "orthogonal", "block_norms": [1.0, 2.0]}, "block_norms"),
    (RotationSequences, (4, 5), {"family": "unitary"}, "tokens"),
    (RotationSequences, (4, 5), {"horizon": 0}, "horizon"),
    (RotationSequences, (4, 5), {"tokens": "plain", "horizon": 5}, "horizon"),
    (RotationSequences(4, 5), (0, G), {}, "batch_size"),
    (sample_angles, (0, 3, G), {}, "n_angles"),
    (sample_angles, (2, 3, G), {"angle_spread": -1.0}, "angle_spread"),
    (block_rotation, (torch.zeros(3),), {}, "theta"),
    (haar_orthogonal, (0, 3, G), {}, "d"),
    (roll_out, (W2, S0, 0), {}, "n_steps"),
    (roll_out, (W2, S0, 3), {"noise": -1.0}, "noise"),
    (roll_out, (W2, S0, 3), {"noise": 0.1}, "generator"),
    (roll_out, (W2, torch.ones(3, 3), 3), {}, "W"),
    (augment, (torch.zeros(2, 1, 4),), {}, "states"),
    (sequence_risk, (torch.zeros(2, 3, 4, 2), torch.zeros(3, 4, 2)), {}, "pred"),
    (position_risk, (0,), {}, "t"),
    (AugmentedLinearAttention, (0,), {}, "d"),
    (AugmentedLinearAttention, (4,), {"n_members": 0}, "n_members"),
    (AugmentedLinearAttention, (4,), {"structure": "diagonal"}, "structure"),
    (AugmentedLinearAttention, (4,), {"n_members": 2, "structure": ["block"]}, "structure"),
    (AugmentedLinearAttention, (4,), {"init_scale": 0.0}, "init_scale"),
    (AugmentedLinearAttention, (4,), {"init_step": -1.0}, "init_step"),
    (AugmentedLinearAttention, (4,), {"n_members": 2, "init_step": [1.0]}, "init_step"),
    (AugmentedLinearAttention(4), (torch.zeros(2, 5, 8),), {}, "tokens"),
    (DiagonalPositionalAttention, (0, 5), {}, "d"),
    (DiagonalPositionalAttention, (3, 1), {}, "T"),
    (DiagonalPositionalAttention, (3, 5), {"n_heads": 0}, "n_heads"),
    (DiagonalPositionalAttention, (3, 5), {"n_members": 2, "n_heads": [1]}, "n_heads"),
    (DiagonalPositionalAttention, (3, 5), {"query": "oldest"}, "query"),
    (DiagonalPositionalAttention, (3, 5), {"init_scale": -1.0}, "init_scale"),
    (DiagonalPositionalAttention(3, 5), (torch.zeros(2, 4, 3),), {}, "s"),
    (angle_cos_moments, (-1,), {}, "n_max"),
    (angle_cos_moments, (4,), {"angle_spread": 0.0}, "angle_spread"),
    (gd_step_theory, (3, 5), {}, "d"),
    (gd_step_theory, (4, 0), {}, "T"),
    (gd_step_theory, (4, 5), {"block_norms": [1.0]}, "block_norms"),
    (gd_step_theory, (4, 5), {"angle_spread": 2.0}, "angle_spread"),
    (gd_step_monte_carlo, (np.zeros((4, 3)),), {}, "states"),
    (gd_step_predict, (np.zeros((4, 1, 2)),), {}, "states"),
    (MOM.optimal_eta, (), {"horizon": 0}, "horizon"),
    (MOM.risk, (float("nan"),), {}, "eta"),
    (scalar_step_floor, ([1.0, 2.0, 3.0], 4), {}, "block_norms"),
    (block_step_optimum, (None, 3, 5), {}, "d"),
    (block_step_optimum, (None, 4, 0), {}, "T"),
    (unitary_reduced_loss, (np.ones((2, 3)), np.ones((2, 4)), np.ones((4, 5))), {}, "A"),
    (unitary_reduced_loss, (np.ones((2, 3)), np.ones((2, 3)), np.ones((4, 4))), {}, "P"),
    (unitary_min_loss, (4, 0), {}, "n_heads"),
    (unitary_min_loss, (0, 2), {}, "d"),
    (unitary_zero_loss_weights, (4, 5), {"scale": 0.0}, "scale"),
    (chebyshev_weights, (3, 5), {}, "d"),
    (chebyshev_weights, (4, 1), {}, "T"),
    (gd_reference, (Member(law={"family": "orthogonal"}), 4), {"n_mc": 0}, "n_mc"),
    (risk_by_position, (AugmentedLinearAttention(4), RotationSequences(4, 5), 0), {}, "n_positions"),
]
