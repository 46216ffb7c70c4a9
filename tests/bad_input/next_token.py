"""Bad input of Chapter 10 (next-token mechanics): priority data, the next-token attention model, the priority
graph, the graph-SVM and the finite component, and the chapter's drivers."""

import networkx as nx
import numpy as np
import torch

from iclcore.experiments.ch10_next_token import retrain_priority
from iclcore.models import NextTokenAttention
from iclcore.tasks.token_priority import (
    TokenPriorityTask,
    log_prob_nll,
    random_label_data,
    token_embeddings,
    tokens_present,
)
from iclcore.theory import token_priority as tp

_X = np.array([[0, 1, 2], [1, 2, 2]])
_y = np.array([0, 2])
_V = np.eye(3)
_task = TokenPriorityTask(K=5, T=3, tie_sizes=(2,), seed=0)
_model = NextTokenAttention(_V)
_theory = tp.next_token_theory(_X[None], _y[None], _V)

CASES = [
    (TokenPriorityTask, (1, 4), {"tie_sizes": ()}, "K"),
    (TokenPriorityTask, (8, 1), {}, "T"),
    (TokenPriorityTask, (5, 4), {"tie_sizes": (1,)}, "tie_sizes"),
    (TokenPriorityTask, (5, 4), {"tie_sizes": (3, 2)}, "tie_sizes"),
    (TokenPriorityTask, (5, 4), {"tie_sizes": [(2,), (2,)], "n_members": 3}, "tie_sizes"),
    (TokenPriorityTask, (8, 4), {"n_members": 0}, "n_members"),
    (TokenPriorityTask, (8, 4), {"structure": "yes"}, "structure"),
    (TokenPriorityTask, (8, 4), {"min_pref": -1.0}, "min_pref"),
    (TokenPriorityTask, (8, 4), {"members": ("a", "b")}, "members"),
    (_task.dataset, (0, 1), {}, "n"),
    (_task.top_level_mask, (torch.zeros(1, 4, 5, dtype=torch.int64),), {}, "tokens"),
    (random_label_data, (0, 3, 4), {}, "n"),
    (random_label_data, (5, 1, 4), {}, "T"),
    (random_label_data, (5, 3, 1), {}, "K"),
    (token_embeddings, (5, 3), {}, "d"),
    (token_embeddings, (5, 8), {"kind": "gaussian"}, "kind"),
    (tokens_present, (torch.zeros(2, 3), 4), {}, "tokens"),
    (log_prob_nll, (torch.zeros(2, 3), torch.zeros(2, dtype=torch.int64)), {}, "log_probs"),
    (NextTokenAttention, (np.zeros(3),), {}, "embeddings"),
    (NextTokenAttention, (_V,), {"n_members": 0}, "n_members"),
    (NextTokenAttention, (_V,), {"stable": "yes"}, "stable"),
    (NextTokenAttention, (_V,), {"init_scale": -1.0}, "init_scale"),
    (_model, (torch.zeros(1, 2, 3),), {}, "tokens"),
    (_model, (torch.full((1, 2, 3), 5),), {}, "tokens"),
    (tp.priority_graph, (_X[0], _y, 0), {}, "tokens"),
    (tp.priority_graph, (_X, np.array([2, 0]), 2), {}, "labels"),
    (tp.priority_graph, (_X, _y, "last"), {}, "query"),
    (tp.strongly_connected_components, ([(0, 1)],), {}, "G"),
    (tp.svm_constraints, (_X, _y), {"equality": "no"}, "equality"),
    (tp.adjacency, (nx.DiGraph([(0, 4)]), 3), {}, "K"),
    (tp.constraint_table, (_X, _y, 2), {}, "K"),
    (tp.graph_svm, (_X, _y, np.eye(2)), {}, "embeddings"),
    (tp.finite_component, (_X, _y, _V), {"cut": "no"}, "cut"),
    (tp.project, (np.zeros((3, 3)), np.zeros((1, 2, 2))), {}, "basis"),
    (tp.label_scc_mask, (_X, _y, 2), {}, "K"),
    (tp.top_scc_mask, (np.zeros(3, dtype=int), {}, 3), {}, "tokens"),
    (tp.soft_composition, (np.zeros((2, 2)), _X, np.ones((2, 3), bool), _V), {}, "W"),
    (tp.next_token_theory, (_X, _y, _V), {}, "tokens"),
    (tp.next_token_theory, (_X[None], _y[None], np.eye(3)[None].repeat(2, 0)), {}, "embeddings"),
    (_theory.decompose, (np.zeros((3, 3)),), {}, "W"),
    (retrain_priority, (), {"steps": 0}, "steps"),
]
