import math

import numpy as np
import pytest
import torch

from iclcore.models import TinyGPT, lm_loss
from iclcore.models.cat import (
    CAT,
    CATAttention,
    CausalConv1d,
    accuracy_by_length,
    answer_attention,
    cat_block,
    cat_recall_construction,
    construction_mass,
    landmark_retrieval_mc,
    landmark_retrieval_theory,
    one_layer_gpt,
    recall_accuracy,
    train_side_by_side,
)
from iclcore.tasks import make_generator
from iclcore.tasks.recall import AssociativeRecall, Copying
from iclcore.train import fit_online


def test_causal_conv_known_values_and_causality():
    conv = CausalConv1d(d=2, window=3)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 10.0]]))  # ch 0: identity, ch 1: lags 1, 2
    h = torch.arange(1.0, 5.0).repeat(2, 1).T.unsqueeze(0)                        # tokens 1, 2, 3, 4 on both
    out = conv(h)[0]
    torch.testing.assert_close(out[:, 0], torch.tensor([1.0, 2.0, 3.0, 4.0]))
    torch.testing.assert_close(out[:, 1], torch.tensor([0.0, 1.0, 2.0 + 10.0, 3.0 + 20.0]))
    x = torch.randn(3, 7, 4)
    conv = CausalConv1d(4, window=3, one_dim=True)
    assert conv.weight.shape == (3, 1)
    y = x.clone()
    y[:, 5:] = torch.randn(3, 2, 4)                                               # change the future only
    torch.testing.assert_close(conv(x)[:, :5], conv(y)[:, :5])


def test_cat_attention_interface_causality_and_vanilla_limit():
    torch.manual_seed(0)
    attn = CATAttention(d_model=8, n_heads=2, window=3)
    h = torch.randn(4, 6, 8)
    assert attn(h).shape == (4, 6, 8)
    a = attn.attention_map(h)
    assert a.shape == (4, 2, 6, 6)
    torch.testing.assert_close(a.sum(-1), torch.ones(4, 2, 6))
    assert torch.all(a.triu(1) == 0)
    g = h.clone()
    g[:, 4:] += 1.0
    torch.testing.assert_close(attn(h)[:, :4], attn(g)[:, :4])
    plain = CATAttention(8, 1, conv_on="")                                        # no convolution
    q, k, v = plain.W_q(h), plain.W_k(h), plain.W_v(h)
    mask = torch.ones(6, 6, dtype=torch.bool).tril()
    ref = ((q @ k.transpose(1, 2) / math.sqrt(8)).masked_fill(~mask, -torch.inf).softmax(-1) @ v)
    torch.testing.assert_close(plain(h), plain.W_o(ref))


def test_cat_block_plugs_into_tinygpt():
    model = TinyGPT(vocab_size=11, d_model=16, n_layers=1, n_heads=2, max_len=32, attention=cat_block(3),
                    pos_encoding="none", seed=0)
    tokens, targets = Copying(5, 10)(3, make_generator(0))
    assert model(tokens).shape == (3, 11, 11)
    out = answer_attention(model, tokens, targets)
    assert out["mass"].shape == out["L"].shape == (15,)


@pytest.mark.parametrize("n_pairs", [4, 16, 64])
def test_construction_solves_recall_and_copying_at_every_length(n_pairs):
    ar = AssociativeRecall(n_pairs, 4, n_keys=64, n_values=64)
    model = cat_recall_construction(ar.vocab_size, c=1.0)
    assert recall_accuracy(model, ar, n_prompts=256) == 1.0
    cp = Copying(n_pairs, 64)
    assert recall_accuracy(cat_recall_construction(cp.vocab_size, c=1.0), cp, n_prompts=256) == 1.0
    tokens, targets = ar(64, make_generator(1))
    out = answer_attention(model, tokens, targets)
    assert torch.all(out["offset"] == 0)                                          # attends to the value
    np.testing.assert_allclose(out["gap"].numpy(), 1.0, atol=1e-12)
    np.testing.assert_allclose(out["mass"].numpy(), construction_mass(1.0, out["L"].numpy()), rtol=1e-12)


def test_construction_needs_exp_c_above_the_largest_token_count():
    # the queried key is visible twice (as key and as query), with score 0: e^c must exceed 2 (Book eq. 6.3)
    ar = AssociativeRecall(8, 4, 64, 64)
    assert recall_accuracy(cat_recall_construction(ar.vocab_size, c=math.log(2) + 0.1), ar, 256) == 1.0
    assert recall_accuracy(cat_recall_construction(ar.vocab_size, c=math.log(2) - 0.1), ar, 256) == 0.0


def test_construction_mass_closed_form():
    assert construction_mass(0.0, 5) == pytest.approx(0.2)
    assert construction_mass(np.log(9.0), 2) == pytest.approx(0.9)
    with pytest.raises(ValueError, match="L"):
        construction_mass(1.0, 0)


@pytest.fixture
def one_thread():
    """Train on one thread: on a shared 2-core machine two threads can be ten times slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_side_by_side_training_equals_training_alone(one_thread):
    task = AssociativeRecall(3, 2, n_keys=8, n_values=8)
    pair = [one_layer_gpt(task.vocab_size, None, d_model=8, max_len=16, seed=1),
            one_layer_gpt(task.vocab_size, 2, d_model=8, max_len=16, seed=2)]
    alone = one_layer_gpt(task.vocab_size, 2, d_model=8, max_len=16, seed=2)
    history = train_side_by_side(pair, task, steps=20, seed=3, progress=False)
    fit_online(alone, task, steps=20, lr=1e-2, batch_size=64, seed=3, loss_fn=lm_loss, progress=False)
    assert history.shape == (20, 2)
    for p, q in zip(pair[1].parameters(), alone.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6)
    acc = accuracy_by_length(alone, lambda n: AssociativeRecall(n, 2, 8, 8), [3, 6], n_prompts=64)
    assert acc.shape == (2,) and np.all((acc >= 0) & (acc <= 1))


def test_small_cat_learns_recall_and_training_is_deterministic(one_thread):
    task = AssociativeRecall(4, 2, n_keys=16, n_values=16)
    runs = []
    for _ in range(2):
        model = CAT(task.vocab_size, d_model=32, window=2, seed=0)
        fit_online(model, task, steps=150, lr=1e-2, batch_size=64, seed=0, loss_fn=lm_loss, progress=False)
        runs.append(recall_accuracy(model, task, n_prompts=512))
    assert runs[0] == runs[1] and runs[0] > 0.9


@pytest.mark.parametrize("n, block, d", [(256, 4, 32), (256, 16, 64), (1024, 32, 256)])
def test_landmark_theory_matches_monte_carlo(n, block, d):
    mc = landmark_retrieval_mc(n, block, d, n_trials=4000, seed=1)
    assert landmark_retrieval_theory(n, block, d) == pytest.approx(mc, abs=0.03)


def test_landmark_limits():
    assert landmark_retrieval_theory(64, 64, 16) == pytest.approx(1.0)            # one block: always right
    assert landmark_retrieval_theory(64, 1, 4096) == pytest.approx(1.0, abs=1e-6)
    assert landmark_retrieval_mc(64, 2, 4096, n_trials=200) == 1.0


@pytest.mark.parametrize("call, match", [
    (lambda: CausalConv1d(4, window=0), "window"),
    (lambda: CATAttention(6, 4), "divisible"),
    (lambda: CATAttention(8, 2, conv_on="qx"), "conv_on"),
    (lambda: cat_recall_construction(10, c=0.0), "c must"),
    (lambda: landmark_retrieval_mc(100, 3, 8), "block must divide"),
    (lambda: landmark_retrieval_theory(64, 4, 1), "d must"),
])
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()
