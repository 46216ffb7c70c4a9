"""Checkers for the coding exercises of Part II: max-margin token selection (the prompt model, Chapter 4 of the
book, file 03) and transformers as SVMs (the key-query matrix, Chapter 5, file 04).

Prompt model (references built on :func:`iclcore.theory.constraint_matrix` and
:func:`iclcore.theory.locally_optimal`):

* :func:`check_svm_constraints` -- ``fn(X, alpha) -> rows``, the rows ``x_{i alpha_i} - x_{it}`` of the att-SVM
  {eq}`eq-ch3-svm`;
* :func:`check_selection_margin` -- ``fn(X, alpha, p) -> margin``, the smallest score gap per unit norm;
* :func:`check_locally_optimal` -- ``fn(gamma, alpha, support) -> ok``, the local-optimality test.

Key-query model (references built on ``constraint_matrix(X, alpha, query=z)``):

* :func:`check_svm_data_points` -- ``fn(X, alpha, z) -> A``, the outer products ``(x_{i alpha_i} - x_{it}) z_i^T``
  of {eq}`eq-ch4-svm`;
* :func:`check_normalised_margin` -- ``fn(X, alpha, z, W, norm) -> margin``, the smallest gap per unit
  Frobenius or nuclear norm.

Each prints a verdict and returns a :class:`iclcore.exercises.base.Verdict`; a failed case whose answer matches
a known mistake (a sign, a transpose, the wrong norm, a forgotten exclusion) carries a hint about that mistake.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from iclcore.exercises.base import Case, Verdict, check_function
from iclcore.theory import constraint_matrix, locally_optimal


def _unit_tokens(rng: np.random.Generator, n: int, T: int, d: int) -> np.ndarray:
    X = rng.standard_normal((n, T, d))
    return X / np.linalg.norm(X, axis=-1, keepdims=True)


def _with_shape_hint(verdict: Verdict, fn: Callable, cases: list[Case], hint_for_shape: Callable) -> Verdict:
    """Replace the generic hint of a wrong-shape verdict by ``hint_for_shape(case, shape)`` when it has one."""
    if verdict or "returned shape" not in verdict.message:
        return verdict
    for case in cases:
        try:
            shape = np.shape(np.asarray(fn(*case.args, **case.kwargs), dtype=np.float64))
        except Exception:  # noqa: BLE001 - the verdict already reports the error
            return verdict
        hint = hint_for_shape(case, shape)
        if hint:
            verdict.hint = hint
            return verdict
    return verdict


def _finish(verdict: Verdict, show: bool) -> Verdict:
    if show:
        print(repr(verdict))
    return verdict


# --------------------------------------------------------------------------------------------------------------
# The prompt model: p in R^d (file 03)
# --------------------------------------------------------------------------------------------------------------

HULL = np.array([[[0.0, 0.0], [1.0, 0.0], [-1.0, 0.0]]])
"""The exercise 'An infeasible selection': one sequence whose first token lies between the other two."""


def _selection_cases() -> list[Case]:
    rng = np.random.default_rng(3)
    return [Case("one sequence of two tokens (n=1, T=2)", (np.array([[[1.0, 0.0], [0.0, 1.0]]]), np.array([1]))),
            Case("a token between two others (the hull example)", (HULL, np.array([0]))),
            Case("n=3 sequences, T=4, d=3", (_unit_tokens(rng, 3, 4, 3), np.array([0, 3, 1]))),
            Case("n=2, T=5, d=2, last tokens selected", (_unit_tokens(rng, 2, 5, 2), np.array([4, 2])))]


def _rows_t_major(X, alpha):
    n, T, _ = X.shape
    return np.array([X[i, alpha[i]] - X[i, t] for t in range(T) for i in range(n) if t != alpha[i]])


def check_svm_constraints(fn: Callable, show: bool = True) -> Verdict:
    """Check ``fn(X, alpha)``: for tokens ``X`` (n, T, d) and selected indices ``alpha`` (n,), return the rows
    ``x_{i alpha_i} - x_{it}`` of the att-SVM constraints {eq}`eq-ch3-svm`, one per sequence i and token
    ``t != alpha_i``, sequence by sequence and in increasing t: shape (n (T-1), d)."""
    cases = _selection_cases()
    wrong = [(lambda X, alpha: -constraint_matrix(X, alpha)[0],
              "Each row is x_{iα_i} − x_{it}, the selected token minus the other one: the constraint "
              "(x_{iα_i} − x_{it})^T p ≥ 1 says the selected token scores higher."),
             (_rows_t_major, "Right rows, wrong order: go sequence by sequence (i outer, t inner), as "
                             "iclcore.theory.constraint_matrix does.")]
    verdict = check_function(fn, lambda X, alpha: constraint_matrix(X, alpha)[0], cases, name="att-SVM constraints",
                             wrong_answers=wrong, rtol=1e-9, atol=1e-12, show=False)

    def shape_hint(case, shape):
        n, T, _ = case.args[0].shape
        if shape[:1] == (n * T,):
            return ("There are n(T − 1) constraints: skip t = α_i, whose row x_{iα_i} − x_{iα_i} = 0 would say "
                    "0 ≥ 1.")
        return None

    return _finish(_with_shape_hint(verdict, fn, cases, shape_hint), show)


def _margin(X, alpha, p, include_self=False, sign=1.0, normalise=1, reduce=np.min) -> float:
    gaps = sign * constraint_matrix(X, alpha)[0] @ np.asarray(p, dtype=np.float64)
    if include_self:
        gaps = np.r_[gaps, 0.0]
    return float(reduce(gaps) / np.linalg.norm(p) ** normalise)


def check_selection_margin(fn: Callable, show: bool = True) -> Verdict:
    """Check ``fn(X, alpha, p)``: the margin of the selection ``alpha`` under the prompt ``p``, the smallest
    score gap ``(x_{i alpha_i} - x_{it})^T p`` over all i and ``t != alpha_i``, divided by ``||p||`` (a number;
    negative when ``p`` does not select ``alpha``)."""
    rng = np.random.default_rng(4)
    X3 = _unit_tokens(rng, 3, 4, 3)
    p3 = rng.standard_normal(3)
    square = np.array([[[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]])
    cases = [Case("the att-SVM solution p^mm = (1, 0) of a small example", (square, np.array([0]),
                                                                             np.array([1.0, 0.0]))),
             Case("n=3 sequences, T=4, d=3, a random p", (X3, np.array([0, 3, 1]), p3)),
             Case("the same p, 10 times longer (the margin is scale-free)", (X3, np.array([0, 3, 1]), 10 * p3)),
             Case("a p that selects other tokens (negative margin)", (HULL, np.array([0]), np.array([1.0, 0.5]))),
             Case("n=2, T=5, d=2", (_unit_tokens(rng, 2, 5, 2), np.array([4, 2]), np.array([0.3, -2.0])))]
    wrong = [(lambda X, alpha, p: _margin(X, alpha, p, normalise=0),
              "Divide by ‖p‖: the gaps grow with the length of p, and the margin compares directions."),
             (lambda X, alpha, p: _margin(X, alpha, p, normalise=2),
              "Divide by ‖p‖, not ‖p‖²: the margin of a direction is the smallest gap of the unit vector p/‖p‖."),
             (lambda X, alpha, p: _margin(X, alpha, p, include_self=True),
              "The gap of α_i with itself is 0 and is no constraint: take the minimum over t ≠ α_i only."),
             (lambda X, alpha, p: _margin(X, alpha, p, reduce=np.max),
              "The margin is the *smallest* gap: the constraint that is hardest to satisfy decides."),
             (lambda X, alpha, p: _margin(X, alpha, p, sign=-1.0),
              "The gap is (x_{iα_i} − x_{it})^T p, selected minus other: positive when p selects α.")]
    verdict = check_function(fn, lambda X, alpha, p: _margin(X, alpha, p), cases, name="selection margin",
                             wrong_answers=wrong, rtol=1e-9, atol=1e-12, show=False)

    def shape_hint(case, shape):
        return "Return one number: the smallest gap over every sequence and every token." if shape else None

    return _finish(_with_shape_hint(verdict, fn, cases, shape_hint), show)


def check_locally_optimal(fn: Callable, show: bool = True) -> Verdict:
    """Check ``fn(gamma, alpha, support)``: for token scores ``gamma`` (n, T), selected indices ``alpha`` (n,)
    and the support tokens ``support`` (n, T, bool; the tokens whose att-SVM constraint is active), return
    one boolean per sequence: does ``alpha_i`` score strictly higher than every support token of its sequence?"""
    F, T_ = False, True
    rng = np.random.default_rng(6)
    gamma_r = rng.standard_normal((5, 4))
    alpha_r = np.array([0, 1, 2, 3, 0])
    support_r = rng.random((5, 4)) < 0.5
    support_r[np.arange(5), alpha_r] = False
    cases = [Case("every support token scores lower", (np.array([[0.9, 0.1, 0.5]]), np.array([0]),
                                                       np.array([[F, T_, T_]]))),
             Case("a support token scores higher", (np.array([[0.2, 0.8, 0.1]]), np.array([0]),
                                                    np.array([[F, T_, F]]))),
             Case("a better token that is not a support token", (np.array([[0.5, 0.9, 0.1]]), np.array([0]),
                                                                 np.array([[F, F, T_]]))),
             Case("two support tokens, one scores higher", (np.array([[0.6, 0.9, 0.1]]), np.array([0]),
                                                             np.array([[F, T_, T_]]))),
             Case("a tie with a support token", (np.array([[0.5, 0.5, 0.9]]), np.array([0]),
                                                 np.array([[F, T_, F]]))),
             Case("a sequence without support tokens", (np.array([[0.1, 0.7]]), np.array([0]), np.array([[F, F]]))),
             Case("five random sequences", (gamma_r, alpha_r, support_r))]

    def selected(gamma, alpha):
        return np.asarray(gamma)[np.arange(len(alpha)), alpha][:, None]

    def is_alpha(gamma, alpha):
        return np.arange(np.shape(gamma)[1])[None, :] == np.asarray(alpha)[:, None]

    wrong = [(lambda g, a, s: (selected(g, a) >= np.asarray(g)).all(1),
              "That is global optimality (α_i beats every token). Local optimality compares α_i with its support "
              "tokens only, the SVM neighbours whose constraints are active."),
             (lambda g, a, s: np.all(~s | (selected(g, a) >= g), axis=1),
              "A tie is not a win: the selected score must be strictly larger than every support token's."),
             (lambda g, a, s: ~np.any(s, axis=1) | np.any(s & (selected(g, a) > g), axis=1),
              "*Every* support token must score lower (all), not just one of them (any)."),
             (lambda g, a, s: np.all(s | is_alpha(g, a) | (selected(g, a) > g), axis=1),
              "You compared α_i with the tokens that are *not* support tokens; the support tokens are the ones that "
              "matter."),
             (lambda g, a, s: ~locally_optimal(g, a, s), "Your answer is inverted: True means locally optimal.")]
    return check_function(fn, lambda g, a, s: locally_optimal(g, a, s), cases, name="local optimality",
                          wrong_answers=wrong, rtol=0, atol=0.5, show=show)


# --------------------------------------------------------------------------------------------------------------
# The key-query model: W in R^{d x d} (file 04)
# --------------------------------------------------------------------------------------------------------------


def _query_cases() -> list[Case]:
    rng = np.random.default_rng(8)
    X2 = _unit_tokens(rng, 2, 3, 3)
    return [Case("n=1, T=2, d=2", (np.array([[[1.0, 0.0], [0.0, 1.0]]]), np.array([0]), np.array([[0.6, 0.8]]))),
            Case("n=2, T=3, d=3 (cross-attention)", (X2, np.array([2, 0]), _unit_tokens(rng, 1, 2, 3)[0])),
            Case("self-attention: z_i is the first token", (X2, np.array([1, 2]), X2[:, 0])),
            Case("n=3, T=4, d=2", (_unit_tokens(rng, 3, 4, 2), np.array([3, 0, 1]), _unit_tokens(rng, 1, 3, 2)[0]))]


def _data_points(X, alpha, z) -> np.ndarray:
    d = np.shape(X)[-1]
    return constraint_matrix(X, alpha, query=z)[0].reshape(-1, d, d)


def check_svm_data_points(fn: Callable, show: bool = True) -> Verdict:
    """Check ``fn(X, alpha, z)``: for tokens ``X`` (n, T, d), selections ``alpha`` (n,) and query tokens ``z``
    (n, d), return the data points ``A_it = (x_{i alpha_i} - x_{it}) z_i^T`` of the SVM {eq}`eq-ch4-svm`, one
    d x d matrix per sequence i and token ``t != alpha_i`` (sequence by sequence, increasing t):
    shape (n (T-1), d, d)."""
    cases = _query_cases()

    wrong = [(lambda X, a, z: np.swapaxes(_data_points(X, a, z), -1, -2),
              "Transposed: the score is x^T W z = ⟨x z^T, W⟩, so the token difference is the column (left) factor "
              "and the query the row (right) factor: A_it = (x_{iα_i} − x_{it}) z_i^T."),
             (lambda X, a, z: -_data_points(X, a, z),
              "The sign is flipped: A_it = (x_{iα_i} − x_{it}) z_i^T, selected minus other, so that "
              "⟨A_it, W⟩ ≥ 1 means the selected token scores higher."),
             (lambda X, a, z: np.einsum("ra,b->rab", constraint_matrix(X, a)[0], np.asarray(z)[0]),
              "Each sequence has its own query: use z_i of sequence i, not z_0 for every row.")]
    verdict = check_function(fn, _data_points, cases, name="SVM data points", wrong_answers=wrong, rtol=1e-9,
                             atol=1e-12, show=False)

    def shape_hint(case, shape):
        X = case.args[0]
        n, T, d = X.shape
        if shape == (n * (T - 1), d * d):
            return "Return each A_it as a d × d matrix: shape (n(T − 1), d, d), not flattened."
        if shape[:1] == (n * T,):
            return "Skip t = α_i: there are n(T − 1) data points."
        return None

    return _finish(_with_shape_hint(verdict, fn, cases, shape_hint), show)


def _normalised_margin(X, alpha, z, W, norm, transpose=False, norm_kind=None, scale=True) -> float:
    W = np.asarray(W, dtype=np.float64)
    gaps = constraint_matrix(X, alpha, query=z)[0] @ (W.T if transpose else W).ravel()
    size = np.linalg.norm(W, {"fro": "fro", "nuc": "nuc"}[norm] if norm_kind is None else norm_kind)
    return float(gaps.min() / size) if scale else float(gaps.min())


def check_normalised_margin(fn: Callable, show: bool = True) -> Verdict:
    """Check ``fn(X, alpha, z, W, norm)``: the smallest score gap ``(x_{i alpha_i} - x_{it})^T W z_i`` over all
    i and ``t != alpha_i``, divided by the Frobenius norm of ``W`` (``norm="fro"``) or its nuclear norm, the
    sum of its singular values (``norm="nuc"``)."""
    rng = np.random.default_rng(9)
    base = _query_cases()
    cases = []
    for case in base[1:]:
        X, alpha, z = case.args
        d = X.shape[-1]
        W = rng.standard_normal((d, d))
        for norm in ("fro", "nuc"):
            cases.append(Case(f"{case.label}, a random W, norm={norm!r}", (X, alpha, z, W, norm)))
    X, alpha, z = base[1].args
    u = rng.standard_normal(3)
    cases += [Case("a rank-one W (both norms agree)", (X, alpha, z, np.outer(u, z[0]), "nuc")),
              Case("W = I, norm='nuc'", (X, alpha, z, np.eye(3), "nuc"))]
    wrong = [(lambda X, a, z, W, norm: _normalised_margin(X, a, z, W, norm, norm_kind="fro"),
              "For norm='nuc' divide by the nuclear norm, the sum of the singular values "
              "(np.linalg.norm(W, 'nuc')), not by the Frobenius norm."),
             (lambda X, a, z, W, norm: _normalised_margin(X, a, z, W, norm, norm_kind=2),
              "That is the spectral norm (the largest singular value). Frobenius: the root of the sum of squared "
              "singular values; nuclear: their sum."),
             (lambda X, a, z, W, norm: _normalised_margin(X, a, z, W, norm, scale=False),
              "Divide by the norm of W: the margin compares directions, not lengths."),
             (lambda X, a, z, W, norm: _normalised_margin(X, a, z, W, norm, transpose=True),
              "The score of token t is x_{it}^T W z_i: W sits between the token (left) and the query (right); "
              "you used W^T.")]
    return check_function(fn, _normalised_margin, cases, name="normalised margin", wrong_answers=wrong,
                          rtol=1e-9, atol=1e-12, show=show)
