"""The read-in/read-out GPT: shapes, causality, no peeking at the label, ensemble = separate runs, learning."""

import pytest
import torch

from iclcore.models.vector_gpt import NextStateGPT, RegressionGPT, VectorGPT, interleave, param_count
from iclcore.tasks import make_generator, stack
from iclcore.tasks.regression_prompts import RegressionPrompts, prefix_risk
from iclcore.train import fit


def _pairs(B=4, n=6, d=3, seed=0):
    return RegressionPrompts(d, n, 0.1)(B, make_generator(seed))


def test_interleave_puts_x_then_the_pair():
    Z = torch.arange(12.0).reshape(1, 3, 4)                     # n = 3 pairs, d = 3
    u = interleave(Z)
    assert u.shape == (1, 6, 4)
    torch.testing.assert_close(u[0, 0], torch.tensor([0.0, 1, 2, 0]))      # [x_1; 0]
    torch.testing.assert_close(u[0, 1], torch.tensor([0.0, 0, 0, 3]))      # [0; y_1] (the paper's)
    torch.testing.assert_close(interleave(Z, pair_tokens=True)[0, 1], Z[0, 0])   # [x_1; y_1]


@pytest.mark.parametrize("pair_tokens", [False, True])
def test_regression_gpt_is_causal_and_never_sees_its_label(pair_tokens):
    Z, _ = _pairs()
    m = RegressionGPT(3, 6, d_model=16, n_layers=2, n_heads=2, n_members=2, pair_tokens=pair_tokens, seed=1)
    out = m(Z)
    assert out.shape == (2, 4, 6)
    k = 3
    Z2 = Z.clone()
    Z2[:, k, -1] += 5.0                                        # the label predicted at k
    Z2[:, k + 1:] = torch.randn(Z2[:, k + 1:].shape, generator=make_generator(2))
    torch.testing.assert_close(m(Z2)[..., : k + 1], out[..., : k + 1])
    assert not torch.allclose(m(Z2)[..., k + 1], out[..., k + 1])   # but the next prediction does see it
    leak = RegressionGPT(3, 6, d_model=16, n_layers=2, n_heads=2, readout="y", pair_tokens=pair_tokens, seed=1)
    assert not torch.allclose(leak(Z2)[..., k], leak(Z)[..., k])     # the "y" read-out peeks (break switches)


def test_members_are_independent_models_with_shifted_seeds():
    Z, _ = _pairs()
    ens = RegressionGPT(3, 6, d_model=16, n_layers=2, n_heads=2, n_members=3, seed=5)
    for e in range(3):
        one = RegressionGPT(3, 6, d_model=16, n_layers=2, n_heads=2, n_members=1, seed=5 + e)
        torch.testing.assert_close(ens(Z)[e], one(Z)[0])
    Zs = torch.stack([_pairs(seed=s)[0] for s in range(3)])   # one batch per member
    torch.testing.assert_close(ens(Zs)[1], RegressionGPT(3, 6, d_model=16, n_layers=2, n_heads=2, seed=6)(Zs[1])[0])
    assert param_count(ens) == param_count(RegressionGPT(3, 6, d_model=16, n_layers=2, n_heads=2))


def test_training_an_ensemble_is_training_each_member():
    tasks = stack([RegressionPrompts(2, 4, 0.1, n_tasks=3, pool_seed=s) for s in range(2)])
    ens = RegressionGPT(2, 4, d_model=8, n_layers=1, n_heads=1, n_members=2, seed=0)
    h = fit(ens, tasks, steps=5, lr=1e-2, batch_size=8, loss=prefix_risk(), seed=3, progress=False)
    single = RegressionGPT(2, 4, d_model=8, n_layers=1, n_heads=1, n_members=1, seed=1)

    def second(batch_size, generator):                       # the second member's share of the same draws
        Z, y = tasks(batch_size, generator)
        return Z[1], y[1]

    h1 = fit(single, second, steps=5, lr=1e-2, batch_size=8, loss=prefix_risk(), seed=3, progress=False)
    torch.testing.assert_close(torch.as_tensor(h[:, 1]), torch.as_tensor(h1[:, 0]), rtol=1e-4, atol=1e-5)


def test_without_attention_no_prediction_uses_the_context():
    Z, _ = _pairs()
    m = RegressionGPT(3, 6, d_model=16, n_layers=2, n_heads=2, attention=False, seed=0)
    Z2 = Z.clone()
    Z2[:, 0] = torch.randn(Z2[:, 0].shape, generator=make_generator(9))
    torch.testing.assert_close(m(Z2)[..., 1:], m(Z)[..., 1:])


def test_next_state_gpt_shapes_and_causality():
    S = torch.randn(5, 8, 3, generator=make_generator(0))
    m = NextStateGPT(3, 8, d_model=16, n_layers=2, n_heads=2, n_members=2, seed=0)
    out = m(S)
    assert out.shape == (2, 5, 8, 3)
    S2 = S.clone()
    S2[:, 5:] = 0
    torch.testing.assert_close(m(S2)[:, :, :5], out[:, :, :5])
    plain = NextStateGPT(3, 8, d_model=16, pair_tokens=False)
    assert plain.gpt.d_in == 3 and m.gpt.d_in == 6


def test_leaves_global_rng_alone_and_is_deterministic():
    torch.manual_seed(3)
    a = torch.rand(1)
    torch.manual_seed(3)
    VectorGPT(4, 1, d_model=8, n_layers=1, n_heads=2, seed=2)
    assert torch.rand(1) == a
    u = torch.randn(2, 5, 4, generator=make_generator(1))
    torch.testing.assert_close(VectorGPT(4, 1, 8, 1, 2, seed=2)(u), VectorGPT(4, 1, 8, 1, 2, seed=2)(u))


def test_a_small_model_learns_in_context():
    """d = 1, fresh slopes: after 300 steps the risk at the last position is far below the label variance."""
    task = RegressionPrompts(1, 6, 0.1)
    m = RegressionGPT(1, 6, d_model=16, n_layers=2, n_heads=2, pair_tokens=True, seed=0)
    fit(m, task, steps=300, lr=5e-3, batch_size=64, loss=prefix_risk(), seed=1, progress=False)
    Z, y = task(2048, make_generator(7))
    with torch.no_grad():
        assert prefix_risk(5)(m(Z), y).item() < 0.3            # label variance 1.01; Bayes ~0.05
