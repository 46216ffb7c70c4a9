import pytest
import torch

from iclcore.models import LinearAttention
from iclcore.tasks import LinearRegression, make_generator


def test_output_shapes_single_and_ensemble():
    Z, _ = LinearRegression(3, 5)(7, make_generator(0))
    assert LinearAttention(4)(Z).shape == (1, 7)
    ens = LinearAttention(4, n_models=3)
    assert ens(Z).shape == (3, 7)
    assert ens(Z.expand(3, -1, -1, -1)).shape == (3, 7)


def test_odd_part_is_preconditioned_gd():
    """(f(y) - f(-y)) / 2 == x^T P X^T y with P = effective_preconditioner()  (Book eq. 1.6)."""
    torch.manual_seed(0)
    model = LinearAttention(5, n_models=2, seed=1).double()
    Z, _ = LinearRegression(4, 6, dtype=torch.float64)(9, make_generator(2))
    Z_neg = Z.clone()
    Z_neg[..., -1] *= -1
    odd = (model(Z) - model(Z_neg)) / 2
    P = model.effective_preconditioner()
    X, y, x = Z[:, :-1, :-1], Z[:, :-1, -1], Z[:, -1, :-1]
    expected = torch.einsum("bi,eij,btj,bt->eb", x, P, X, y)
    torch.testing.assert_close(odd, expected)


def test_rank_constrains_score_matrix():
    model = LinearAttention(6, rank=2)
    assert torch.linalg.matrix_rank(model.score_matrix()[0]).item() == 2


def test_zero_tokens_contribute_nothing():
    model = LinearAttention(4, seed=3)
    Z, _ = LinearRegression(3, 5)(4, make_generator(0))
    padded = torch.nn.functional.pad(Z, (0, 0, 3, 0))
    torch.testing.assert_close(model(Z), model(padded))


def test_query_label_is_masked():
    model = LinearAttention(4, seed=3)
    Z, _ = LinearRegression(3, 5)(4, make_generator(0))
    Z2 = Z.clone()
    Z2[:, -1, -1] = 5.0  # the query token is not in the key/value sum: its label cannot leak
    Z2[:, -1, :-1] = Z[:, -1, :-1]
    assert not torch.allclose(model(Z), torch.zeros(1, 4))
    # changing the query's hidden label changes only the query projection, whose y-row we zero out:
    model.W_q.data[:, -1] = 0
    torch.testing.assert_close(model(Z), model(Z2))


@pytest.mark.parametrize("kwargs, match", [
    ({"token_dim": 0}, "token_dim must be"),
    ({"token_dim": 4, "rank": 5}, r"rank must be in \[1, 4\]"),
    ({"token_dim": 4, "n_models": 0}, "n_models must be"),
    ({"token_dim": 4, "init_scale": 0.0}, "init_scale must be"),
])
def test_bad_input_raises(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LinearAttention(**kwargs)


def test_wrong_prompt_shape_raises():
    with pytest.raises(ValueError, match="Z must have shape"):
        LinearAttention(4, n_models=2)(torch.zeros(3, 2, 5, 4))
