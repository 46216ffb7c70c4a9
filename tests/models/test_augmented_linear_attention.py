"""Linear attention on augmented tokens: the block class computes B G_t A s_t, i.e. one gradient step."""

import numpy as np
import pytest
import torch

from iclcore.models import AugmentedLinearAttention
from iclcore.tasks import RotationSequences, make_generator, sequence_risk
from iclcore.theory import gd_step_predict
from iclcore.train import fit


def _batch(d=4, T=6, n=5, seed=0, **kw):
    task = RotationSequences(d, T, dtype=torch.float64, **kw)
    return task.states(n, make_generator(seed)), task(n, make_generator(seed))[0]


def test_block_class_with_scalar_blocks_is_one_gradient_step():
    states, tokens = _batch(family="orthogonal")
    model = AugmentedLinearAttention(4).double()
    with torch.no_grad():
        model.W_PV[0, :, 4:8] = 1.5 * torch.eye(4)
        model.W_KQ[0, 8:, 4:8] = 2.0 * torch.eye(4)
    out = model(tokens)[0].detach().numpy()
    np.testing.assert_allclose(out, 3.0 * gd_step_predict(states[:, :-1].numpy()), atol=1e-12)
    np.testing.assert_allclose(model.pv_kq_product()[0].numpy(), 3.0 * np.eye(4))


def test_block_class_computes_B_G_A_s():
    states, tokens = _batch(seed=1)
    model = AugmentedLinearAttention(4, init_scale=0.5, seed=3).double()
    B, A = model.value_block()[0].numpy(), model.score_block()[0].numpy()
    s = states.numpy()
    t = 4
    for n in range(s.shape[0]):
        G = sum(np.outer(s[n, tau], s[n, tau - 1]) for tau in range(1, t + 1)) / t
        np.testing.assert_allclose(model(tokens)[0, n, t - 1].detach().numpy(), B @ G @ A @ s[n, t], atol=1e-12)


def test_causal_future_tokens_do_not_change_the_past():
    _, tokens = _batch(seed=2)
    model = AugmentedLinearAttention(4, structure="full", init_scale=0.3).double()
    changed = tokens.clone()
    changed[:, 4:] = 7.0
    torch.testing.assert_close(model(tokens)[:, :, :4], model(changed)[:, :, :4])


def test_ensemble_members_equal_separate_models():
    _, tokens = _batch(seed=3)
    ens = AugmentedLinearAttention(4, n_members=3, structure=["block", "full", "block"], seed=5).double()
    for e in range(3):
        single = AugmentedLinearAttention(4, structure=ens.structures[e]).double()
        with torch.no_grad():
            single.W_PV.copy_(ens.W_PV[e:e + 1])
            single.W_KQ.copy_(ens.W_KQ[e:e + 1])
        torch.testing.assert_close(ens(tokens)[e], single(tokens)[0])


def test_training_keeps_the_block_structure_and_init_step_starts_at_the_step():
    model = AugmentedLinearAttention(4, n_members=2, structure=["block", "full"], init_step=[None, 2.25])
    np.testing.assert_allclose(model.pv_kq_product()[1].numpy(), 2.25 * np.eye(4), atol=1e-6)
    assert model.block_share()[1].item() == pytest.approx(1.0)
    task = RotationSequences(4, 5)
    fit(model, task, steps=3, batch_size=16, loss=sequence_risk, progress=False)
    W_PV, W_KQ = (w.detach() for w in model.weights())
    assert W_PV[0, :, :4].abs().max() == 0 and W_PV[0, :, 8:].abs().max() == 0
    assert (W_KQ[0].abs() > 0).sum() == 16
    assert model.block_share()[0].item() == pytest.approx(1.0) and model.block_share()[1] < 1 - 1e-6
