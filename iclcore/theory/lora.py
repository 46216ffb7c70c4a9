"""Low-rank adaptation (LoRA) of a pretrained PGD preconditioner to a task-covariance shift.

Li, Rawat & Oymak (2024), Sec. 5; closed form re-derived for the book (spec R5). In whitened coordinates
``A = Sigma_x^{1/2} W Sigma_x^{1/2}``, ``B = Sigma_x^{1/2} Sigma_beta Sigma_x^{1/2}``, ``C = (n+1) B + M I``
the PGD risk of eq. 2.2 is

    L(W) = M + n ||A C^{1/2} - B C^{-1/2}||_F^2 - n tr(B C^{-1} B).                  (Book eq. 2.14)

A model pretrained on the old covariance sits at ``W_0 = W*_old``. LoRA adds a rank-r update
``W = W_0 + Delta``; by Eckart-Young the best one removes the r largest singular values of the residual
``R = B_new C_new^{-1/2} - A_0 C_new^{1/2}``:

    L_LoRA(r) = L*_new + n sum_{i>r} s_i(R)^2.                                       (Book eq. 2.15)

Risk convention: includes the query noise ``noise^2``.
"""

from __future__ import annotations

import numpy as np

from iclcore import validate
from iclcore.theory.pgd import _sqrtm_psd, pgd_optimal


def lora_residual_spectrum(Sigma_x, Sigma_beta_old, Sigma_beta_new, n: int, noise: float = 0.0) -> np.ndarray:
    """Singular values ``s_1 >= ... >= s_d`` of the residual R of eq. 2.15 (what LoRA has to learn)."""
    Sx = validate.covariance("Sigma_x", Sigma_x)
    d = Sx.shape[0]
    Sold = validate.covariance("Sigma_beta_old", Sigma_beta_old, d=d)
    Snew = validate.covariance("Sigma_beta_new", Sigma_beta_new, d=d)
    validate.positive_int("n", n)
    validate.nonnegative("noise", noise)
    W0, _ = pgd_optimal(Sx, Sold, n, noise)
    root, _ = _sqrtm_psd(Sx)
    A0 = root @ W0 @ root
    B = root @ Snew @ root
    M = np.trace(Sx @ Snew) + noise**2
    C_half, C_inv_half = _sqrtm_psd((n + 1) * B + M * np.eye(d))
    R = B @ C_inv_half - A0 @ C_half
    return np.linalg.svd(R, compute_uv=False)


def lora_risk(Sigma_x, Sigma_beta_old, Sigma_beta_new, n: int, rank: int, noise: float = 0.0) -> float:
    """Best risk on the new task of ``W*_old + Delta`` with ``rank(Delta) <= rank`` (eq. 2.15).

    ``rank = 0`` is the un-adapted pretrained model; ``rank = d`` recovers ``L*_new`` of eq. 2.3.
    """
    Sx = validate.covariance("Sigma_x", Sigma_x)
    d = Sx.shape[0]
    r = validate.int_in_range("rank", rank, 0, d)
    s = lora_residual_spectrum(Sx, Sigma_beta_old, Sigma_beta_new, n, noise)
    _, risk_new = pgd_optimal(Sx, Sigma_beta_new, n, noise)
    return float(risk_new + n * np.sum(s[r:] ** 2))
