import numpy as np
import pytest
import torch

from iclcore.tasks import (
    IGNORE,
    LMWindows,
    NeedleRetrieval,
    make_generator,
    row_kl,
    spiky_transitions,
    synthetic_stories,
)
from iclcore.tasks.sequences import DecoyRetrieval


def test_spiky_transitions_shapes_range_and_realisability():
    task = spiky_transitions(K=16, d=4, beta_range=(0.5, 8.0), seed=0)
    assert task.X.shape == (16, 4) and task.P.shape == (16, 16)
    torch.testing.assert_close(task.X.norm(dim=1), torch.ones(16, dtype=torch.float64))
    torch.testing.assert_close(task.P.sum(1), torch.ones(16, dtype=torch.float64))
    assert task.beta.min().item() == pytest.approx(0.5) and task.beta.max().item() == pytest.approx(8.0)
    # beta is softplus-affine in x, so the SSA model (inv_temp = softplus) represents P* exactly
    beta = torch.nn.functional.softplus(task.X @ task.a + task.b)
    torch.testing.assert_close(beta, task.beta)
    assert task.kl_rows(task.P.log()).item() == pytest.approx(0.0, abs=1e-12)
    assert task.kl_rows(torch.full((16, 16), -np.log(16.0), dtype=torch.float64)).item() > 0.1
    again = spiky_transitions(K=16, d=4, beta_range=(0.5, 8.0), seed=0)
    torch.testing.assert_close(again.P, task.P)


def test_needle_retrieval_sampler():
    task = NeedleRetrieval(d=8, n=(5, 9), noise=0.0)
    Z, y, t = task.sample(6, make_generator(3))
    n = Z.shape[1] - 1
    assert 5 <= n <= 9 and Z.shape == (6, n + 1, 9)
    rows = torch.arange(6)
    torch.testing.assert_close(Z[rows, t, -1], y)                # the target is the needle's value
    torch.testing.assert_close(Z[:, -1, :-1], Z[rows, t, :-1])    # noise 0: the query is the needle key
    assert torch.all(Z[:, -1, -1] == 0)
    torch.testing.assert_close(Z[:, :-1, :-1].norm(dim=-1), torch.ones(6, n))
    Z2, y2 = task(6, make_generator(3))
    torch.testing.assert_close(Z2, Z)
    assert NeedleRetrieval(4, 17)(2, make_generator(0))[0].shape == (2, 18, 5)


def test_stories_copy_distances_point_at_the_same_name():
    corpus = synthetic_stories(5000, seed=0)
    tok, dist = corpus.tokens, corpus.copy_dist
    assert len(tok) >= 5000 and tok.max() < len(corpus.vocab)
    idx = np.nonzero(dist)[0]
    assert len(idx) > 0.1 * len(tok)
    assert np.all(tok[idx - dist[idx]] == tok[idx])               # a copy position repeats an earlier token
    names = {corpus.vocab.index(w) for w in corpus.vocab if w[0].isupper()}
    assert set(np.unique(tok[idx])) <= names
    assert corpus.decode(tok[:4]) == "once there was a"
    assert np.array_equal(synthetic_stories(5000, seed=0).tokens, tok)
    assert not np.array_equal(synthetic_stories(5000, seed=1).tokens[:200], tok[:200])


def test_lm_windows():
    corpus = synthetic_stories(3000, seed=2)
    w = LMWindows(corpus, T=16)
    x, y = w(4, make_generator(0))
    assert x.shape == y.shape == (4, 16)
    starts = torch.tensor([0, 100])
    x, y = w.windows(starts)
    torch.testing.assert_close(x[:, 1:], y[:, :-1])
    mask = w.copy_positions(starts)
    tok = torch.as_tensor(corpus.tokens)
    dist = torch.as_tensor(corpus.copy_dist)
    for b, s in enumerate(starts.tolist()):
        for t in torch.nonzero(mask[b]).flatten().tolist():
            p = s + t + 1
            assert p - dist[p] >= s and tok[p - dist[p]] == y[b, t]     # source inside the window


def test_row_kl_known_values_and_members():
    P = torch.tensor([[0.5, 0.5], [0.9, 0.1]], dtype=torch.float64)
    uniform = torch.full((2, 2), 0.5, dtype=torch.float64).log()
    expected = (0.0 + (0.9 * np.log(0.9 / 0.5) + 0.1 * np.log(0.1 / 0.5))) / 2
    assert row_kl(uniform, P).item() == pytest.approx(expected)
    assert row_kl(torch.stack([P.log(), uniform]), P).tolist() == pytest.approx([0.0, expected])


def test_lm_held_out_windows_are_evenly_spaced_and_copy_only_keeps_the_names():
    corpus = synthetic_stories(4000, seed=3)
    w = LMWindows(corpus, T=16)
    idx, targets = w.held_out(5)
    starts = torch.linspace(0, len(corpus.tokens) - 16 - 2, 5).long()
    ref_idx, ref_targets = w.windows(starts)
    torch.testing.assert_close(idx, ref_idx)
    torch.testing.assert_close(targets, ref_targets)
    _, copy = w.held_out(5, copy_only=True)
    keep = w.copy_positions(starts)
    torch.testing.assert_close(copy[keep], targets[keep])
    assert torch.all(copy[~keep] == IGNORE) and keep.any()


def test_decoy_retrieval_repeats_the_needle_key_on_a_flagged_token():
    task = DecoyRetrieval(d=6, n=(5, 9), noise=0.0, decoy_scale=3.0)
    Z, y = task(200, make_generator(4))
    n = Z.shape[1] - 1
    assert 5 <= n <= 9 and Z.shape == (200, n + 1, 8)
    flag, keys, values = Z[:, :-1, -2], Z[:, :-1, :-2], Z[:, :-1, -1]
    assert torch.all(flag.sum(-1) == 1) and torch.all(Z[:, -1, -2:] == 0)
    decoy = flag.argmax(-1)
    rows = torch.arange(200)
    same_key = (keys == keys[rows, decoy][:, None]).all(-1)                      # tokens with the decoy's key
    assert torch.all(same_key.sum(-1) == 2)                                      # the decoy and the needle
    needle = (same_key & (flag == 0)).float().argmax(-1)
    torch.testing.assert_close(values[rows, needle], y)                          # the target is the needle's value
    torch.testing.assert_close(Z[:, -1, :-2], keys[rows, needle])               # noise 0: the query is the key
    assert values[rows, decoy].std().item() == pytest.approx(3.0, rel=0.2)       # corrupted values, std 3
    assert abs(np.corrcoef(values[rows, decoy].numpy(), y.numpy())[0, 1]) < 0.2   # unrelated to the answer


def test_story_grammar_accepts_the_generator_and_rejects_shuffles():
    from iclcore.tasks import grammatical_sentences, synthetic_stories
    c = synthetic_stories(3000, seed=0)
    words = c.decode(c.tokens).split()
    ok, total = grammatical_sentences(words)
    assert ok == total > 100
    rng = np.random.default_rng(0)
    shuffled = [w for w in rng.permutation(words) if w != "."][:600]
    shuffled = [w for i, w in enumerate(shuffled) for w in ([w, "."] if i % 6 == 5 else [w])]
    ok_s, total_s = grammatical_sentences(shuffled)
    assert total_s == 100 and ok_s < 5


def test_ngram_cross_entropy_known_values():
    from iclcore.tasks import ngram_cross_entropy
    rng = np.random.default_rng(0)
    iid = rng.integers(0, 4, 20_000)
    assert abs(ngram_cross_entropy(iid, rng.integers(0, 4, 5000), 4, 1) - np.log(4)) < 0.01
    cyc = np.arange(3000) % 5                                      # deterministic successor: bigram entropy ~ 0
    assert ngram_cross_entropy(cyc, cyc, 5, 2) < 0.01 < ngram_cross_entropy(cyc, cyc, 5, 1)
