"""The diagonal multi-head model with positional weights: zero-loss weights, head masks, the query lag."""

import torch

from iclcore.evaluate import evaluate
from iclcore.models import DiagonalPositionalAttention
from iclcore.tasks import RotationSequences, make_generator, sequence_risk
from iclcore.theory import chebyshev_weights, unitary_zero_loss_weights


def _set(model, A, B, P, e=0):
    with torch.no_grad():
        model.A[e], model.B[e], model.P[e] = (torch.tensor(x, dtype=model.A.dtype) for x in (A, B, P))


def _risk(model, task, n=2048):
    return evaluate(model, task, {"risk": sequence_risk}, n_samples=n, seed=1).array("risk")


def test_zero_loss_weights_unitary_and_real():
    m = DiagonalPositionalAttention(3, 8, n_heads=3).double()
    _set(m, *unitary_zero_loss_weights(3, 8, scale=2.0))
    assert _risk(m, RotationSequences(3, 8, tokens="plain", family="unitary", dtype=torch.float64))[0] < 1e-20
    r = DiagonalPositionalAttention(4, 8, n_heads=2).double()
    _set(r, *chebyshev_weights(4, 8, block_norms=[1.0, 2.0]))
    task = RotationSequences(4, 8, tokens="plain", block_norms=[1.0, 2.0], dtype=torch.float64)
    assert _risk(r, task)[0] < 1e-20


def test_output_shape_complex_and_real():
    m = DiagonalPositionalAttention(3, 6, n_heads=2, n_members=2)
    for family in ("unitary", "orthogonal"):
        x, y = RotationSequences(3, 6, tokens="plain", family=family)(4, make_generator(0))
        out = m(x)
        assert out.shape == (2, 4, 5, 3) and out.dtype == x.dtype


def test_head_mask_removes_the_extra_heads():
    m = DiagonalPositionalAttention(3, 5, n_heads=[1, 3], n_members=2, seed=2).double()
    with torch.no_grad():
        m.A[0].copy_(m.A[1])
        m.B[0].copy_(m.B[1])
        m.P[0].copy_(m.P[1])
    A, B = m.heads()
    assert A[0, 1:].abs().max() == 0 and B[0, 1:].abs().max() == 0
    C = m.coupling()
    torch.testing.assert_close(C[0], torch.outer(m.B[1, 0], m.A[1, 0]).detach())


def test_causal_and_query_lag():
    m = DiagonalPositionalAttention(2, 6, n_heads=2, seed=4, init_scale=0.5).double()
    x, _ = RotationSequences(2, 6, tokens="plain", family="unitary", dtype=torch.float64)(3, make_generator(3))
    changed = x.clone()
    changed[:, 4:] = 2.0
    torch.testing.assert_close(m(x)[:, :, :3], m(changed)[:, :, :3])   # positions t = 1..3 see s_0..s_3


def test_newest_query_cannot_beat_the_zero_predictor():
    """With the query on s_t, every cross term has zero mean: risk >= d for any weights (unitary)."""
    task = RotationSequences(3, 6, tokens="plain", family="unitary", dtype=torch.float64)
    for s in range(3):
        m = DiagonalPositionalAttention(3, 6, n_heads=3, seed=s, init_scale=0.7, query="newest").double()
        if s == 0:
            _set(m, *unitary_zero_loss_weights(3, 6))              # the previous-query optimum is useless here
        assert _risk(m, task, n=8192)[0] > 3.0 - 0.05
