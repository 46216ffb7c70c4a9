"""Checkers for the coding exercises of Chapter 7 (in-context autoregressive learning).

* :func:`check_gd_prediction` -- ``fn(states, eta) -> (n, T, d)``, the gradient-step predictions
  ``eta G_t s_t`` of {eq}`eq-ch7-gd`;
* :func:`check_unitary_loss` -- ``fn(C, p) -> float``, the exact loss {eq}`eq-ch7-reduced` of the diagonal
  multi-head model at one position (also compared with a Monte-Carlo estimate).

Each calls the reader's function on several cases, prints a verdict with a hint when the answer matches a known
mistake, and returns a :class:`iclcore.exercises.base.Verdict`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from iclcore.exercises.base import Case, Verdict, check_function
from iclcore.tasks import make_generator
from iclcore.tasks.autoregressive import RotationSequences
from iclcore.theory.autoregressive import gd_step_predict


def _states(family: str, d: int, T: int, n: int, seed: int) -> np.ndarray:
    return RotationSequences(d, T, tokens="plain", family=family).states(n, make_generator(seed)).numpy()


def _gd_cases() -> list[Case]:
    return [
        Case("two positions (T = 2), d = 2", (_states("commuting", 2, 2, 3, 0), 1.0)),
        Case("rotations, d = 4, T = 6", (_states("commuting", 4, 6, 5, 1), 2.5)),
        Case("non-commuting W, d = 3, T = 8", (_states("orthogonal", 3, 8, 4, 2), 0.7)),
    ]


def _gd_reference(states, eta):
    return eta * gd_step_predict(states)


def _gd_unnormalised(states, eta):                          # forgot the 1/t
    return _gd_reference(states, eta) * np.arange(1, states.shape[1])[None, :, None]


def _gd_transposed(states, eta):                            # s_{tau-1} s_tau^T instead of s_tau s_{tau-1}^T
    s = np.asarray(states, dtype=np.float64)
    T = s.shape[1] - 1
    out = np.zeros((s.shape[0], T, s.shape[2]))
    for t in range(1, T + 1):
        G = np.einsum("nti,ntj->nij", s[:, :t], s[:, 1:t + 1]) / t
        out[:, t - 1] = eta * np.einsum("nij,nj->ni", G, s[:, t])
    return out


def _gd_previous_query(states, eta):                        # applied W_1 to s_{t-1} instead of s_t
    s = np.asarray(states, dtype=np.float64)
    T = s.shape[1] - 1
    out = np.zeros((s.shape[0], T, s.shape[2]))
    for t in range(1, T + 1):
        G = np.einsum("nti,ntj->nij", s[:, 1:t + 1], s[:, :t]) / t
        out[:, t - 1] = eta * np.einsum("nij,nj->ni", G, s[:, t - 1])
    return out


def check_gd_prediction(fn: Callable, show: bool = True) -> Verdict:
    """Check ``fn(states, eta)`` against ``eta * G_t s_t`` ({eq}`eq-ch7-gd`) on three batches of sequences."""
    return check_function(fn, _gd_reference, _gd_cases(), name="my_gd_prediction", rtol=1e-8, atol=1e-10,
                          show=show, wrong_answers=[
                              (_gd_unnormalised, "The step is eta/t times the gradient: divide the sum by t."),
                              (_gd_transposed, "G_t = (1/t) sum s_tau s_{tau-1}^T: the newer state on the left."),
                              (_gd_previous_query, "The learned W_1 is applied to the newest state s_t."),
                          ])


def _loss_reference(C, p):
    C, p = np.asarray(C, dtype=np.float64), np.asarray(p, dtype=np.float64)
    d, fro = C.shape[0], (C**2).sum()
    return d - 2 * p[-1] * np.trace(C) + (p @ p) * fro + p[-2] ** 2 * ((C.sum(1) ** 2).sum() - fro)


def _loss_no_cross(C, p):                                   # dropped the p_1^2 correction
    C, p = np.asarray(C, dtype=np.float64), np.asarray(p, dtype=np.float64)
    return C.shape[0] - 2 * p[-1] * np.trace(C) + (p @ p) * (C**2).sum()


def _loss_official(C, p):                                   # the official script's expression
    C, p = np.asarray(C, dtype=np.float64), np.asarray(p, dtype=np.float64)
    return C.shape[0] - 2 * p[-1] * np.trace(C) + (p @ p) * (C**2).sum() + p[-2] ** 2 * (C.sum(1) ** 2).sum()


def _loss_cases() -> list[Case]:
    rng = np.random.default_rng(7)
    return [
        Case("the zero-loss point C = I, newest token only", (np.eye(3), np.array([0.0, 0.0, 1.0]))),
        Case("random C (d = 2), two positions", (rng.normal(size=(2, 2)), rng.normal(size=2))),
        Case("random C (d = 4), five positions", (rng.normal(size=(4, 4)), rng.normal(size=5))),
    ]


def _monte_carlo_loss(C, p, n: int = 2**16, seed: int = 3) -> float:
    """``E sum_j |s_{t+1,j} - s_hat_j|^2`` on sampled unitary sequences, with the model of {eq}`eq-ch7-diag` at
    the last position (t = len(p) - 1) written with C directly."""
    C, p = np.asarray(C, dtype=np.float64), np.asarray(p, dtype=np.float64)
    t = len(p) - 1
    s = RotationSequences(C.shape[0], t + 1, tokens="plain", family="unitary").states(n, make_generator(seed))
    s = s.numpy()                                                         # s_0 .. s_{t+1}
    score = np.einsum("jk,nuk,nk->nuj", C, s[:, :t + 1], s[:, t - 1].conj())   # sum_k C_jk s_tau,k conj(s_{t-1},k)
    pred = np.einsum("u,nuj,nuj->nj", p, s[:, :t + 1], score)
    return float((np.abs(s[:, t + 1] - pred) ** 2).sum(-1).mean())


def check_unitary_loss(fn: Callable, show: bool = True) -> Verdict:
    """Check ``fn(C, p)`` against the exact loss {eq}`eq-ch7-reduced` on three cases, then against Monte Carlo."""
    verdict = check_function(fn, _loss_reference, _loss_cases(), name="my_unitary_loss", rtol=1e-8, atol=1e-10,
                             show=False, wrong_answers=[
                                 (_loss_no_cross, "When the query's own position has weight p_1, terms with k ≠ k' "
                                                  "survive at u = u' = 1: add p_1^2 (||C 1||^2 - ||C||_F^2)."),
                                 (_loss_official, "Close: this is the official script's formula, which counts the "
                                                  "diagonal terms at the query's position twice (same minimisers)."),
                             ])
    if verdict:
        rng = np.random.default_rng(11)
        C, p = 0.5 * rng.normal(size=(3, 3)), 0.5 * rng.normal(size=4)
        mc, yours = _monte_carlo_loss(C, p), float(np.asarray(fn(C, p)))
        verdict = Verdict(True, f"{verdict.message}\n  And a Monte-Carlo estimate on 65536 sampled sequences "
                                f"gives {mc:.4f} where your formula gives {yours:.4f}.")
    if show:
        print(repr(verdict))
    return verdict
