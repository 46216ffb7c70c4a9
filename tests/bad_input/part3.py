"""Bad input of Part III (chapters 5-6): selective attention, TinyGPT, CAT, recall and sequence tasks,
dilution and CAT theory, and the two chapters' experiment drivers."""

import numpy as np
import torch

from iclcore.experiments.ch05_selective_attention import needle_report, norm_at_fit
from iclcore.experiments.ch06_convolution_augmented_transformer import (
    accuracy_by_length,
    answer_attention,
    cat_recall_construction,
    landmark_retrieval_mc,
    recall_gpt,
)
from iclcore.models import (
    BilinearSoftmax,
    CATAttention,
    CausalConv1d,
    CausalSelfAttention,
    Ensemble,
    NeedleAttention,
    TinyGPT,
    cat_block,
)
from iclcore.models.selective_attention import PositionTemperature, TokenTemperature, ValueTemperature
from iclcore.tasks import (
    IGNORE,
    AssociativeRecall,
    Copying,
    LMWindows,
    NeedleRetrieval,
    SelectiveCopying,
    lm_loss,
    make_generator,
    row_kl,
    spiky_transitions,
    synthetic_stories,
    token_accuracy,
)
from iclcore.tasks.sequences import DecoyRetrieval
from iclcore.theory import (
    construction_mass,
    dilution_mass,
    landmark_retrieval_theory,
    log_scaled_inv_temp,
    random_key_mass,
    sphere_log_mgf,
)

_CORPUS = synthetic_stories(200, seed=0)
_ALL_IGNORED = torch.full((2, 3), IGNORE)

CASES = [
    # models
    (CausalSelfAttention, (10, 3), {}, "d_model"),
    (CausalSelfAttention, (0, 1), {}, "d_model"),
    (CausalSelfAttention, (6, 2), {"rope": True}, "rope"),
    (CausalSelfAttention(8, 2), (torch.zeros(2, 3, 5),), {}, "h"),
    (PositionTemperature, (1,), {"slope": 0.0}, "slope"),
    (TokenTemperature, (0,), {}, "d"),
    (ValueTemperature, (3, 0), {}, "n_heads"),
    (BilinearSoftmax, (0, True), {}, "d"),
    (BilinearSoftmax, (3, True), {"init_scale": 0.0}, "init_scale"),
    (NeedleAttention(4, pos_temp=False), (torch.zeros(2, 3, 4),), {}, "Z"),
    (TinyGPT, (10, 8, 1, 2, 8), {"attention": "mamba"}, "attention"),
    (TinyGPT, (10, 8, 1, 2, 8), {"pos_encoding": "alibi"}, "pos_encoding"),
    (TinyGPT, (10, 8, 1, 2, 8), {"attention": cat_block(2), "pos_encoding": "rope"}, "pos_encoding"),
    (TinyGPT(10, 8, 1, 2, 8), (torch.zeros(1, 9, dtype=torch.long),), {}, "idx"),
    (CausalConv1d, (4,), {"window": 0}, "window"),
    (CATAttention, (6, 4), {}, "d_model"),
    (CATAttention, (8, 2), {"conv_on": "qx"}, "conv_on"),
    (cat_block, (3,), {"conv_on": "x"}, "conv_on"),
    # tasks
    (AssociativeRecall, (0,), {}, "n_pairs"),
    (AssociativeRecall, (9,), {"n_keys": 8}, "n_pairs"),
    (AssociativeRecall, (4,), {"n_queries": 5}, "n_queries"),
    (AssociativeRecall, (4,), {"ngram": 0}, "ngram"),
    (AssociativeRecall, (20,), {"n_keys": 4, "ngram": 2}, "n_pairs"),
    (Copying, (11,), {"n_tokens": 10}, "length"),
    (Copying(3), (0, make_generator(0)), {}, "batch_size"),
    (SelectiveCopying, (0,), {}, "length"),
    (SelectiveCopying, (5,), {"n_tokens": 0}, "n_tokens"),
    (lm_loss, (torch.zeros(2, 3), torch.zeros(2, 3, dtype=torch.long)), {}, "logits"),
    (token_accuracy, (torch.zeros(2, 3, 4), _ALL_IGNORED), {}, "targets"),
    (spiky_transitions, (), {"K": 0}, "K"),
    (spiky_transitions, (), {"beta_range": (2.0, 1.0)}, "beta_range"),
    (spiky_transitions, (), {"beta_range": (0.0, 1.0)}, "beta_range[0]"),
    (row_kl, (torch.zeros(3, 3), torch.eye(2)), {}, "log_P_hat"),
    (NeedleRetrieval, (), {"d": 0}, "d"),
    (NeedleRetrieval, (), {"n": (9, 5)}, "n[1]"),
    (NeedleRetrieval, (), {"noise": -1.0}, "noise"),
    (DecoyRetrieval, (), {"n": 1}, "n"),
    (DecoyRetrieval, (), {"decoy_scale": -1.0}, "decoy_scale"),
    (synthetic_stories, (0,), {}, "n_tokens"),
    (synthetic_stories, (10,), {"n_filler": (3, 1)}, "n_filler[1]"),
    (LMWindows, (_CORPUS, 10_000), {}, "T"),
    (LMWindows(_CORPUS, 8).held_out, (0,), {}, "n_windows"),
    # theory
    (dilution_mass, (0, 1.0), {}, "n"),
    (dilution_mass, (5, np.inf), {}, "delta"),
    (dilution_mass, (5, 1.0, 0.0), {}, "inv_temp"),
    (log_scaled_inv_temp, (5, -1.0), {}, "slope"),
    (log_scaled_inv_temp, (5, 1.0), {"base": 0.0}, "base"),
    (sphere_log_mgf, (1.0, 1), {}, "d"),
    (sphere_log_mgf, (-1.0, 4), {}, "kappa"),
    (random_key_mass, (5, 1.0, 1.0, 4), {"inv_temp": -1.0}, "inv_temp"),
    (construction_mass, (1.0, 0), {}, "L"),
    (construction_mass, (np.nan, 3), {}, "c"),
    (landmark_retrieval_theory, (64, 4, 1), {}, "d"),
    (landmark_retrieval_theory, (100, 3, 8), {}, "block"),
    # experiments
    (needle_report, (NeedleAttention(4, pos_temp=False), [1, 8]), {}, "ns"),
    (needle_report, (Ensemble([torch.nn.Linear(2, 2)]), [4]), {}, "model"),
    (norm_at_fit, ([1.0, 0.5], [1.0]), {"level": 0.5}, "kl"),
    (accuracy_by_length, (recall_gpt(10, 2), lambda n: Copying(n, 8), []), {}, "lengths"),
    (answer_attention, (torch.nn.Linear(2, 2), torch.zeros(1, 3), torch.zeros(1, 3)), {}, "model"),
    (answer_attention, (recall_gpt(10, 2), torch.zeros(1, 3, dtype=torch.long), torch.zeros(1, 3)),
     {"batch_size": 0}, "batch_size"),
    (cat_recall_construction, (10,), {"c": 0.0}, "c"),
    (landmark_retrieval_mc, (100, 3, 8), {}, "block"),
    (recall_gpt, (0, 3), {}, "vocab_size"),
]
