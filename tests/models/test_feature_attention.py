"""A learned feature map + one linear-attention layer: the formula, padding, member independence, freezing."""

import torch

from iclcore.models import FeatureLinearAttention
from iclcore.tasks import SmoothFunctionRegression, make_generator, squared_error, stack
from iclcore.train import fit


def _prompts(n=6, B=3, seed=0, d=1):
    return SmoothFunctionRegression(d, n, 1.0, 0.1, dtype=torch.float64)(B, make_generator(seed))[0]


def _model(E=2, **kw):
    m = FeatureLinearAttention(1, 4, width=8, n_members=E, seed=1, **kw).double()
    with torch.no_grad():
        m.Gamma.copy_(torch.randn(E, 4, 4, generator=torch.Generator().manual_seed(5)))
    return m


def test_shapes():
    Z = _prompts().float()
    m = FeatureLinearAttention(1, 5, n_members=3)
    assert m(Z).shape == (3, 3) and m(Z.expand(3, -1, -1, -1)).shape == (3, 3)
    assert m.features(torch.rand(7, 1)).shape == (3, 7, 5)
    assert FeatureLinearAttention(2, 5)(_prompts(d=2).float()).shape == (1, 3)


def test_forward_is_the_formula_and_the_kernel_smoother():
    """y_hat = phi(x)^T Gamma (1/n) sum_i phi(x_i) y_i = (1/n) sum_i K(x, x_i) y_i (eq-ch13-model)."""
    m, Z = _model(), _prompts(n=6, B=3)
    phi = m.features(Z[..., :1])                                           # (E, B, T, N)
    expected = torch.empty(2, 3, dtype=torch.float64)
    for e in range(2):
        for b in range(3):
            b_hat = sum(phi[e, b, i] * Z[b, i, 1] for i in range(6)) / 6
            expected[e, b] = phi[e, b, -1] @ m.Gamma[e] @ b_hat
    torch.testing.assert_close(m(Z), expected)
    for b in range(3):
        K = m.kernel(Z[b, -1:, :1], Z[b, :-1, :1])                          # (E, 1, n)
        torch.testing.assert_close((K[:, 0] * Z[b, :-1, 1]).mean(-1), expected[:, b])


def test_left_padding_changes_nothing_and_mixed_lengths_are_each_computed_alone():
    m = _model()
    Z = _prompts(n=5, B=4)
    padded = torch.cat([torch.zeros(4, 3, 2, dtype=torch.float64), Z], dim=1)
    torch.testing.assert_close(m(padded), m(Z))
    Zs, _ = stack([SmoothFunctionRegression(1, 3, 1.0, 0.1, dtype=torch.float64),
                   SmoothFunctionRegression(1, 7, 1.0, 0.1, dtype=torch.float64)])(4, make_generator(3))
    both = m(Zs)
    torch.testing.assert_close(both[0], m(Zs[0, :, -4:])[0])
    torch.testing.assert_close(both[1], m(Zs[1])[1])


def test_members_are_independent():
    m, Z = _model(), _prompts()
    before = m(Z)
    with torch.no_grad():
        for p in [*m.feature_parameters(), m.Gamma]:
            p[1].add_(0.5)
    after = m(Z)
    torch.testing.assert_close(after[0], before[0])
    assert not torch.allclose(after[1], before[1])


def test_frozen_members_keep_their_features():
    m = FeatureLinearAttention(1, 4, width=8, n_members=2, learn_features=[True, False], seed=2)
    start = [p.detach().clone() for p in m.feature_parameters()]
    data = stack([SmoothFunctionRegression(1, 8, 1.0, 0.1)] * 2)
    loss = fit(m, data, steps=30, lr=1e-2, batch_size=16, seed=0, progress=False, loss=squared_error)
    assert loss.shape == (30, 2)
    for p, p0 in zip(m.feature_parameters(), start, strict=True):
        torch.testing.assert_close(p[1], p0[1])                             # frozen member: unchanged
        assert not torch.allclose(p[0], p0[0])                              # learned member: moved
    assert torch.count_nonzero(m.Gamma[1]) > 0                              # but its Gamma learned


def test_training_lowers_the_risk():
    torch.manual_seed(0)
    m = FeatureLinearAttention(1, 8, n_members=1, seed=0)
    task = SmoothFunctionRegression(1, 16, 1.0, 0.3, query_noise=0.0)
    loss = fit(m, task, steps=300, lr=1e-2, batch_size=64, seed=1, progress=False)
    assert loss[-50:].mean() < 0.5 * loss[:10].mean()
