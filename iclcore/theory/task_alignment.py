"""Task-feature aligned prompts: exact risk of the best one-step PGD predictor.

Li, Rawat & Oymak (2024), Sec. 4, show that features aligned with the *task* (not only with the query, as
in :mod:`iclcore.theory.rag`) also raise ICL's effective sample size. The data model here is the book's
design ({eq}`eq-ch2-tfa`, :class:`iclcore.tasks.TaskAlignedRegression`): ``beta ~ N(0, I_d)``,
``u = beta / ||beta||``, and given beta every feature is

    x_i, x ~ N(0, S),   S = c I + e u u^T,   c = 1 - alpha^2,   e = alpha^2 d,

with ``y_i = beta^T x_i + xi_i``, ``y = beta^T x + xi``, ``xi ~ N(0, noise^2)``. The design is rotation
invariant, so ``W* = w I`` and the risk is the quadratic ``L(w) = mu_0 - 2 w mu_1 + w^2 mu_2`` with exact moments
({eq}`eq-ch2-tfamoments`; given beta, Isserlis' theorem; then ``E||beta||^2 = d``):

    A = (c + e) d + noise^2,
    B = n (c + e)^2 d,
    C = n ((c + e) d + noise^2) ((d - 1) c^2 + (c + e)^2) + n (n + 1) (c + e)^3 d.

Risk convention: includes the query noise ``noise^2``. The label variance ``A`` grows with alpha (features
along beta carry more signal), so the chapter compares the *relative* risk ``L / A``.
"""

from __future__ import annotations

from iclcore import validate


def _check(d: int, n: int, alpha: float, noise: float) -> tuple[float, float]:
    validate.positive_int("d", d)
    validate.positive_int("n", n)
    validate.in_interval("alpha", alpha, -1.0, 1.0)
    validate.nonnegative("noise", noise)
    return 1.0 - alpha**2, alpha**2 * d


def tfa_moments(d: int, n: int, alpha: float, noise: float = 0.0) -> tuple[float, float, float]:
    """The moments ``(mu_0, mu_1, mu_2)`` of the risk quadratic ``L(w) = mu_0 - 2 w mu_1 + w^2 mu_2``
    ({eq}`eq-ch2-tfamoments`)."""
    c, e = _check(d, n, alpha, noise)
    lam = c + e                                     # the variance of a feature along the task direction
    A = lam * d + noise**2
    B = n * lam**2 * d
    C = n * (lam * d + noise**2) * ((d - 1) * c**2 + lam**2) + n * (n + 1) * lam**3 * d
    return float(A), float(B), float(C)


def tfa_optimal(d: int, n: int, alpha: float, noise: float = 0.0) -> tuple[float, float]:
    """Optimal scale ``w* = B / C`` (``W* = w* I``) and risk ``A - B^2 / C`` of one-step PGD on task-feature
    aligned prompts ({eq}`eq-ch2-tfamoments`); the risk includes ``noise^2``."""
    A, B, C = tfa_moments(d, n, alpha, noise)
    return B / C, A - B**2 / C


def tfa_risk(d: int, n: int, alpha: float, noise: float = 0.0) -> float:
    """Exact optimal one-step-PGD risk under task-feature alignment, incl. ``noise^2``."""
    return tfa_optimal(d, n, alpha, noise)[1]


def tfa_effective_n(d: int, n: int, alpha: float) -> float:
    """The effective sample size of noiseless task-feature aligned prompts ({eq}`eq-ch2-tfaneff`).

    Without noise the relative risk ``L*/A`` is *exactly* the i.i.d. isotropic one,
    ``(d + 1)/(n_eff + d + 1)``, at

        n_eff = n (c + e)^2 (d + 1) / ((d - 1) c^2 + 2 (c + e)^2),

    which is n at alpha = 0, about ``n q^2`` while ``2 q^2 << d`` (``q = (c + e) / c``, the stretch of the task
    direction), and at most ``n (d + 1) / 2`` (alpha = 1).
    """
    c, e = _check(d, n, alpha, 0.0)
    lam = c + e
    return float(n * lam**2 * (d + 1) / ((d - 1) * c**2 + 2 * lam**2))
