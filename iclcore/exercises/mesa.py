"""Checkers for the coding exercises of the mesa-optimization chapter.

* :func:`check_mesa_prediction` -- ``fn(states, c) -> (n, T, d)`` complex: one gradient step of size c at every
  position, ``c G_t s_t`` with ``G_t = (1/t) sum_{tau <= t} s_tau s_{tau-1}^*`` ({eq}`eq-ch11-gd`);
* :func:`check_optimal_product` -- ``fn(starts, T) -> float``: the value ``c*(T)`` of {eq}`eq-ch11-cstar`
  computed from sampled starts.

The prediction checker prints complex numbers as ``[real, imaginary]`` pairs. Each calls the reader's function
on several cases, prints a verdict with a hint when the answer matches a known
mistake, and returns a :class:`iclcore.exercises.base.Verdict`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from iclcore.exercises.base import Case, Verdict, check_function
from iclcore.tasks import make_generator
from iclcore.tasks.diagonal_ar import DiagonalARSequences, sample_start
from iclcore.theory.mesa import empirical_moments, mesa_step_predict, optimal_product


def _complex_view(value):
    """Complex predictions as a real array (..., 2) (real, imaginary), so the checker compares both parts;
    anything else is passed through for the base checker to judge."""
    try:
        arr = np.asarray(value.detach().cpu().numpy() if hasattr(value, "detach") else value)
    except (TypeError, ValueError):
        return value
    if arr.dtype.kind not in "fciu":
        return value
    arr = arr.astype(np.complex128)
    return np.stack([arr.real, arr.imag], axis=-1)


def _states(start: str, d: int, T: int, n: int, seed: int) -> np.ndarray:
    return DiagonalARSequences(d, max(T, 2), start).states(n, make_generator(seed))[:, :T + 1].numpy()


def _prediction_cases() -> list[Case]:
    return [
        Case("one position (T = 1), d = 1", (_states("unit_modulus", 1, 1, 3, 0), 1.0)),
        Case("Gaussian start, d = 3, T = 5", (_states("gaussian", 3, 5, 4, 1), 0.7)),
        Case("sparse start (Example 4.1), d = 4, T = 6", (_states("sparse", 4, 6, 3, 2), 1.3)),
        Case("unit-modulus start, d = 2, T = 8", (_states("unit_modulus", 2, 8, 3, 3), -0.4)),
    ]


def _pairing(states, c, conj=True, normalise=True, transpose=False):
    """The step with one planted mistake: no conjugate, no 1/t, or the pair in the wrong order."""
    s = np.asarray(states, dtype=np.complex128)
    T = s.shape[1] - 1
    out = np.zeros((s.shape[0], T, s.shape[2]), dtype=np.complex128)
    for t in range(1, T + 1):
        new, old = s[:, 1:t + 1], s[:, :t]
        if transpose:
            new, old = old, new
        key = old.conj() if conj else old
        G = np.einsum("nui,nuj->nij", new, key) / (t if normalise else 1)
        out[:, t - 1] = c * np.einsum("nij,nj->ni", G, s[:, t])
    return out


def check_mesa_prediction(fn: Callable, show: bool = True) -> Verdict:
    """Check ``fn(states, c)`` against ``c G_t s_t`` ({eq}`eq-ch11-gd`) on four batches of complex sequences.
    ``show`` prints the verdict as well as returning it."""
    if not callable(fn):
        return check_function(fn, lambda *a: 0.0, [Case("any", ())], name="my_mesa_prediction", show=show)

    def viewed(states, c):
        out = fn(states, c)
        shape, want = np.shape(out), (states.shape[0], states.shape[1] - 1, states.shape[2])
        if shape != want:
            raise ValueError(f"your function returned shape {shape}; expected (n, T, d) = {want}")
        return _complex_view(out)

    return check_function(
        viewed,
        lambda states, c: _complex_view(mesa_step_predict(states, c)),
        _prediction_cases(), name="my_mesa_prediction", rtol=1e-8, atol=1e-10, show=show,
        wrong_answers=[
            (lambda s, c: _complex_view(_pairing(s, c, conj=False)),
             "The states are complex: the score is the inner product s_{tau-1}^* s_t, with a conjugate."),
            (lambda s, c: _complex_view(_pairing(s, c, normalise=False)),
             "The step is c/t times the gradient: divide the sum over tau <= t by t."),
            (lambda s, c: _complex_view(_pairing(s, c, transpose=True)),
             "G_t = (1/t) sum s_tau s_{tau-1}^*: the newer state on the left, its predecessor (conjugated) on "
             "the right."),
            (lambda s, c: _complex_view(mesa_step_predict(s, c).real),
             "Keep the predictions complex: dropping the imaginary part throws half of the state away."),
        ])


def _product_reference(starts, T):
    return optimal_product(empirical_moments(starts), T)


def _product_infinite_T(starts, T):
    return optimal_product(empirical_moments(starts), np.inf)


def _product_over_T(starts, T):                       # h_T replaced by 1/T
    m = empirical_moments(starts)
    return m.m4 / (m.m6 + m.m24 / T)


def _product_with_diagonal(starts, T):                 # m24 with k = j included: E[S2 S4]
    m = empirical_moments(starts)
    h = np.mean(1.0 / np.arange(1, T + 1))
    return m.m4 / (m.m6 + h * (m.m24 + m.m6))


def _product_low_moments(starts, T):                   # moments of |s|^1, |s|^2, |s|^3 instead of 2, 4, 6
    z = np.abs(np.asarray(starts))
    m = empirical_moments(np.sqrt(z))
    return optimal_product(m, T)


def _starts(start: str, d: int, n: int, seed: int, **kw) -> np.ndarray:
    return sample_start(start, d, n, make_generator(seed), **kw).numpy()


def _product_cases() -> list[Case]:
    return [
        Case("one start of ones, d = 3, T = 1", (np.ones((1, 3), dtype=np.complex128), 1)),
        Case("Gaussian starts, d = 4, T = 10", (_starts("gaussian", 4, 200, 0), 10)),
        Case("unit-modulus starts with a spread, d = 2, T = 5",
             (_starts("unit_modulus", 2, 100, 1, modulus_spread=0.5), 5)),
        Case("sparse starts (Example 4.1), d = 5, T = 7", (_starts("sparse", 5, 50, 2, scale=2.0), 7)),
    ]


def check_optimal_product(fn: Callable, show: bool = True) -> Verdict:
    """Check ``fn(starts, T)`` against ``c*(T)`` of {eq}`eq-ch11-cstar` with the empirical moments of ``starts``.
    ``show`` prints the verdict as well as returning it."""
    return check_function(fn, _product_reference, _product_cases(), name="my_optimal_product", rtol=1e-8,
                          atol=1e-12, show=show, wrong_answers=[
                              (_product_infinite_T, "That is the T -> infinity value m4/m6: at a finite context "
                                                    "the cross-coordinate term h_T m24 adds to the denominator."),
                              (_product_over_T, "The pooled loss averages 1/t over t = 1..T: h_T is that mean, "
                                                "not 1/T."),
                              (_product_with_diagonal, "m24 sums |s_0j|^2 |s_0k|^4 over k != j only: subtract "
                                                       "the k = j terms (that is m6)."),
                              (_product_low_moments, "The moments are of the squared moduli: |s|^2, |s|^4, |s|^6."),
                          ])
