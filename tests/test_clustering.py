"""iclcore.clustering: the compression ratio, its closed-form law, the confidence and the two rounds."""

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import adjusted_rand_score, roc_auc_score

from iclcore import clustering as C
from iclcore.tasks.single_cell import gaussian_clusters


def _blobs(n=300, d=60, k=3, sep=12.0, seed=0):
    return gaussian_clusters(n, d, k, separation=sep, noise=1.0, seed=seed)


def test_pair_similarity_matches_the_one_pair_formula():
    X, _ = _blobs(n=80, d=30)
    scores = C.pca_scores(X, 5)
    S = C.pair_similarity(X, 5, scores=scores)
    from sklearn.decomposition import PCA
    axes = PCA(5, svd_solver="covariance_eigh").fit(X).components_
    for i, j in [(0, 1), (3, 70), (12, 40)]:
        assert S[i, j] == pytest.approx(C.pair_compression_ratio(X[i], X[j], axes), rel=1e-9)
        assert S[i, j] == pytest.approx(S[j, i])
        assert S[i, j] >= 1.0
    assert np.all(np.isneginf(np.diag(S)))
    pairs = C.similarity_of_pairs(X, [0, 3, 12], [1, 70, 40], scores=scores)
    np.testing.assert_allclose(pairs, [S[0, 1], S[3, 70], S[12, 40]], rtol=1e-9)
    raw = C.pair_similarity(X, kind="raw")
    assert raw[0, 1] == pytest.approx(-np.linalg.norm(X[0] - X[1]))


def test_ratio_is_one_inside_the_span_and_scale_free():
    rng = np.random.default_rng(1)
    V = np.linalg.qr(rng.standard_normal((10, 3)))[0].T
    x = rng.standard_normal(10)
    assert C.pair_compression_ratio(x, x + V.T @ np.array([1.0, 2.0, -1.0]), V) == pytest.approx(1.0)
    X, _ = _blobs(n=60)
    S1, S2 = C.pair_similarity(X, 4), C.pair_similarity(7.5 * X, 4)
    off = ~np.eye(60, dtype=bool)
    np.testing.assert_allclose(S1[off], S2[off], rtol=1e-8)          # rescaling the data leaves rho unchanged


def test_cr_law_matches_monte_carlo():
    """eq-ch14-cr-law with a fixed projection: quantiles, cdf, pdf and the AUC against direct simulation."""
    rng = np.random.default_rng(2)
    d, r, n = 40, 4, 40_000
    g = rng.standard_normal((n, d))
    within = np.linalg.norm(g, axis=1) / np.linalg.norm(g[:, :r], axis=1)
    q = np.array([0.1, 0.5, 0.9])
    np.testing.assert_allclose(np.quantile(within, q), C.cr_quantile(q, d, r), rtol=0.01)
    assert stats.kstest(within, lambda x: C.cr_cdf(x, d, r)).pvalue > 1e-3
    grid = np.linspace(1.01, 12, 4000)
    mass = float(C.cr_cdf(grid[-1], d, r) - C.cr_cdf(grid[0], d, r))
    assert np.trapezoid(C.cr_pdf(grid, d, r), grid) == pytest.approx(mass, abs=1e-4)   # the pdf is the cdf's slope
    delta = 9.0
    shift = np.zeros(d)
    shift[0] = np.sqrt(2 * delta)                          # |Delta|^2 / (2 s^2) = delta with s = 1 per cell
    diff = shift + np.sqrt(2) * rng.standard_normal((n, d))
    between = np.linalg.norm(diff, axis=1) / np.linalg.norm(diff[:, :r], axis=1)
    np.testing.assert_allclose(np.median(between), C.cr_quantile(0.5, d, r, delta), rtol=0.01)
    auc = roc_auc_score(np.r_[np.ones(n), np.zeros(n)], np.r_[within, between])
    assert auc == pytest.approx(C.cr_auc(d, r, delta), abs=0.005)
    raw = roc_auc_score(np.r_[np.ones(n), np.zeros(n)],
                        -np.r_[np.linalg.norm(np.sqrt(2) * g, axis=1), np.linalg.norm(diff, axis=1)])
    assert raw == pytest.approx(C.raw_distance_auc(d, delta), abs=0.005)
    assert C.cr_auc(d, r, 0.0) == pytest.approx(0.5, abs=1e-3)


def test_auc_standard_error_matches_the_spread_of_simulated_aucs():
    rng = np.random.default_rng(3)
    aucs = [roc_auc_score(np.r_[np.ones(200), np.zeros(300)],
                          np.r_[rng.standard_normal(200) + 1.0, rng.standard_normal(300)]) for _ in range(400)]
    se = C.auc_standard_error(float(np.mean(aucs)), 200, 300)
    assert np.std(aucs) == pytest.approx(se, rel=0.15)


def test_same_cluster_auc_and_neighbours():
    X, y = _blobs()
    S = C.pair_similarity(X, 5)
    assert C.same_cluster_auc(S, y) > 0.99
    nb = C.top_neighbours(S, 10)
    assert nb.shape == (X.shape[0], 10)
    assert not np.any(nb == np.arange(X.shape[0])[:, None])           # never its own neighbour
    vals = np.take_along_axis(S, nb, axis=1)
    assert np.all(np.diff(vals, axis=1) <= 0)                          # best first
    among = np.arange(X.shape[0]) % 2 == 0
    assert np.all(among[C.top_neighbours(S, 5, among=among)])
    np.testing.assert_allclose(C.neighbour_confidence(nb, y), 1.0)


def test_neighbour_confidence_known_values():
    nb = np.array([[1, 2], [0, 2], [0, 1]])
    np.testing.assert_allclose(C.neighbour_confidence(nb, np.array([0, 0, 1])), [0.5, 0.5, 0.0])


def test_confident_clustering_contract_and_recovery():
    X, y = _blobs(n=240, k=4)
    labels, confident = C.confident_clustering(X, 4, seed=0)
    assert labels.shape == (240,) and confident.shape == (240,) and confident.dtype == bool
    assert np.issubdtype(labels.dtype, np.integer) and labels.min() >= 0 and labels.max() < 4
    assert adjusted_rand_score(y, labels) == pytest.approx(1.0)
    assert confident.mean() > 0.9
    again = C.confident_clustering(X, 4, seed=0)
    np.testing.assert_array_equal(again[0], labels)
    np.testing.assert_array_equal(again[1], confident)


def test_threshold_extremes_and_overrides():
    X, y = _blobs(n=150, k=3, sep=6.0)
    res = C.fit_confident_clustering(X, 3, threshold=0.0, seed=1)
    assert res.confident.all()                                        # q = 0 keeps every cell
    keep = np.zeros(150, bool)
    keep[:100] = True
    labels, confident, _ = C.two_rounds(res.scores, res.similarity, res.base_labels, 3, confident=keep, seed=1)
    np.testing.assert_array_equal(confident, keep)
    assert labels.min() >= 0 and labels.max() < 3


def test_confident_cells_are_purer_on_boundary_data():
    """Cells halfway between two clusters are the ones round 1 leaves out."""
    X, y = gaussian_clusters(400, 50, 4, separation=10.0, seed=4)
    rng = np.random.default_rng(5)
    a, b = rng.integers(0, 400, 40), rng.integers(0, 400, 40)
    mixed = 0.5 * (X[a] + X[b]) + 0.5 * rng.standard_normal((40, 50))
    keep = y[a] != y[b]
    Xall = np.vstack([X, mixed[keep]])
    boundary = np.r_[np.zeros(400, bool), np.ones(keep.sum(), bool)]
    _, confident = C.confident_clustering(Xall, 4, seed=0)
    assert boundary[confident].mean() < 0.5 * boundary.mean()


def test_match_labels():
    truth = np.array([0, 0, 1, 1, 2, 2])
    np.testing.assert_array_equal(C.match_labels(np.array([2, 2, 0, 0, 1, 1]), truth), truth)
    np.testing.assert_array_equal(C.match_labels(np.array([0, 0, 1, 1, 2, 3]), truth)[:4], truth[:4])
