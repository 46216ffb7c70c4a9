"""In-context autoregressive sequences: shapes, the closed-form roll-out, the laws of W and s_0, the metrics."""

import math

import pytest
import torch

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


@pytest.mark.parametrize("tokens, width, n_pos", [("augmented", 12, 7), ("masked", 12, 7), ("plain", 4, 6)])
def test_shapes_and_loss_weights(tokens, width, n_pos):
    task = RotationSequences(4, 7, tokens=tokens, horizon=3)
    x, y = task(5, make_generator(0))
    assert x.shape == (5, 7, width) and y.shape == (5, n_pos, 5)
    assert task.token_dim == width
    torch.testing.assert_close(y[0, :, -1], (torch.arange(1, n_pos + 1) <= 3).float())


def test_augmented_tokens_hold_zero_state_and_previous_state():
    task = RotationSequences(4, 6, dtype=torch.float64)
    s = task.states(3, make_generator(1))
    x, y = task(3, make_generator(1))
    torch.testing.assert_close(x[..., :4], torch.zeros(3, 6, 4, dtype=torch.float64))
    torch.testing.assert_close(x[..., 4:8], s[:, 1:7])
    torch.testing.assert_close(x[..., 8:], s[:, 0:6])
    torch.testing.assert_close(y[..., :4], s[:, 2:8])
    masked, _ = RotationSequences(4, 6, tokens="masked", dtype=torch.float64)(3, make_generator(1))
    torch.testing.assert_close(masked[..., 8:], torch.zeros(3, 6, 4, dtype=torch.float64))
    torch.testing.assert_close(augment(s[:, :7]), x)


@pytest.mark.parametrize("family, kwargs", [
    ("commuting", {"block_norms": [1.0, 3.0]}), ("commuting", {"start": "fixed"}), ("unitary", {}),
    ("commuting", {"angle_spread": 0.2, "angle_center": 1.0})])
def test_closed_form_states_equal_the_roll_out(family, kwargs):
    tokens = "plain" if family == "unitary" else "augmented"
    task = RotationSequences(4, 9, tokens=tokens, family=family, **kwargs)
    fast = task.states(6, make_generator(2))
    g = make_generator(2)
    W, s0 = task.context_matrices(6, g), task.starts(6, g)
    torch.testing.assert_close(fast, roll_out(W, s0, fast.shape[1] - 1))


def test_commuting_matrices_commute_and_preserve_norms():
    W = block_rotation(sample_angles(3, 4, make_generator(3), dtype=torch.float64))
    torch.testing.assert_close(W[0] @ W[1], W[1] @ W[0])
    torch.testing.assert_close(W @ W.transpose(1, 2), torch.eye(6, dtype=torch.float64).expand(4, 6, 6))
    s = RotationSequences(6, 20, block_norms=[1, 2, 3]).states(8, make_generator(4))
    torch.testing.assert_close(s.norm(dim=-1), torch.ones(8, 22, dtype=torch.float64))


def test_haar_matrices_are_orthogonal_and_do_not_commute():
    W = haar_orthogonal(4, 2000, make_generator(5), dtype=torch.float64)
    torch.testing.assert_close(W @ W.transpose(1, 2), torch.eye(4, dtype=torch.float64).expand(2000, 4, 4))
    assert (W[0] @ W[1] - W[1] @ W[0]).abs().max() > 1e-3
    # Haar: E W = 0 and E W_ij^2 = 1/d
    assert W.mean(0).abs().max() < 0.05
    assert abs((W**2).mean().item() - 0.25) < 0.01


def test_block_norms_and_random_phases():
    task = RotationSequences(4, 3, block_norms=[2.0, 1.0])
    s0 = task.starts(20000, make_generator(6))
    norms = s0.reshape(-1, 2, 2).norm(dim=-1)
    torch.testing.assert_close(norms, torch.tensor([0.8, 0.2], dtype=torch.float64).sqrt().expand(20000, 2))
    phase = torch.atan2(s0[:, 1], s0[:, 0])
    assert abs(torch.cos(phase).mean().item()) < 0.02 and abs(torch.sin(phase).mean().item()) < 0.02
    fixed = RotationSequences(4, 3, start="fixed").starts(2, make_generator(0))
    torch.testing.assert_close(fixed, torch.full((2, 4), 0.5, dtype=torch.float64))


def test_angle_law_is_uniform_on_its_interval():
    theta = sample_angles(1, 200000, make_generator(7), angle_spread=0.25, angle_center=0.6, dtype=torch.float64)
    half = math.pi * 0.25
    assert theta.min() >= 0.6 - half and theta.max() <= 0.6 + half
    assert abs(theta.mean().item() - 0.6) < 0.01
    assert abs(theta.var().item() - (2 * half) ** 2 / 12) < 0.01


def test_noise_is_the_innovation_standard_deviation():
    task = RotationSequences(4, 5, family="orthogonal", noise=0.3)
    g = make_generator(8)
    W, s0 = task.context_matrices(20000, g), task.starts(20000, g)
    s = roll_out(W, s0, 5, noise=0.3, generator=g)
    eps = s[:, 1:] - torch.einsum("bij,btj->bti", W, s[:, :-1])
    assert abs(eps.std().item() - 0.3) < 0.005


def test_sequence_risk_of_the_zero_predictor_is_the_state_norm():
    task = RotationSequences(4, 6, horizon=4)
    x, y = task(64, make_generator(9))
    zero = torch.zeros(2, 64, 6, 4)
    torch.testing.assert_close(sequence_risk(zero, y), torch.ones(2))
    # only the weighted positions count
    bad = zero.clone()
    bad[:, :, 5] = 100.0
    torch.testing.assert_close(sequence_risk(bad, y), torch.ones(2))
    perfect = y[..., :4].expand(2, -1, -1, -1)
    torch.testing.assert_close(sequence_risk(perfect, y), torch.zeros(2))


def test_position_risk_and_complex_states():
    task = RotationSequences(3, 5, tokens="plain", family="unitary")
    x, y = task(32, make_generator(10))
    assert x.is_complex() and y.is_complex()
    zero = torch.zeros(1, 32, 4, 3, dtype=x.dtype)
    torch.testing.assert_close(sequence_risk(zero, y), torch.full((1,), 3.0))
    torch.testing.assert_close(position_risk(2)(zero, y), torch.full((1,), 3.0))
    torch.testing.assert_close(position_risk(2)(y[None, ..., :3], y), torch.zeros(1))
