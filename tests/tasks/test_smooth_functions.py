"""Random smooth functions (iclcore.tasks.smooth_functions): the prior, its basis and the prompt sampler."""

import itertools

import numpy as np
import pytest
import torch

from iclcore.tasks import SmoothFunctionRegression, SmoothPrior, make_generator, stack


def _midpoint(d, Q):
    axis = (np.arange(Q) + 0.5) / Q
    return torch.tensor(list(itertools.product(axis, repeat=d)), dtype=torch.float64)


def test_prior_variances_are_sorted_and_follow_the_formula():
    p = SmoothPrior(1, 1.5)
    assert p.J == 64 and p.variances[0] == 1.0 and np.all(np.diff(p.variances) <= 0)
    np.testing.assert_allclose(p.variances, (1 + p.freqs[:, 0] ** 2.0) ** -2.0)
    q = SmoothPrior(2, 1.0, n_freq=5)
    assert q.J == 25 and q.freqs.shape == (25, 2)
    np.testing.assert_allclose(q.variances, (1 + (q.freqs**2).sum(1)) ** -2.0)
    assert q.signal == pytest.approx(q.variances.sum())


@pytest.mark.parametrize("d, n_freq", [(1, 12), (2, 5)])
def test_basis_is_orthonormal(d, n_freq):
    """The midpoint rule with 2 n_freq points per axis integrates products of two basis functions exactly."""
    p = SmoothPrior(d, 1.0, n_freq=n_freq)
    x = _midpoint(d, 2 * n_freq)
    psi = p.basis(x).numpy()
    np.testing.assert_allclose(psi.T @ psi / len(x), np.eye(p.J), atol=1e-12)


def test_prompts_are_the_prior_functions_plus_noise():
    task = SmoothFunctionRegression(1, n=5, s=1.0, noise=0.3, dtype=torch.float64)
    Z, y = task(4, make_generator(2))
    assert Z.shape == (4, 6, 2) and y.shape == (4,) and torch.all(Z[:, -1, -1] == 0)
    g = make_generator(2)                              # replay the draws: coefficients, points, noise
    beta = task.coefficients(4, g)
    x = torch.rand(4, 6, 1, generator=g, dtype=torch.float64)
    f = task.prior(x, beta)
    labels = f + 0.3 * torch.randn(4, 6, generator=g, dtype=torch.float64)
    torch.testing.assert_close(Z[..., 0], x[..., 0])
    torch.testing.assert_close(Z[:, :-1, 1], labels[:, :-1])
    torch.testing.assert_close(y, labels[:, -1])


def test_query_noise_zero_gives_the_function_value_and_mean_square_is_the_signal():
    task = SmoothFunctionRegression(1, n=1, s=1.0, noise=0.5, query_noise=0.0, dtype=torch.float64)
    _, y = task(40_000, make_generator(3))
    p = task.prior
    assert (y**2).mean().item() == pytest.approx(p.signal, rel=0.05)        # E f(x)^2 = sum lam_k


def test_pool_of_tasks():
    task = SmoothFunctionRegression(1, n=3, s=1.0, n_tasks=3, task_seed=11)
    again = SmoothFunctionRegression(1, n=3, s=1.0, n_tasks=3, task_seed=11)
    torch.testing.assert_close(task.pool, again.pool)
    beta = task.coefficients(50, make_generator(0))
    dist = torch.cdist(beta.double(), task.pool.double())
    assert torch.all(dist.min(dim=1).values < 1e-6)                          # every draw is a pool member
    assert len({int(i) for i in dist.argmin(dim=1)}) == 3


def test_no_real_token_is_zero_so_padding_is_recognisable():
    Z, _ = stack({4: SmoothFunctionRegression(1, 4, 1.0, 0.1), 9: SmoothFunctionRegression(1, 9, 1.0, 0.1)})(
        64, make_generator(1))
    real = (Z != 0).any(-1)
    assert real[0, :, :5].sum() == 0 and real[0, :, 5:].all() and real[1].all()
