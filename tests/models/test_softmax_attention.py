import numpy as np
import pytest
import torch

from iclcore import svm
from iclcore.models.token_selection import (
    PromptAttention,
    SoftmaxAttention1L,
    attention_readout,
    classification_loss,
    selected_tokens,
    train_token_selection,
)
from iclcore.optim import NormalizedGD
from iclcore.tasks.token_selection import token_selection


def test_stable_readout_equals_softmax_and_has_exact_gradient():
    torch.manual_seed(0)
    a = torch.randn(4, 6, dtype=torch.float64, requires_grad=True)
    c = torch.randn(4, 6, dtype=torch.float64)
    torch.testing.assert_close(attention_readout(a, c), attention_readout(a, c, stable=False))
    # saturated scores: gradient of the stable form matches the closed form s_t (c_t - <s, c>) computed
    # relative to the argmax token; the naive one loses the argmax component to rounding.
    a_sat = torch.tensor([[40.0, 0.0, -3.0]], dtype=torch.float64, requires_grad=True)
    c1 = torch.tensor([[1.0, 0.3, -0.5]], dtype=torch.float64)
    (g,) = torch.autograd.grad(attention_readout(a_sat, c1).sum(), a_sat)
    s = torch.softmax(a_sat.detach(), -1)
    rel = c1 - c1[:, :1]
    mean_rel = (s * rel).sum()
    expected = s * (rel - mean_rel)
    torch.testing.assert_close(g, expected, rtol=1e-12, atol=0)
    assert g.sum().abs() < 1e-25  # shift invariance holds to full precision


def test_models_shapes_and_prompt_equivalence():
    D = token_selection(3, 4, 5, n_instances=2, seed=0)
    pm = PromptAttention(5, n_models=2)
    assert pm(D.X, D.v).shape == (2, 3)
    qm = SoftmaxAttention1L(5, param="KQ", m=2, n_models=2)
    assert qm(D.X, D.z, D.v).shape == (2, 3)
    assert svm.effective_rank(qm.weight().detach())[0] <= 2
    # training W with fixed prompt p == the query model with z_i = p
    wm = SoftmaxAttention1L(5, n_models=2, seed=3)
    p = torch.randn(2, 5, dtype=torch.float64)
    z = p[:, None, :].expand(2, 3, 5)
    pm2 = PromptAttention(5, n_models=2, W=wm.W_.detach())
    with torch.no_grad():
        pm2.p.copy_(p)
    torch.testing.assert_close(pm2(D.X, D.v), wm(D.X, z, D.v))


def test_losses():
    pred = torch.tensor([[0.0, 1.0]])
    Y = torch.tensor([[1.0, -1.0]])
    assert classification_loss(pred, Y, "correlation").item() == pytest.approx(0.5)
    assert classification_loss(pred, Y, "exponential").item() == pytest.approx((1 + np.e) / 2)
    with pytest.raises(ValueError, match="loss must be one of"):
        classification_loss(pred, Y, "hinge")


def test_normalized_gd_step_length_per_member():
    w = torch.nn.Parameter(torch.zeros(3, 2, 2))
    opt = NormalizedGD([w], lr=0.5)
    w.grad = torch.tensor([[[1.0, 0], [0, 0]], [[3.0, 4.0], [0, 0]], [[0.0, 0], [0, 0]]])
    opt.step()
    np.testing.assert_allclose(w.detach().flatten(1).norm(dim=1).numpy(), [0.5, 0.5, 0.0])
    opt2 = NormalizedGD([w], lr=10.0, max_norm=1.0)
    opt2.step()
    assert w.detach().flatten(1).norm(dim=1).max() <= 1.0 + 1e-12


def test_batched_training_equals_separate_runs():
    D = token_selection(4, 5, 3, n_instances=3, seed=0)
    batched = SoftmaxAttention1L(3, n_models=3, seed=7)
    W0 = batched.W_.detach().clone()
    rb = train_token_selection(batched, D, 50)
    for e in range(3):
        single = SoftmaxAttention1L(3, n_models=1)
        with torch.no_grad():
            single.W_.copy_(W0[e:e + 1])
        rs = train_token_selection(single, D.instance(e), 50)
        np.testing.assert_allclose(rs.params[-1][0], rb.params[-1][e], rtol=1e-10, atol=1e-12)


def test_direction_converges_to_svm_small_case():
    """GD on p for the known 2-sequence case converges in direction to p^mm = (1, 1)."""
    X = torch.tensor([[[[1.0, 0.0], [0.0, 0.0]], [[0.0, 1.0], [0.0, 0.0]]]], dtype=torch.float64)

    class Data:
        pass

    data = Data()
    data.X, data.Y, data.v = X, torch.ones(1, 2, dtype=torch.float64), torch.tensor([[1.0, 1.0]]).double()
    model = PromptAttention(2, seed=0)
    res = train_token_selection(model, data, 2000)
    assert selected_tokens(model, data).tolist() == [[0, 0]]
    assert svm.cosine(res.params[-1], np.array([[1.0, 1.0]]))[0] > 0.999


def test_bad_input():
    with pytest.raises(ValueError, match="param must be"):
        SoftmaxAttention1L(3, param="QK")
    with pytest.raises(ValueError, match="m must be in"):
        SoftmaxAttention1L(3, param="KQ", m=4)
    with pytest.raises(ValueError, match="W must have shape"):
        PromptAttention(3, W=torch.eye(2))
    D = token_selection(2, 3, 4, n_instances=2)
    with pytest.raises(ValueError, match="members but data has"):
        train_token_selection(SoftmaxAttention1L(4, n_models=3), D, 5)
    with pytest.raises(ValueError, match="record must hold"):
        train_token_selection(SoftmaxAttention1L(4, n_models=2), D, 5, record=[9])
    with pytest.raises(ValueError, match="lr must be"):
        NormalizedGD([torch.nn.Parameter(torch.zeros(1))], lr=0.0)


def test_mixed_stable_members_match_separate_models():
    D = token_selection(3, 4, 5, n_instances=1, seed=0)
    from iclcore.tasks.token_selection import repeat_instances
    both = repeat_instances(D, 2)
    mixed = PromptAttention(5, n_models=2, seed=0, stable=[True, False])
    with torch.no_grad():
        mixed.p[1] = mixed.p[0]
    pure = PromptAttention(5, n_models=1, stable=True)
    with torch.no_grad():
        pure.p.copy_(mixed.p[:1])
    rm = train_token_selection(mixed, both, 30)
    rp = train_token_selection(pure, D, 30)
    np.testing.assert_allclose(rm.params[-1][0], rp.params[-1][0], rtol=1e-12)
    with pytest.raises(ValueError, match="stable must be"):
        PromptAttention(5, n_models=2, stable=[True])


def test_rescaled_surrogate_has_the_gradient_direction():
    D = token_selection(4, 5, 3, n_instances=2, seed=1)
    m = SoftmaxAttention1L(3, n_models=2, init_scale=1.0, seed=2)
    from iclcore.models.token_selection import rescaled_surrogate
    (g1,) = torch.autograd.grad(classification_loss(m(D.X, D.z, D.v), D.Y).sum(), m.W_)
    (g2,) = torch.autograd.grad(rescaled_surrogate(m, D).sum(), m.W_)
    np.testing.assert_allclose(svm.cosine(g1, g2), [1.0, 1.0], rtol=1e-10)
    # at a huge norm the plain gradient underflows to 0 but the surrogate still has a direction
    with torch.no_grad():
        m.W_.mul_(1e4)
    (g3,) = torch.autograd.grad(rescaled_surrogate(m, D).sum(), m.W_)
    assert torch.all(g3.flatten(1).norm(dim=1) > 0)


def test_regularization_path_stays_in_ball():
    from iclcore.models.token_selection import regularization_path
    D = token_selection(3, 3, 4, n_instances=2, seed=0)
    path, losses = regularization_path(lambda k, s: PromptAttention(4, n_models=k, seed=s), D, [1.0, 3.0],
                                       steps=50, restarts=3)
    assert path.shape == (2, 2, 4) and losses.shape == (2, 2)
    assert np.all(np.linalg.norm(path, axis=-1) <= np.array([[1.0], [3.0]]) + 1e-9)
    assert np.all(losses[1] <= losses[0] + 1e-9)      # a bigger ball can only lower the loss
