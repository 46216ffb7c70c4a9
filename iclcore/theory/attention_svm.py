"""The max-margin problems that attention converges to (Tarzanagh et al. 2023a, 2023b), solved with cvxpy.

**Att-SVM.** Given one selected token index ``alpha_i`` per sequence, the attention parameter that separates
each selected token from the other tokens of its own sequence with margin 1 and the smallest norm:

* prompt model (``query=None``): variable p in R^d, keys k_{it} (rows of X_i; pass ``X_i W`` for W != I),

      p^mm = argmin ||p||_2   s.t.  (k_{i alpha_i} - k_{it})^T p >= 1   for all i, t != alpha_i
      ({eq}`eq-ch3-svm`)

* query model (``query=z``, shape (n, d)): variable W in R^{d x d},

      W^mm = argmin ||W||     s.t.  (x_{i alpha_i} - x_{it})^T W z_i >= 1  for all i, t != alpha_i
      ({eq}`eq-ch4-svm`)

  with ||.|| the Frobenius norm (``norm="fro"``, the bias of training W) or the nuclear norm
  (``norm="nuc"``, the bias of training the factors K, Q with W = K Q^T).

``margins`` replaces the right-hand side 1 by a per-sequence margin (the joint (v, p) problem of Tarzanagh
et al. 2023a uses margin 1 for sequences whose selected token is a support vector of the v-SVM and 0 otherwise).

A selected token is **locally optimal** when it beats, in token score gamma, every token whose constraint is
active at the solution (its "SVM neighbours"); it is **globally optimal** when it is ``argmax_t gamma_{it}``.

**Speed.** Each problem shape (rows, variables, norm) is compiled by cvxpy once, with the constraint data as
``cvxpy.Parameter`` s, and re-solved for every instance; Clarabel runs on one thread (the book's problems are
small, and the machine's cores are better spent on parallel notebooks). The first instance of a shape gives
exactly the solution of a freshly built problem; later ones agree to the solver's accuracy (~1e-5 in W).
"""

from __future__ import annotations

import cvxpy as cp
import numpy as np

from iclcore import validate

DEFAULT_SOLVER = "CLARABEL"
"""Interior-point solver shipped with cvxpy: accurate enough to count ranks (SCS is not)."""

_PROGRAMS: dict = {}


def _solve_options(solver: str) -> dict:
    return {"max_threads": 1} if solver == "CLARABEL" else {}


def _program(rows: int, dim: int, d: int, norm: str):
    """The compiled problem ``min norm(w) s.t. A w >= m`` for A of shape (rows, dim), cached by shape."""
    key = (rows, dim, d, norm)
    if key not in _PROGRAMS:
        A, m, w = cp.Parameter((rows, dim)), cp.Parameter(rows), cp.Variable(dim)
        objective = 0.5 * cp.sum_squares(w) if norm == "fro" else cp.normNuc(cp.reshape(w, (d, d), order="C"))
        constraint = A @ w >= m
        _PROGRAMS[key] = (cp.Problem(cp.Minimize(objective), [constraint]), A, m, w, constraint)
    return _PROGRAMS[key]


class InfeasibleSVMError(ValueError):
    """The selected tokens cannot be separated from the others (the att-SVM has no solution)."""


def _as_array(x, name: str, ndim: int) -> np.ndarray:
    a = np.asarray(x.detach().cpu().numpy() if hasattr(x, "detach") else x, dtype=np.float64)
    if a.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be finite")
    return a


def _check_inputs(X, selected, query, margins):
    X = _as_array(X, "X", 3)
    n, T, d = X.shape
    if T < 2:
        raise ValueError(f"X must have at least T=2 tokens per sequence, got T={T}")
    sel = np.asarray(selected.detach().cpu().numpy() if hasattr(selected, "detach") else selected)
    if sel.shape != (n,) or not np.issubdtype(sel.dtype, np.integer):
        raise ValueError(f"selected must be an integer array of shape ({n},), got {sel.dtype} {sel.shape}")
    if sel.min() < 0 or sel.max() >= T:
        raise ValueError(f"selected must hold token indices in [0, {T - 1}], got {sel.tolist()}")
    Z = None if query is None else _as_array(query, "query", 2)
    if Z is not None and Z.shape != (n, d):
        raise ValueError(f"query must have shape ({n}, {d}), got {Z.shape}")
    m = np.ones(n) if margins is None else _as_array(margins, "margins", 1)
    if m.shape != (n,) or np.any(m < 0):
        raise ValueError(f"margins must be a non-negative array of shape ({n},), got {m}")
    return X, sel.astype(int), Z, m


def constraint_matrix(X, selected, query=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows of the att-SVM constraints ``<A_{it}, W> >= margin_i`` for every i and t != alpha_i.

    Returns ``A`` of shape (n (T-1), D) with D = d (prompt model) or d*d (query model, row-major vec of
    ``(x_{i alpha} - x_{it}) z_i^T``), and the sequence and token index of each row.
    """
    X, sel, Z, _ = _check_inputs(X, selected, query, None)
    n, T, d = X.shape
    rows_i, rows_t = np.nonzero(np.arange(T)[None, :] != sel[:, None])
    diff = X[rows_i, sel[rows_i]] - X[rows_i, rows_t]                       # (n(T-1), d)
    A = diff if Z is None else np.einsum("ra,rb->rab", diff, Z[rows_i]).reshape(len(rows_i), d * d)
    return A, rows_i, rows_t


def solve_attention_svm(X, selected, query=None, norm: str = "fro", margins=None, return_duals: bool = False,
                        solver: str = DEFAULT_SOLVER):
    """Solve the att-SVM ({eq}`eq-ch3-svm` with ``query=None``, {eq}`eq-ch4-svm` with a query) for one instance.

    Parameters
    ----------
    X : keys, shape (n, T, d) (numpy or torch).
    selected : selected token index alpha_i of each sequence, integer shape (n,).
    query : ``None`` for the prompt model (returns p, shape (d,)); query tokens z, shape (n, d), for the
        query model (returns W, shape (d, d)).
    norm : ``"fro"`` (Euclidean / Frobenius) or ``"nuc"`` (nuclear; query model only).
    margins : per-sequence margins, shape (n,), default all 1.
    return_duals : also return the constraint multipliers lambda as an (n, T) array (0 at alpha_i).

    Raises
    ------
    InfeasibleSVMError (a ``ValueError``) when no parameter separates the selected tokens.
    """
    if norm not in ("fro", "nuc"):
        raise ValueError(f"norm must be 'fro' or 'nuc', got {norm!r}")
    if norm == "nuc" and query is None:
        raise ValueError("norm='nuc' needs a query (the prompt model's parameter p is a vector)")
    X, sel, Z, m = _check_inputs(X, selected, query, margins)
    n, T, d = X.shape
    A, rows_i, rows_t = constraint_matrix(X, sel, Z)
    problem, A_par, m_par, w, constraint = _program(A.shape[0], A.shape[1], d, norm)
    A_par.value, m_par.value = A, m[rows_i]
    try:
        problem.solve(solver=solver, **_solve_options(solver))
    except cp.error.SolverError as e:  # pragma: no cover - solver failures are rare at these sizes
        raise InfeasibleSVMError(f"the att-SVM solver failed: {e}") from e
    if problem.status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE):
        raise InfeasibleSVMError(f"the att-SVM is {problem.status}: the selected tokens cannot be separated")
    sol = np.asarray(w.value)
    if Z is not None:
        sol = sol.reshape(d, d)
    if not return_duals:
        return sol
    lam = np.zeros((n, T))
    lam[rows_i, rows_t] = np.maximum(np.asarray(constraint.dual_value), 0.0)
    return sol, lam


def solve_attention_svms(X, selected, query=None, norm: str = "fro", margins=None,
                         solver: str = DEFAULT_SOLVER) -> tuple[np.ndarray, np.ndarray]:
    """:func:`solve_attention_svm` for E instances: X (E, n, T, d), selected (E, n), query (E, n, d) or None.

    Returns the solutions, shape (E, d) or (E, d, d), with NaN rows for infeasible instances, and a boolean
    array (E,) telling which instances were feasible.
    """
    X = _as_array(X, "X", 4)
    E, n, T, d = X.shape
    sel = np.asarray(selected.detach().cpu().numpy() if hasattr(selected, "detach") else selected)
    if sel.shape != (E, n):
        raise ValueError(f"selected must have shape ({E}, {n}), got {sel.shape}")
    Z = None if query is None else _as_array(query, "query", 3)
    M = None if margins is None else _as_array(margins, "margins", 2)
    out = np.full((E, d) if Z is None else (E, d, d), np.nan)
    feasible = np.zeros(E, dtype=bool)
    for e in range(E):
        try:
            out[e] = solve_attention_svm(X[e], sel[e], None if Z is None else Z[e], norm,
                                         None if M is None else M[e], solver=solver)
            feasible[e] = True
        except InfeasibleSVMError:
            pass
    return out, feasible


def active_constraints(X, selected, solution, query=None, margins=None, rtol: float = 1e-4) -> np.ndarray:
    """Boolean (n, T): token t of sequence i is a support token (its constraint is active at ``solution``)."""
    X, sel, Z, m = _check_inputs(X, selected, query, margins)
    A, rows_i, rows_t = constraint_matrix(X, sel, Z)
    slack = A @ np.asarray(solution, dtype=np.float64).reshape(-1) - m[rows_i]
    active = np.zeros(X.shape[:2], dtype=bool)
    active[rows_i, rows_t] = slack <= rtol * np.maximum(1.0, m[rows_i])
    return active


def locally_optimal(gamma, selected, support) -> np.ndarray:
    """Per sequence: does the selected token beat all its support tokens in score gamma? Shape (n,).

    This is the papers' definition of a *locally optimal* selection: gamma_{i alpha_i} > gamma_{it} for every
    t whose att-SVM constraint is active ("SVM neighbour"). ``gamma``, ``support``: (n, T); ``selected``: (n,).
    """
    g = _as_array(gamma, "gamma", 2)
    sup = np.asarray(support, dtype=bool)
    sel = np.asarray(selected)
    if sup.shape != g.shape or sel.shape != g.shape[:1]:
        raise ValueError(f"gamma, support must be (n, T) and selected (n,), got {g.shape}, {sup.shape}, {sel.shape}")
    g_sel = g[np.arange(len(sel)), sel]
    return np.all(~sup | (g_sel[:, None] > g), axis=1)


def globally_optimal_tokens(gamma) -> np.ndarray:
    """The globally optimal token of each sequence, ``argmax_t gamma_{it}``; gamma (..., T) -> (...)."""
    return np.asarray(gamma.detach().cpu().numpy() if hasattr(gamma, "detach") else gamma).argmax(axis=-1)


def solve_value_svm(features, labels, solver: str = DEFAULT_SOLVER) -> np.ndarray:
    """Hard-margin SVM without intercept for the value head: ``argmin ||v|| s.t. Y_i v^T x_i >= 1``.

    ``features`` (n, d) are the selected tokens x_{i alpha_i}, ``labels`` (n,) are ±1. Raises
    :class:`InfeasibleSVMError` when the labels are not linearly separable through the origin.
    """
    F = _as_array(features, "features", 2)
    y = _as_array(labels, "labels", 1)
    if y.shape != F.shape[:1] or not np.all(np.abs(y) == 1):
        raise ValueError(f"labels must be ±1 of shape ({F.shape[0]},)")
    v = cp.Variable(F.shape[1])
    problem = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(v)), [cp.multiply(y, F @ v) >= 1])
    problem.solve(solver=solver, **_solve_options(solver))
    if problem.status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE):
        raise InfeasibleSVMError(f"the value SVM is {problem.status}")
    return np.asarray(v.value)


def cosine(a, b) -> np.ndarray:
    """Cosine similarity ``<a, b> / (||a|| ||b||)`` over all but the leading dimension: (E, ...) -> (E,).

    For matrices this is the papers' correlation ``<W1, W2> / (||W1||_F ||W2||_F)``.
    """
    a = np.asarray(a.detach().cpu().numpy() if hasattr(a, "detach") else a, dtype=np.float64)
    b = np.asarray(b.detach().cpu().numpy() if hasattr(b, "detach") else b, dtype=np.float64)
    if a.shape != b.shape or a.ndim < 1:
        raise ValueError(f"a and b must have the same shape (E, ...), got {a.shape} and {b.shape}")
    a, b = a.reshape(a.shape[0], -1), b.reshape(b.shape[0], -1)
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def effective_rank(W, rtol: float = 1e-6) -> np.ndarray:
    """Number of singular values above ``rtol * sigma_max``; W (..., d, d) -> (...) integers."""
    W = np.asarray(W.detach().cpu().numpy() if hasattr(W, "detach") else W, dtype=np.float64)
    validate.positive("rtol", rtol)
    s = np.linalg.svd(W, compute_uv=False)
    return (s > rtol * s[..., :1]).sum(-1)


def solve_svm_equivalent(X, probs, query, W, threshold: float = 1e-3, norm: str = "fro",
                         solver: str = DEFAULT_SOLVER) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The SVM-equivalent ``W^SVMeq = W^fin + R W^dir`` of a trained query model ({eq}`eq-ch4-svmeq`).

    When the attention keeps several tokens of a sequence (a nonlinear head can prefer a mixture), the
    *selected set* of sequence i is ``O_i = {t : probs_it >= threshold}``, and W splits into

    * ``W^dir`` = argmin ||W|| s.t. ``(x_it - x_iu)^T W z_i = 0`` for t, u in O_i and ``>= 1`` for t in O_i,
      u not in O_i -- the max-margin direction that separates every selected set from the rest of its
      sequence without changing the scores inside it;
    * ``W^fin`` = argmin ||W|| s.t. ``(x_iu - x_it)^T W z_i = log(probs_iu / probs_it)`` for t, u in O_i -- the
      finite part that reproduces the attention weights inside each selected set (0 when every O_i is one
      token);
    * ``R`` = argmin_R ||W^fin + R W^dir - W||_F, fitted to the trained ``W``.

    ``X`` (n, T, d), ``probs`` (n, T) the attention map of the trained model, ``query`` (n, d), ``W`` (d, d).
    Returns ``(W_dir, W_eq, selected)`` with ``selected`` the boolean (n, T) sets O_i. Raises
    :class:`InfeasibleSVMError` when no direction separates the selected sets.
    """
    if norm not in ("fro", "nuc"):
        raise ValueError(f"norm must be 'fro' or 'nuc', got {norm!r}")
    validate.in_interval("threshold", threshold, 0.0, 1.0)
    X = _as_array(X, "X", 3)
    n, T, d = X.shape
    P = _as_array(probs, "probs", 2)
    if P.shape != (n, T) or np.any(P < 0):
        raise ValueError(f"probs must be a non-negative (n, T) = ({n}, {T}) array, got shape {P.shape}")
    Z = _as_array(query, "query", 2)
    if Z.shape != (n, d):
        raise ValueError(f"query must have shape ({n}, {d}), got {Z.shape}")
    W = _as_array(W, "W", 2)
    if W.shape != (d, d):
        raise ValueError(f"W must have shape ({d}, {d}), got {W.shape}")
    selected = P >= threshold
    if not selected.any(axis=1).all():
        raise ValueError(f"threshold: every sequence needs at least one token with probability >= {threshold}")
    inside, log_ratio, across = [], [], []
    for i in range(n):
        for t in range(T):
            for u in range(T):
                row = np.outer(X[i, t] - X[i, u], Z[i]).ravel()
                if selected[i, t] and selected[i, u] and t < u:
                    inside.append(-row)                                   # (x_u - x_t)^T W z
                    log_ratio.append(np.log(P[i, u] / P[i, t]))
                elif selected[i, t] and not selected[i, u]:
                    across.append(row)

    def norm_of(w):
        return 0.5 * cp.sum_squares(w) if norm == "fro" else cp.normNuc(cp.reshape(w, (d, d), order="C"))

    w_dir = cp.Variable(d * d)
    constraints = [np.array(across) @ w_dir >= 1] if across else []
    if inside:
        constraints.append(np.array(inside) @ w_dir == 0)
    problem = cp.Problem(cp.Minimize(norm_of(w_dir)), constraints)
    problem.solve(solver=solver, **_solve_options(solver))
    if problem.status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE):
        raise InfeasibleSVMError(f"the SVM-equivalent direction problem is {problem.status}")
    W_dir = np.asarray(w_dir.value).reshape(d, d)
    W_fin = np.zeros((d, d))
    if inside:
        w_fin = cp.Variable(d * d)
        cp.Problem(cp.Minimize(norm_of(w_fin)), [np.array(inside) @ w_fin == np.array(log_ratio)]).solve(
            solver=solver, **_solve_options(solver))
        W_fin = np.asarray(w_fin.value).reshape(d, d)
    R = float(np.sum((W - W_fin) * W_dir) / np.sum(W_dir * W_dir))
    return W_dir, W_fin + R * W_dir, selected
