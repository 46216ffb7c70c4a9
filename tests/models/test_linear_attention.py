"""One-layer linear attention: the prediction formula, the PGD reduction, padding, ranks, training to L*."""

import numpy as np
import pytest
import torch

from iclcore.evaluate import evaluate
from iclcore.models import LinearAttention
from iclcore.tasks import LinearRegression, make_generator, squared_error
from iclcore.theory import pgd_optimal
from iclcore.train import fit


def _prompts(d=3, n=5, B=4, seed=0):
    return LinearRegression(d, n, dtype=torch.float64)(B, make_generator(seed))[0]


def test_output_shapes_single_and_ensemble():
    Z = _prompts().float()
    assert LinearAttention(4)(Z).shape == (1, 4)
    ens = LinearAttention(4, n_members=3)
    assert ens(Z).shape == (3, 4)
    assert ens(Z.expand(3, -1, -1, -1)).shape == (3, 4)


def test_forward_is_the_sum_over_example_tokens():
    """y_hat = sum_{i<=n} (z_i^T W_k W_q^T z_q)(v^T z_i), written as an explicit loop (eq-ch1-la)."""
    model = LinearAttention(4, n_members=2, seed=1).double()
    Z = _prompts(n=6, B=3, seed=1)
    A, v = model.score_matrix(), model.value_vector()
    expected = torch.zeros(2, 3, dtype=torch.float64)
    for e in range(2):
        for b in range(3):
            z_q = Z[b, -1]
            expected[e, b] = sum((Z[b, i] @ A[e] @ z_q) * (v[e] @ Z[b, i]) for i in range(6))
    torch.testing.assert_close(model(Z), expected)


def test_the_query_token_is_not_in_the_sum():
    """With every example token zero the prediction is zero, whatever the query and its label: the query
    enters only through the score, never as a key/value (a model that summed over the query would not be 0)."""
    model = LinearAttention(4, seed=3).double()
    Z = _prompts(seed=2)
    Z[:, :-1, :] = 0.0
    Z[:, -1, -1] = 5.0                                  # even a (leaked) query label changes nothing
    assert torch.count_nonzero(model(Z)) == 0
    assert torch.count_nonzero(model(_prompts(seed=2))) > 0


def test_odd_part_is_preconditioned_gd():
    """(f(y) - f(-y)) / 2 == x^T P X^T y with P = effective_preconditioner()  (eq-ch1-pgd, full value)."""
    model = LinearAttention(5, n_members=2, seed=1).double()
    Z = _prompts(d=4, n=6, B=9, seed=2)
    Z_neg = Z.clone()
    Z_neg[..., -1] *= -1
    odd = (model(Z) - model(Z_neg)) / 2
    P = model.effective_preconditioner()
    X, y, x = Z[:, :-1, :-1], Z[:, :-1, -1], Z[:, -1, :-1]
    torch.testing.assert_close(odd, torch.einsum("bi,eij,btj,bt->eb", x, P, X, y))


def test_label_value_reads_only_the_label():
    model = LinearAttention(4, value="label", seed=2).double()
    v = model.value_vector()
    assert torch.count_nonzero(v[:, :-1]) == 0 and v[0, -1] > 0
    A = model.score_matrix()
    torch.testing.assert_close(model.effective_preconditioner(), v[:, -1, None, None] * A[:, :-1, :-1].mT)


def test_normalize_divides_by_the_prompt_length():
    plain, normed = LinearAttention(4, seed=5).double(), LinearAttention(4, normalize=True, seed=5).double()
    Z = _prompts(n=7)
    torch.testing.assert_close(normed(Z), plain(Z) / 7)


def test_rank_constrains_score_matrix():
    model = LinearAttention(6, rank=2)
    assert torch.linalg.matrix_rank(model.score_matrix()[0]).item() == 2


def test_zero_tokens_contribute_nothing():
    model = LinearAttention(4, seed=3).double()
    Z = _prompts()
    padded = torch.nn.functional.pad(Z, (0, 0, 3, 0))
    torch.testing.assert_close(model(Z), model(padded))


def test_trained_linear_attention_reaches_the_optimal_step():
    d, n = 3, 10
    task = LinearRegression(d, n)
    model = LinearAttention(d + 1, value="label", seed=0)
    fit(model, task, steps=400, batch_size=512, progress=False)
    W_star, risk = pgd_optimal(np.eye(d), np.eye(d), n)
    measured = evaluate(model, task, {"risk": squared_error}, n_samples=2**15)[0]["risk"]
    assert measured == pytest.approx(risk, rel=0.05)
    P = model.effective_preconditioner()[0].double().numpy()
    assert np.linalg.norm(P - W_star) / np.linalg.norm(W_star) < 0.1
