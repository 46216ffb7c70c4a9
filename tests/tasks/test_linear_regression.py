"""Linear-regression prompt samplers: i.i.d. features (LinearRegression) and task-aligned ones."""

import numpy as np
import pytest
import torch

from iclcore.tasks import LinearRegression, RetrievalRegression, TaskAlignedRegression, make_generator, stack


def test_shapes_and_hidden_query_label():
    Z, y = LinearRegression(d=3, n=7)(16, make_generator(0))
    assert Z.shape == (16, 8, 4) and y.shape == (16,) and Z.dtype == torch.float32
    assert torch.all(Z[:, -1, -1] == 0)


def test_same_seed_same_prompts():
    task = LinearRegression(d=3, n=5)
    a, b = task(4, make_generator(3)), task(4, make_generator(3))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


def test_labels_follow_the_linear_model_without_noise():
    Z, y = LinearRegression(d=4, n=50, dtype=torch.float64)(2, make_generator(1))
    X, ys = Z[:, :-1, :-1], Z[:, :-1, -1]
    beta = torch.linalg.lstsq(X, ys.unsqueeze(-1)).solution.squeeze(-1)
    torch.testing.assert_close(torch.einsum("bd,bd->b", Z[:, -1, :-1], beta), y)


def test_per_position_noise_and_covariance_moments():
    noise = np.r_[np.zeros(3), 2.0 * np.ones(3)]
    task = LinearRegression(d=2, n=6, Sigma_x=np.diag([4.0, 1.0]), noise=noise, query_noise=0.0,
                            dtype=torch.float64)
    Z, y = task(100_000, make_generator(2))
    assert Z[:, :, 0].var().item() == pytest.approx(4.0, rel=0.03)
    var_y = Z[:, :-1, -1].var(dim=0)  # E[y_i^2] = tr(Sx) + sigma_i^2 = 5 + sigma_i^2
    np.testing.assert_allclose(var_y.numpy(), 5.0 + noise**2, rtol=0.05)
    assert y.var().item() == pytest.approx(5.0, rel=0.03)    # noiseless query


def test_task_covariance_sets_the_label_variance():
    Sx, Sb = np.array([[2.0, 0.5], [0.5, 1.0]]), np.array([[1.0, -0.3], [-0.3, 0.5]])
    _, y = LinearRegression(2, 3, Sigma_x=Sx, Sigma_beta=Sb, noise=0.5, dtype=torch.float64)(2**17, make_generator(4))
    assert (y**2).mean().item() == pytest.approx(np.trace(Sx @ Sb) + 0.25, rel=0.02)


def test_stacked_regression_prompts_of_different_lengths_are_left_padded():
    Z, y = stack({"short": LinearRegression(3, 2), "long": LinearRegression(3, 5)})(8, make_generator(0))
    assert Z.shape == (2, 8, 6, 4) and y.shape == (2, 8)
    assert torch.all(Z[0, :, :3] == 0) and not torch.all(Z[0, :, 3] == 0)


@pytest.mark.parametrize("design", [TaskAlignedRegression, RetrievalRegression])
def test_correlated_designs_shapes_hidden_label_and_determinism(design):
    task = design(4, 7, 0.5)
    Z, y = task(3, make_generator(0))
    assert Z.shape == (3, 8, 5) and y.shape == (3,) and Z.dtype == torch.float32
    assert torch.all(Z[:, -1, -1] == 0)
    Z2, y2 = task(3, make_generator(0))
    assert torch.equal(Z, Z2) and torch.equal(y, y2)


@pytest.mark.parametrize("alpha", [0.0, 0.5, 0.8])
def test_task_aligned_features_put_a_share_alpha2_of_their_energy_on_the_task(alpha):
    d, n = 5, 12
    Z, y = TaskAlignedRegression(d, n, alpha, dtype=torch.float64)(2**14, make_generator(1))
    X, ys = Z[:, :, :-1], torch.cat([Z[:, :-1, -1], y[:, None]], dim=1)
    beta = torch.linalg.lstsq(X, ys.unsqueeze(-1)).solution.squeeze(-1)     # noiseless: exact
    torch.testing.assert_close(torch.einsum("btd,bd->bt", X, beta), ys)
    u = beta / beta.norm(dim=-1, keepdim=True)
    along = torch.einsum("btd,bd->bt", X, u).pow(2).mean().item()
    assert along == pytest.approx(1 - alpha**2 + alpha**2 * d, rel=0.03)          # variance along the task
    assert X.pow(2).sum(-1).mean().item() == pytest.approx(d, rel=0.02)            # E||x||^2 = d
    cov = torch.einsum("bti,btj->ij", X, X) / (X.shape[0] * X.shape[1])           # averaged over beta: I_d
    torch.testing.assert_close(cov, torch.eye(d, dtype=torch.float64), atol=0.05, rtol=0)
