import numpy as np
import pytest
import torch

from iclcore.experiments.ch03_max_margin_token_selection import model_inputs, regularization_path
from iclcore.models import PromptAttention, SoftmaxAttention1L
from iclcore.tasks import classification_loss, token_selection


def test_model_inputs_match_each_model():
    D = token_selection(3, 4, 5, n_instances=2, seed=0)
    assert len(model_inputs(PromptAttention(5, n_members=2), D)) == 2
    assert len(model_inputs(PromptAttention(5, n_members=2, train_v=True), D)) == 1
    assert len(model_inputs(SoftmaxAttention1L(5, n_members=2), D)) == 3
    for model in (PromptAttention(5, n_members=2), SoftmaxAttention1L(5, n_members=2)):
        assert model(*model_inputs(model, D)).shape == (2, 3)


def test_regularization_path_stays_in_the_ball_and_its_loss_decreases():
    D = token_selection(3, 3, 4, n_instances=2, seed=0)
    radii = [1.0, 3.0, 9.0]
    path, losses = regularization_path(lambda k, s: PromptAttention(4, n_members=k, seed=s), D, radii,
                                       steps=60, restarts=3)
    assert path.shape == (3, 2, 4) and losses.shape == (3, 2)
    assert np.all(np.linalg.norm(path, axis=-1) <= np.array(radii)[:, None] + 1e-9)
    assert np.all(np.diff(losses, axis=0) <= 1e-9)          # a bigger ball can only lower the loss (warm start)
    # the recorded loss is the loss of the recorded point
    model = PromptAttention(4, n_members=2)
    with torch.no_grad():
        model.p.copy_(torch.as_tensor(path[-1]))
    np.testing.assert_allclose(classification_loss(model(D.X, D.v), D.Y).detach().numpy(), losses[-1], rtol=1e-12)


def test_regularization_path_reaches_the_svm_direction_in_a_known_case():
    """Two sequences, tokens e1 / e2 against 0, v = (1, 1): the path tends to p^mm = (1, 1)/sqrt(2)."""
    X = torch.tensor([[[[1.0, 0.0], [0.0, 0.0]], [[0.0, 1.0], [0.0, 0.0]]]], dtype=torch.float64)
    from iclcore.tasks import TokenSelectionData
    D = TokenSelectionData(X, torch.ones(1, 2, dtype=torch.float64), torch.tensor([[1.0, 1.0]]).double(), X[:, :, 0])
    path, _ = regularization_path(lambda k, s: PromptAttention(2, n_members=k, seed=s), D, [4.0, 16.0], steps=200,
                                  restarts=4)
    np.testing.assert_allclose(path[-1, 0] / 16.0, [2 ** -0.5, 2 ** -0.5], atol=1e-3)


def test_regularization_path_needs_a_single_trained_tensor():
    D = token_selection(3, 3, 4, n_instances=1, seed=0)
    with pytest.raises(ValueError, match="one trained tensor"):
        regularization_path(lambda k, s: PromptAttention(4, n_members=k, seed=s, train_v=True), D, [1.0], steps=5)
