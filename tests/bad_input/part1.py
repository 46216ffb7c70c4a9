"""Bad input of Part I (chapters 1-2): linear-regression samplers, linear attention, PGD, H3, LoRA, theory."""

import numpy as np
import torch

from iclcore import theory
from iclcore.models import H3, PGD, WPGD, LinearAttention, LoRA, LoRAAttention, mask_factor_rank
from iclcore.tasks import LinearRegression, RetrievalRegression, TaskAlignedRegression, make_generator
from iclcore.theory.task_alignment import tfa_effective_n

EYE3 = np.eye(3)

CASES = [
    # tasks
    (LinearRegression, (0, 3), {}, "d"),
    (LinearRegression, (2, 0), {}, "n"),
    (LinearRegression, (2, 3), {"noise": -0.1}, "noise"),
    (LinearRegression, (2, 3), {"noise": [0.1, 0.2]}, "noise"),
    (LinearRegression, (2, 2), {"noise": [0.1, 0.2]}, "query_noise"),
    (LinearRegression, (2, 3), {"Sigma_x": EYE3}, "Sigma_x"),
    (LinearRegression, (2, 3), {"Sigma_beta": -np.eye(2)}, "Sigma_beta"),
    (LinearRegression(2, 3), (0, make_generator(0)), {}, "batch_size"),
    (RetrievalRegression, (0, 3, 0.1), {}, "d"),
    (RetrievalRegression, (3, 0, 0.1), {}, "n"),
    (RetrievalRegression, (3, 3, 1.2), {}, "alpha"),
    (RetrievalRegression, (3, 3, 0.1), {"noise": -0.1}, "noise"),
    (TaskAlignedRegression, (0, 3, 0.1), {}, "d"),
    (TaskAlignedRegression, (3, 3, -1.5), {}, "alpha"),
    (TaskAlignedRegression, (3, 3, 0.1), {"noise": -1.0}, "noise"),
    (TaskAlignedRegression(3, 3, 0.1), (0, make_generator(0)), {}, "batch_size"),
    # models
    (LinearAttention, (0,), {}, "token_dim"),
    (LinearAttention, (4,), {"rank": 5}, "rank"),
    (LinearAttention, (4,), {"n_members": 0}, "n_members"),
    (LinearAttention, (4,), {"init_scale": 0.0}, "init_scale"),
    (LinearAttention, (4,), {"value": "keys"}, "value"),
    (LinearAttention(4, n_members=2), (torch.zeros(3, 2, 5, 4),), {}, "Z"),
    (PGD, (0,), {}, "d"),
    (PGD, (3,), {"n_members": 0}, "n_members"),
    (PGD, (3,), {"W0": np.eye(2)}, "W0"),
    (PGD(3), (torch.zeros(1, 5, 5),), {}, "Z"),
    (WPGD, (3, 0), {}, "n_ctx"),
    (WPGD(3, 2), (torch.zeros(1, 5, 4),), {}, "n_ctx"),
    (WPGD(3, 4).effective_weights, (5,), {}, "n"),
    (H3, (0, 5), {}, "token_dim"),
    (H3, (4, 0), {}, "n_ctx"),
    (H3, (4, 5), {"hidden": 0}, "hidden"),
    (H3, (4, 5), {"filter_length": 6}, "filter_length"),
    (H3, (4, 5), {"n_members": 0}, "n_members"),
    (H3(4, 3), (torch.zeros(2, 6, 4),), {}, "n_ctx"),
    (H3(4, 3).effective_weights, (4,), {}, "n"),
    (LoRA, (torch.zeros(4, 3),), {"rank": 4}, "rank"),
    (LoRA, (torch.zeros(4, 3),), {"rank": [1, 2], "n_members": 3}, "rank"),
    (LoRA, (torch.zeros(4),), {"rank": 1}, "base"),
    (LoRA, (torch.zeros(2, 4, 3),), {"rank": 1, "n_members": 3}, "n_members"),
    (LoRAAttention, (PGD(3),), {"rank": 1}, "base"),
    (LoRAAttention, (LinearAttention(4, n_members=3),), {"rank": [0, 1]}, "member"),
    (LoRAAttention, (LinearAttention(4, n_members=3),), {"rank": 1, "member": 3}, "member"),
    (mask_factor_rank, (LinearAttention(4, n_members=2), [1]), {}, "ranks"),
    (mask_factor_rank, (LinearAttention(4), [5]), {}, "ranks"),
    (mask_factor_rank, (PGD(3), [1]), {}, "model"),
    # theory
    (theory.pgd_optimal, (EYE3, np.eye(4), 5), {}, "Sigma_beta"),
    (theory.pgd_optimal, (EYE3, EYE3, 0), {}, "n"),
    (theory.pgd_optimal, (EYE3, EYE3, 5), {"rank": 4}, "rank"),
    (theory.pgd_optimal, (EYE3, EYE3, 5), {"noise": -1.0}, "noise"),
    (theory.pgd_optimal, (-EYE3, EYE3, 5), {}, "Sigma_x"),
    (theory.pgd_optimal, (np.ones((3, 2)), EYE3, 5), {}, "Sigma_x"),
    (theory.pgd_risk, (np.eye(2), EYE3, EYE3, 4), {}, "W"),
    (theory.wpgd_isotropic, (0, [1.0]), {}, "d"),
    (theory.wpgd_isotropic, (3, [-1.0]), {}, "noise_vars"),
    (theory.wpgd_isotropic, (3, [1.0]), {"query_noise": -1.0}, "query_noise"),
    (theory.wpgd_isotropic_risk, ([1.0, 2.0], 3, [1.0]), {}, "c"),
    (theory.la_isotropic_hetero, (3, []), {}, "noise_vars"),
    (theory.rag_risk, (5, 10, 1.5), {}, "alpha"),
    (theory.rag_risk, (5, 0, 0.5), {}, "n"),
    (theory.rag_risk, (5, 3, 0.5), {"noise": -1.0}, "noise"),
    (theory.rag_kappa, (0, 0.5), {}, "d"),
    (theory.iid_isotropic_risk, (5, 0.0), {}, "n_eff"),
    (theory.tfa_risk, (5, 10, 1.5), {}, "alpha"),
    (theory.tfa_risk, (0, 10, 0.5), {}, "d"),
    (theory.tfa_moments, (5, 10, 0.5), {"noise": -1.0}, "noise"),
    (tfa_effective_n, (5, 0, 0.5), {}, "n"),
    (theory.lora_risk, (EYE3, EYE3, EYE3, 5, 4), {}, "rank"),
    (theory.lora_risk, (EYE3, np.eye(2), EYE3, 5, 1), {}, "Sigma_beta_old"),
    (theory.lora_residual_spectrum, (EYE3, EYE3, np.eye(2), 5), {}, "Sigma_beta_new"),
]
