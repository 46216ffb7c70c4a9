"""Complex diagonal AR sequences: the recursion, the start laws, the token layout."""

import numpy as np
import pytest
import torch

from iclcore.tasks import DiagonalARSequences, make_generator, sample_start


def test_states_follow_a_diagonal_unitary_recursion():
    s = DiagonalARSequences(4, 6, "gaussian").states(8, make_generator(0)).numpy()
    assert s.shape == (8, 8, 4) and s.dtype == np.complex128
    ratio = s[:, 1:] / s[:, :-1]                                   # W_jj, the same at every step
    np.testing.assert_allclose(np.abs(ratio), 1, atol=1e-12)
    np.testing.assert_allclose(ratio, np.broadcast_to(ratio[:, :1], ratio.shape), atol=1e-12)


def test_start_laws():
    g = make_generator(1)
    gauss = sample_start("gaussian", 3, 1000, g, scale=2.0).numpy()
    assert np.all(gauss.imag == 0) and gauss.real.std() == pytest.approx(2.0, rel=0.1)
    sparse = sample_start("sparse", 5, 1000, g, scale=1.5).numpy()
    assert np.all((np.abs(sparse) > 0).sum(1) == 1)
    np.testing.assert_allclose(np.abs(sparse).sum(1), 1.5)
    assert set(np.unique(np.sign(sparse.sum(1).real))) == {-1.0, 1.0}          # random sign
    unit = sample_start("unit_modulus", 3, 1000, g, scale=0.5).numpy()
    np.testing.assert_allclose(np.abs(unit), 0.5)
    assert np.abs(unit.mean(0)).max() < 0.1                                   # random phases
    ones = sample_start("ones", 3, 4, g, scale=0.5).numpy()
    np.testing.assert_allclose(ones, 0.5)
    spread = np.abs(sample_start("sparse", 2, 4000, g, modulus_spread=0.5).numpy()).sum(1)
    assert spread.min() >= 0.5 and spread.max() <= 1.5 and spread.std() > 0.2


def test_tokens_targets_and_seeds():
    task = DiagonalARSequences(3, 5, "unit_modulus", horizon=3)
    tokens, targets = task(4, make_generator(7))
    s = task.states(4, make_generator(7))
    assert tokens.shape == (4, 5, 9) and targets.shape == (4, 5, 4) and tokens.dtype == torch.complex64
    np.testing.assert_allclose(tokens[..., :3].numpy(), 0)
    np.testing.assert_allclose(tokens[..., 3:6].numpy(), s[:, 1:6].numpy(), atol=1e-6)
    np.testing.assert_allclose(tokens[..., 6:].numpy(), s[:, 0:5].numpy().conj(), atol=1e-6)
    np.testing.assert_allclose(targets[..., :3].numpy(), s[:, 2:7].numpy(), atol=1e-6)
    np.testing.assert_allclose(targets[0, :, 3].real.numpy(), [1, 1, 1, 0, 0])
    masked, _ = DiagonalARSequences(3, 5, "unit_modulus", tokens="masked")(4, make_generator(7))
    np.testing.assert_allclose(masked[..., 6:].numpy(), 0)
    again, _ = task(4, make_generator(7))
    assert torch.equal(tokens, again)
