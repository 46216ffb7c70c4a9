import pytest
import torch

from iclcore.tasks.token_selection import token_selection


def test_shapes_norms_and_seed():
    D = token_selection(5, 7, 4, n_instances=3, seed=2)
    assert D.shape == (3, 5, 7, 4)
    assert D.Y.shape == (3, 5) and D.v.shape == (3, 4) and D.z.shape == (3, 5, 4)
    torch.testing.assert_close(D.X.norm(dim=-1), torch.ones(3, 5, 7, dtype=torch.float64))
    assert set(D.Y.unique().tolist()) <= {-1.0, 1.0}
    D2 = token_selection(5, 7, 4, n_instances=3, seed=2)
    assert torch.equal(D.X, D2.X) and torch.equal(D.Y, D2.Y)
    assert not torch.equal(D.X, token_selection(5, 7, 4, n_instances=3, seed=3).X)


def test_gamma_and_optimal_tokens():
    D = token_selection(4, 6, 3, seed=0)
    gamma = D.Y[0, :, None] * (D.X[0] @ D.v[0])
    torch.testing.assert_close(D.gamma[0], gamma)
    assert torch.equal(D.optimal_tokens[0], gamma.argmax(-1))


def test_label_balance_monte_carlo():
    D = token_selection(50, 2, 2, n_instances=200, seed=5)
    assert abs(D.Y.mean().item()) < 0.03  # 10 000 fair coins: std 0.01


def test_self_attention_and_instance():
    D = token_selection(3, 4, 5, n_instances=2, cross=False, seed=1)
    assert torch.equal(D.z, D.X[:, :, 0])
    assert D.instance(1).X.shape == (1, 3, 4, 5)


@pytest.mark.parametrize("kwargs, message", [
    ({"T": 1}, "T must be in"), ({"n": 0}, "n must be"), ({"value_scale": 0.0}, "value_scale"),
    ({"n_instances": -1}, "n_instances"),
])
def test_bad_input(kwargs, message):
    args = {"n": 3, "T": 4, "d": 2} | kwargs
    with pytest.raises(ValueError, match=message):
        token_selection(**args)
