import numpy as np
import pytest
import torch
from scipy.optimize import minimize

from iclcore.experiments.ch08_markov import mle_vs_n, teacher_data
from iclcore.models import TiedEmbeddingAttention
from iclcore.tasks import make_generator, next_token_nll, random_scores, token_counts, uniform_prompts
from iclcore.theory import (
    base_chain,
    base_chain_entropy,
    ccmc_fisher,
    ccmc_kl,
    ccmc_mle,
    ccmc_nll,
    ccmc_probs,
    coverage_components,
    dirichlet_entropy,
    dirichlet_rank_shares,
    identified_dimension,
    mle_error_constant,
    polya_exponents,
    row_centred,
    row_centred_error,
    stationary_distribution,
)
from iclcore.train import fit


def _data(W, n, T=8, seed=0, groups=None):
    X, y = teacher_data(W, n, T, make_generator(seed), groups)
    return token_counts(X, W.shape[0]).numpy(), X[:, -1].numpy(), y.numpy()


def test_ccmc_probs_known_values_and_shapes():
    W = np.array([[0.0, np.log(2.0)], [np.log(3.0), 0.0]])
    # last token 0, counts (1, 2): weights (1 * 1, 2 * 2) -> (1/5, 4/5)
    np.testing.assert_allclose(ccmc_probs(W, np.array([1.0, 2.0]), 0), [0.2, 0.8])
    # last token 1, counts (1, 1): weights (3, 1)
    np.testing.assert_allclose(ccmc_probs(W, [1, 1], 1), [0.75, 0.25])
    batch = ccmc_probs(W, np.array([[1.0, 2.0], [1.0, 1.0]]), np.array([0, 1]))
    np.testing.assert_allclose(batch, [[0.2, 0.8], [0.75, 0.25]])
    assert ccmc_probs(W, np.array([[1.0, 2.0], [1.0, 1.0]]), 1).shape == (2, 2)   # one last token for all
    np.testing.assert_allclose(ccmc_probs(W, [0.0, 4.0], 0), [0.0, 1.0])           # absent tokens get 0


def test_ccmc_probs_is_row_shift_invariant_and_flat_scores_give_frequencies():
    rng = np.random.default_rng(0)
    W, m = rng.standard_normal((5, 5)), rng.integers(0, 4, (20, 5)) + np.eye(5)[rng.integers(0, 5, 20)]
    last = rng.integers(0, 5, 20)
    np.testing.assert_allclose(ccmc_probs(W + rng.standard_normal((5, 1)), m, last), ccmc_probs(W, m, last))
    np.testing.assert_allclose(ccmc_probs(np.zeros((5, 5)), m, last), m / m.sum(1, keepdims=True))
    # huge scores do not overflow
    assert np.all(np.isfinite(ccmc_probs(800 * W, m, last)))


def test_base_chain_and_its_stationary_law():
    rng = np.random.default_rng(1)
    W = rng.standard_normal((6, 6))
    P = base_chain(W)
    np.testing.assert_allclose(P.sum(1), 1.0)
    np.testing.assert_allclose(P, ccmc_probs(W, np.ones((6, 6)), np.arange(6)))
    pi = stationary_distribution(P)
    np.testing.assert_allclose(pi @ P, pi, atol=1e-12)
    assert abs(base_chain_entropy(np.zeros((4, 4))) - np.log(4)) < 1e-12
    # Monte Carlo: the long-run frequencies of the chain are pi
    g = np.random.default_rng(2)
    x, visits = 0, np.zeros(6)
    cum = P.cumsum(1)
    for u in g.random(100_000):
        x = min(int((cum[x] <= u).sum()), 5)
        visits[x] += 1
    np.testing.assert_allclose(visits / visits.sum(), pi, atol=0.01)


def test_mle_matches_an_independent_lbfgs_solve_and_the_nll():
    W_star = random_scores(4, 1.0, make_generator(3)).numpy()
    m, last, y = _data(W_star, 3000, seed=4)
    W_hat = ccmc_mle(m, last, y, ridge=1e-6)
    np.testing.assert_allclose(W_hat.sum(1), 0.0, atol=1e-8)            # the ridge picks zero-mean rows

    def objective(w):
        return ccmc_nll(w.reshape(4, 4), m, last, y) + 1e-6 * (w @ w)

    ref = minimize(objective, np.zeros(16), method="L-BFGS-B", options=dict(maxiter=5000, gtol=1e-12, ftol=1e-15))
    assert objective(W_hat.ravel()) <= ref.fun + 1e-10
    np.testing.assert_allclose(row_centred(W_hat), row_centred(ref.x.reshape(4, 4)), atol=2e-4)


def test_mle_without_counts_is_the_log_of_empirical_frequencies():
    # the base chain's MLE for row i is log of the next-token frequencies after prompts ending with i (centred)
    W_star = random_scores(3, 1.0, make_generator(5)).numpy()
    m, last, y = _data(W_star, 4000, seed=6)
    W_hat = ccmc_mle(m, last, y, count_weighting=False, ridge=1e-9)
    freq = np.array([np.bincount(y[last == i], minlength=3) for i in range(3)], dtype=float)
    np.testing.assert_allclose(row_centred(W_hat), row_centred(np.log(freq / freq.sum(1, keepdims=True))),
                               atol=1e-4)


def test_batched_problems_equal_separate_fits():
    W_star = random_scores(4, 1.0, make_generator(7)).numpy()
    parts = [_data(W_star, n, seed=s) for s, n in ((8, 500), (9, 1200))]
    together = ccmc_mle(np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]),
                        np.concatenate([p[2] for p in parts]), problems=np.repeat([0, 1], [500, 1200]), n_problems=2)
    for k, p in enumerate(parts):
        np.testing.assert_allclose(together[k], ccmc_mle(*p), atol=1e-8)


def test_trained_attention_layer_reaches_the_convex_optimum():
    W_star = random_scores(4, 1.0, make_generator(10)).numpy()
    X, y = teacher_data(W_star, 1500, 6, make_generator(11))
    m, last = token_counts(X, 4).numpy(), X[:, -1].numpy()
    W_hat = ccmc_mle(m, last, y.numpy())
    layer = TiedEmbeddingAttention(4)
    fit(layer, ((X,), y), steps=300, lr=0.2, loss=next_token_nll, progress=False)
    W_layer = layer.scores()[0].detach().numpy()
    assert row_centred_error(W_layer, W_hat) < 1e-5
    with torch.no_grad():
        assert abs(next_token_nll(layer(X), y).item() - ccmc_nll(W_hat, m, last, y.numpy())) < 1e-6


def test_coverage_components_and_identified_dimension():
    m = np.array([[1, 1, 0, 0], [0, 0, 2, 1], [1, 0, 0, 1], [0, 3, 1, 0]], dtype=float)
    last = np.array([0, 0, 3, 2])
    lab = coverage_components(m, last)
    # row 0: {0, 1} and {2, 3} never meet; row 1: never the last token; row 3: {0, 3}; row 2: {1, 2}
    assert lab[0].tolist() == [0, 0, 1, 1] and lab[1].tolist() == [-1] * 4
    assert lab[3].tolist() == [0, -1, -1, 0] and lab[2].tolist() == [-1, 0, 0, -1]
    assert identified_dimension(lab) == 1 + 1 + 1 + 1
    full = coverage_components(token_counts(uniform_prompts(2000, 8, 5, make_generator(0)), 5).numpy(),
                               uniform_prompts(2000, 8, 5, make_generator(0))[:, -1].numpy())
    assert (full == 0).all() and identified_dimension(full) == 5 * 4


def test_row_centred_error_ignores_row_shifts_and_unidentified_entries():
    rng = np.random.default_rng(12)
    W = rng.standard_normal((4, 4))
    assert row_centred_error(W + rng.standard_normal((4, 1)), W) < 1e-20
    lab = np.array([[0, 0, 1, 1]] * 4)
    shifted = W + np.array([0.0, 0.0, 5.0, 5.0])                     # a different constant per component
    assert row_centred_error(shifted, W, lab) < 1e-20 and row_centred_error(shifted, W) > 1.0
    lab[:, 3] = -1
    assert row_centred_error(W + np.array([0, 0, 0, 9.0]), W, lab) < 1e-20


def test_fisher_constants_against_monte_carlo_of_the_mle():
    # n E||rc(W^) - rc(W*)||^2 -> c and n E KL -> d/2 = K(K-1)/2, estimated from 24 independent fits
    K, T, n, reps = 3, 6, 4000, 24
    W_star = random_scores(K, 0.7, make_generator(13)).numpy()
    W_hat = mle_vs_n(W_star, [n], reps, T, make_generator(14))[:, 0]
    X = uniform_prompts(30_000, T, K, make_generator(15))
    m, last = token_counts(X, K).numpy(), X[:, -1].numpy()
    c = mle_error_constant(ccmc_fisher(W_star, m, last))
    assert n * row_centred_error(W_hat, W_star).mean() == pytest.approx(c, rel=0.3)
    assert n * ccmc_kl(W_star, W_hat, m, last).mean() == pytest.approx(K * (K - 1) / 2, rel=0.3)
    # the Fisher blocks are positive semi-definite with the ones vector in their null space
    F = ccmc_fisher(W_star, m, last)
    assert np.allclose(F @ np.ones(K), 0.0, atol=1e-12) and np.linalg.eigvalsh(F).min() > -1e-12


def test_kl_is_zero_at_the_truth_and_positive_elsewhere():
    rng = np.random.default_rng(16)
    W = rng.standard_normal((4, 4))
    m = rng.integers(0, 3, (50, 4)) + 1.0
    last = rng.integers(0, 4, 50)
    assert abs(ccmc_kl(W, W + rng.standard_normal((4, 1)), m, last)) < 1e-14
    assert ccmc_kl(W, np.stack([W, W + 0.3 * rng.standard_normal((4, 4))]), m, last)[1] > 1e-4


def test_polya_and_dirichlet_closed_forms():
    np.testing.assert_allclose(polya_exponents([0.0, -np.log(2.0), np.log(2.0)]), [0.5, 0.25, 1.0])
    assert dirichlet_entropy(2) == pytest.approx(0.5)                 # E[-p log p - (1-p) log(1-p)], p ~ U(0, 1)
    np.testing.assert_allclose(dirichlet_rank_shares(2), [0.75, 0.25])
    np.testing.assert_allclose(dirichlet_rank_shares(7).sum(), 1.0)
    # Monte Carlo over Dirichlet(1, ..., 1) and Dirichlet(2.5, ...)
    rng = np.random.default_rng(17)
    p = rng.dirichlet(np.ones(6), 200_000)
    H = -(p * np.log(p)).sum(1)
    assert H.mean() == pytest.approx(dirichlet_entropy(6), abs=3e-3)
    np.testing.assert_allclose(np.sort(p, 1)[:, ::-1].mean(0), dirichlet_rank_shares(6), atol=2e-3)
    q = rng.dirichlet(2.5 * np.ones(4), 200_000)
    assert (-(q * np.log(q)).sum(1)).mean() == pytest.approx(dirichlet_entropy(4, 2.5), abs=3e-3)
