"""Behaviour of iclcore.theory.token_priority: priority graphs, SCCs, the graph-SVM and the finite component."""

import numpy as np
import torch

from iclcore.models import NextTokenAttention
from iclcore.tasks.token_priority import log_prob_nll, random_label_data, token_embeddings
from iclcore.theory import token_priority as tp
from iclcore.train import fit

# every sequence ends with token 3; SCCs {0, 1} > {2} > {3}; label 0 beats 1 in 2 of the 3 sequences holding both
HAND_X = np.array([[0, 1, 2, 3], [0, 1, 3, 3], [0, 1, 3, 3], [1, 2, 3, 3], [0, 2, 2, 3], [2, 3, 3, 3]])
HAND_Y = np.array([0, 1, 0, 1, 0, 2])


def test_priority_graph_of_the_hand_example():
    G = tp.priority_graph(HAND_X, HAND_Y, 3)
    assert set(G.edges) == {(0, 1), (0, 2), (0, 3), (1, 0), (1, 3), (1, 2), (2, 3)}
    assert G[0][3]["count"] == 3
    assert tp.strongly_connected_components(G) == [frozenset({0, 1}), frozenset({2}), frozenset({3})]
    assert tp.adjacency(G, 4).sum() == 7 and tp.priority_graph(HAND_X, HAND_Y, 1).number_of_nodes() == 0


def test_sccs_of_known_graphs_in_priority_order():
    # a 3-cycle {4, 5, 6} above a chain 2 -> 1 -> 0, plus a 2-cycle {0, 7} at the bottom
    import networkx as nx
    G = nx.DiGraph([(4, 5), (5, 6), (6, 4), (6, 2), (2, 1), (1, 0), (0, 7), (7, 0)])
    assert tp.strongly_connected_components(G) == [frozenset({4, 5, 6}), frozenset({2}), frozenset({1}),
                                                   frozenset({0, 7})]
    assert tp.scc_index(G)[7] == 3
    assert tp.levels_partition([1, 0, 1, 2]) == [frozenset({1}), frozenset({0, 2}), frozenset({3})]
    assert tp.levels_partition([1, 0, 1, 2], tokens=[0, 3]) == [frozenset({0}), frozenset({3})]


def test_graph_svm_solves_the_hand_instance():
    """By hand: w = W e_3 = (3/4, 3/4, -1/4, -5/4), every other column 0, ||W||^2 = 11/4."""
    W = tp.graph_svm(HAND_X, HAND_Y, np.eye(4))
    assert np.allclose(W[:, 3], [0.75, 0.75, -0.25, -1.25], atol=1e-6)
    assert np.allclose(W[:, :3], 0, atol=1e-6)
    assert np.isclose((W ** 2).sum(), 11 / 4, atol=1e-5)


def test_equalities_change_the_svm_when_the_cycle_is_irregular():
    """SCC {0, 1}, but only 0 was ever compared with 2: without the equality, w_1 drops to its own bound."""
    X = np.array([[0, 1, 3], [0, 1, 3], [0, 2, 3], [1, 3, 3], [2, 3, 3]])
    y = np.array([0, 1, 0, 1, 2])
    with_eq = tp.graph_svm(X, y, np.eye(4))
    without = tp.graph_svm(X, y, np.eye(4), equality=False)
    assert np.isclose(with_eq[0, 3], with_eq[1, 3], atol=1e-6)
    assert tp.cosine(with_eq, without) < 0.99
    C = tp.constraint_table(X, y, 4)
    assert C[3, 0, 1] == 2 and C[3, 1, 0] == 2 and C[3, 0, 2] == 1 and C[3, 1, 2] == 0
    assert (tp.constraint_table(X, y, 4, equality=False) == 2).sum() == 0
    assert (3, 0, 1, "==") in tp.svm_constraints(X, y) and (3, 0, 1, "==") not in tp.svm_constraints(X, y, False)


def test_finite_component_of_the_hand_instance():
    """Among the three sequences holding 0 and 1 once each, 0 wins twice: w_0 - w_1 = log 2."""
    W = tp.finite_component(HAND_X, HAND_Y, np.eye(4))
    assert np.allclose(W[:, 3], [np.log(2) / 2, -np.log(2) / 2, 0, 0], atol=1e-9)
    assert np.allclose(W[:, :3], 0)


def test_finite_component_is_stationary_and_orthogonal_to_the_svm():
    """First-order optimality of the cut-down loss on S_fin, and W^svm ⊥ S_fin, on random instances."""
    X, y = random_label_data(8, 4, 5, n_members=6, seed=3)
    V = token_embeddings(5, 7, "random", n_members=6, seed=4).numpy()
    checked = 0
    for e in range(6):
        Xe, ye = X[e].numpy(), y[e].numpy()
        basis = tp.finite_subspace(Xe, ye, V[e])
        W_svm = tp.graph_svm(Xe, ye, V[e])
        assert np.allclose(np.einsum("mij,ij->m", basis, W_svm), 0, atol=1e-6)
        assert np.allclose(np.einsum("aij,bij->ab", basis, basis), np.eye(len(basis)), atol=1e-10)
        if len(basis) == 0:
            continue
        W_fin = tp.finite_component(Xe, ye, V[e])
        keep = tp.label_scc_mask(Xe, ye, 5)
        P = tp.soft_composition(W_fin, Xe, keep, V[e])                   # (n, K)
        grad = sum(np.outer(P[i] @ V[e] - V[e][ye[i]], V[e][Xe[i, -1]]) for i in range(len(ye)))
        assert np.allclose(np.einsum("mij,ij->m", basis, grad), 0, atol=1e-9)
        checked += 1
    assert checked >= 1


def test_masks_and_soft_composition():
    keep = tp.label_scc_mask(HAND_X, HAND_Y)
    assert keep[0].tolist() == [True, True, False, False] and keep[5].tolist() == [False, False, True, False]
    graphs = tp.priority_graphs(HAND_X, HAND_Y)
    mask, defined = tp.top_scc_mask(np.array([[2, 3, 3, 3], [1, 1, 2, 3], [0, 1, 2, 2]]), graphs, 4)
    assert defined.tolist() == [True, True, False]                          # query 2 has no graph
    assert mask[0].tolist() == [False, False, True, False] and mask[1].tolist() == [False, True, False, False]
    P = tp.soft_composition(np.zeros((4, 4)), np.array([[0, 1, 1, 3]]), np.array([[True, True, False, True]]),
                            np.eye(4))
    assert np.allclose(P, [[0.25, 0.5, 0, 0.25]])                           # W = 0: proportional to counts


def test_top_scc_undefined_for_incomparable_components():
    X = np.array([[0, 2, 3], [1, 2, 3]])                                     # 0 > 2 and 1 > 2, 0 vs 1 never met
    y = np.array([0, 1])
    mask, defined = tp.top_scc_mask(np.array([[0, 1, 3], [0, 2, 3]]), tp.priority_graphs(X, y), 4)
    assert defined.tolist() == [False, True] and mask[1].tolist() == [True, False, False, False]


def test_decompose_an_exact_decomposition():
    theory = tp.next_token_theory(HAND_X[None], HAND_Y[None], np.eye(4))
    W = 7.0 * theory.W_svm / np.linalg.norm(theory.W_svm) + theory.W_fin
    d = theory.decompose(W)
    assert np.allclose(d["cos_dir"], 1) and np.allclose(d["fin_err"], 0, atol=1e-12)
    assert np.allclose(d["fin_norm"], np.linalg.norm(theory.W_fin))


def test_gradient_descent_follows_the_decomposition_on_the_hand_instance():
    """Normalised GD from W = 0: direction -> W^svm, projection on S_fin -> W^fin, mass outside the top SCC -> 0."""
    V = torch.eye(4, dtype=torch.float64)
    X, y = torch.as_tensor(HAND_X)[None], torch.as_tensor(HAND_Y)[None]
    theory = tp.next_token_theory(X, y, V)
    model = NextTokenAttention(V)
    fit(model, (X, y), steps=600, optimizer="ngd", lr=0.3, lr_final=1e-4, loss=log_prob_nll, progress=False)
    d = theory.decompose(model.W.detach())
    assert d["cos_dir"][0] > 0.98 and d["fin_err"][0] < 0.02 and d["norm"][0] > 10
    outside = ~torch.as_tensor(tp.label_scc_mask(HAND_X, HAND_Y, 4))
    assert (model.probs(X)[0] * outside).sum(-1).max() < 5e-3                # e^{-margin}: R grows like log t
