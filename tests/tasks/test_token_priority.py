"""Behaviour of iclcore.tasks.token_priority: the planted-priority generator and the paper's random data."""

import numpy as np
import torch

from iclcore.tasks import make_generator
from iclcore.tasks.token_priority import (
    TokenPriorityTask,
    log_prob_nll,
    random_label_data,
    token_embeddings,
    tokens_present,
)


def test_levels_have_the_planted_ties_and_the_query_last():
    task = TokenPriorityTask(K=8, T=5, tie_sizes=[(2, 3), ()], n_members=2, seed=3)
    for e, ties in enumerate([(2, 3), ()]):
        for k in range(8):
            lv = task.level[e, k]
            assert lv[k] == lv.max() and (lv == lv[k]).sum() == 1          # the query alone at the bottom
            sizes = sorted(torch.bincount(lv[torch.arange(8) != k]).tolist())
            assert sizes == sorted(list(ties) + [1] * (7 - sum(ties)))
    assert torch.allclose(task.pref.sum(-1), torch.ones(2, 8, dtype=torch.float64))


def test_labels_are_top_level_tokens_of_their_sequence():
    task = TokenPriorityTask(K=8, T=5, n_members=3, seed=0)
    X, y = task(500, make_generator(1))
    assert X.shape == (3, 500, 5) and y.shape == (3, 500) and X.dtype == torch.int64
    top = task.top_level_mask(X)
    assert top.gather(-1, y.unsqueeze(-1)).all()
    # brute force: the highest level present, from the level table
    e, i = 1, 7
    lv = [int(task.level[e, X[e, i, -1], t]) for t in X[e, i]]
    assert set(np.flatnonzero(top[e, i].numpy())) == {int(t) for t, v in zip(X[e, i], lv, strict=True) if v == min(lv)}


def test_tie_broken_with_the_planted_preferences():
    """Monte Carlo: when exactly the two tokens of the top tie are present, P(label = a) = q_a / (q_a + q_b)."""
    task = TokenPriorityTask(K=4, T=3, tie_sizes=(2,), n_members=1, seed=5)
    X, y = task(60_000, make_generator(6))
    k = 0
    lv = task.level[0, k]
    tie = int(torch.bincount(lv).argmax())                                 # the level holding two tokens
    a, b = [int(j) for j in torch.nonzero(lv == tie).flatten()]
    above = [int(j) for j in torch.nonzero(lv < tie).flatten()]
    rows = (X[0, :, -1] == k) & (X[0] == a).any(-1) & (X[0] == b).any(-1)
    for j in above:
        rows &= ~(X[0] == j).any(-1)
    q = task.pref[0, k]
    freq = (y[0, rows] == a).double().mean().item()
    want = (q[a] / (q[a] + q[b])).item()
    se = np.sqrt(want * (1 - want) / rows.sum().item())
    assert abs(freq - want) < 4 * se


def test_no_structure_labels_uniform_over_positions():
    task = TokenPriorityTask(K=6, T=4, n_members=1, structure=False, seed=0)
    X, y = task(40_000, make_generator(2))
    assert (X[0] == y[0, :, None]).any(-1).all()
    at_last = (y[0] == X[0, :, -1]).double().mean().item()                 # P(label = query token) >= 1/T
    assert at_last > 0.24


def test_dataset_is_reproducible():
    task = TokenPriorityTask(K=6, T=4, seed=1)
    a, b = task.dataset(50, seed=9), task.dataset(50, seed=9)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert torch.equal(TokenPriorityTask(K=6, T=4, seed=1).level, task.level)


def test_random_label_data_labels_from_a_uniform_position():
    X, y = random_label_data(n=20_000, T=4, K=3, n_members=2, seed=0)
    assert X.shape == (2, 20_000, 4) and (X == y[..., None]).any(-1).all()
    counts = (X == y[..., None]).sum(-1).double()                         # copies of the label in its sequence
    # P(label = token j) = m_j / T, so E[copies of the label] = E[sum_j m_j^2] / T
    m = torch.stack([(X == j).sum(-1) for j in range(3)], -1).double()
    assert abs(counts.mean().item() - ((m ** 2).sum(-1) / 4).mean().item()) < 0.03


def test_embeddings():
    V = token_embeddings(4, 6)
    assert V.shape == (1, 4, 6) and torch.equal(V[0], torch.eye(6, dtype=torch.float64)[:4])
    R = token_embeddings(5, 8, "random", n_members=3, seed=1)
    assert R.shape == (3, 5, 8) and torch.allclose(R.norm(dim=-1), torch.ones(3, 5, dtype=torch.float64))


def test_tokens_present_and_nll():
    X = torch.tensor([[[0, 2, 2], [1, 1, 1]]])
    assert tokens_present(X, 3).tolist() == [[[True, False, True], [False, True, False]]]
    logp = torch.log(torch.tensor([[[0.5, 0.0, 0.5], [0.0, 1.0, 0.0]]], dtype=torch.float64))
    want = torch.tensor([np.log(2) / 2], dtype=torch.float64)
    assert torch.allclose(log_prob_nll(logp, torch.tensor([[2, 1]])), want)
