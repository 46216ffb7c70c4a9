"""Checkers for the coding exercises of Part I: one step of gradient descent (Chapter 1) and the fine-grained
analysis of in-context linear estimation (Chapter 2).

Chapter 1 (the reference solutions are :func:`iclcore.theory.pgd_optimal`, :func:`iclcore.theory.pgd_risk` and
the model :class:`iclcore.models.PGD`):

* :func:`check_pgd_prediction` -- ``fn(X, y, x, W) -> y_hat``, one preconditioned gradient step {eq}`eq-ch1-pgd`;
* :func:`check_optimal_preconditioner` -- ``fn(Sigma_x, Sigma_beta, n, noise) -> W``, the optimum {eq}`eq-ch1-opt`;
* :func:`check_pgd_risk` -- ``fn(W, Sigma_x, Sigma_beta, n, noise) -> risk``, the risk {eq}`eq-ch1-risk`.

Chapter 2 (references :func:`iclcore.theory.wpgd_isotropic` and ``pgd_optimal(..., rank=r)``):

* :func:`check_optimal_sample_weights` -- ``fn(d, noise_vars) -> c``, H3's optimal weights {eq}`eq-ch2-wopt`;
* :func:`check_rank_r_risk` -- ``fn(Sigma_x, Sigma_beta, n, r, noise) -> risk``, the rank-r optimum
  {eq}`eq-ch2-rank`.

Each calls the reader's function on several cases (isotropic and anisotropic covariances, non-commuting
ones, a single example, one dimension), prints a verdict, and returns a :class:`iclcore.exercises.base.Verdict`;
a failed case whose answer matches a known mistake carries a hint about that mistake.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from iclcore.exercises.base import Case, Verdict, check_function
from iclcore.models import PGD
from iclcore.theory import pgd_optimal, pgd_risk, wpgd_isotropic

# --------------------------------------------------------------------------------------------------------------
# Chapter 1: one preconditioned gradient step
# --------------------------------------------------------------------------------------------------------------


def _rotation(d: int, seed: int) -> np.ndarray:
    Q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, d)))
    return Q


def _covariance_cases() -> list[tuple[str, np.ndarray, np.ndarray, int, float]]:
    """(label, Sigma_x, Sigma_beta, n, noise): isotropic first, then harder ones, then the edge cases."""
    Q = _rotation(3, 7)
    Sx_aniso = np.diag([2.0, 1.0, 0.5])
    Sb_rotated = Q @ np.diag([1.5, 0.6, 0.2]) @ Q.T               # does not commute with Sigma_x
    Sx_full = _rotation(3, 8) @ np.diag([1.2, 0.8, 0.3]) @ _rotation(3, 8).T
    return [("isotropic, noiseless (d=3, n=10)", np.eye(3), np.eye(3), 10, 0.0),
            ("isotropic with label noise σ=0.5", np.eye(3), np.eye(3), 10, 0.5),
            ("anisotropic features, isotropic task (n=5)", Sx_aniso, np.eye(3), 5, 0.0),
            ("non-commuting Σx and Σβ, σ=0.5 (n=20)", Sx_aniso, Sb_rotated, 20, 0.5),
            ("full Σx, rotated Σβ, σ=1 (n=8)", Sx_full, Sb_rotated, 8, 1.0),
            ("one example (n=1)", Sx_aniso, Sb_rotated, 1, 0.3),
            ("one dimension (d=1)", np.array([[2.0]]), np.array([[0.5]]), 4, 0.5)]


def _label_variance(Sx, Sb, noise) -> float:
    return float(np.trace(Sx @ Sb) + noise**2)


def _reference_prediction(X, y, x, W) -> float:
    """The prediction of :class:`iclcore.models.PGD` with preconditioner ``W`` on the prompt (X, y, x)."""
    X, y, x = (torch.as_tensor(np.asarray(a, dtype=np.float64)) for a in (X, y, x))
    d = x.shape[0]
    model = PGD(d).double()
    with torch.no_grad():
        model.W.copy_(torch.as_tensor(np.asarray(W, dtype=np.float64))[None])
        Z = torch.cat([torch.cat([X, y[:, None]], 1), torch.cat([x, torch.zeros(1, dtype=x.dtype)])[None]], 0)
        return float(model(Z[None])[0, 0])


def check_pgd_prediction(fn: Callable, show: bool = True) -> Verdict:
    """Check ``fn(X, y, x, W)``: for examples ``X`` (n, d), labels ``y`` (n,), a query ``x`` (d,) and a
    preconditioner ``W`` (d, d), return the scalar prediction of one preconditioned gradient step from zero,
    ``x^T W X^T y`` ({eq}`eq-ch1-pgd`)."""
    rng = np.random.default_rng(11)
    cases = []
    for label, n, d, kind in [("n=5, d=3, a non-symmetric W", 5, 3, "random"),
                              ("the plain step W = I/n", 6, 2, "plain"),
                              ("one example (n=1)", 1, 3, "random"),
                              ("one dimension (d=1)", 4, 1, "random"),
                              ("all labels zero", 3, 2, "zero-labels")]:
        X, x = rng.standard_normal((n, d)), rng.standard_normal(d)
        y = np.zeros(n) if kind == "zero-labels" else rng.standard_normal(n)
        W = np.eye(d) / n if kind == "plain" else rng.standard_normal((d, d))
        cases.append(Case(label, (X, y, x, W)))
    wrong = [(lambda X, y, x, W: x @ W.T @ X.T @ y,
              "Your W is transposed. The prediction is x^T W X^T y = Σ_i (x^T W x_i) y_i: the query on the left "
              "of W, the examples on its right."),
             (lambda X, y, x, W: x @ W @ X.T @ y / len(y),
              "No division by n: a step size is part of the preconditioner (the plain step of size 1/n is "
              "W = I/n), so the prediction is x^T W X^T y."),
             (lambda X, y, x, W: x @ X.T @ y,
              "You left out the preconditioner: the step from β = 0 is β₁ = W X^T y, and the prediction x^T β₁."),
             (lambda X, y, x, W: -(x @ W @ X.T @ y),
              "The sign is flipped. The gradient of ½ Σ (y_i − x_i^T β)² at β = 0 is −X^T y, so a step *down* "
              "the gradient gives β₁ = +W X^T y.")]
    return check_function(fn, _reference_prediction, cases, name="one PGD step", wrong_answers=wrong,
                          rtol=1e-9, atol=1e-12, show=show)


def check_optimal_preconditioner(fn: Callable, show: bool = True) -> Verdict:
    """Check ``fn(Sigma_x, Sigma_beta, n, noise)``: the optimal preconditioner ``W*`` (d, d) of
    {eq}`eq-ch1-opt`, ``Sigma_beta [(n+1) Sigma_x Sigma_beta + M I]^{-1}`` with ``M = tr(Sigma_x Sigma_beta) +
    noise^2`` (``noise`` is a standard deviation)."""
    cases = [Case(label, (Sx, Sb, n, noise)) for label, Sx, Sb, n, noise in _covariance_cases()]

    def formula(Sx, Sb, n, M, step):
        return Sb @ np.linalg.inv(step * Sx @ Sb + M * np.eye(len(Sx)))

    wrong = [(lambda Sx, Sb, n, noise: np.eye(len(Sx)) / n,
              "That is the plain gradient step of size 1/n (for Σx = I also the 'Newton' step Σx⁻¹/n): it "
              "trusts X^T X / n to be exact. X^T y is noisy, so the optimal step shrinks: "
              "W* = Σβ [(n+1) Σx Σβ + M I]⁻¹."),
             (lambda Sx, Sb, n, noise: np.linalg.inv(Sx) / n,
              "That is the 'Newton' step Σx⁻¹/n: it ignores the prior Σβ and the noise in X^T y (see the "
              "exercise 'Whitening is not optimal'). Minimise the risk (eq-ch1-risk) over W instead."),
             (lambda Sx, Sb, n, noise: formula(Sx, Sb, n, _label_variance(Sx, Sb, noise), n),
              "Missing +1: the fourth moments of Gaussian features give the factor (n + 1), not n (see G in "
              "eq-ch1-risk)."),
             (lambda Sx, Sb, n, noise: formula(Sx, Sb, n, np.trace(Sx @ Sb), n + 1),
              "M is the variance of a label, tr(Σx Σβ) + σ²: the label noise is missing."),
             (lambda Sx, Sb, n, noise: formula(Sx, Sb, n, np.trace(Sx @ Sb) + noise, n + 1),
              "`noise` is a standard deviation σ; M = tr(Σx Σβ) + σ² needs its square."),
             (lambda Sx, Sb, n, noise: formula(Sx, Sb, n, len(Sx) + noise**2, n + 1),
              "M = tr(Σx Σβ) + σ² in general; d + σ² is its value for identity covariances only."),
             (lambda Sx, Sb, n, noise: np.eye(len(Sx)) / (n + len(Sx) + 1 + noise**2),
              "That is the isotropic answer I/(n + d + 1 + σ²). With general covariances use "
              "W* = Σβ [(n+1) Σx Σβ + M I]⁻¹."),
             (lambda Sx, Sb, n, noise: np.linalg.inv((n + 1) * Sx @ Sb + _label_variance(Sx, Sb, noise)
                                                     * np.eye(len(Sx))) @ Sb,
              "Σx and Σβ do not commute: Σβ goes on the left of the inverse, W* = Σβ [(n+1) Σx Σβ + M I]⁻¹ "
              "(equivalently [(n+1) Σβ Σx + M I]⁻¹ Σβ).")]
    return check_function(fn, lambda Sx, Sb, n, noise: pgd_optimal(Sx, Sb, n, noise)[0], cases,
                          name="optimal preconditioner", wrong_answers=wrong, rtol=1e-6, atol=1e-10, show=show)


def check_pgd_risk(fn: Callable, show: bool = True) -> Verdict:
    """Check ``fn(W, Sigma_x, Sigma_beta, n, noise)``: the exact risk ``E(y − x^T W X^T y)^2`` of
    {eq}`eq-ch1-risk`, including the query noise ``noise**2``."""
    rng = np.random.default_rng(5)
    cases = []
    for label, Sx, Sb, n, noise in _covariance_cases():
        d = len(Sx)
        for what, W in (("W = I/n", np.eye(d) / n), ("a random W", 0.1 * rng.standard_normal((d, d)))):
            cases.append(Case(f"{label}, {what}", (W, Sx, Sb, n, noise)))
    cases.append(Case("W = 0 (predict zero: the risk is the label variance M)", (np.zeros((3, 3)), np.eye(3),
                                                                                np.eye(3), 4, 0.5)))

    def risk(W, Sx, Sb, n, noise, M_noise=None, fourth=None):
        M = np.trace(Sx @ Sb) + (noise**2 if M_noise is None else M_noise)
        G = (n * (n + 1) if fourth is None else fourth) * Sx @ Sb @ Sx + n * M * Sx
        return M - 2 * n * np.trace(Sx @ W @ Sx @ Sb) + np.trace(Sx @ W @ G @ W.T)

    wrong = [(lambda W, Sx, Sb, n, noise: risk(W, Sx, Sb, n, noise, fourth=n**2),
              "E[X^T X A X^T X] for Gaussian rows is n(n+1) Σ A Σ + n tr(A Σ) Σ, not n² Σ A Σ + ...: the (n+1) "
              "comes from the fourth moment E x⁴ = 3 (Isserlis)."),
             (lambda W, Sx, Sb, n, noise: risk(W, Sx, Sb, n, noise, M_noise=0.0),
              "The noise is missing from M = tr(Σx Σβ) + σ². It enters twice: the query label's own noise, and "
              "the example labels' noise through G = n(n+1) Σx Σβ Σx + n M Σx."),
             (lambda W, Sx, Sb, n, noise: risk(W, Sx, Sb, n, noise) - noise**2,
              "That is the excess risk: the book's risk includes the query noise σ² (no predictor goes below it)."),
             (lambda W, Sx, Sb, n, noise: risk(W.T, Sx, Sb, n, noise),
              "Your W is transposed somewhere: the prediction is x^T W X^T y, so the cross term is "
              "2n tr(Σx W Σx Σβ) and the quadratic term tr(Σx W G W^T).")]
    return check_function(fn, lambda W, Sx, Sb, n, noise: pgd_risk(W, Sx, Sb, n, noise), cases,
                          name="PGD risk", wrong_answers=wrong, rtol=1e-7, atol=1e-10, show=show)


# --------------------------------------------------------------------------------------------------------------
# Chapter 2: weighted steps and low rank
# --------------------------------------------------------------------------------------------------------------


def check_optimal_sample_weights(fn: Callable, show: bool = True) -> Verdict:
    """Check ``fn(d, noise_vars)``: H3's optimal per-example coefficients ``c_i = 1 / (a_i (1 + Q))``,
    ``a_i = d + 1 + sigma_i^2``, ``Q = sum_i 1/a_i`` ({eq}`eq-ch2-wopt`), shape (n,). ``noise_vars`` holds the
    label-noise *variances* sigma_i^2."""
    cases = [Case("all examples clean (d=5, n=4)", (5, np.zeros(4))),
             Case("half-noisy prompt, σ₊²=25 (d=5, n=6)", (5, np.r_[np.zeros(3), np.full(3, 25.0)])),
             Case("noise growing along the prompt, σ_i² = 2i (d=3)", (3, 2.0 * np.arange(1, 7))),
             Case("one example (n=1)", (2, np.array([1.0]))),
             Case("one nearly useless example (σ² = 10⁶)", (4, np.array([0.0, 0.0, 1e6])))]

    def a(d, v):
        return d + 1 + np.asarray(v, dtype=np.float64)

    wrong = [(lambda d, v: 1 / a(d, v),
              "Right shape, too large: minimising (eq-ch2-wrisk) couples the weights through S = Σ c_i, which "
              "gives the common factor 1/(1 + Q) with Q = Σ_i 1/a_i."),
             (lambda d, v: 1 / (a(d, v) * np.sum(1 / a(d, v))),
              "These weights sum to 1, like an average. The optimum shrinks: c_i = 1/(a_i (1 + Q)), which sums "
              "to Q/(1 + Q) < 1."),
             (lambda d, v: 1 / ((d + np.asarray(v)) * (1 + np.sum(1 / (d + np.asarray(v))))),
              "Missing +1 in a_i = d + 1 + σ_i²: even a noiseless example carries the 'noise' d + 1 of estimating "
              "β from one sample."),
             (lambda d, v: np.full(len(v), len(v) / (len(v) ** 2 + np.sum(a(d, v)))),
              "Equal weights are linear attention's best: H3's convolution lets every example have its own "
              "weight. Minimise (eq-ch2-wrisk) over each c_i."),
             (lambda d, v: 1 / (a(d, np.sqrt(v)) * (1 + np.sum(1 / a(d, np.sqrt(v))))),
              "`noise_vars` are variances σ_i² already: do not take a square root.")]
    return check_function(fn, lambda d, v: wpgd_isotropic(d, v)[0], cases, name="optimal sample weights",
                          wrong_answers=wrong, rtol=1e-7, atol=1e-12, show=show)


def _rank_cases() -> list[Case]:
    Q = _rotation(4, 3)
    decay = np.diag([4.0, 2.0, 1.0, 0.5])
    Sx = np.diag([2.0, 1.0, 1.0, 0.5])
    return [Case("isotropic, rank 2 of 4 (n=10)", (np.eye(4), np.eye(4), 10, 2, 0.0)),
            Case("decaying task spectrum, rank 1 (n=20)", (np.eye(4), decay, 20, 1, 0.0)),
            Case("decaying spectrum, rotated, rank 2, σ=0.5", (np.eye(4), Q @ decay @ Q.T, 20, 2, 0.5)),
            Case("anisotropic Σx and rotated Σβ, rank 3 (n=8)", (Sx, Q @ decay @ Q.T, 8, 3, 0.5)),
            Case("full rank r = d (Chapter 1's optimum)", (Sx, Q @ decay @ Q.T, 8, 4, 1.0)),
            Case("increasing spectrum, rank 1 (order matters)", (np.eye(3), np.diag([0.2, 1.0, 3.0]), 5, 1, 0.0))]


def _rank_risk(Sx, Sb, n, r, noise, keep="top", M_all=True, use_B=True, step=None, noise_sq=True):
    """The rank-r risk with one ingredient switched to a known mistake (the wrong answers below)."""
    root = np.linalg.cholesky(Sx) if use_B else None
    lam = np.linalg.eigvalsh(root.T @ Sb @ root) if use_B else np.linalg.eigvalsh(Sb)
    lam = np.sort(lam)[::-1]
    kept = lam[:r] if keep == "top" else lam[::-1][:r]
    s2 = noise**2 if noise_sq else noise
    M = (np.sum(lam) if M_all else np.sum(kept)) + s2
    return float(M - n * np.sum(kept**2 / ((n + 1 if step is None else step) * kept + M)))


def check_rank_r_risk(fn: Callable, show: bool = True) -> Verdict:
    """Check ``fn(Sigma_x, Sigma_beta, n, r, noise)``: the optimal risk of rank-``r`` linear attention
    ({eq}`eq-ch2-rank`), ``M - n sum_{i<=r} lambda_i^2 / ((n+1) lambda_i + M)`` with the ``r`` largest
    eigenvalues lambda_i of ``Sigma_x^{1/2} Sigma_beta Sigma_x^{1/2}`` and ``M = tr(Sigma_x Sigma_beta) +
    noise^2``."""
    wrong = [(lambda Sx, Sb, n, r, noise: _rank_risk(Sx, Sb, n, r, noise, M_all=False),
              "A dropped direction still costs its full variance: M = tr(Σx Σβ) + σ² keeps *every* eigenvalue; "
              "only the sum runs over the top r."),
             (lambda Sx, Sb, n, r, noise: _rank_risk(Sx, Sb, n, r, noise, keep="bottom"),
              "Keep the r *largest* eigenvalues: by Eckart–Young the best rank-r A keeps the leading "
              "eigen-directions of B = Σx^(1/2) Σβ Σx^(1/2). Is your sort descending?"),
             (lambda Sx, Sb, n, r, noise: _rank_risk(Sx, Sb, n, r, noise, use_B=False),
              "With Σx ≠ I the eigenvalues are those of Σx^(1/2) Σβ Σx^(1/2) (the same as those of Σx Σβ), not "
              "those of Σβ alone."),
             (lambda Sx, Sb, n, r, noise: _rank_risk(Sx, Sb, n, r, noise, step=n),
              "Missing +1: the denominator is (n + 1) λ_i + M, as in Chapter 1's optimum."),
             (lambda Sx, Sb, n, r, noise: _rank_risk(Sx, Sb, n, r, noise, noise_sq=False),
              "`noise` is a standard deviation σ; M needs σ²."),
             (lambda Sx, Sb, n, r, noise: _rank_risk(Sx, Sb, n, r, noise) - noise**2,
              "The book's risk includes the query noise σ² (it is part of M); you returned the excess risk.")]
    return check_function(fn, lambda Sx, Sb, n, r, noise: pgd_optimal(Sx, Sb, n, noise, rank=r)[1], _rank_cases(),
                          name="rank-r risk", wrong_answers=wrong, rtol=1e-7, atol=1e-10, show=show)
