"""Behaviour of the Chapter 10 drivers (iclcore.experiments.ch10_next_token)."""

import numpy as np
import torch

from iclcore.exercises.next_token import HAND_LABELS, HAND_TOKENS
from iclcore.experiments.ch10_next_token import (
    composition_gap,
    decomposition_history,
    fresh_masks,
    outside_masks,
    priority_graph_figure,
    retrain_priority,
)
from iclcore.models import NextTokenAttention
from iclcore.theory import token_priority as tp

X_HAND, Y_HAND = torch.as_tensor(HAND_TOKENS)[None], torch.as_tensor(HAND_LABELS)[None]


def test_decomposition_history_stacks_steps():
    theory = tp.next_token_theory(X_HAND, Y_HAND, np.eye(4))
    W = np.stack([theory.W_fin, 3 * theory.W_svm + theory.W_fin])               # (R=2, E=1, 4, 4)
    h = decomposition_history(theory, W)
    assert h["cos_dir"].shape == (2, 1) and np.isclose(h["cos_dir"][1, 0], 1) and np.isclose(h["fin_err"][0, 0], 0)


def test_masks_and_a_model_at_the_theory_has_no_composition_gap():
    V = torch.eye(4, dtype=torch.float64)
    theory = tp.next_token_theory(X_HAND, Y_HAND, V)
    outside = outside_masks(X_HAND, Y_HAND, 4)
    assert outside[0, 0].tolist() == [False, False, True, True]
    model = NextTokenAttention(V)
    with torch.no_grad():
        model.W[0] = torch.as_tensor(60 * theory.W_svm[0] / np.linalg.norm(theory.W_svm[0]) + theory.W_fin[0])
    top, defined = fresh_masks(theory, X_HAND, 4)
    present = (X_HAND[..., None] == torch.arange(4)).any(-2).numpy()
    assert defined.all() and np.array_equal(top, ~outside.numpy() & present)
    _, _, tv = composition_gap(model.probs(X_HAND).numpy(), theory, X_HAND, top, V)
    assert tv.max() < 1e-12


def test_graph_figure_has_one_trace_per_scc():
    G = tp.priority_graph(HAND_TOKENS, HAND_LABELS, 3)
    fig = priority_graph_figure(G, "hand", levels=[0, 0, 1, 2])
    assert len(fig.data) == 3 and len(fig.layout.annotations) == G.number_of_edges()


def test_retrain_priority_runs_small():
    r = retrain_priority(K=5, T=3, n=120, ties=(2,), steps=40, lr=0.3, n_test=200, progress=False)
    assert set(r) >= {"task", "model", "theory", "decomposition", "outside", "tv"}
    assert 0 <= r["outside"] <= 1 and r["decomposition"]["norm"][0] > 1
