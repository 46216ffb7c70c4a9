"""One step of preconditioned gradient descent (PGD) on in-context linear regression.

Data model (the book's notation page): ``beta ~ N(0, Sigma_beta)``, ``x_i, x ~ N(0, Sigma_x)`` i.i.d.,
``y_i = beta^T x_i + xi_i`` with ``xi_i ~ N(0, noise^2)``, and the query label ``y = beta^T x + xi``.
The PGD prediction with preconditioner ``W`` (one step from zero on the in-context least squares loss) is

    y_hat = x^T W X^T y.                                                    ({eq}`eq-ch1-pgd`)

Li, Rawat & Oymak (2024), Theorem 1 / Proposition 1: a 1-layer linear attention model computes
exactly this family of predictors, and the best one has the closed form implemented below.
"""

from __future__ import annotations

import numpy as np

from iclcore import validate
from iclcore.linalg import sqrtm_psd


def _inputs(Sigma_x, Sigma_beta, n: int, noise: float):
    Sx = validate.covariance("Sigma_x", Sigma_x)
    Sb = validate.covariance("Sigma_beta", Sigma_beta, d=Sx.shape[0])
    validate.positive_int("n", n)
    validate.nonnegative("noise", noise)
    return Sx, Sb


def pgd_risk(W, Sigma_x, Sigma_beta, n: int, noise: float = 0.0) -> float:
    """Exact risk ``E[(y - x^T W X^T y)^2]`` of a given preconditioner ``W`` (d, d); includes ``noise**2``.

    With ``M = tr(Sigma_x Sigma_beta) + noise^2`` and Gaussian fourth moments (Isserlis),

        L(W) = M - 2n tr(Sigma_x W Sigma_x Sigma_beta) + tr(Sigma_x W G W^T),
        G = n(n+1) Sigma_x Sigma_beta Sigma_x + n M Sigma_x.                ({eq}`eq-ch1-risk`)
    """
    Sx, Sb = _inputs(Sigma_x, Sigma_beta, n, noise)
    W = np.asarray(W, dtype=np.float64)
    if W.shape != Sx.shape:
        raise ValueError(f"W must have shape {Sx.shape} to match Sigma_x, got {W.shape}")
    M = np.trace(Sx @ Sb) + noise**2
    G = n * (n + 1) * Sx @ Sb @ Sx + n * M * Sx
    return float(M - 2 * n * np.trace(Sx @ W @ Sx @ Sb) + np.trace(Sx @ W @ G @ W.T))


def pgd_optimal(Sigma_x, Sigma_beta, n: int, noise: float = 0.0, rank: int | None = None):
    """Optimal PGD preconditioner and its risk (Li, Rawat & Oymak 2024, Thm. 1; {eq}`eq-ch1-opt`), and the
    optimum under a rank constraint ({eq}`eq-ch2-rank`).

    Let ``M = tr(Sigma_x Sigma_beta) + noise^2`` and ``lambda_1 >= ... >= lambda_d`` the eigenvalues of
    ``B = Sigma_x^{1/2} Sigma_beta Sigma_x^{1/2}``. Then

        W* = Sigma_beta [(n+1) Sigma_x Sigma_beta + M I]^{-1},
        L* = M - n sum_{i<=r} lambda_i^2 / ((n+1) lambda_i + M),

    where ``r = d`` unless ``rank`` is given. For ``rank < d`` the optimum keeps only the ``r`` leading
    eigen-directions of ``B`` (Eckart-Young in the whitened coordinates ``A = Sigma_x^{1/2} W Sigma_x^{1/2}``),
    so the dropped directions still cost their variance through ``M``. Isotropic, noiseless check:
    ``L* = d(d+1)/(n+d+1)``.

    Returns ``(W_star, risk)``; ``W_star`` has shape (d, d) and ``risk`` includes ``noise**2``.
    """
    Sx, Sb = _inputs(Sigma_x, Sigma_beta, n, noise)
    d = Sx.shape[0]
    r = d if rank is None else validate.int_in_range("rank", rank, 1, d)
    M = np.trace(Sx @ Sb) + noise**2
    root = sqrtm_psd(Sx)
    inv_root = np.linalg.pinv(root, hermitian=True)   # Sigma_x may be singular
    lam, U = np.linalg.eigh(root @ Sb @ root)
    order = np.argsort(lam)[::-1]
    lam, U = np.clip(lam[order], 0.0, None), U[:, order]
    shrink = lam / ((n + 1) * lam + M)
    A = (U[:, :r] * shrink[:r]) @ U[:, :r].T
    W_star = inv_root @ A @ inv_root
    risk = M - n * np.sum(lam[:r] ** 2 / ((n + 1) * lam[:r] + M))
    return W_star, float(risk)
