import numpy as np
import torch
from scipy.special import digamma

from iclcore.tasks import (
    generate_ccmc,
    histogram_entropy,
    make_generator,
    next_token_nll,
    random_scores,
    rank_shares,
    sample_tokens,
    token_counts,
    top_share,
    uniform_prompts,
)
from iclcore.theory import base_chain, ccmc_probs


def _freq(tokens: torch.Tensor, K: int) -> np.ndarray:
    return np.bincount(tokens.reshape(-1).numpy(), minlength=K) / tokens.numel()


def test_prompts_counts_and_groups():
    g = make_generator(0)
    X = uniform_prompts(500, 9, 5, g)
    assert X.shape == (500, 9) and X.dtype == torch.int64 and 0 <= X.min() and X.max() < 5
    m = token_counts(torch.tensor([[0, 2, 2, 4]]), 5)
    assert m.tolist() == [[1.0, 0.0, 2.0, 0.0, 1.0]]
    w = token_counts(torch.tensor([0, 2, 2]), 3, weights=torch.tensor([1.0, 2.0, 3.0]))
    assert w.tolist() == [1.0, 0.0, 5.0]
    Xg = uniform_prompts(400, 6, 6, g, groups=[[0, 1, 2], [3, 4, 5]])
    low = (Xg < 3).all(1)
    assert bool((low | (Xg >= 3).all(1)).all()) and 0.4 < low.double().mean() < 0.6


def test_sample_tokens_matches_probabilities():
    p = torch.tensor([0.1, 0.0, 0.6, 0.3], dtype=torch.float64)
    draws = sample_tokens(p.expand(40_000, 4), make_generator(1))
    f = _freq(draws, 4)
    assert f[1] == 0 and np.abs(f - p.numpy()).max() < 0.01


def test_first_generated_token_follows_the_ccmc_and_the_base_chain():
    g = make_generator(2)
    W = random_scores(4, 1.0, g)
    prompt = torch.tensor([0, 2, 2, 3, 2, 1])
    m = token_counts(prompt, 4).numpy()
    first = generate_ccmc(W, prompt, 1, runs=40_000, generator=g)[:, -1]
    assert np.abs(_freq(first, 4) - ccmc_probs(W.numpy(), m, 1)).max() < 0.01
    first0 = generate_ccmc(W, prompt, 1, runs=40_000, generator=g, count_weighting=False)[:, -1]
    assert np.abs(_freq(first0, 4) - base_chain(W.numpy())[1]).max() < 0.01


def test_position_bias_weights_the_counts():
    g = make_generator(3)
    W = random_scores(3, 1.0, g)
    prompt = torch.tensor([0, 1, 2, 0, 1])
    zeta = -0.4
    weights = torch.exp(zeta * torch.arange(1, 6, dtype=torch.float64))
    expected = ccmc_probs(W.numpy(), token_counts(prompt, 3, weights=weights).numpy(), 1)
    first = generate_ccmc(W, prompt, 1, runs=40_000, generator=g, recency=zeta)[:, -1]
    assert np.abs(_freq(first, 3) - expected).max() < 0.01


def test_windows_keep_or_drop_the_prompt():
    g = make_generator(4)
    W = torch.zeros(3, 3, dtype=torch.float64)
    prompt = torch.tensor([0, 1, 2])
    # a window of 1 that drops the prompt: only the last token is left, so it repeats forever
    t = generate_ccmc(W, prompt, 50, runs=20, generator=g, window=1, keep_prompt=False)
    assert bool((t[:, 3:] == 2).all())
    # keeping the prompt with a window of 1: second token ~ counts (1, 1, 1) + e_{first}
    t = generate_ccmc(W, prompt, 2, runs=60_000, generator=g, window=1)
    first, second = t[:, 3], t[:, 4]
    for j in range(3):
        f = _freq(second[first == j], 3)
        assert np.abs(f - ccmc_probs(W.numpy(), np.ones(3) + np.eye(3)[j], j)).max() < 0.015


def _reference_generation(W, prompt, steps, runs, seed, window, keep_prompt, zeta):
    """Token-by-token reference: recompute the (log) weighted counts of the context from scratch at every step,
    drawing the same uniforms as generate_ccmc (one (1, runs, 1) draw per step)."""
    g = make_generator(seed)
    K, T0 = W.shape[0], len(prompt)
    seqs = np.tile(np.asarray(prompt), (runs, 1))
    for p in range(T0, T0 + steps):
        pos = np.arange(p)
        inside = np.ones(p, bool) if window is None else pos >= p - window
        if keep_prompt:
            inside |= pos < T0
        u = torch.rand(1, runs, 1, generator=g, dtype=torch.float64)[0, :, 0].numpy()
        new = np.empty(runs, dtype=int)
        for r in range(runs):
            logm = np.full(K, -np.inf)
            for j in range(K):
                sel = inside & (seqs[r] == j)
                if sel.any():
                    z = zeta * pos[sel]
                    logm[j] = z.max() + np.log(np.exp(z - z.max()).sum())
            z = logm + W[seqs[r, -1]]
            w = np.exp(z - z.max())
            c = np.cumsum(w)
            new[r] = min(int((c <= u[r] * c[-1]).sum()), K - 1)
        seqs = np.concatenate([seqs, new[:, None]], 1)
    return seqs


def test_generation_equals_a_from_scratch_reference_with_windows_bias_and_rescaling():
    W = random_scores(4, 1.0, make_generator(5)).numpy()
    prompt = [0, 1, 2, 3, 1]
    # zeta = -0.3 overflows 1e200 after about 1540 steps: the run crosses the rescaling
    for window, keep, zeta, steps in [(None, True, 0.0, 60), (3, True, 0.0, 60), (4, False, 0.0, 40),
                                      (6, True, 0.25, 80), (5, True, -0.3, 1600), (None, True, -0.3, 1600)]:
        ours = generate_ccmc(W, prompt, steps, runs=3, generator=make_generator(11), window=window,
                             keep_prompt=keep, recency=zeta).numpy()
        ref = _reference_generation(W, prompt, steps, 3, 11, window, keep, zeta)
        assert np.array_equal(ours, ref), (window, keep, zeta)


def test_stack_of_chains_equals_separate_single_chains_in_distribution():
    g = make_generator(6)
    W = random_scores(3, 1.5, g, n=2)
    t = generate_ccmc(W, torch.arange(3), 1, runs=30_000, generator=g)
    for e in range(2):
        assert np.abs(_freq(t[e, :, -1], 3) - ccmc_probs(W[e].numpy(), np.ones(3), 2)).max() < 0.012


def test_polya_urn_exponent_monte_carlo():
    a = np.array([0.0, -0.7])
    t = generate_ccmc(np.tile(a, (2, 1)), torch.arange(2), 4000, runs=300, generator=make_generator(7))
    counts = torch.nn.functional.one_hot(t.long(), 2).double().cumsum(1)
    lengths = np.array([400, 4002])
    mean_log = counts[:, lengths - 1].log().mean(0).numpy()
    slope = (mean_log[1] - mean_log[0]) / np.log(lengths[1] / lengths[0])
    assert abs(slope[1] - np.exp(-0.7)) < 0.1


def test_flat_scores_give_dirichlet_entropy():
    K = 3
    t = generate_ccmc(np.zeros((K, K)), torch.arange(K), 2000, runs=400, generator=make_generator(8))
    H = float(histogram_entropy(t, K, last=1000).mean())
    assert abs(H - (digamma(K + 1) - digamma(2))) < 0.05


def test_metrics_known_values():
    t = torch.tensor([[1, 1, 1, 1], [0, 1, 2, 3], [2, 2, 0, 0]])
    H = histogram_entropy(t, 4)
    torch.testing.assert_close(H, torch.tensor([0.0, np.log(4), np.log(2)], dtype=torch.float64))
    assert top_share(t, 4).tolist() == [1.0, 0.25, 0.5]
    assert top_share(t, 4, k=2).tolist() == [1.0, 0.5, 1.0]
    assert rank_shares(t, 4)[2].tolist() == [0.5, 0.5, 0.0, 0.0]
    assert histogram_entropy(t, 4, last=2)[2] == 0
    probs = torch.tensor([[[0.5, 0.5], [0.25, 0.75]]], dtype=torch.float64)
    nll = next_token_nll(probs, torch.tensor([0, 1]))
    torch.testing.assert_close(nll, torch.tensor([-(np.log(0.5) + np.log(0.75)) / 2], dtype=torch.float64))
