"""Bad input of the confident-clustering chapter: the clustering, the pair scores, the closed forms, the data."""

import numpy as np

from iclcore import clustering as C
from iclcore.tasks.single_cell import gaussian_clusters, log_normalize, scrna_like_counts

X = np.random.default_rng(0).standard_normal((30, 8))
X_NAN = X.copy()
X_NAN[3, 2] = np.nan
S = C.pair_similarity(X, 3)
SCORES = C.pca_scores(X, 3)
BASE = np.arange(30) % 3

CASES = [
    (C.confident_clustering, (X, 1), {}, "n_clusters"),                      # fewer than 2 clusters
    (C.confident_clustering, (X, 31), {}, "n_clusters"),                     # more clusters than cells
    (C.confident_clustering, (X_NAN, 3), {}, "X"),                           # NaN in X
    (C.confident_clustering, (X[:, 0], 3), {}, "X"),                         # not a matrix
    (C.confident_clustering, (X, 3), {"threshold": 1.5}, "threshold"),
    (C.confident_clustering, (X, 3), {"n_neighbors": 0}, "n_neighbors"),
    (C.confident_clustering, (X, 3), {"n_components": 0}, "n_components"),
    (C.pair_similarity, (X, 3), {"kind": "cosine"}, "kind"),
    (C.pair_similarity, (X, 3), {"scores": SCORES[:10]}, "scores"),         # mismatched lengths
    (C.similarity_of_pairs, (X, [0, 1], [2]), {}, "j"),
    (C.same_cluster_auc, (S, BASE[:20]), {}, "labels"),                      # mismatched lengths
    (C.same_cluster_auc, (S, np.zeros(30)), {}, "labels"),                   # only one cluster
    (C.neighbour_confidence, (np.zeros((30, 4), int), BASE[:29]), {}, "labels"),
    (C.two_rounds, (SCORES, S, BASE[:29], 3), {}, "base_labels"),            # mismatched lengths
    (C.two_rounds, (SCORES, S, BASE, 3), {"confident": np.ones(5, bool)}, "confident"),
    (C.top_neighbours, (S, 30), {}, "n_neighbors"),
    (C.match_labels, (BASE, BASE[:10]), {}, "truth"),
    (C.cr_quantile, (0.5, 10, 10), {}, "r"),
    (C.cr_quantile, (1.5, 10, 3), {}, "p"),
    (C.cr_auc, (10, 3, -1.0), {}, "delta"),
    (C.auc_standard_error, (0.9, 0, 10), {}, "n_pos"),
    (C.pair_compression_ratio, (X[0], X[1, :5], np.eye(2, 8)), {}, "x_j"),
    (C.pair_compression_ratio, (X[0], X[1], np.eye(2, 5)), {}, "components"),
    (scrna_like_counts, (100,), {"n_types": 1}, "n_types"),
    (scrna_like_counts, (100,), {"boundary_frac": 1.5}, "boundary_frac"),
    (scrna_like_counts, (100,), {"fold": (3.0, 2.0)}, "fold"),
    (scrna_like_counts, (100,), {"dispersion": 0.0}, "dispersion"),
    (log_normalize, (-np.ones((5, 4)),), {}, "counts"),
    (log_normalize, (np.ones((5, 4)),), {"n_top": 9}, "n_top"),
    (gaussian_clusters, (50, 10, 3), {"separation": -1.0}, "separation"),
    (gaussian_clusters, (50, 10, 3), {"separation": 1.0, "noise": (2.0, 1.0)}, "noise"),
]
