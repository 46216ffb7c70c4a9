import numpy as np
import torch

from iclcore.optim import NormalizedGD


def _norms(w):
    return w.detach().flatten(1).norm(dim=1).numpy()


def test_step_length_is_lr_per_member():
    w = torch.nn.Parameter(torch.zeros(3, 2, 2))
    opt = NormalizedGD([w], lr=0.5)
    w.grad = torch.tensor([[[1.0, 0], [0, 0]], [[3.0, 4.0], [0, 0]], [[0.0, 0], [0, 0]]])
    opt.step()
    np.testing.assert_allclose(_norms(w), [0.5, 0.5, 0.0])          # a zero gradient leaves the member alone
    np.testing.assert_allclose(w.detach()[1, 0], [-0.3, -0.4])      # along -grad


def test_max_norm_projects_each_member_onto_the_ball():
    w = torch.nn.Parameter(torch.tensor([[3.0, 4.0], [0.3, 0.4]]))
    opt = NormalizedGD([w], lr=10.0, max_norm=1.0)
    w.grad = torch.tensor([[-3.0, -4.0], [0.0, 0.0]])
    opt.step()
    np.testing.assert_allclose(_norms(w), [1.0, 0.5])               # projected / untouched


def test_norm_offset_shrinks_the_step_once_the_gradient_is_below_it():
    """The authors' normalisation: step lr g/(||g|| + offset) -- full length for large g, ~0 for g << offset."""
    w = torch.nn.Parameter(torch.zeros(2, 1, dtype=torch.float64))
    opt = NormalizedGD([w], lr=0.1, norm_offset=1e-16)
    w.grad = torch.tensor([[1.0], [1e-18]], dtype=torch.float64)
    opt.step()
    np.testing.assert_allclose(w.detach()[:, 0], [-0.1 / (1 + 1e-16), -0.1 * 1e-18 / (1e-18 + 1e-16)], rtol=1e-12)
    exact = torch.nn.Parameter(torch.zeros(1, 1, dtype=torch.float64))
    exact.grad = torch.tensor([[1e-18]], dtype=torch.float64)
    NormalizedGD([exact], lr=0.1).step()
    np.testing.assert_allclose(exact.detach(), [[-0.1]])            # exact normalisation: always length lr


def test_single_model_without_ensemble_dimension():
    w = torch.nn.Parameter(torch.zeros(2, 2))
    opt = NormalizedGD([w], lr=1.0, ensemble_dims=0)
    w.grad = torch.ones(2, 2)
    opt.step()
    np.testing.assert_allclose(w.detach().norm().item(), 1.0)
