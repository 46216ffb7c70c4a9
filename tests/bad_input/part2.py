"""Bad input of Part II (chapters 3-4): token-selection data, softmax attention, attention SVMs, NGD, drivers."""

import numpy as np
import torch

from iclcore.experiments.ch03_max_margin_token_selection import model_inputs, regularization_path
from iclcore.experiments.ch04_transformers_as_svms import rescaled_surrogate, ridge_objective
from iclcore.models import PromptAttention, SoftmaxAttention1L
from iclcore.optim import NormalizedGD
from iclcore.tasks import classification_loss, token_selection
from iclcore.theory import (
    active_constraints,
    cosine,
    effective_rank,
    locally_optimal,
    solve_attention_svm,
    solve_attention_svms,
    solve_svm_equivalent,
    solve_value_svm,
)

_X = np.random.default_rng(0).normal(size=(2, 3, 2))
_D = token_selection(2, 3, 4, n_instances=2, seed=0)
_pred, _Y = torch.zeros(2, 3), torch.ones(2, 3)


def _prompt(k, s):
    return PromptAttention(4, n_members=k, seed=s)


CASES = [
    # tasks
    (token_selection, (3, 1, 2), {}, "T"),
    (token_selection, (0, 4, 2), {}, "n"),
    (token_selection, (3, 4, 0), {}, "d"),
    (token_selection, (3, 4, 2), {"n_instances": -1}, "n_instances"),
    (token_selection, (3, 4, 2), {"value_scale": 0.0}, "value_scale"),
    (token_selection, (3, 4, 2), {"seed": 1.5}, "seed"),
    (_D.instance, (5,), {}, "e"),
    (_D.repeat, (0,), {}, "k"),
    (classification_loss, (_pred, _Y, "hinge"), {}, "loss"),
    (classification_loss, (_pred, _Y, ["logistic"]), {}, "loss"),
    # models
    (PromptAttention, (0,), {}, "d"),
    (PromptAttention, (3,), {"n_members": 0}, "n_members"),
    (PromptAttention, (3,), {"W": torch.eye(2)}, "W"),
    (PromptAttention, (3,), {"init_scale": -1.0}, "init_scale"),
    (PromptAttention, (3,), {"stable": [True]}, "stable"),
    (PromptAttention(3).scores, (torch.zeros(1, 2, 3, 4),), {}, "X"),
    (PromptAttention(3), (torch.zeros(1, 2, 3, 3),), {}, "v"),
    (SoftmaxAttention1L, (3,), {"param": "QK"}, "param"),
    (SoftmaxAttention1L, (3,), {"param": "KQ", "m": 4}, "m"),
    (SoftmaxAttention1L, (3,), {"n_members": 0}, "n_members"),
    (SoftmaxAttention1L(3).scores, (torch.zeros(1, 2, 3, 3), torch.zeros(1, 3, 3)), {}, "z"),
    # theory
    (solve_attention_svm, (_X, [0, 1]), {"norm": "l1"}, "norm"),
    (solve_attention_svm, (_X, [0, 1]), {"norm": "nuc"}, "norm"),
    (solve_attention_svm, (_X, [0, 5]), {}, "selected"),
    (solve_attention_svm, (_X, [0.0, 1.0]), {}, "selected"),
    (solve_attention_svm, (_X, [0, 1]), {"query": np.zeros((3, 2))}, "query"),
    (solve_attention_svm, (_X, [0, 1]), {"margins": [-1.0, 1.0]}, "margins"),
    (solve_attention_svm, (_X[:, :1], [0, 0]), {}, "X"),
    (solve_attention_svm, (np.full((2, 3, 2), np.nan), [0, 1]), {}, "X"),
    (solve_attention_svms, (_X[None], np.zeros((1, 3), dtype=int)), {}, "selected"),
    (active_constraints, (_X, [0, 1], np.zeros(2)), {"margins": [1.0]}, "margins"),
    (locally_optimal, (np.zeros((2, 3)), np.array([0, 1]), np.zeros((2, 2), dtype=bool)), {}, "gamma"),
    (solve_value_svm, (np.eye(2), np.array([1.0, 0.5])), {}, "labels"),
    (cosine, (np.zeros((2, 3)), np.zeros((2, 4))), {}, "a and b"),
    (effective_rank, (np.eye(3),), {"rtol": 0.0}, "rtol"),
    # optim
    (NormalizedGD, ([torch.nn.Parameter(torch.zeros(1))],), {"lr": 0.0}, "lr"),
    (NormalizedGD, ([torch.nn.Parameter(torch.zeros(1))],), {"max_norm": -1.0}, "max_norm"),
    (NormalizedGD, ([torch.nn.Parameter(torch.zeros(1))],), {"norm_offset": -1e-16}, "norm_offset"),
    (NormalizedGD, ([torch.nn.Parameter(torch.zeros(1))],), {"ensemble_dims": -1}, "ensemble_dims"),
    # experiments
    (model_inputs, (torch.nn.Linear(2, 2), _D), {}, "model"),
    (regularization_path, (_prompt, _D, [1.0]), {"restarts": 0}, "restarts"),
    (regularization_path, (_prompt, _D, []), {}, "radii"),
    (regularization_path, (_prompt, _D, [1.0, -2.0]), {}, "radii"),
    (regularization_path, (_prompt, _D, [1.0]), {"steps": 0}, "steps"),
    (rescaled_surrogate, (PromptAttention(4, n_members=2, train_v=True), (_D.X,), _D.Y), {}, "model"),
    (ridge_objective, (SoftmaxAttention1L(4, n_members=2), (_D.X, _D.z, _D.v), _D.Y), {}, "model"),
    (ridge_objective, (SoftmaxAttention1L(4, param="KQ", n_members=2), (_D.X, _D.z, _D.v), _D.Y), {"eps": -1.0},
     "eps"),
]

_P = np.array([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0]])
CASES += [
    (SoftmaxAttention1L, (3,), {"head": "tanh"}, "head"),
    (solve_svm_equivalent, (_X, _P, np.zeros((2, 2)), np.eye(2)), {"norm": "l2"}, "norm"),
    (solve_svm_equivalent, (_X, _P, np.zeros((2, 2)), np.eye(2)), {"threshold": 2.0}, "threshold"),
    (solve_svm_equivalent, (_X, _P[:1], np.zeros((2, 2)), np.eye(2)), {}, "probs"),
    (solve_svm_equivalent, (_X, _P, np.zeros((3, 2)), np.eye(2)), {}, "query"),
    (solve_svm_equivalent, (_X, _P, np.zeros((2, 2)), np.eye(3)), {}, "W"),
    (solve_svm_equivalent, (_X, np.zeros((2, 3)), np.zeros((2, 2)), np.eye(2)), {}, "threshold"),
]
