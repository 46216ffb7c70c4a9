"""The context-conditioned Markov chain (CCMC) of {cite:t}`ildiz2024markov`: closed forms and the convex
maximum-likelihood estimator of its score matrix.

Notation ({eq}`eq-ch8-ccmc`): K tokens, a score matrix ``W~`` (K x K, row i = the last token of the prompt,
column j = the candidate next token), counts ``m_j(X)`` of each token in the prompt, last token ``i = x_T``:

    P(y = j | X) = m_j e^{W~[i, j]} / sum_l m_l e^{W~[i, l]}.

Contents:

* :func:`ccmc_probs` -- the CCMC transition row(s); :func:`base_chain`, :func:`stationary_distribution`,
  :func:`base_chain_entropy` -- the base Markov chain ``P0 = softmax(W~)`` row by row ({eq}`eq-ch8-base`);
* :func:`ccmc_mle` -- the maximum-likelihood estimate of ``W~`` from (prompt, next token) pairs, a convex
  problem solved by Newton's method, one K-parameter problem per row ({eq}`eq-ch8-mle`);
  :func:`ccmc_nll` -- its objective;
* :func:`coverage_components`, :func:`row_centred`, :func:`row_centred_error` -- what the data identify
  ({eq}`eq-ch8-coverage`) and the error measured on it;
* :func:`ccmc_fisher`, :func:`mle_error_constant` -- the asymptotic error ``E||W^ - W~||^2 ~ c / n`` with
  ``c = sum_i tr(I_i^+)`` ({eq}`eq-ch8-fisher`; the book's derivation, standard MLE asymptotics);
  :func:`ccmc_kl`, :func:`identified_dimension` -- the prediction risk (KL of the next-token laws) and its
  asymptotic value ``r / (2n)`` ({eq}`eq-ch8-kl`);
* :func:`polya_exponents`, :func:`dirichlet_entropy`, :func:`dirichlet_rank_shares` -- the exact Polya-urn
  special cases of winner-takes-all generation ({eq}`eq-ch8-polya`, {eq}`eq-ch8-dirichlet`).

Every function takes and returns numpy float64 arrays.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse.csgraph import connected_components
from scipy.special import digamma

from iclcore import validate

# --- argument checks -------------------------------------------------------------------------------------

def _scores(W_tilde) -> np.ndarray:
    try:
        W = np.asarray(W_tilde, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise ValueError(f"W_tilde must be a real (K, K) matrix, got {W_tilde!r}") from e
    if W.ndim != 2 or W.shape[0] != W.shape[1] or W.shape[0] < 1:
        raise ValueError(f"W_tilde must be a square (K, K) matrix, got shape {W.shape}")
    if not np.all(np.isfinite(W)):
        raise ValueError("W_tilde must be finite")
    return W


def _counts(counts, K: int) -> np.ndarray:
    try:
        m = np.asarray(counts, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise ValueError(f"counts must be a real (K,) or (B, K) array, got {counts!r}") from e
    if m.ndim not in (1, 2) or m.shape[-1] != K:
        raise ValueError(f"counts must have shape ({K},) or (B, {K}) to match W_tilde, got {m.shape}")
    if not np.all(np.isfinite(m)):
        raise ValueError("counts must be finite")
    if np.any(m < 0):
        raise ValueError("counts must be non-negative")
    if np.any(m.sum(-1) <= 0):
        raise ValueError("counts: every count vector must have a positive entry (a prompt is never empty)")
    return m


def _last(last, K: int, B: int | None) -> np.ndarray:
    arr = np.asarray(last)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"last must be an integer token id or an array of them, got {last!r}")
    if B is None and arr.ndim != 0:
        raise ValueError(f"last must be a single token id for a (K,) count vector, got shape {arr.shape}")
    if B is not None and arr.shape not in ((), (B,)):
        raise ValueError(f"last must be an int or have shape ({B},) to match counts, got shape {arr.shape}")
    if np.any(arr < 0) or np.any(arr >= K):
        raise ValueError(f"last must be a token id in [0, {K}), got {last!r}")
    return arr.astype(np.int64)


# --- the chain -------------------------------------------------------------------------------------------

def ccmc_probs(W_tilde, counts, last) -> np.ndarray:
    """The CCMC next-token distribution {eq}`eq-ch8-ccmc`.

    ``W_tilde`` (K, K); ``counts`` (K,) or (B, K), non-negative (integer counts, or position-weighted counts
    ``sum_{t: x_t = j} e^{b_t}`` for {eq}`eq-ch8-positional`); ``last`` an int, or (B,) ints, in [0, K).
    Returns probabilities of shape (K,) or (B, K). Tokens with zero count get probability 0.
    """
    W = _scores(W_tilde)
    K = W.shape[0]
    m = _counts(counts, K)
    idx = _last(last, K, None if m.ndim == 1 else m.shape[0])
    z = W[idx] + np.log(np.where(m > 0, m, 1.0))
    z = np.where(m > 0, z, -np.inf)
    z = z - z.max(-1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(-1, keepdims=True)


def base_chain(W_tilde) -> np.ndarray:
    """The base Markov chain ``P0[i, j] = e^{W~[i, j]} / sum_l e^{W~[i, l]}`` ({eq}`eq-ch8-base`), (K, K)."""
    W = _scores(W_tilde)
    z = np.exp(W - W.max(-1, keepdims=True))
    return z / z.sum(-1, keepdims=True)


def stationary_distribution(P) -> np.ndarray:
    """The stationary law ``pi = pi P`` of an irreducible row-stochastic matrix P (K, K), shape (K,)."""
    P = np.asarray(P, dtype=np.float64)
    if P.ndim != 2 or P.shape[0] != P.shape[1] or np.any(P < 0) or not np.allclose(P.sum(-1), 1.0):
        raise ValueError(f"P must be a row-stochastic (K, K) matrix, got shape {P.shape}")
    K = P.shape[0]
    A = np.vstack([P.T - np.eye(K), np.ones((1, K))])
    pi = np.linalg.lstsq(A, np.r_[np.zeros(K), 1.0], rcond=None)[0]
    pi = np.clip(pi, 0.0, None)
    return pi / pi.sum()


def base_chain_entropy(W_tilde) -> float:
    """Entropy (nats) of the stationary law of the base chain ``P0``: the long-run diversity of text
    generated without the count weighting ({eq}`eq-ch8-entropy`)."""
    pi = stationary_distribution(base_chain(W_tilde))
    return float(-(pi[pi > 0] * np.log(pi[pi > 0])).sum())


# --- maximum likelihood ----------------------------------------------------------------------------------

def _data(counts, last, y, K: int | None):
    m = np.asarray(counts, dtype=np.float64)
    if m.ndim != 2:
        raise ValueError(f"counts must have shape (n, K), got {m.shape}")
    K = m.shape[1] if K is None else validate.positive_int("K", K)
    m = _counts(m, K)
    n = m.shape[0]
    idx = _last(last, K, n)
    idx = np.broadcast_to(idx, (n,))
    yy = np.asarray(y)
    if yy.dtype == bool or not np.issubdtype(yy.dtype, np.integer) or yy.shape != (n,):
        raise ValueError(f"y must be ({n},) integer token ids, got {y!r}")
    if np.any(yy < 0) or np.any(yy >= K):
        raise ValueError(f"y must hold token ids in [0, {K})")
    return m, idx, yy.astype(np.int64), K


def _lse(Z: np.ndarray) -> np.ndarray:
    top = Z.max(-1)
    return top + np.log(np.exp(Z - top[:, None]).sum(-1))


def ccmc_nll(W_tilde, counts, last, y, count_weighting: bool = True) -> float:
    """Mean negative log-likelihood ``-(1/n) sum_s log P(y_s | X_s)`` of the CCMC ({eq}`eq-ch8-mle`), for
    count vectors (n, K), last tokens (n,) and next tokens (n,). ``count_weighting=False``: the base chain."""
    W = _scores(W_tilde)
    m, idx, yy, K = _data(counts, last, y, W.shape[0])
    logm = np.where(m > 0, np.log(np.where(m > 0, m, 1.0)), -np.inf) if count_weighting else np.zeros_like(m)
    Z = W[idx] + logm
    return float((_lse(Z) - Z[np.arange(len(yy)), yy]).mean())


def ccmc_mle(counts, last, y, *, K: int | None = None, problems=None, n_problems: int | None = None,
             ridge: float = 1e-6, count_weighting: bool = True, max_iter: int = 100,
             tol: float = 1e-12) -> np.ndarray:
    """Maximum-likelihood estimate of ``W~`` from (prompt, next token) pairs ({eq}`eq-ch8-mle`).

    The negative log-likelihood ``(1/n) sum_s [log sum_l m_sl e^{W~[i_s, l]} - W~[i_s, y_s]]`` is convex in
    ``W~`` (log-sum-exp minus linear) and separates into one K-parameter problem per row (each sample only
    involves the row of its last token). Each row is solved by Newton's method with backtracking; the tiny
    ``ridge * ||W~||^2`` fixes the row-wise shift that the likelihood cannot see (every row of the estimate
    then sums to zero) and keeps never-observed entries at 0.

    ``counts`` (n, K), ``last`` (n,), ``y`` (n,): the count vectors, last tokens and next tokens.
    ``problems`` (n,) ints in ``[0, n_problems)``: fit that many independent data sets at once (one batched
    Newton solve); each is the mean over its own samples. ``count_weighting=False`` fits the base chain
    instead (a misspecified model for CCMC data).

    Returns ``W^`` of shape (K, K), or (n_problems, K, K) when ``problems`` is given.
    """
    m, idx, yy, K = _data(counts, last, y, K)
    n = len(yy)
    validate.nonnegative("ridge", ridge)
    if ridge == 0:
        raise ValueError("ridge must be > 0 (it fixes the row-wise shift of W~)")
    validate.positive_int("max_iter", max_iter)
    validate.positive("tol", tol)
    if not isinstance(count_weighting, bool):
        raise ValueError(f"count_weighting must be a bool, got {count_weighting!r}")
    if problems is None:
        prob, P_count = np.zeros(n, dtype=np.int64), 1
    else:
        prob = np.asarray(problems)
        P_count = validate.positive_int("n_problems", n_problems if n_problems is not None else
                                        int(prob.max(initial=-1)) + 1)
        if prob.shape != (n,) or not np.issubdtype(prob.dtype, np.integer) or np.any(prob < 0) or \
                np.any(prob >= P_count):
            raise ValueError(f"problems must be ({n},) integers in [0, {P_count})")
        prob = prob.astype(np.int64)
    if count_weighting and np.any(m[np.arange(n), yy] <= 0):
        raise ValueError("y: every next token must occur in its prompt (m_y > 0) under the CCMC")
    block = prob * K + idx                                   # one Newton problem per (data set, row)
    order = np.argsort(block, kind="stable")
    block, m, yy = block[order], m[order], yy[order]
    n_per = np.bincount(prob, minlength=P_count).astype(np.float64)
    weight = 1.0 / n_per[prob[order]]
    B = P_count * K
    logm = np.where(m > 0, np.log(np.where(m > 0, m, 1.0)), -np.inf) if count_weighting else np.zeros_like(m)
    onehot = np.zeros((n, K))
    onehot[np.arange(n), yy] = 1.0
    bounds = np.searchsorted(block, np.arange(B + 1))
    theta = np.zeros((B, K))

    def rows_of(blocks: np.ndarray) -> np.ndarray:
        if len(blocks) == 0:
            return np.zeros(0, dtype=np.int64)
        return np.concatenate([np.arange(bounds[k], bounds[k + 1]) for k in blocks])

    def objective(th: np.ndarray, blocks: np.ndarray, rows: np.ndarray):
        Z = th[block[rows]] + logm[rows]
        lse = _lse(Z)
        val = np.bincount(block[rows], weights=weight[rows] * (lse - th[block[rows], yy[rows]]),
                          minlength=B)[blocks]                   # the NLL up to the constant -log m_y
        return val + ridge * (th[blocks] ** 2).sum(-1), Z, lse

    active = np.unique(block)
    for _ in range(max_iter):
        rows = rows_of(active)
        f, Z, lse = objective(theta, active, rows)
        P = np.exp(Z - lse[:, None])
        Pw = P * weight[rows, None]
        starts = np.searchsorted(block[rows], active)
        grad = 2 * ridge * theta[active] + np.add.reduceat((P - onehot[rows]) * weight[rows, None], starts, axis=0)
        H = 2 * ridge * np.eye(K) - np.add.reduceat(Pw[:, :, None] * P[:, None, :], starts, axis=0)
        H[:, np.arange(K), np.arange(K)] += np.add.reduceat(Pw, starts, axis=0)
        step = -np.linalg.solve(H, grad[..., None])[..., 0]
        decrement = -(grad * step).sum(-1)
        t = np.ones(len(active))
        todo = np.ones(len(active), dtype=bool)
        for _ in range(60):                                  # backtracking, per row problem
            sub = np.flatnonzero(todo)
            trial = theta.copy()
            trial[active[sub]] += t[sub, None] * step[sub]
            f_new, _, _ = objective(trial, active[sub], rows_of(active[sub]))
            ok = f_new <= f[sub] - 0.25 * t[sub] * decrement[sub]
            todo[sub[ok]] = False
            if not todo.any():
                break
            t[sub[~ok]] /= 2
        t[todo] = 0.0
        theta[active] += t[:, None] * step
        active = active[decrement > tol]
        if len(active) == 0:
            break
    W = theta.reshape(P_count, K, K)
    return W[0] if problems is None else W


# --- identifiability and error ---------------------------------------------------------------------------

def coverage_components(counts, last, K: int | None = None) -> np.ndarray:
    """Which entries of each row of ``W~`` the prompts identify ({eq}`eq-ch8-coverage`; the book's derivation).

    For last token i, join tokens j and l when they occur together in some prompt that ends with i. Row i is
    identified up to one additive constant **per connected component** of this co-occurrence graph; tokens
    never seen in such a prompt are not identified at all. Returns labels (K, K): ``labels[i, j]`` is the
    component of token j in row i (0, 1, ...), or -1 if j never occurs in a prompt ending with i.
    """
    m = np.asarray(counts, dtype=np.float64)
    K = m.shape[-1] if K is None else K
    m = _counts(m if m.ndim == 2 else m[None], K)
    idx = np.broadcast_to(_last(last, K, m.shape[0]), (m.shape[0],))
    labels = -np.ones((K, K), dtype=np.int64)
    present = (m > 0).astype(np.float64)
    for i in range(K):
        rows = present[idx == i]
        if len(rows) == 0:
            continue
        seen = rows.any(0)
        adj = (rows.T @ rows)[np.ix_(seen, seen)] > 0
        _, lab = connected_components(adj, directed=False)
        labels[i, seen] = lab
    return labels


def row_centred(W, components=None) -> np.ndarray:
    """Subtract from every entry the mean of its row over its component (default: the whole row), so that
    only what the data identify remains; entries with component -1 become 0. (K, K) or (..., K, K)."""
    W = np.asarray(W, dtype=np.float64)
    if components is None:
        return W - W.mean(-1, keepdims=True)
    lab = np.asarray(components)
    if lab.shape != W.shape[-2:]:
        raise ValueError(f"components must have shape {W.shape[-2:]} to match W, got {lab.shape}")
    out = np.zeros_like(W)
    for c in np.unique(lab[lab >= 0]):
        mask = lab == c
        cnt = mask.sum(-1, keepdims=True)
        mean = np.where(mask, W, 0.0).sum(-1, keepdims=True) / np.maximum(cnt, 1)
        out = np.where(mask, W - mean, out)
    return out


def row_centred_error(W_hat, W_star, components=None) -> np.ndarray:
    """Squared error ``||rc(W^) - rc(W~*)||_F^2`` after row-centring both ({eq}`eq-ch8-coverage`); with
    ``components``, centring is per component and unidentified entries are left out. ``W_hat`` (K, K) or
    (..., K, K) -> float or (...)."""
    D = row_centred(W_hat, components) - row_centred(W_star, components)
    return (D ** 2).sum((-2, -1))


def ccmc_fisher(W_tilde, counts, last) -> np.ndarray:
    """Per-sample Fisher information of the CCMC likelihood, one (K, K) block per row ({eq}`eq-ch8-fisher`):
    ``I_i = E[1{x_T = i} (diag(p) - p p^T)]``, ``p = P(. | X)``, averaged over the given prompts
    (count vectors (n, K), last tokens (n,)). Returns (K, K, K): ``[i]`` is ``I_i``."""
    W = _scores(W_tilde)
    K = W.shape[0]
    m = _counts(counts, K)
    if m.ndim != 2:
        raise ValueError(f"counts must have shape (n, {K}), got {m.shape}")
    idx = np.broadcast_to(_last(last, K, m.shape[0]), (m.shape[0],))
    p = ccmc_probs(W, m, idx)
    onehot = np.eye(K)[idx]                                               # (n, K): which row each sample feeds
    info = -np.einsum("si,sj,sk->ijk", onehot, p, p, optimize=True)
    info[:, np.arange(K), np.arange(K)] += onehot.T @ p
    return info / m.shape[0]


def mle_error_constant(fisher, rtol: float = 1e-9) -> float:
    """``c = sum_i tr(I_i^+)``: the maximum-likelihood estimate's expected squared error on the identified
    entries behaves like ``c / n`` for large n ({eq}`eq-ch8-fisher`). ``fisher`` (K, K, K) from
    :func:`ccmc_fisher`; the pseudo-inverse keeps eigenvalues above ``rtol`` times the largest."""
    info = np.asarray(fisher, dtype=np.float64)
    if info.ndim != 3 or info.shape[1] != info.shape[2] or info.shape[0] != info.shape[1]:
        raise ValueError(f"fisher must have shape (K, K, K), got {info.shape}")
    total = 0.0
    for block in info:
        ev = np.linalg.eigvalsh((block + block.T) / 2)
        keep = ev > rtol * max(ev.max(), 1e-300)
        total += float((1.0 / ev[keep]).sum())
    return total


def ccmc_kl(W_star, W_hat, counts, last) -> np.ndarray:
    """Prediction risk of an estimate: the KL divergence ``KL(P_{W*}(. | X) || P_{W^}(. | X))`` of the CCMC
    next-token laws, averaged over the given prompts (count vectors (n, K), last tokens (n,))
    ({eq}`eq-ch8-kl`). ``W_hat`` (K, K) or a stack (..., K, K) -> float or (...)."""
    W = _scores(W_star)
    K = W.shape[0]
    est = np.asarray(W_hat, dtype=np.float64)
    if est.shape[-2:] != (K, K) or not np.all(np.isfinite(est)):
        raise ValueError(f"W_hat must be finite with shape (..., {K}, {K}) to match W_star, got {est.shape}")
    m = _counts(counts, K)
    if m.ndim != 2:
        raise ValueError(f"counts must have shape (n, {K}), got {m.shape}")
    idx = np.broadcast_to(_last(last, K, m.shape[0]), (m.shape[0],))
    present = m > 0
    logm = np.log(np.where(present, m, 1.0))

    def log_probs(scores):
        z = np.where(present, scores[..., idx, :] + logm, -np.inf)
        top = z.max(-1, keepdims=True)
        return z - top - np.log(np.exp(z - top).sum(-1, keepdims=True))

    lp_star = np.where(present, log_probs(W), 0.0)                       # absent tokens contribute 0
    lp_hat = np.where(present, log_probs(est), 0.0)
    terms = np.where(present, np.exp(lp_star) * (lp_star - lp_hat), 0.0)
    return terms.sum(-1).mean(-1)


def identified_dimension(components) -> int:
    """Number r of score differences the data identify (the rank of the Fisher information):
    ``sum_i sum_C (|C| - 1)`` over the connected components C of each row's co-occurrence graph (labels from
    :func:`coverage_components`; K(K-1) when every graph is connected). The prediction risk :func:`ccmc_kl` of
    the MLE behaves like ``r / (2n)`` ({eq}`eq-ch8-kl`)."""
    lab = np.asarray(components)
    if lab.ndim != 2 or lab.shape[0] != lab.shape[1] or not np.issubdtype(lab.dtype, np.integer):
        raise ValueError(f"components must be a (K, K) integer label array, got {lab!r}")
    return int(sum(np.sum(row == c) - 1 for row in lab for c in np.unique(row[row >= 0])))


# --- Polya urns: exact special cases of generation -------------------------------------------------------

def polya_exponents(a) -> np.ndarray:
    """Growth exponents ``rho_j = w_j / w_max`` with fitness ``w_j = e^{a_j}``: when every row of ``W~`` is
    the same vector ``a``, the count of token j in a generated sequence of length T grows like
    ``T^{rho_j}`` ({eq}`eq-ch8-polya`). (K,) -> (K,)."""
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != 1 or a.size < 1 or not np.all(np.isfinite(a)):
        raise ValueError(f"a must be a finite vector (K,), got {a!r}")
    return np.exp(a - a.max())


def dirichlet_entropy(K: int, alpha: float = 1.0) -> float:
    """``E[H(p)] = psi(K alpha + 1) - psi(alpha + 1)`` for ``p ~ Dirichlet(alpha, ..., alpha)`` (K tokens):
    the expected entropy of the limiting token shares of a Polya urn started from ``alpha`` copies of each
    token, i.e. of CCMC generation with ``W~ = 0`` ({eq}`eq-ch8-dirichlet`)."""
    K = validate.positive_int("K", K)
    alpha = validate.positive("alpha", alpha)
    return float(digamma(K * alpha + 1) - digamma(alpha + 1))


def dirichlet_rank_shares(K: int) -> np.ndarray:
    """Expected sorted shares of ``p ~ Dirichlet(1, ..., 1)``: ``E[p_(r)] = (1/K) sum_{j=r}^K 1/j``, r = 1..K
    (largest first; the order statistics of uniform spacings). (K,)."""
    K = validate.positive_int("K", K)
    inv = 1.0 / np.arange(1, K + 1)
    return np.cumsum(inv[::-1])[::-1] / K


__all__ = ["base_chain", "base_chain_entropy", "ccmc_fisher", "ccmc_kl", "ccmc_mle", "ccmc_nll", "ccmc_probs",
           "coverage_components", "dirichlet_entropy", "dirichlet_rank_shares", "identified_dimension",
           "mle_error_constant",
           "polya_exponents", "row_centred", "row_centred_error", "stationary_distribution"]
