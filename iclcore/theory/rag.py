"""Retrieval-augmented (query-correlated) prompts: exact risk of the best one-step PGD predictor.

Li, Rawat & Oymak (2024), Sec. 4 ("distributional alignment"): when the in-context features are
correlated with the query, ICL behaves as if it saw ``kappa = alpha^2 d + 1`` times more examples
({eq}`eq-ch2-kappa`). The data model is the book's design ({eq}`eq-ch2-rag`):

    x ~ N(0, I_d),   x_i = alpha x + sqrt(1 - alpha^2) g_i,   g_i ~ N(0, I_d) i.i.d.,
    beta ~ N(0, I_d),   y_i = beta^T x_i + xi_i,   y = beta^T x + xi,   xi, xi_i ~ N(0, noise^2).

The predictor is ``y_hat = w x^T X^T y`` (rotation invariance makes ``W* = w I``), so the risk is the
quadratic ``L(w) = A - 2 w B + w^2 C`` whose minimum is ``A - B^2 / C``. All three moments are exact
(Gaussian/chi-square moments, derived in Chapter 2), no Monte Carlo. Risk convention: includes the
query noise ``noise^2``.
"""

from __future__ import annotations

from iclcore import validate


def rag_moments(d: int, n: int, alpha: float, noise: float = 0.0) -> tuple[float, float, float]:
    """The moments ``(mu_0, mu_1, mu_2)`` of the risk quadratic ``L(w) = mu_0 - 2 w mu_1 + w^2 mu_2``
    ({eq}`eq-ch2-ragmoments`).

    With ``abar^2 = 1 - alpha^2`` and ``m_k = E||x||^{2k}`` (chi-square moments ``d, d(d+2), d(d+2)(d+4)``):

        mu_0 = d + noise^2,
        mu_1 = n d (alpha^2 (d + 1) + 1),
        mu_2 = n T1 + n (n - 1) T2 + noise^2 n T3,   where
        T1 = E[(x^T x_1)^2 ||x_1||^2] = alpha^4 m_3 + alpha^2 abar^2 (d + 5) m_2 + abar^4 m_2,
        T2 = E[(x^T x_1)(x^T x_2)(x_1^T x_2)] = alpha^4 m_3 + 2 alpha^2 abar^2 m_2 + abar^4 m_1,
        T3 = E[(x^T x_1)^2] = alpha^2 m_2 + abar^2 m_1.
    """
    validate.positive_int("d", d)
    validate.positive_int("n", n)
    validate.in_interval("alpha", alpha, -1.0, 1.0)
    validate.nonnegative("noise", noise)
    a2, s2 = alpha**2, 1.0 - alpha**2
    m1, m2, m3 = d, d * (d + 2), d * (d + 2) * (d + 4)
    T1 = a2**2 * m3 + a2 * s2 * (d + 5) * m2 + s2**2 * m2
    T2 = a2**2 * m3 + 2 * a2 * s2 * m2 + s2**2 * m1
    T3 = a2 * m2 + s2 * m1
    A = d + noise**2
    B = n * d * (a2 * (d + 1) + 1)
    C = n * T1 + n * (n - 1) * T2 + noise**2 * n * T3
    return float(A), float(B), float(C)


def rag_optimal(d: int, n: int, alpha: float, noise: float = 0.0) -> tuple[float, float]:
    """Optimal scale ``w* = B / C`` (``W* = w* I``) and risk ``A - B^2 / C`` of one-step PGD on retrieval
    prompts ({eq}`eq-ch2-ragmoments`)."""
    A, B, C = rag_moments(d, n, alpha, noise)
    return B / C, A - B**2 / C


def rag_risk(d: int, n: int, alpha: float, noise: float = 0.0) -> float:
    """Exact optimal one-step-PGD risk ``A - B^2/C`` under the retrieval design, incl. ``noise^2``."""
    return rag_optimal(d, n, alpha, noise)[1]


def rag_kappa(d: int, alpha: float) -> float:
    """The effective-sample-size multiplier ``kappa = alpha^2 d + 1`` (Li, Rawat & Oymak 2024; {eq}`eq-ch2-kappa`)."""
    validate.positive_int("d", d)
    validate.in_interval("alpha", alpha, -1.0, 1.0)
    return alpha**2 * d + 1.0


def iid_isotropic_risk(d: int, n_eff: float, noise: float = 0.0) -> float:
    """Optimal PGD risk on i.i.d. isotropic prompts, ``d(d+1+s^2)/(n+d+1+s^2) + s^2``, for a *real* n.

    Same as ``pgd_optimal(I, I, n, noise)`` but accepts a non-integer effective sample size, so the
    kappa rule ``L_RAG(n) ~ L_iid(kappa n)`` ({eq}`eq-ch2-kappa`) can be drawn.
    """
    validate.positive_int("d", d)
    validate.positive("n_eff", n_eff)
    validate.nonnegative("noise", noise)
    s2 = noise**2
    return float(d * (d + 1 + s2) / (n_eff + d + 1 + s2) + s2)
