import numpy as np
import pytest
import torch

from iclcore.tasks import LOSSES, classification_accuracy, classification_loss, token_selection


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


def test_self_attention_instance_and_repeat():
    D = token_selection(3, 4, 5, n_instances=2, cross=False, seed=1)
    assert torch.equal(D.z, D.X[:, :, 0])
    assert D.instance(1).X.shape == (1, 3, 4, 5)
    R = D.repeat(3)
    assert R.shape == (6, 3, 4, 5)
    grid = R.X.reshape(2, 3, 3, 4, 5)                      # member (e, j) sits at e * 3 + j
    for j in range(3):
        assert torch.equal(grid[:, j], D.X)
    assert torch.equal(R.optimal_tokens.reshape(2, 3, 3)[:, 1], D.optimal_tokens)


def test_classification_loss_values_and_per_member_losses():
    pred = torch.tensor([[0.0, 1.0]])
    Y = torch.tensor([[1.0, -1.0]])
    assert classification_loss(pred, Y, "correlation").item() == pytest.approx(0.5)
    assert classification_loss(pred, Y, "exponential").item() == pytest.approx((1 + np.e) / 2)
    assert classification_loss(pred, Y).item() == pytest.approx((np.log(2) + np.log(1 + np.e)) / 2)
    preds = torch.tensor([[0.0, 1.0], [2.0, -1.0], [0.5, 0.5]])
    Ys = torch.tensor([[1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]])
    mixed = classification_loss(preds, Ys, list(LOSSES))
    for e, name in enumerate(LOSSES):
        assert mixed[e].item() == pytest.approx(classification_loss(preds[e:e + 1], Ys[e:e + 1], name).item())
    # an extra leading axis (an Ensemble of models) broadcasts over the data's member axis
    assert classification_loss(preds.expand(2, 3, 2), Ys).shape == (2, 3)


def test_losses_decrease_in_the_margin_and_accuracy():
    u = torch.linspace(-3, 3, 13, dtype=torch.float64)[None, :, None]
    for name in LOSSES:
        values = torch.stack([classification_loss(u[:, k], torch.ones(1, 1, dtype=torch.float64), name)
                              for k in range(13)])
        assert torch.all(values[1:] < values[:-1])
    assert classification_accuracy(torch.tensor([[0.5, -0.2, 0.1]]), torch.tensor([[1.0, 1.0, -1.0]])).item() == \
        pytest.approx(1 / 3)
