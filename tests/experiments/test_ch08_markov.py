import numpy as np
import torch

from iclcore.experiments.ch08_markov import collapse_summary, growth_slopes, mle_vs_n, teacher_data
from iclcore.tasks import generate_ccmc, make_generator, random_scores, token_counts
from iclcore.theory import base_chain_entropy, ccmc_mle


def test_teacher_data_only_produces_tokens_of_the_prompt():
    W = random_scores(5, 1.0, make_generator(0)).numpy()
    X, y = teacher_data(W, 500, 4, make_generator(1))
    assert X.shape == (500, 4) and y.shape == (500,)
    assert bool((X == y[:, None]).any(1).all())                    # the CCMC only copies tokens it has seen


def test_mle_vs_n_fits_nested_prefixes_of_each_data_set():
    W = random_scores(3, 1.0, make_generator(2)).numpy()
    W_hat = mle_vs_n(W, [200, 600], 2, 5, make_generator(3))
    assert W_hat.shape == (2, 2, 3, 3)
    gen = make_generator(3)
    for r in range(2):
        X, y = teacher_data(W, 600, 5, gen)
        m, last = token_counts(X, 3).numpy(), X[:, -1].numpy()
        np.testing.assert_allclose(W_hat[r, 0], ccmc_mle(m[:200], last[:200], y[:200].numpy()), atol=1e-8)
        np.testing.assert_allclose(W_hat[r, 1], ccmc_mle(m, last, y.numpy()), atol=1e-8)


def test_growth_slopes_of_a_known_sequence():
    # token 1 at the perfect squares, token 0 elsewhere: counts sqrt(L) and L - sqrt(L) after L tokens
    seq = torch.zeros(1, 10_000, dtype=torch.int64)
    seq[0, (torch.arange(1, 101) ** 2) - 1] = 1
    lengths = [100, 1000, 10_000]
    mean_log, slopes = growth_slopes(seq, 2, lengths)
    root = np.floor(np.sqrt(lengths))
    np.testing.assert_allclose(mean_log, np.log(np.stack([lengths - root, root], 1)), atol=1e-12)
    np.testing.assert_allclose(slopes, np.polyfit(np.log(lengths), mean_log, 1)[0])
    assert abs(slopes[1] - 0.5) < 0.01


def test_collapse_summary_of_the_base_chain_is_about_one():
    W = random_scores(4, 1.0, make_generator(4), n=2)
    t = generate_ccmc(W, torch.arange(4), 3000, runs=40, generator=make_generator(5), count_weighting=False)
    s = collapse_summary(t, W)
    np.testing.assert_allclose(s["ratio"], 1.0, atol=0.03)
    np.testing.assert_allclose(s["H_base"], [base_chain_entropy(w) for w in W.numpy()])
    np.testing.assert_allclose(s["ranks"].sum(-1), 1.0)
