"""iclcore.tasks.single_cell: the count generator, the preprocessing, the Gaussian mixture, the PBMC loader."""

import importlib.util

import numpy as np
import pytest

from iclcore.tasks import single_cell as sc


def test_counts_shapes_and_ground_truth():
    cells = sc.scrna_like_counts(500, n_genes=400, n_types=4, boundary_frac=0.2, seed=0)
    assert cells.counts.shape == (500, 400) and cells.counts.min() >= 0
    assert cells.boundary.sum() == 100
    assert np.all(cells.parents[cells.boundary, 0] != cells.parents[cells.boundary, 1])
    assert np.all(cells.parents[~cells.boundary, 0] == cells.parents[~cells.boundary, 1])
    assert np.all((cells.mix[cells.boundary] >= 0.3) & (cells.mix[cells.boundary] <= 0.7))
    assert np.bincount(cells.types[~cells.boundary]).min() >= 99          # balanced pure types
    again = sc.scrna_like_counts(500, n_genes=400, n_types=4, boundary_frac=0.2, seed=0)
    np.testing.assert_array_equal(again.counts, cells.counts)


def test_counts_have_the_library_size_and_overdispersion():
    cells = sc.scrna_like_counts(2000, n_genes=300, n_types=2, boundary_frac=0.0, library=1000.0,
                                 library_sd=0.0, dispersion=0.5, markers=10, seed=1)
    lib = cells.counts.sum(1)
    assert lib.mean() == pytest.approx(1000.0, rel=0.05)
    top = cells.counts[cells.types == 0][:, np.argmax(cells.counts[cells.types == 0].mean(0))]
    m = top.mean()
    assert top.var() == pytest.approx(m + 0.5 * m**2, rel=0.2)           # negative binomial variance


def test_log_normalize_gives_z_scored_genes():
    cells = sc.scrna_like_counts(300, n_genes=200, n_types=3, markers=20, seed=2)
    X = sc.log_normalize(cells.counts, n_top=50)
    assert X.shape == (300, 50)
    np.testing.assert_allclose(X.mean(0), 0.0, atol=1e-10)
    np.testing.assert_allclose(X.std(0), 1.0, atol=1e-10)


def test_gaussian_clusters_separation_and_noise():
    X, y = sc.gaussian_clusters(3000, 20, 4, separation=6.0, noise=0.5, seed=3)
    means = np.stack([X[y == k].mean(0) for k in range(4)])
    assert np.linalg.norm(means[0] - means[1]) == pytest.approx(6.0, rel=0.03)
    assert (X[y == 0] - means[0]).std() == pytest.approx(0.5, rel=0.03)
    Xv, _ = sc.gaussian_clusters(3000, 20, 4, separation=6.0, noise=(0.5, 1.5), seed=3)
    spread = np.linalg.norm(Xv - Xv.mean(0), axis=1)
    assert spread.std() > 2 * np.linalg.norm(X - X.mean(0), axis=1).std()


def test_pbmc_loads_offline_with_its_labels():
    if importlib.util.find_spec("scanpy") is None:
        pytest.skip("scanpy is not installed")
    X, y, names = sc.load_pbmc68k_reduced()
    assert X.shape == (700, 765) and y.shape == (700,) and len(names) == 10
    assert np.bincount(y).max() == 240 and "Dendritic" in names


def test_missing_pbmc_file_gives_a_clear_message(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(FileNotFoundError, match="scanpy"):
        sc.load_pbmc68k_reduced()
