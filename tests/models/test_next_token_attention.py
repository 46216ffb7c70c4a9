"""Behaviour of iclcore.models.next_token_attention.NextTokenAttention."""

import numpy as np
import torch

from iclcore.models import NextTokenAttention
from iclcore.tasks.token_priority import log_prob_nll, random_label_data, token_embeddings
from iclcore.train import fit


def _data(E=3, n=40, T=5, K=6, d=8):
    X, y = random_label_data(n, T, K, n_members=E, seed=1)
    return X, y, token_embeddings(K, d, "random", n_members=E, seed=2)


def test_output_is_the_attention_mass_of_each_token():
    X, y, V = _data()
    m = NextTokenAttention(V, n_members=3, init_scale=1.0, seed=3)
    P = m.probs(X)
    mass = torch.zeros_like(P).scatter_add_(-1, X, m.attention(X).detach())
    assert torch.allclose(P, mass, atol=1e-14)
    assert torch.allclose(P.sum(-1), torch.ones(3, 40, dtype=torch.float64))
    present = torch.zeros_like(P, dtype=torch.bool).scatter_(-1, X, True)
    assert (P[~present] == 0).all()


def test_scores_follow_the_bilinear_form():
    X, y, V = _data(E=2)
    m = NextTokenAttention(V, n_members=2, init_scale=1.0, seed=4)
    W = m.W.detach()
    e, i, t = 1, 5, 2
    want = V[e, X[e, i, t]] @ W[e] @ V[e, X[e, i, -1]]
    assert torch.allclose(m.scores(X)[e, i, t], want)
    assert torch.allclose(m.score_table()[e, 3, 1], V[e, 1] @ W[e] @ V[e, 3])


def test_stable_and_naive_agree_before_saturation():
    X, y, V = _data()
    a = NextTokenAttention(V, n_members=3, init_scale=1.0, seed=3)
    b = NextTokenAttention(V, n_members=3, init_scale=1.0, seed=3, stable=False)
    la, lb = a(X), b(X)
    finite = torch.isfinite(la)
    assert torch.equal(finite, torch.isfinite(lb)) and torch.allclose(la[finite], lb[finite], atol=1e-12)
    log_prob_nll(la, y).sum().backward()
    log_prob_nll(lb, y).sum().backward()
    assert torch.allclose(a.W.grad, b.W.grad, atol=1e-12)


def test_stable_gradient_survives_saturation():
    """One sequence [0, 1, 2] with label 0 and orthonormal embeddings: dL/dW[j, 2] = p_j for j != 0 and
    dL/dW[0, 2] = -(p_1 + p_2). At a gap of 45 the naive gradient loses the label's entry; the log-odds keeps it."""
    V = torch.eye(3, dtype=torch.float64)
    X, y = torch.tensor([[[0, 1, 2]]]), torch.tensor([[0]])
    grads = {}
    for stable in (True, False):
        m = NextTokenAttention(V, stable=stable)
        with torch.no_grad():
            m.W[0, :, 2] = torch.tensor([45.0, 0.0, -1.0])
        log_prob_nll(m(X), y).sum().backward()
        grads[stable] = m.W.grad[0, :, 2]
    p1, p2 = np.exp(-45.0), np.exp(-46.0)
    assert np.allclose(grads[True].numpy(), [-(p1 + p2), p1, p2], rtol=1e-10, atol=0)
    assert grads[False][0] == 0 and grads[False][1] > 0                      # the label term has underflowed


def test_single_token_sequence_has_no_nan_gradient():
    V = torch.eye(3, dtype=torch.float64)
    m = NextTokenAttention(V, init_scale=1.0)
    X, y = torch.tensor([[[1, 1, 1], [0, 2, 1]]]), torch.tensor([[1, 2]])
    loss = log_prob_nll(m(X), y)
    loss.sum().backward()
    assert torch.isfinite(loss).all() and torch.isfinite(m.W.grad).all()
    assert torch.allclose(m.probs(X)[0, 0], torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64))


def test_ensemble_equals_separate_runs():
    X, y, V = _data(E=3)
    joint = NextTokenAttention(V, n_members=3)
    fit(joint, (X, y), steps=60, optimizer="ngd", lr=0.3, loss=log_prob_nll, progress=False)
    for e in range(3):
        alone = NextTokenAttention(V[e:e + 1])
        fit(alone, (X[e:e + 1], y[e:e + 1]), steps=60, optimizer="ngd", lr=0.3, loss=log_prob_nll, progress=False)
        assert torch.allclose(joint.W[e], alone.W[0], atol=1e-10)
