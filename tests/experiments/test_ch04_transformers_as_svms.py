import numpy as np
import torch

from iclcore import theory
from iclcore.experiments.ch04_transformers_as_svms import rescaled_surrogate, ridge_objective
from iclcore.models import PromptAttention, SoftmaxAttention1L
from iclcore.tasks import classification_loss, token_selection


def test_rescaled_surrogate_has_the_gradient_direction():
    D = token_selection(4, 5, 3, n_instances=2, seed=1)
    m = SoftmaxAttention1L(3, n_members=2, init_scale=1.0, seed=2)
    inputs = (D.X, D.z, D.v)
    (g1,) = torch.autograd.grad(classification_loss(m(*inputs), D.Y).sum(), m.W_)
    (g2,) = torch.autograd.grad(rescaled_surrogate(m, inputs, D.Y).sum(), m.W_)
    np.testing.assert_allclose(theory.cosine(g1, g2), [1.0, 1.0], rtol=1e-10)
    # at a huge norm the plain gradient underflows to 0 but the surrogate still has a direction
    with torch.no_grad():
        m.W_.mul_(1e4)
    (g3,) = torch.autograd.grad(classification_loss(m(*inputs), D.Y).sum(), m.W_)
    (g4,) = torch.autograd.grad(rescaled_surrogate(m, inputs, D.Y).sum(), m.W_)
    assert torch.all(g3.flatten(1).norm(dim=1) == 0)
    assert torch.all(g4.flatten(1).norm(dim=1) > 0)


def test_rescaled_surrogate_for_the_prompt_model():
    D = token_selection(4, 5, 3, n_instances=2, seed=1)
    m = PromptAttention(3, n_members=2, init_scale=1.0, seed=2)
    (g1,) = torch.autograd.grad(classification_loss(m(D.X, D.v), D.Y).sum(), m.p)
    (g2,) = torch.autograd.grad(rescaled_surrogate(m, (D.X, D.v), D.Y).sum(), m.p)
    np.testing.assert_allclose(theory.cosine(g1, g2), [1.0, 1.0], rtol=1e-10)


def test_ridge_objective_adds_eps_times_the_squared_norms():
    D = token_selection(4, 5, 3, n_instances=2, seed=1)
    m = SoftmaxAttention1L(3, param="KQ", n_members=2, init_scale=1.0, seed=2)
    inputs = (D.X, D.z, D.v)
    base = classification_loss(m(*inputs), D.Y)
    ridge = (m.K ** 2).sum((1, 2)) + (m.Q ** 2).sum((1, 2))
    torch.testing.assert_close(ridge_objective(m, inputs, D.Y, eps=0.5), base + 0.5 * ridge)
    torch.testing.assert_close(ridge_objective(m, inputs, D.Y, eps=0.0), base)
