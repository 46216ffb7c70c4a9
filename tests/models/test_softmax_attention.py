import numpy as np
import torch

from iclcore import theory
from iclcore.models import Ensemble, PromptAttention, SoftmaxAttention1L, attention_readout
from iclcore.tasks import classification_loss, token_selection
from iclcore.train import Snapshot, fit

NGD = dict(optimizer="ngd", lr=0.1, schedule="constant", loss=classification_loss, progress=False)


def test_stable_readout_equals_softmax_and_has_exact_gradient():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(4, 6, dtype=torch.float64, generator=g)
    c = torch.randn(4, 6, dtype=torch.float64, generator=g)
    torch.testing.assert_close(attention_readout(a, c), attention_readout(a, c, stable=False))
    # saturated scores: the gradient of the stable form matches the closed form s_t (c_t - <s, c>) computed
    # relative to the argmax token; the naive one loses the argmax component to rounding.
    a_sat = torch.tensor([[40.0, 0.0, -3.0]], dtype=torch.float64, requires_grad=True)
    c1 = torch.tensor([[1.0, 0.3, -0.5]], dtype=torch.float64)
    (grad,) = torch.autograd.grad(attention_readout(a_sat, c1).sum(), a_sat)
    s = torch.softmax(a_sat.detach(), -1)
    rel = c1 - c1[:, :1]
    expected = s * (rel - (s * rel).sum())
    torch.testing.assert_close(grad, expected, rtol=1e-12, atol=0)
    assert grad.sum().abs() < 1e-25                    # shift invariance holds to full precision
    (naive,) = torch.autograd.grad(attention_readout(a_sat, c1, stable=False).sum(), a_sat)
    assert abs(naive[0, 0] - expected[0, 0]) > 0.5 * abs(expected[0, 0])   # the naive entry is lost to rounding


def test_shapes_selected_tokens_and_prompt_equivalence():
    D = token_selection(3, 4, 5, n_instances=2, seed=0)
    pm = PromptAttention(5, n_members=2)
    assert pm(D.X, D.v).shape == (2, 3)
    assert torch.equal(pm.selected_tokens(D.X), pm.attention(D.X).argmax(-1))
    qm = SoftmaxAttention1L(5, param="KQ", m=2, n_members=2)
    assert qm(D.X, D.z, D.v).shape == (2, 3)
    assert theory.effective_rank(qm.weight().detach())[0] <= 2
    assert torch.equal(qm.selected_tokens(D.X, D.z), qm.scores(D.X, D.z).argmax(-1))
    # training W with a fixed prompt p is the query model with z_i = p
    wm = SoftmaxAttention1L(5, n_members=2, seed=3)
    p = torch.randn(2, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    z = p[:, None, :].expand(2, 3, 5)
    pm2 = PromptAttention(5, n_members=2, W=wm.W_.detach())
    with torch.no_grad():
        pm2.p.copy_(p)
    torch.testing.assert_close(pm2(D.X, D.v), wm(D.X, z, D.v))


def test_same_seed_same_start_whatever_the_readout():
    a, b = PromptAttention(4, n_members=3, seed=5), PromptAttention(4, n_members=3, seed=5, stable=False)
    assert torch.equal(a.p, b.p)


def test_batched_training_equals_separate_runs():
    D = token_selection(4, 5, 3, n_instances=3, seed=0)
    batched = SoftmaxAttention1L(3, n_members=3, seed=7)
    W0 = batched.W_.detach().clone()
    fit(batched, ((D.X, D.z, D.v), D.Y), steps=50, **NGD)
    for e in range(3):
        single = SoftmaxAttention1L(3, n_members=1)
        with torch.no_grad():
            single.W_.copy_(W0[e:e + 1])
        one = D.instance(e)
        fit(single, ((one.X, one.z, one.v), one.Y), steps=50, **NGD)
        np.testing.assert_allclose(single.W_.detach()[0], batched.W_.detach()[e], rtol=1e-10, atol=1e-12)


def test_ensemble_of_readouts_equals_separate_models():
    """Stable and naive members side by side (models.Ensemble) train exactly as when alone."""
    D = token_selection(3, 4, 5, n_instances=2, seed=0)
    pair = Ensemble({"stable": PromptAttention(5, n_members=2, seed=1),
                     "naive": PromptAttention(5, n_members=2, seed=1, stable=False)})
    fit(pair, ((D.X, D.v), D.Y), steps=30, **NGD)
    for name, stable in (("stable", True), ("naive", False)):
        alone = PromptAttention(5, n_members=2, seed=1, stable=stable)
        fit(alone, ((D.X, D.v), D.Y), steps=30, **NGD)
        np.testing.assert_allclose(pair.member(name).p.detach(), alone.p.detach(), rtol=1e-12)


def test_direction_converges_to_svm_small_case():
    """GD on p for the known 2-sequence case converges in direction to p^mm = (1, 1)."""
    X = torch.tensor([[[[1.0, 0.0], [0.0, 0.0]], [[0.0, 1.0], [0.0, 0.0]]]], dtype=torch.float64)
    Y, v = torch.ones(1, 2, dtype=torch.float64), torch.tensor([[1.0, 1.0]], dtype=torch.float64)
    model = PromptAttention(2, seed=0)
    snap = Snapshot(lambda m: m.p, at=[2000])
    fit(model, ((X, v), Y), steps=2000, callbacks=[snap], **NGD)
    assert model.selected_tokens(X).tolist() == [[0, 0]]
    assert theory.cosine(snap.values[-1], np.array([[1.0, 1.0]]))[0] > 0.999


def test_joint_model_trains_v_and_takes_no_head_argument():
    D = token_selection(4, 3, 3, n_instances=2, seed=2)
    joint = PromptAttention(3, n_members=2, train_v=True, seed=0)
    v0 = joint.v.detach().clone()
    fit(joint, ((D.X,), D.Y), steps=20, **NGD)
    assert not torch.equal(v0, joint.v.detach())
    assert joint(D.X).shape == (2, 4)


def test_vector_readout_and_relu_head():
    """The readout of vector values is the attention-weighted token; the ReLU head is 1^T ReLU(V^T u)."""
    D = token_selection(3, 4, 5, n_instances=2, seed=4)
    m = SoftmaxAttention1L(5, n_members=2, head="relu", init_scale=1.0, seed=2)
    s = m.attention(D.X, D.z)
    u = torch.einsum("ent,entd->end", s, D.X)
    torch.testing.assert_close(attention_readout(m.scores(D.X, D.z), D.X), u)
    torch.testing.assert_close(attention_readout(m.scores(D.X, D.z), D.X, stable=False), u)
    V = torch.randn(2, 5, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(m(D.X, D.z, V), torch.relu(torch.einsum("end,edh->enh", u, V)).sum(-1))
    # scalar readout of X v == vector readout of X, then times v
    lin = SoftmaxAttention1L(5, n_members=2, init_scale=1.0, seed=2)
    torch.testing.assert_close(lin(D.X, D.z, D.v), torch.einsum("end,ed->en", u, D.v))
