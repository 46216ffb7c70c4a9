"""Checkers for the coding exercises of Chapter 8 (self-attention as a context-conditioned Markov chain).

* :func:`check_ccmc_row` -- ``fn(W_tilde, counts, last) -> p``, the CCMC transition row {eq}`eq-ch8-ccmc`;
* :func:`check_next_tokens` -- ``fn(W_tilde, counts, last, u) -> y``, one vectorised sampling step of
  generation {eq}`eq-ch8-generation` (inverse-CDF with given uniforms).

Each calls the reader's function on several cases, prints a verdict with a hint when the answer matches a
known mistake, and returns a :class:`iclcore.exercises.base.Verdict`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from iclcore.exercises.base import Case, Verdict, check_function
from iclcore.theory.ccmc import base_chain, ccmc_probs


def _row_cases() -> list[Case]:
    rng = np.random.default_rng(8)
    W4 = rng.standard_normal((4, 4))
    W6 = 2.0 * rng.standard_normal((6, 6))
    return [Case("4 tokens, two absent", (W4, np.array([0.0, 5.0, 0.0, 1.0]), 3)),
            Case("4 tokens, every token present", (W4, np.array([2.0, 1.0, 3.0, 1.0]), 2)),
            Case("6 tokens, large scores", (W6, np.array([1.0, 0.0, 4.0, 2.0, 0.0, 7.0]), 0)),
            Case("W~ = 0: only the counts matter", (np.zeros((5, 5)), np.array([1.0, 2.0, 0.0, 3.0, 4.0]), 1)),
            Case("a single token in the prompt", (W6, np.array([0.0, 0.0, 0.0, 9.0, 0.0, 0.0]), 3))]


def _softmax(z: np.ndarray) -> np.ndarray:
    z = np.exp(z - z.max(-1, keepdims=True))
    return z / z.sum(-1, keepdims=True)


def check_ccmc_row(fn: Callable, show: bool = True) -> Verdict:
    """Check ``fn(W_tilde, counts, last)``: for a score matrix (K, K), a count vector (K,) and the last token
    (an int), it must return the CCMC next-token distribution (K,) of {eq}`eq-ch8-ccmc`."""
    wrong = [
        (lambda W, m, i: base_chain(W)[i],
         "This is the base chain softmax(W~[last]): the counts m_j are missing. Multiply e^{W~[last, j]} by m_j "
         "before normalising (tokens absent from the prompt then get probability 0)."),
        (lambda W, m, i: ccmc_probs(W.T, m, i),
         "You read a column of W~: the row index is the last token (the query), W~[last, j]."),
        (lambda W, m, i: m * np.exp(W[i]),
         "Right weights, but they do not sum to 1: divide by their sum."),
        (lambda W, m, i: _softmax(W[i] + m),
         "The counts enter as a factor m_j (a log m_j added to the logit), not as m_j added to the logit."),
        (lambda W, m, i: ccmc_probs(W, (m > 0).astype(float), i),
         "Each present token counts once here: the CCMC weighs token j by how OFTEN it occurs, m_j."),
    ]
    return check_function(fn, lambda W, m, i: ccmc_probs(W, m, i), _row_cases(), name="CCMC transition row",
                          wrong_answers=wrong, rtol=1e-8, atol=1e-12, show=show)


def _reference_step(W, counts, last, u):
    c = ccmc_probs(W, counts, last).cumsum(-1)
    return np.minimum((c <= u[:, None]).sum(-1), W.shape[0] - 1)


def _step_cases() -> list[Case]:
    rng = np.random.default_rng(9)
    cases = []
    for label, K, R in [("8 runs, 4 tokens", 4, 8), ("500 runs, 6 tokens", 6, 500), ("one run", 5, 1)]:
        W = rng.standard_normal((K, K))
        counts = rng.integers(0, 4, (R, K)).astype(float)
        last = rng.integers(0, K, R)
        counts[np.arange(R), last] += 1                  # the last token is in its own prompt
        cases.append(Case(label, (W, counts, last, rng.random(R))))
    return cases


def check_next_tokens(fn: Callable, show: bool = True) -> Verdict:
    """Check ``fn(W_tilde, counts, last, u)``: for R runs with count vectors (R, K), last tokens (R,) and
    uniforms u (R,) in [0, 1), it must return the next token of every run (R,): the first j whose cumulative
    CCMC probability exceeds u (inverse-CDF sampling, {eq}`eq-ch8-generation`)."""
    wrong = [
        (lambda W, m, i, u: np.minimum((base_chain(W)[i].cumsum(-1) <= u[:, None]).sum(-1), W.shape[0] - 1),
         "These are draws from the base chain: the counts are missing from the probabilities."),
        (lambda W, m, i, u: ccmc_probs(W, m, i).argmax(-1),
         "This is greedy decoding (the most likely token): use u to pick the token whose cumulative "
         "probability first exceeds u."),
        (lambda W, m, i, u: np.minimum(((m * np.exp(W[i])).cumsum(-1) <= u[:, None]).sum(-1), W.shape[0] - 1),
         "Normalise the weights before comparing their cumulative sum with u (or scale u by the total)."),
    ]
    return check_function(fn, _reference_step, _step_cases(), name="vectorised sampling step", wrong_answers=wrong,
                          rtol=0, atol=0, show=show)
