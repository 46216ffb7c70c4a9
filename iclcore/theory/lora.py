"""Low-rank adaptation (LoRA) of a pretrained PGD preconditioner to a task-covariance shift.

Li, Rawat & Oymak (2024), Sec. 5; the closed form below is derived in the book (Chapter 2). In whitened
coordinates ``A = Sigma_x^{1/2} W Sigma_x^{1/2}``, ``B = Sigma_x^{1/2} Sigma_beta Sigma_x^{1/2}``,
``C = (n+1) B + M I`` the PGD risk of {eq}`eq-ch1-risk` is

    L(W) = M + n ||A C^{1/2} - B C^{-1/2}||_F^2 - n tr(B C^{-1} B).                  ({eq}`eq-ch2-whitened`)

A model pretrained on the old covariance sits at ``W_0 = W*_old``. LoRA adds a rank-r update
``W = W_0 + Delta``; by Eckart-Young the best one removes the r largest singular values of the residual
``R = B_new C_new^{-1/2} - A_0 C_new^{1/2}``:

    L_LoRA(r) = L*_new + n sum_{i>r} s_i(R)^2.                                       ({eq}`eq-ch2-lora`)

Risk convention: includes the query noise ``noise^2``.
"""

from __future__ import annotations

import numpy as np

from iclcore import validate
from iclcore.linalg import sqrtm_psd
from iclcore.theory.pgd import pgd_optimal


def lora_residual_spectrum(Sigma_x, Sigma_beta_old, Sigma_beta_new, n: int, noise: float = 0.0) -> np.ndarray:
    """Singular values ``s_1 >= ... >= s_d`` of the residual R of {eq}`eq-ch2-lora` (what LoRA has to learn)."""
    Sx = validate.covariance("Sigma_x", Sigma_x)
    d = Sx.shape[0]
    Sold = validate.covariance("Sigma_beta_old", Sigma_beta_old, d=d)
    Snew = validate.covariance("Sigma_beta_new", Sigma_beta_new, d=d)
    validate.positive_int("n", n)
    validate.nonnegative("noise", noise)
    W0, _ = pgd_optimal(Sx, Sold, n, noise)
    root = sqrtm_psd(Sx)
    A0 = root @ W0 @ root
    B = root @ Snew @ root
    M = np.trace(Sx @ Snew) + noise**2
    C_half = sqrtm_psd((n + 1) * B + M * np.eye(d))
    C_inv_half = np.linalg.pinv(C_half, hermitian=True)
    R = B @ C_inv_half - A0 @ C_half
    return np.linalg.svd(R, compute_uv=False)


def lora_risk(Sigma_x, Sigma_beta_old, Sigma_beta_new, n: int, rank: int, noise: float = 0.0) -> float:
    """Best risk on the new task of ``W*_old + Delta`` with ``rank(Delta) <= rank`` ({eq}`eq-ch2-lora`).

    ``rank = 0`` is the un-adapted pretrained model; ``rank = d`` recovers ``L*_new`` of {eq}`eq-ch1-opt`.
    """
    Sx = validate.covariance("Sigma_x", Sigma_x)
    d = Sx.shape[0]
    r = validate.int_in_range("rank", rank, 0, d)
    s = lora_residual_spectrum(Sx, Sigma_beta_old, Sigma_beta_new, n, noise)
    _, risk_new = pgd_optimal(Sx, Sigma_beta_new, n, noise)
    return float(risk_new + n * np.sum(s[r:] ** 2))
