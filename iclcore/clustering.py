"""Confident clustering with the PCA compression ratio (the confident-clustering chapter).

The **compression ratio** of a pair of cells is how much PCA shrinks their difference,
{eq}`eq-ch14-cr`: ``CR(i, j) = |x_i - x_j| / |P_r (x_i - x_j)|`` with ``P_r`` the projection on the top ``r``
principal components. Within a cluster the difference is noise, which PCA removes, so CR is large; between
clusters it is signal, which PCA keeps, so CR is close to 1.

* :func:`pair_similarity` -- the (n, n) matrix of CR (or, for comparison, minus the raw or the PCA distance);
* :func:`same_cluster_auc` -- how well a pair score separates same-cluster from different-cluster pairs;
* :func:`neighbour_confidence` -- {eq}`eq-ch14-confidence`, the share of a cell's m CR-neighbours that share
  its label;
* :func:`confident_clustering` -- the two-round procedure of {eq}`eq-ch14-round1`-{eq}`eq-ch14-round2`;
  :func:`fit_confident_clustering` returns every intermediate result (:class:`ConfidentClustering`) and
  :func:`two_rounds` reruns the rounds at another threshold without recomputing the pair scores;
* :func:`cr_quantile`, :func:`cr_cdf`, :func:`cr_pdf`, :func:`cr_auc`, :func:`raw_distance_auc` -- the closed
  forms of {eq}`eq-ch14-cr-law` and {eq}`eq-ch14-auc` for the Gaussian mixture of {eq}`eq-ch14-mixture`.

k-means, PCA, ARI and AUC are scikit-learn's; nothing here re-implements them. The two-round procedure is this
book's construction in the spirit of Li, Mukherjee and Zhang (2022), whose method section we could not consult.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import pairwise_distances, roc_auc_score

from iclcore import validate

SIMILARITIES = ("cr", "raw", "pca")
"""Pair scores: the compression ratio, minus the raw distance, minus the distance after PCA."""


def as_cells(X) -> np.ndarray:
    """``X`` as a finite float64 (n_cells, n_features) matrix with at least 2 cells (``ValueError`` names X)."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] < 2 or X.shape[1] < 1:
        raise ValueError(f"X must be an (n_cells, n_features) matrix with n_cells >= 2, got shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError("X must be finite (it holds NaN or inf)")
    return X


def _labels(name: str, labels, n: int) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), one entry per cell, got {labels.shape}")
    return labels


def pca_scores(X, n_components: int = 10) -> np.ndarray:
    """The cells' coordinates on the top ``n_components`` principal components (scikit-learn's exact PCA),
    shape (n, r). Distances between rows are the distances ``|P_r (x_i - x_j)|`` of {eq}`eq-ch14-cr`."""
    X = as_cells(X)
    r = validate.int_in_range("n_components", n_components, 1, min(X.shape) - 1)
    return PCA(n_components=r, svd_solver="covariance_eigh").fit_transform(X)


def pair_similarity(X, n_components: int = 10, kind: str = "cr", scores=None) -> np.ndarray:
    """The (n, n) pair scores of the cells (larger = more likely the same cluster); the diagonal is ``-inf``.

    ``kind="cr"``: the compression ratio of {eq}`eq-ch14-cr`, ``|x_i - x_j| / |P_r(x_i - x_j)|``; a pair whose
    projected distance is below 1e-12 of the largest gets the largest finite ratio. ``"raw"``: minus the raw
    distance. ``"pca"``: minus the distance after PCA. ``scores`` (n, r) may pass PCA coordinates computed
    elsewhere (e.g. fitted on held-out cells); by default they are :func:`pca_scores` of ``X``.
    """
    X = as_cells(X)
    if kind not in SIMILARITIES:
        raise ValueError(f"kind must be one of {SIMILARITIES}, got {kind!r}")
    if kind == "raw":
        out = -pairwise_distances(X)
    else:
        scores = pca_scores(X, n_components) if scores is None else np.asarray(scores, dtype=np.float64)
        if scores.ndim != 2 or scores.shape[0] != X.shape[0]:
            raise ValueError(f"scores must be an ({X.shape[0]}, r) matrix, one row per cell, got {scores.shape}")
        proj = pairwise_distances(scores)
        if kind == "pca":
            out = -proj
        else:
            raw = pairwise_distances(X)
            out = raw / np.maximum(proj, 1e-12 * max(proj.max(), 1e-300))
    np.fill_diagonal(out, -np.inf)
    return out


def similarity_of_pairs(X, i, j, n_components: int = 10, kind: str = "cr", scores=None) -> np.ndarray:
    """The pair scores of :func:`pair_similarity` for the listed pairs ``(i[k], j[k])`` only (shape (P,)),
    without the (n, n) matrix: for many cells and few pairs, e.g. independent pairs drawn to test a law."""
    X = as_cells(X)
    if kind not in SIMILARITIES:
        raise ValueError(f"kind must be one of {SIMILARITIES}, got {kind!r}")
    i, j = np.asarray(i, dtype=int), np.asarray(j, dtype=int)
    if i.shape != j.shape or i.ndim != 1:
        raise ValueError(f"j must be a vector of indices with the shape of i {i.shape}, got {j.shape}")
    if i.size and (min(i.min(), j.min()) < 0 or max(i.max(), j.max()) >= X.shape[0]):
        raise ValueError(f"i and j must index the {X.shape[0]} cells")
    raw = np.linalg.norm(X[i] - X[j], axis=1)
    if kind == "raw":
        return -raw
    scores = pca_scores(X, n_components) if scores is None else np.asarray(scores, dtype=np.float64)
    if scores.ndim != 2 or scores.shape[0] != X.shape[0]:
        raise ValueError(f"scores must be an ({X.shape[0]}, r) matrix, one row per cell, got {scores.shape}")
    proj = np.linalg.norm(scores[i] - scores[j], axis=1)
    return -proj if kind == "pca" else raw / np.maximum(proj, 1e-300)


def same_cluster_auc(similarity, labels, mask=None) -> float:
    """The AUC with which ``similarity`` tells same-label pairs from different-label pairs, over all pairs
    ``i < j`` of the cells selected by ``mask`` (all by default): the probability that a random same-label pair
    scores above a random different-label pair (scikit-learn's ``roc_auc_score``)."""
    S = np.asarray(similarity, dtype=np.float64)
    if S.ndim != 2 or S.shape[0] != S.shape[1]:
        raise ValueError(f"similarity must be a square (n, n) matrix, got shape {S.shape}")
    labels = _labels("labels", labels, S.shape[0])
    keep = np.ones(S.shape[0], bool) if mask is None else _labels("mask", mask, S.shape[0]).astype(bool)
    idx = np.flatnonzero(keep)
    i, j = np.triu_indices(idx.size, k=1)
    same = labels[idx[i]] == labels[idx[j]]
    if same.all() or not same.any():
        raise ValueError("labels must give both same-label and different-label pairs among the selected cells")
    return float(roc_auc_score(same, S[idx[i], idx[j]]))


def auc_standard_error(auc: float, n_pos: int, n_neg: int) -> float:
    """The standard error of an AUC estimated from ``n_pos`` and ``n_neg`` independent scores (the approximation of
    Hanley and McNeil, 1982): ``sqrt((A(1-A) + (n_pos-1)(Q1-A^2) + (n_neg-1)(Q2-A^2)) / (n_pos n_neg))`` with
    ``Q1 = A/(2-A)``, ``Q2 = 2A^2/(1+A)``."""
    a = validate.in_interval("auc", auc, 0.0, 1.0)
    n_pos, n_neg = validate.positive_int("n_pos", n_pos), validate.positive_int("n_neg", n_neg)
    q1, q2 = a / (2 - a), 2 * a**2 / (1 + a)
    return float(np.sqrt(max(a * (1 - a) + (n_pos - 1) * (q1 - a**2) + (n_neg - 1) * (q2 - a**2), 0.0)
                         / (n_pos * n_neg)))


def top_neighbours(similarity, n_neighbors: int, among=None) -> np.ndarray:
    """For each cell, the ``n_neighbors`` other cells of largest similarity (n, m), best first; ``among`` (n,)
    bool restricts the candidates (e.g. to the confident cells of round 1)."""
    S = np.array(similarity, dtype=np.float64)
    n = S.shape[0]
    available = n - 1
    if among is not None:
        among = _labels("among", among, n).astype(bool)
        S[:, ~among] = -np.inf
        available = int(among.sum()) - 1                  # a candidate is never its own neighbour
    m = validate.int_in_range("n_neighbors", n_neighbors, 1, max(available, 1))
    part = np.argpartition(-S, m - 1, axis=1)[:, :m]
    order = np.argsort(-np.take_along_axis(S, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)


def neighbour_confidence(neighbours, labels) -> np.ndarray:
    """{eq}`eq-ch14-confidence`: for each cell, the share of its neighbours (n, m) whose label equals its own."""
    neighbours = np.asarray(neighbours)
    labels = _labels("labels", labels, neighbours.shape[0])
    return (labels[neighbours] == labels[:, None]).mean(axis=1)


@dataclass
class ConfidentClustering:
    """Everything :func:`fit_confident_clustering` computed. Shapes: (n,) unless said.

    ``labels`` final labels in [0, K); ``confident`` bool, the cells kept by round 1; ``base_labels`` the one-shot
    k-means labels; ``confidence`` the scores of {eq}`eq-ch14-confidence`; ``scores`` (n, r) PCA coordinates;
    ``similarity`` (n, n) the pair scores; ``threshold`` q; ``n_neighbors`` m.
    """

    labels: np.ndarray
    confident: np.ndarray
    base_labels: np.ndarray
    confidence: np.ndarray
    scores: np.ndarray
    similarity: np.ndarray
    threshold: float
    n_neighbors: int


def kmeans_labels(scores, n_clusters: int, *, seed: int = 0, n_init: int = 10) -> np.ndarray:
    """One-shot k-means (scikit-learn, ``n_init`` restarts, ``random_state=seed``) on the rows of ``scores``."""
    scores = as_cells(scores)
    k = validate.int_in_range("n_clusters", n_clusters, 2, scores.shape[0])
    return KMeans(k, n_init=n_init, random_state=seed).fit_predict(scores)


def two_rounds(scores, similarity, base_labels, n_clusters: int, *, threshold: float = 0.9, n_neighbors: int = 20,
               seed: int = 0, confident=None, vote_similarity=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rounds 1 and 2 of {eq}`eq-ch14-round1`-{eq}`eq-ch14-round2`, from the base labels and the pair scores.

    Round 1 keeps the cells whose confidence (the share of their ``n_neighbors`` best-scoring partners that share
    their base label) is at least ``threshold``, and reruns k-means on those cells only, started from their
    centroids per base cluster (a cluster with no confident cell keeps its base centroid). Round 2 gives every
    other cell the majority label of its ``n_neighbors`` best-scoring *confident* partners (ties: the smaller
    label). ``confident`` (n,) bool overrides round 1's choice of cells (used to test a shuffled mask);
    ``vote_similarity`` (n, n), if given, replaces ``similarity`` for round 2's choice of partners.
    Returns ``(labels, confident, confidence)``.
    """
    scores = as_cells(scores)
    n = scores.shape[0]
    k = validate.int_in_range("n_clusters", n_clusters, 2, n)
    q = validate.in_interval("threshold", threshold, 0.0, 1.0)
    base = _labels("base_labels", base_labels, n).astype(int)
    neighbours = top_neighbours(similarity, n_neighbors)
    confidence = neighbour_confidence(neighbours, base)
    keep = confidence >= q if confident is None else _labels("confident", confident, n).astype(bool)
    labels = base.copy()
    if keep.sum() > k:                                    # round 1: k-means on the confident cells
        centroids = np.stack([scores[keep & (base == c)].mean(0) if np.any(keep & (base == c))
                              else scores[base == c].mean(0) if np.any(base == c) else scores.mean(0)
                              for c in range(k)])
        labels[keep] = KMeans(k, init=centroids, n_init=1, random_state=seed).fit_predict(scores[keep])
    if 0 < keep.sum() < n:                                # round 2: vote among confident partners
        m = min(n_neighbors, int(keep.sum()))
        vote_on = similarity if vote_similarity is None else vote_similarity
        votes = labels[top_neighbours(vote_on, m, among=keep) if keep.sum() > m
                       else np.tile(np.flatnonzero(keep), (n, 1))]
        counts = np.stack([(votes == c).sum(1) for c in range(k)], axis=1)
        labels[~keep] = counts.argmax(1)[~keep]
    return labels, keep, confidence


def fit_confident_clustering(X, n_clusters: int, *, threshold: float = 0.9, n_components: int = 10,
                             n_neighbors: int = 20, kind: str = "cr", seed: int = 0) -> ConfidentClustering:
    """The two-round confident clustering of the cells ``X`` (n, d) into ``n_clusters`` groups, with every
    intermediate result. ``kind`` picks the pair score (:data:`SIMILARITIES`; the method uses ``"cr"``)."""
    X = as_cells(X)
    k = validate.int_in_range("n_clusters", n_clusters, 2, X.shape[0])
    validate.in_interval("threshold", threshold, 0.0, 1.0)
    validate.int_in_range("n_neighbors", n_neighbors, 1, X.shape[0] - 2)
    scores = pca_scores(X, n_components)
    similarity = pair_similarity(X, n_components, kind=kind, scores=scores)
    base = kmeans_labels(scores, k, seed=seed)
    labels, confident, confidence = two_rounds(scores, similarity, base, k, threshold=threshold,
                                               n_neighbors=n_neighbors, seed=seed)
    return ConfidentClustering(labels, confident, base, confidence, scores, similarity, float(threshold),
                               int(n_neighbors))


def confident_clustering(X, n_clusters: int, *, seed: int = 0, threshold: float = 0.9, n_components: int = 10,
                         n_neighbors: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """Cluster the cells ``X`` (n_cells, n_features) into ``n_clusters`` groups in two rounds
    ({eq}`eq-ch14-round1`-{eq}`eq-ch14-round2`).

    Returns ``labels`` (n_cells,) ints in [0, n_clusters) and ``confident`` (n_cells,) bool, the cells kept by
    the first round. ``threshold`` is the confidence q a cell needs to be kept, ``n_components`` the number r of
    principal components, ``n_neighbors`` the number m of compression-ratio neighbours; ``seed`` seeds k-means.
    """
    res = fit_confident_clustering(X, n_clusters, threshold=threshold, n_components=n_components,
                                   n_neighbors=n_neighbors, seed=seed)
    return res.labels, res.confident


def match_labels(labels, truth, mask=None) -> np.ndarray:
    """``labels`` renamed to the true classes they overlap most (the Hungarian matching of scipy's
    ``linear_sum_assignment`` on the contingency table of the cells in ``mask``), so that ``match_labels(l, t)
    == t`` counts correctly clustered cells. Clusters left unmatched (more clusters than classes) get -1."""
    labels = np.asarray(labels).astype(int)
    truth = _labels("truth", truth, labels.shape[0]).astype(int)
    keep = np.ones(labels.size, bool) if mask is None else _labels("mask", mask, labels.size).astype(bool)
    if labels.min(initial=0) < 0 or truth.min(initial=0) < 0:
        raise ValueError("labels and truth must be integers >= 0")
    table = np.zeros((labels.max() + 1, truth.max() + 1))
    np.add.at(table, (labels[keep], truth[keep]), 1)
    rows, cols = linear_sum_assignment(-table)
    rename = np.full(table.shape[0], -1)
    rename[rows] = cols
    return rename[labels]


# --- closed forms for the Gaussian mixture of eq-ch14-mixture -------------------------------------------------

def _dims(d: int, r: int) -> tuple[int, int]:
    d = validate.int_in_range("d", d, 2, 10**7)
    r = validate.int_in_range("r", r, 1, d - 1)
    return d, r


def cr_quantile(p, d: int, r: int, delta: float = 0.0) -> np.ndarray:
    """Quantiles of the compression ratio of a pair, {eq}`eq-ch14-cr-law`:
    ``CR^2 = 1 + chi2_(d-r) / chi2'_r(delta)``, with ``delta = |mu_a - mu_b|^2 / (s_i^2 + s_j^2)`` (0 for a pair
    of the same cluster, whatever the noise levels). ``p`` in (0, 1), array-like."""
    d, r = _dims(d, r)
    delta = validate.nonnegative("delta", delta)
    p = np.asarray(p, dtype=np.float64)
    if np.any((p <= 0) | (p >= 1)):
        raise ValueError("p must lie in (0, 1)")
    # CR^2 - 1 = ((d - r) / r) / F with F ~ F'(r, d - r, delta), decreasing in F: the p-quantile of CR is at 1 - p.
    f = stats.ncf.ppf(1 - p, r, d - r, delta) if delta > 0 else stats.f.ppf(1 - p, r, d - r)
    return np.sqrt(1 + (d - r) / (r * f))


def cr_pdf(rho, d: int, r: int, delta: float = 0.0) -> np.ndarray:
    """The density of the compression ratio of {eq}`eq-ch14-cr-law` at ``rho > 1`` (0 at ``rho <= 1``): with
    ``c = (d - r) / r``, ``CR = sqrt(1 + c / F)``, so ``p(rho) = p_F(c / (rho^2 - 1)) 2 rho c / (rho^2 - 1)^2``."""
    d, r = _dims(d, r)
    delta = validate.nonnegative("delta", delta)
    rho = np.asarray(rho, dtype=np.float64)
    c = (d - r) / r
    u = np.where(rho > 1, rho**2 - 1, np.inf)
    f = c / u
    dens = stats.ncf.pdf(f, r, d - r, delta) if delta > 0 else stats.f.pdf(f, r, d - r)
    return np.where(rho > 1, dens * 2 * rho * c / u**2, 0.0)


def cr_cdf(rho, d: int, r: int, delta: float = 0.0) -> np.ndarray:
    """The distribution function ``P(CR <= rho)`` of {eq}`eq-ch14-cr-law`: ``P(F >= c / (rho^2 - 1))`` with
    ``c = (d - r) / r`` (0 at ``rho <= 1``)."""
    d, r = _dims(d, r)
    delta = validate.nonnegative("delta", delta)
    rho = np.asarray(rho, dtype=np.float64)
    f = (d - r) / r / np.where(rho > 1, rho**2 - 1, np.inf)
    sf = stats.ncf.sf(f, r, d - r, delta) if delta > 0 else stats.f.sf(f, r, d - r)
    return np.where(rho > 1, sf, 0.0)


def cr_auc(d: int, r: int, delta: float, grid: int = 4000) -> float:
    """{eq}`eq-ch14-auc`: the probability that a same-cluster pair has a larger compression ratio than a pair
    from two clusters with noncentrality ``delta``, ``P(F < F')`` with ``F ~ F(r, d-r)``, ``F' ~ F'(r, d-r, delta)``
    (midpoint rule over ``grid`` quantiles of ``F'``)."""
    d, r = _dims(d, r)
    delta = validate.nonnegative("delta", delta)
    u = (np.arange(grid) + 0.5) / grid
    between = stats.ncf.ppf(u, r, d - r, delta) if delta > 0 else stats.f.ppf(u, r, d - r)
    return float(stats.f.cdf(between, r, d - r).mean())


def raw_distance_auc(d: int, delta: float, grid: int = 4000) -> float:
    """The same AUC for the raw distance with equal noise levels: ``P(chi2_d < chi2'_d(delta))``."""
    d = validate.int_in_range("d", d, 1, 10**7)
    delta = validate.nonnegative("delta", delta)
    u = (np.arange(grid) + 0.5) / grid
    between = stats.ncx2.ppf(u, d, delta) if delta > 0 else stats.chi2.ppf(u, d)
    return float(stats.chi2.cdf(between, d).mean())


def pair_compression_ratio(x_i, x_j, components) -> float:
    """The compression ratio of one pair, {eq}`eq-ch14-cr`, given the principal axes ``components`` (r, d) with
    orthonormal rows (scikit-learn's ``PCA.components_``)."""
    x_i, x_j = np.asarray(x_i, dtype=np.float64), np.asarray(x_j, dtype=np.float64)
    V = np.asarray(components, dtype=np.float64)
    if x_i.shape != x_j.shape or x_i.ndim != 1:
        raise ValueError(f"x_j must be a vector with the shape of x_i {x_i.shape}, got {x_j.shape}")
    if V.ndim != 2 or V.shape[1] != x_i.size:
        raise ValueError(f"components must be an (r, {x_i.size}) matrix, got shape {V.shape}")
    diff = x_i - x_j
    return float(np.linalg.norm(diff) / np.linalg.norm(V @ diff))
