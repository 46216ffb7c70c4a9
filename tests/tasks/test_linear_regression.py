import numpy as np
import pytest
import torch

from iclcore.tasks import LinearRegression, StackedTasks, make_generator


def test_shapes_and_hidden_query_label():
    Z, y = LinearRegression(d=3, n=7)(16, make_generator(0))
    assert Z.shape == (16, 8, 4) and y.shape == (16,)
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
    Z, _ = task(100_000, make_generator(2))
    var_x = Z[:, :, 0].var().item()
    assert var_x == pytest.approx(4.0, rel=0.03)
    var_y = Z[:, :-1, -1].var(dim=0)  # E[y_i^2] = tr(Sx) + sigma_i^2 = 5 + sigma_i^2
    np.testing.assert_allclose(var_y.numpy(), 5.0 + noise**2, rtol=0.05)


def test_stacked_tasks_left_pad_with_zero_tokens():
    stack = StackedTasks([LinearRegression(3, 2), LinearRegression(3, 5)])
    Z, y = stack(8, make_generator(0))
    assert Z.shape == (2, 8, 6, 4) and y.shape == (2, 8)
    assert torch.all(Z[0, :, :3] == 0) and not torch.all(Z[0, :, 3] == 0)


@pytest.mark.parametrize("kwargs, match", [
    ({"d": 0, "n": 3}, "d must be an integer >= 1"),
    ({"d": 2, "n": 0}, "n must be an integer >= 1"),
    ({"d": 2, "n": 3, "noise": -0.1}, "noise must be"),
    ({"d": 2, "n": 3, "noise": [0.1, 0.2]}, r"noise must be a float or have shape \(n,\)"),
    ({"d": 2, "n": 2, "noise": [0.1, 0.2]}, "query_noise must be given"),
    ({"d": 2, "n": 3, "Sigma_x": np.eye(3)}, "Sigma_x must have shape"),
])
def test_bad_input_raises(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LinearRegression(**kwargs)


def test_stacked_tasks_reject_mixed_widths():
    with pytest.raises(ValueError, match="same token width"):
        StackedTasks([LinearRegression(3, 2), LinearRegression(4, 2)])(2, make_generator(0))
    with pytest.raises(ValueError, match="at least one"):
        StackedTasks([])
