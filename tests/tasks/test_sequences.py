import numpy as np
import pytest
import torch

from iclcore.tasks import LMWindows, NeedleRetrieval, make_generator, spiky_transitions, synthetic_stories


def test_spiky_transitions_shapes_range_and_realisability():
    task = spiky_transitions(K=16, d=4, beta_range=(0.5, 8.0), seed=0)
    assert task.X.shape == (16, 4) and task.P.shape == (16, 16)
    torch.testing.assert_close(task.X.norm(dim=1), torch.ones(16, dtype=torch.float64))
    torch.testing.assert_close(task.P.sum(1), torch.ones(16, dtype=torch.float64))
    assert task.beta.min().item() == pytest.approx(0.5) and task.beta.max().item() == pytest.approx(8.0)
    # beta is softplus-affine in x, so the SSA model (tau = softplus) represents P* exactly
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


@pytest.mark.parametrize("call, match", [
    (lambda: spiky_transitions(K=0), "K must be"),
    (lambda: spiky_transitions(beta_range=(2.0, 1.0)), "increasing"),
    (lambda: spiky_transitions(beta_range=(0.0, 1.0)), r"beta_range\[0\] must be"),
    (lambda: NeedleRetrieval(d=0), "d must be"),
    (lambda: NeedleRetrieval(n=(9, 5)), r"n\[1\] must be in"),
    (lambda: NeedleRetrieval(noise=-1.0), "noise must be"),
    (lambda: synthetic_stories(0), "n_tokens must be"),
    (lambda: synthetic_stories(10, n_filler=(3, 1)), r"n_filler\[1\] must be"),
    (lambda: LMWindows(synthetic_stories(100), T=10_000), "T must be in"),
])
def test_bad_input_raises(call, match):
    with pytest.raises(ValueError, match=match):
        call()
