"""The token-priority graph of a next-token data set, its strongly connected components, the graph-SVM and
the finite component ({cite:t}`li2024mechanics`; Chapter 10).

For a data set of sequences ``X_i`` (token ids, last token = query) with next tokens ``y_i``:

* **Token-priority graph** ({eq}`eq-ch10-tpg`). For each query token k, ``G^(k)`` has an edge ``y_i -> j`` for
  every sequence i whose last token is k and every token j != y_i of that sequence: "y_i was preferred to j".
  Its strongly connected components (SCCs) are groups of tokens that beat each other (cycles); the
  condensation (one node per SCC) is acyclic and orders the SCCs by priority.
* **Graph-SVM** ({eq}`eq-ch10-svm`): with embeddings ``v_1..v_K``,

      W^svm = argmin ||W||_F  s.t.  (v_i - v_j)^T W v_k >= 1  for every edge i -> j of G^(k) across SCCs,
                                     (v_i - v_j)^T W v_k  = 0  for every edge i -> j inside an SCC.

  Solved with cvxpy (Clarabel). ``equality=False`` drops the second family (a break switch of the chapter).
* **Finite subspace** ``S_fin = span{(v_i - v_j) v_k^T : i, j in one SCC of G^(k)}``; ``W^svm`` is orthogonal
  to it. The **finite component** ``W^fin`` ({eq}`eq-ch10-wfin`) minimises, over ``W in S_fin``, the training
  loss of the sequences cut down to the tokens of their label's SCC. That loss is
  ``logsumexp_{t in SCC} a_t - logsumexp_{t: x_t = y} a_t`` and all copies of a token share one score, so the
  second term is linear: the problem is convex; we solve it by Newton's method.

All functions take one data set (tokens (n, T), labels (n,), embeddings (K, d)) as numpy arrays or tensors;
:func:`next_token_theory` does it for each member of an ensemble.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cvxpy as cp
import networkx as nx
import numpy as np

from iclcore import validate

DEFAULT_SOLVER = "CLARABEL"


def _as_data(tokens, labels) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(tokens)
    y = np.asarray(labels)
    if X.ndim != 2 or X.shape[1] < 2 or not np.issubdtype(X.dtype, np.integer):
        raise ValueError(f"tokens must be integer ids of shape (n, T) with T >= 2, got shape {X.shape}, "
                         f"dtype {X.dtype}")
    if y.shape != (X.shape[0],) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"labels must be integer ids of shape ({X.shape[0]},), got shape {y.shape}")
    if X.size and X.min() < 0:
        raise ValueError("tokens must be non-negative ids")
    if not all(y[i] in X[i] for i in range(len(y))):
        bad = next(i for i in range(len(y)) if y[i] not in X[i])
        raise ValueError(f"labels: label {y[bad]} of sequence {bad} does not occur in that sequence (the model "
                         "can only output tokens of its input)")
    return X.astype(np.int64), y.astype(np.int64)


def _as_embeddings(embeddings, K: int) -> np.ndarray:
    V = np.asarray(embeddings, dtype=np.float64)
    if V.ndim != 2 or V.shape[0] < K or not np.all(np.isfinite(V)):
        raise ValueError(f"embeddings must be a finite (K, d) array with K >= {K} (largest token id + 1), "
                         f"got shape {V.shape}")
    return V


def priority_graph(tokens, labels, query: int) -> nx.DiGraph:
    """``G^(query)`` ({eq}`eq-ch10-tpg`): nodes = tokens of the sequences whose last token is ``query``;
    an edge ``y_i -> j`` for each such sequence and each token ``j != y_i`` in it (attribute ``count``:
    the number of sequences that give it)."""
    X, y = _as_data(tokens, labels)
    if isinstance(query, bool) or not isinstance(query, int | np.integer):
        raise ValueError(f"query must be a token id, got {query!r}")
    G = nx.DiGraph()
    for row, label in zip(X[X[:, -1] == query], y[X[:, -1] == query], strict=True):
        G.add_nodes_from(int(t) for t in row)
        for j in set(int(t) for t in row) - {int(label)}:
            if G.has_edge(int(label), j):
                G[int(label)][j]["count"] += 1
            else:
                G.add_edge(int(label), j, count=1)
    return G


def priority_graphs(tokens, labels) -> dict[int, nx.DiGraph]:
    """``{k: G^(k)}`` for every query token k that occurs as a last token."""
    X, y = _as_data(tokens, labels)
    return {int(k): priority_graph(X, y, int(k)) for k in np.unique(X[:, -1])}


def strongly_connected_components(G: nx.DiGraph) -> list[frozenset]:
    """The SCCs of ``G`` in priority order: a topological order of the condensation (an SCC comes before
    every SCC it has an edge to), ties broken by the smallest token id."""
    if not isinstance(G, nx.DiGraph):
        raise ValueError(f"G must be a networkx DiGraph, got {type(G).__name__}")
    C = nx.condensation(G)
    order = nx.lexicographical_topological_sort(C, key=lambda c: min(C.nodes[c]["members"]))
    return [frozenset(C.nodes[c]["members"]) for c in order]


def scc_index(G: nx.DiGraph) -> dict[int, int]:
    """``{token: index of its SCC}`` in the order of :func:`strongly_connected_components` (0 = first)."""
    return {t: i for i, comp in enumerate(strongly_connected_components(G)) for t in comp}


def svm_constraints(tokens, labels, equality: bool = True) -> list[tuple[int, int, int, str]]:
    """The constraints of the graph-SVM ({eq}`eq-ch10-svm`), one per edge, sorted and without duplicates.

    Each is ``(k, i, j, rel)``: ``rel=">="`` means ``(v_i - v_j)^T W v_k >= 1`` (edge ``i -> j`` of
    ``G^(k)`` between different SCCs); ``rel="=="`` means ``(v_i - v_j)^T W v_k = 0`` (edge inside an SCC,
    written with ``i < j``). ``equality=False`` leaves out the ``"=="`` rows.
    """
    if not isinstance(equality, bool):
        raise ValueError(f"equality must be a bool, got {equality!r}")
    out = set()
    for k, G in priority_graphs(tokens, labels).items():
        comp = scc_index(G)
        for i, j in G.edges:
            if comp[i] != comp[j]:
                out.add((k, i, j, ">="))
            elif equality:
                out.add((k, min(i, j), max(i, j), "=="))
    return sorted(out)


def adjacency(G: nx.DiGraph, K: int) -> np.ndarray:
    """The 0/1 adjacency matrix (K, K) of a priority graph: ``A[i, j] = 1`` for an edge ``i -> j``."""
    validate.positive_int("K", K)
    A = np.zeros((K, K), dtype=np.int64)
    for i, j in G.edges:
        if not (0 <= i < K and 0 <= j < K):
            raise ValueError(f"K must exceed every token id of G, got K={K} and edge {(i, j)}")
        A[i, j] = 1
    return A


def constraint_table(tokens, labels, K: int, equality: bool = True) -> np.ndarray:
    """The graph-SVM's constraints as a table (K, K, K) of int: ``C[k, i, j] = 1`` for
    ``(v_i - v_j)^T W v_k >= 1`` (edge ``i -> j`` of ``G^(k)`` across SCCs), ``2`` for ``= 0`` (edge ``i -> j``
    inside an SCC; both directions are marked when both edges exist), 0 for no constraint."""
    validate.positive_int("K", K)
    X, y = _as_data(tokens, labels)
    if X.max() >= K:
        raise ValueError(f"K must exceed every token id, got K={K} and id {int(X.max())}")
    C = np.zeros((K, K, K), dtype=np.int64)
    for k, G in priority_graphs(X, y).items():
        comp = scc_index(G)
        for i, j in G.edges:
            if comp[i] != comp[j]:
                C[k, i, j] = 1
            elif equality:
                C[k, i, j] = 2
    return C


def _constraint_rows(constraints, V: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows ``vec((v_i - v_j) v_k^T)`` for '>=' and for '==' constraints."""
    d = V.shape[1]
    ge = [np.outer(V[i] - V[j], V[k]).ravel() for k, i, j, rel in constraints if rel == ">="]
    eq = [np.outer(V[i] - V[j], V[k]).ravel() for k, i, j, rel in constraints if rel == "=="]
    return np.reshape(ge, (-1, d * d)), np.reshape(eq, (-1, d * d))


def graph_svm(tokens, labels, embeddings, equality: bool = True, solver: str = DEFAULT_SOLVER) -> np.ndarray:
    """``W^svm`` of {eq}`eq-ch10-svm`, shape (d, d); zero when no edge crosses two SCCs.

    The problem is always feasible when the embeddings are linearly independent (rank the SCCs in a
    topological order of the condensation).
    """
    X, y = _as_data(tokens, labels)
    V = _as_embeddings(embeddings, int(X.max()) + 1)
    d = V.shape[1]
    A, B = _constraint_rows(svm_constraints(X, y, equality), V)
    if len(A) == 0:
        return np.zeros((d, d))
    w = cp.Variable(d * d)
    cons = [A @ w >= 1] + ([B @ w == 0] if len(B) else [])
    prob = cp.Problem(cp.Minimize(cp.sum_squares(w)), cons)
    prob.solve(solver=solver, **({"max_threads": 1} if solver == "CLARABEL" else {}))
    if prob.status not in ("optimal", "optimal_inaccurate"):
        raise ValueError(f"embeddings: the graph-SVM is {prob.status} for these embeddings (are they linearly "
                         "independent?)")
    return np.asarray(w.value).reshape(d, d)


def finite_subspace(tokens, labels, embeddings, tol: float = 1e-10) -> np.ndarray:
    """An orthonormal basis of ``S_fin`` (Frobenius inner product), shape (m, d, d); m = 0 if no SCC has two
    tokens."""
    X, y = _as_data(tokens, labels)
    V = _as_embeddings(embeddings, int(X.max()) + 1)
    d = V.shape[1]
    gens = []
    for k, G in priority_graphs(X, y).items():
        for comp in strongly_connected_components(G):
            members = sorted(comp)
            gens += [np.outer(V[i] - V[members[0]], V[k]).ravel() for i in members[1:]]
    if not gens:
        return np.zeros((0, d, d))
    u, s, vt = np.linalg.svd(np.array(gens), full_matrices=False)
    rank = int((s > tol * max(1.0, s[0])).sum())
    return vt[:rank].reshape(rank, d, d)


def project(W, basis) -> np.ndarray:
    """Orthogonal projection of W (..., d, d) onto the span of an orthonormal ``basis`` (m, d, d)."""
    W = np.asarray(W, dtype=np.float64)
    basis = np.asarray(basis, dtype=np.float64)
    if basis.ndim != 3 or W.shape[-2:] != basis.shape[1:]:
        raise ValueError(f"basis must have shape (m, d, d) matching W (..., d, d), got {basis.shape}, {W.shape}")
    coef = np.einsum("...ij,mij->...m", W, basis)
    return np.einsum("...m,mij->...ij", coef, basis)


def _reduced_problem(X, y, V, basis, cut: bool = True):
    """Features F (N, T, m) of the sequences that hold a tie, masks of the kept positions (those in the
    label's SCC, or all with ``cut=False``) and of the label positions."""
    graphs = priority_graphs(X, y)
    comps = {k: scc_index(G) for k, G in graphs.items()}
    rows = []
    for i in range(len(y)):
        comp = comps[int(X[i, -1])]
        in_scc = np.array([comp[int(t)] == comp[int(y[i])] for t in X[i]])
        if len(set(X[i][in_scc].tolist())) >= 2:                # a tie is present: the loss depends on S_fin
            rows.append((i, in_scc if cut else np.ones_like(in_scc)))
    if not rows or len(basis) == 0:
        return None
    # F[r, t, m] = <B_m, v_{x_t} v_k^T> = v_{x_t}^T B_m v_k
    idx = np.array([i for i, _ in rows])
    keep = np.stack([m for _, m in rows])
    Vt = V[X[idx]]                                               # (N, T, d)
    Vk = V[X[idx, -1]]                                           # (N, d)
    F = np.einsum("nta,mab,nb->ntm", Vt, basis, Vk)
    is_label = X[idx] == y[idx, None]
    return F, keep, is_label


def finite_component(tokens, labels, embeddings, cut: bool = True, tol: float = 1e-13,
                     max_iter: int = 100) -> np.ndarray:
    """``W^fin`` of {eq}`eq-ch10-wfin`, shape (d, d): the minimiser over ``S_fin`` of the loss of the sequences
    cut down to their label's SCC (averaged over all n sequences), by Newton's method with backtracking, until
    the largest entry of the gradient (in an orthonormal basis of ``S_fin``) is below ``tol``.

    ``cut=False`` keeps the whole sequences instead (not the paper's definition; a break switch of the
    chapter)."""
    if not isinstance(cut, bool):
        raise ValueError(f"cut must be a bool, got {cut!r}")
    X, y = _as_data(tokens, labels)
    V = _as_embeddings(embeddings, int(X.max()) + 1)
    d = V.shape[1]
    basis = finite_subspace(X, y, V)
    red = _reduced_problem(X, y, V, basis, cut)
    if red is None:
        return np.zeros((d, d))
    F, keep, is_label = red
    n = len(y)

    def loss_grad_hess(c):
        a = F @ c                                                # (N, T)
        a_keep = np.where(keep, a, -np.inf)
        m = a_keep.max(-1, keepdims=True)
        e = np.where(keep, np.exp(a_keep - m), 0.0)
        s = e / e.sum(-1, keepdims=True)
        a_lab = np.where(is_label, a, -np.inf)
        ml = a_lab.max(-1, keepdims=True)
        el = np.where(is_label, np.exp(a_lab - ml), 0.0)
        r = el / el.sum(-1, keepdims=True)
        loss = ((m[:, 0] + np.log(e.sum(-1))) - (ml[:, 0] + np.log(el.sum(-1)))).sum() / n
        mean_s = np.einsum("nt,ntm->nm", s, F)
        grad = (mean_s - np.einsum("nt,ntm->nm", r, F)).sum(0) / n
        hess = (np.einsum("nt,ntm,ntl->ml", s, F, F) - np.einsum("nm,nl->ml", mean_s, mean_s)) / n
        return loss, grad, hess

    c = np.zeros(F.shape[-1])
    loss, grad, hess = loss_grad_hess(c)
    for _ in range(max_iter):
        if np.abs(grad).max() <= tol:
            break
        step = np.linalg.solve(hess + 1e-14 * np.eye(len(c)), grad)
        decrement = float(grad @ step)
        t, slack = 1.0, 1e-14 * max(1.0, abs(loss))                 # slack: rounding of the loss near the optimum
        new = loss_grad_hess(c - step)
        while new[0] > loss - 0.25 * t * decrement + slack and t > 1e-10:
            t /= 2
            new = loss_grad_hess(c - t * step)
        if t <= 1e-10:                                            # no progress possible at this precision
            break
        c = c - t * step
        loss, grad, hess = new
    return np.einsum("m,mij->ij", c, basis)


def label_scc_mask(tokens, labels, K: int | None = None) -> np.ndarray:
    """For each training sequence, the tokens of the sequence in its label's SCC of ``G^(x_T)``: bool (n, K)
    (default K = largest id + 1). The label's SCC is always the highest-priority SCC present in its sequence:
    the label has an edge to every other token of the sequence."""
    X, y = _as_data(tokens, labels)
    K = int(X.max()) + 1 if K is None else validate.positive_int("K", K)
    if X.max() >= K:
        raise ValueError(f"K must exceed every token id, got K={K} and id {int(X.max())}")
    comps = {k: scc_index(G) for k, G in priority_graphs(X, y).items()}
    out = np.zeros((len(y), K), dtype=bool)
    for i in range(len(y)):
        comp = comps[int(X[i, -1])]
        out[i, [int(t) for t in X[i] if comp[int(t)] == comp[int(y[i])]]] = True
    return out


def top_scc_mask(tokens, graphs: dict[int, nx.DiGraph], K: int) -> tuple[np.ndarray, np.ndarray]:
    """For new sequences (n, T), their tokens in the highest-priority SCC present, by the graphs of a training
    set: returns ``mask`` bool (n, K) and ``defined`` bool (n,).

    The top SCC is the SCC present from which every other SCC present can be reached in ``G^(x_T)``'s
    condensation; ``defined`` is False when there is none (incomparable SCCs) or a token is not in the graph.
    """
    X = np.asarray(tokens)
    if X.ndim != 2 or not np.issubdtype(X.dtype, np.integer):
        raise ValueError(f"tokens must be integer ids of shape (n, T), got shape {X.shape}")
    validate.positive_int("K", K)
    cache = {}
    for k, G in graphs.items():
        comps = strongly_connected_components(G)
        C = nx.condensation(G)
        index = {t: i for i, comp in enumerate(comps) for t in comp}
        node_of = {frozenset(C.nodes[c]["members"]): c for c in C.nodes}
        reach = {i: {index[next(iter(C.nodes[r]["members"]))] for r in nx.descendants(C, node_of[comp])} | {i}
                 for i, comp in enumerate(comps)}
        cache[k] = (comps, index, reach)
    mask = np.zeros((len(X), K), dtype=bool)
    defined = np.zeros(len(X), dtype=bool)
    for n, row in enumerate(X):
        k = int(row[-1])
        if k not in cache or any(int(t) not in cache[k][1] for t in row):
            continue
        comps, index, reach = cache[k]
        present = {index[int(t)] for t in row}
        tops = [c for c in present if present <= reach[c]]
        if len(tops) == 1:
            mask[n, [int(t) for t in row if int(t) in comps[tops[0]]]] = True
            defined[n] = True
    return mask, defined


def soft_composition(W, tokens, keep, embeddings) -> np.ndarray:
    """The distribution that weights W give to the kept tokens of each sequence ({eq}`eq-ch10-compose`):
    ``P(k | X) ∝ count_k(X) exp(v_k^T W v_{x_T})`` for ``keep[i, k]``, 0 elsewhere.

    W (d, d), tokens (n, T), keep bool (n, K), embeddings (K, d) -> (n, K); rows with nothing kept are 0.
    """
    X = np.asarray(tokens)
    keep = np.asarray(keep, dtype=bool)
    V = _as_embeddings(embeddings, int(X.max()) + 1)
    K = V.shape[0]
    W = np.asarray(W, dtype=np.float64)
    if W.shape != (V.shape[1], V.shape[1]) or keep.shape != (len(X), K):
        raise ValueError(f"W must be ({V.shape[1]}, {V.shape[1]}) and keep ({len(X)}, {K}), got {W.shape}, "
                         f"{keep.shape}")
    counts = np.zeros((len(X), K))
    np.add.at(counts, (np.repeat(np.arange(len(X)), X.shape[1]), X.ravel()), 1.0)
    scores = (V @ W @ V.T).T[X[:, -1]]                            # (n, K): v_k^T W v_{x_T}
    ok = keep & (counts > 0)
    z = np.where(ok, scores + np.log(np.maximum(counts, 1)), -np.inf)
    zmax = np.where(ok.any(-1), z.max(-1), 0.0)[:, None]
    w = np.where(ok, np.exp(z - zmax), 0.0)
    tot = w.sum(-1, keepdims=True)
    return np.divide(w, tot, out=np.zeros_like(w), where=tot > 0)


def cosine(A, B) -> np.ndarray:
    """Cosine similarity of matrices over their last two axes (Frobenius), broadcast; nan where a norm is 0."""
    A, B = np.asarray(A, dtype=np.float64), np.asarray(B, dtype=np.float64)
    num = (A * B).sum((-1, -2))
    den = np.linalg.norm(A, axis=(-2, -1)) * np.linalg.norm(B, axis=(-2, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


@dataclass
class NextTokenTheory:
    """The graph-SVM and the finite component of each member of an ensemble of data sets.

    ``W_svm`` and ``W_fin`` have shape (E, d, d); ``basis[e]`` spans ``S_fin`` of member e; ``graphs[e]`` is
    ``{k: G^(k)}``. :meth:`decompose` splits trained weights W (E, d, d) into the two parts.
    """

    graphs: list[dict[int, nx.DiGraph]]
    W_svm: np.ndarray
    W_fin: np.ndarray
    basis: list[np.ndarray]

    def decompose(self, W) -> dict[str, np.ndarray]:
        """Per member: ``norm`` ||W||; ``cos_dir`` cos(W - Π_fin W, W^svm); ``cos_raw`` cos(W, W^svm);
        ``fin_norm`` ||Π_fin W||; ``fin_err`` ||Π_fin W - W^fin|| / ||W^fin|| (nan if W^fin = 0)."""
        W = np.asarray(W, dtype=np.float64)
        if W.shape != self.W_svm.shape:
            raise ValueError(f"W must have shape {self.W_svm.shape}, got {W.shape}")
        fin = np.stack([project(W[e], b) for e, b in enumerate(self.basis)])
        wf_norm = np.linalg.norm(self.W_fin, axis=(-2, -1))
        with np.errstate(invalid="ignore", divide="ignore"):
            fin_err = np.where(wf_norm > 0, np.linalg.norm(fin - self.W_fin, axis=(-2, -1)) / wf_norm, np.nan)
        return {"norm": np.linalg.norm(W, axis=(-2, -1)), "cos_dir": cosine(W - fin, self.W_svm),
                "cos_raw": cosine(W, self.W_svm), "fin_norm": np.linalg.norm(fin, axis=(-2, -1)),
                "fin_err": fin_err}


def next_token_theory(tokens, labels, embeddings, equality: bool = True, cut: bool = True,
                      solver: str = DEFAULT_SOLVER) -> NextTokenTheory:
    """Graphs, ``W^svm`` ({eq}`eq-ch10-svm`), ``S_fin`` and ``W^fin`` ({eq}`eq-ch10-wfin`) for every member:
    tokens (E, n, T), labels (E, n), embeddings (K, d), (1, K, d) or (E, K, d). ``equality`` and ``cut`` are
    passed to :func:`graph_svm` and :func:`finite_component`."""
    X, y = np.asarray(tokens), np.asarray(labels)
    if X.ndim != 3 or y.shape != X.shape[:2]:
        raise ValueError(f"tokens must be (E, n, T) and labels (E, n), got {X.shape} and {y.shape}")
    V = np.asarray(embeddings, dtype=np.float64)
    V = V[None] if V.ndim == 2 else V
    if V.ndim == 3 and V.shape[0] == 1:
        V = np.broadcast_to(V, (X.shape[0],) + V.shape[1:])
    if V.ndim != 3 or V.shape[0] != X.shape[0]:
        raise ValueError(f"embeddings must be (K, d) or ({X.shape[0]}, K, d), got {np.shape(embeddings)}")
    graphs, svm, fin, basis = [], [], [], []
    for e in range(X.shape[0]):
        graphs.append(priority_graphs(X[e], y[e]))
        svm.append(graph_svm(X[e], y[e], V[e], equality=equality, solver=solver))
        basis.append(finite_subspace(X[e], y[e], V[e]))
        fin.append(finite_component(X[e], y[e], V[e], cut=cut))
    return NextTokenTheory(graphs, np.stack(svm), np.stack(fin), basis)


def levels_partition(level: Sequence[int], tokens: Sequence[int] | None = None) -> list[frozenset]:
    """The groups of equal level of one query's level vector ``level[j]`` (0 = highest), highest first,
    restricted to ``tokens`` if given."""
    lv = np.asarray(level)
    keep = set(range(len(lv))) if tokens is None else set(int(t) for t in tokens)
    groups = {}
    for j in sorted(keep):
        groups.setdefault(int(lv[j]), set()).add(j)
    return [frozenset(groups[g]) for g in sorted(groups)]
