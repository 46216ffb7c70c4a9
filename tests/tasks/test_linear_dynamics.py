"""Trajectories of random stable linear systems: spectral radius, roll-out, and the noise floor."""

import pytest
import torch

from iclcore.tasks import make_generator
from iclcore.tasks.linear_dynamics import LinearDynamics, stable_matrices


def test_matrices_have_the_requested_spectral_radius():
    A = stable_matrices(50, 4, 0.9, make_generator(0), torch.float64)
    torch.testing.assert_close(torch.linalg.eigvals(A).abs().amax(-1), torch.full((50,), 0.9, dtype=torch.float64))


def test_targets_are_the_next_states_and_follow_the_system():
    task = LinearDynamics(3, 10, radius=0.8, noise=0.0, start=1.0, dtype=torch.float64)
    S, S_next = task(6, make_generator(1))
    assert S.shape == S_next.shape == (6, 10, 3)
    torch.testing.assert_close(S[:, 1:], S_next[:, :-1])
    # noiseless: s_{t+1} = A s_t, so the states after the first d transitions are linear in the earlier ones
    P, N = S[:, :3], S_next[:, :3]
    A = torch.linalg.solve(P, N).transpose(-1, -2)                    # rows: N = P A^T
    torch.testing.assert_close(S_next, (A @ S.transpose(-1, -2)).transpose(-1, -2))
    assert torch.linalg.eigvals(A).abs().amax(-1).sub(0.8).abs().max() < 1e-8


def test_start_at_rest_and_noise_level():
    task = LinearDynamics(2, 5, noise=0.3, start=0.0, dtype=torch.float64)
    S, S_next = task(20_000, make_generator(2))
    assert torch.all(S[:, 0] == 0)
    assert S_next[:, 0].var().item() == pytest.approx(0.09, rel=0.05)   # s_2 = A 0 + noise w_1
    assert torch.equal(task(3, make_generator(5))[0], task(3, make_generator(5))[0])
