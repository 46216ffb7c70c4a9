"""The simplified H3: prediction at the query, weighted-PGD reduction, sample weights, short filters."""

import torch

from iclcore.models import H3
from iclcore.tasks import LinearRegression, make_generator


def _prompts(d=3, n=5, B=7, seed=0):
    return LinearRegression(d, n, dtype=torch.float64)(B, make_generator(seed))[0]


def _flip_labels(Z):
    Z_neg = Z.clone()
    Z_neg[..., -1] *= -1
    return Z_neg


def test_h3_shapes_and_left_padding():
    Z = _prompts().float()
    model = H3(4, n_ctx=8, n_members=2, seed=1)
    assert model(Z).shape == (2, 7)
    padded = torch.nn.functional.pad(Z, (0, 0, 3, 0))   # zero tokens at the front contribute nothing
    torch.testing.assert_close(model(Z), model(padded))


def test_h3_forward_is_the_convolution_read_at_the_query():
    """y_hat = ((q * s) W_o)_T with s_T = sum_j f_{T-1-j} * (k * v)_j, written as an explicit loop."""
    model = H3(4, n_ctx=6, n_members=2, seed=2).double()
    Z = _prompts(n=6, B=5, seed=1)
    T = Z.shape[-2]
    f = model.taps()
    expected = torch.zeros(2, 5, dtype=torch.float64)
    for e in range(2):
        k, v, q = Z @ model.W_k[e], Z @ model.W_v[e], Z[:, -1] @ model.W_q[e]
        s_last = sum(f[e, T - 1 - j] * k[:, j] * v[:, j] for j in range(T))
        expected[e] = (q * s_last) @ model.W_o[e]
    torch.testing.assert_close(model(Z), expected)


def test_h3_odd_part_is_weighted_pgd():
    """(f(y) - f(-y)) / 2 == sum_i y_i x^T P_i x_i with P_i = effective_preconditioners()  (eq-ch2-h3)."""
    model = H3(5, n_ctx=9, n_members=3, seed=3).double()
    Z = _prompts(d=4, n=6, B=8, seed=2)
    odd = (model(Z) - model(_flip_labels(Z))) / 2
    P = model.effective_preconditioners(6)
    X, y, x = Z[:, :-1, :-1], Z[:, :-1, -1], Z[:, -1, :-1]
    torch.testing.assert_close(odd, torch.einsum("ba,eiac,bic,bi->eb", x, P, X, y))


def test_h3_effective_weights_recover_an_exact_wpgd():
    model = H3(4, n_ctx=5, seed=4).double()
    with torch.no_grad():                       # make every channel share one filter shape: P_i = omega_i W
        shape = torch.tensor([0.0, 1.0, 2.0, 3.0, 4.0, 5.0], dtype=torch.float64)
        model.filter.copy_(shape[None, :, None].expand(1, 6, 4))
    w = model.effective_weights(5)[0]
    expected = torch.tensor([5.0, 4, 3, 2, 1], dtype=torch.float64)   # position 1 has lag 5
    torch.testing.assert_close(w, expected / expected.mean())


def test_a_short_filter_cannot_see_examples_beyond_its_reach():
    model = H3(4, n_ctx=8, filter_length=3, seed=5).double()
    Z = _prompts(n=8, B=4, seed=3)
    far, near = Z.clone(), Z.clone()
    far[:, :5] += 1.0            # examples 1..5 sit at lags 8..4 from the query: out of reach
    near[:, 5] += 1.0            # example 6 sits at lag 3: in reach
    torch.testing.assert_close(model(far), model(Z))
    assert not torch.allclose(model(near), model(Z))
    assert torch.count_nonzero(model.effective_weights(8)[0, :5]) == 0
    long = H3(4, n_ctx=8, seed=5).double()       # the default long filter sees every example
    assert not torch.allclose(long(far), long(Z))
