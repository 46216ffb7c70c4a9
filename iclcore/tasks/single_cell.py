"""Single-cell data for the confident-clustering chapter: a synthetic count generator with boundary cells, the
standard preprocessing, two Gaussian-mixture samplers for the theory of the compression ratio, and the 10x PBMC
68k reduced data set that ships inside scanpy's wheel.

* :func:`scrna_like_counts` -- negative-binomial counts of ``K`` cell types plus "boundary" cells whose mean
  profile mixes two types (doublets, transitional cells); :class:`CellCounts` holds counts and ground truth;
* :func:`log_normalize` -- normalise each cell to 10^4 counts, ``log1p``, keep the most variable genes and
  z-score them (the usual single-cell pipeline), giving the ``(n, d)`` matrix that is clustered;
* :func:`gaussian_clusters` -- the model of {eq}`eq-ch14-mixture`: cluster means plus isotropic Gaussian noise
  whose level may differ from cell to cell;
* :func:`load_pbmc68k_reduced` -- 700 blood cells x 765 genes with their ``bulk_labels`` cell types, read with
  ``anndata`` from the file inside the installed scanpy package (nothing is downloaded).

Every sampler takes a ``seed`` and draws from its own ``numpy.random.Generator``. The metric that goes with
these tasks is the adjusted Rand index, ``sklearn.metrics.adjusted_rand_score``.
"""

from __future__ import annotations

import importlib.util
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from iclcore import validate

PBMC_FILE = "10x_pbmc68k_reduced.h5ad"
"""The file name of the PBMC data set inside ``scanpy/datasets/``."""


@dataclass
class CellCounts:
    """Counts of ``n`` cells and their ground truth.

    ``counts`` (n, G) integers; ``parents`` (n, 2) the two cell types whose profiles a cell mixes (equal for a
    pure cell); ``boundary`` (n,) bool, True for a boundary cell; ``types`` (n,) the first parent (the type of a
    pure cell); ``mix`` (n,) the weight ``w`` of the first parent (1 for a pure cell).
    """

    counts: np.ndarray
    parents: np.ndarray
    boundary: np.ndarray
    mix: np.ndarray

    @property
    def types(self) -> np.ndarray:
        return self.parents[:, 0]


def scrna_like_counts(n_cells: int = 1600, n_genes: int = 1000, n_types: int = 5, *, boundary_frac: float = 0.1,
                      markers: int = 40, fold: tuple[float, float] = (3.0, 6.0), dispersion: float = 0.2,
                      library: float = 2000.0, library_sd: float = 0.3, mix: tuple[float, float] = (0.3, 0.7),
                      seed: int = 0) -> CellCounts:
    """Negative-binomial counts of ``n_types`` cell types, a fraction ``boundary_frac`` of them boundary cells.

    Baseline gene means ``mu_g ~ Gamma(0.6, 1)``; each type multiplies its own ``markers`` genes (disjoint sets)
    by a fold change drawn from ``U[fold]``. A pure cell of type k with library size
    ``L ~ LogNormal(log library, library_sd)`` has counts ``NB(mean = L mu^(k) / sum mu^(k))`` with variance
    ``mean + dispersion * mean^2`` (a Gamma-Poisson draw). A boundary cell between types a != b has the mean profile
    ``w mu^(a) + (1 - w) mu^(b)``, ``w ~ U[mix]``. Types are balanced; boundary pairs are uniform over pairs.
    """
    n_cells = validate.positive_int("n_cells", n_cells)
    n_types = validate.int_in_range("n_types", n_types, 2, n_cells)
    markers = validate.positive_int("markers", markers)
    n_genes = validate.int_in_range("n_genes", n_genes, n_types * markers, 10**7)
    boundary_frac = validate.in_interval("boundary_frac", boundary_frac, 0.0, 0.9)
    dispersion = validate.positive("dispersion", dispersion)
    library = validate.positive("library", library)
    library_sd = validate.nonnegative("library_sd", library_sd)
    lo, hi = (validate.positive("fold", f) for f in fold)
    if lo > hi:
        raise ValueError(f"fold must be an interval (low, high) with low <= high, got {fold!r}")
    w_lo, w_hi = (validate.in_interval("mix", w, 0.0, 1.0) for w in mix)
    if w_lo > w_hi:
        raise ValueError(f"mix must be an interval (low, high) with low <= high, got {mix!r}")
    rng = np.random.default_rng(seed)

    base = rng.gamma(0.6, 1.0, size=n_genes)
    profiles = np.tile(base, (n_types, 1))
    marker_genes = rng.permutation(n_genes)[: n_types * markers].reshape(n_types, markers)
    for k in range(n_types):
        profiles[k, marker_genes[k]] *= rng.uniform(lo, hi, size=markers)
    profiles /= profiles.sum(axis=1, keepdims=True)

    n_boundary = int(round(boundary_frac * n_cells))
    pure = np.arange(n_cells - n_boundary) % n_types
    a = rng.integers(0, n_types, size=n_boundary)
    b = (a + rng.integers(1, n_types, size=n_boundary)) % n_types      # b != a, uniform over the others
    parents = np.concatenate([np.stack([pure, pure], 1), np.stack([a, b], 1)])
    w = np.concatenate([np.ones(pure.size), rng.uniform(w_lo, w_hi, size=n_boundary)])
    order = rng.permutation(n_cells)
    parents, w = parents[order], w[order]

    mean = w[:, None] * profiles[parents[:, 0]] + (1 - w[:, None]) * profiles[parents[:, 1]]
    lib = np.exp(np.log(library) + library_sd * rng.standard_normal(n_cells))
    mean *= lib[:, None]
    rate = rng.gamma(1.0 / dispersion, dispersion * mean)               # Gamma-Poisson = negative binomial
    counts = rng.poisson(rate)
    return CellCounts(counts=counts, parents=parents, boundary=parents[:, 0] != parents[:, 1], mix=w)


def log_normalize(counts, n_top: int = 500, target: float = 1e4) -> np.ndarray:
    """The standard single-cell preprocessing: ``log1p(target * counts / library)`` per cell, keep the ``n_top``
    genes of largest variance, z-score each kept gene. Returns float64 (n, n_top)."""
    counts = np.asarray(counts, dtype=np.float64)
    if counts.ndim != 2 or not np.all(np.isfinite(counts)) or np.any(counts < 0):
        raise ValueError(f"counts must be a finite, non-negative (n, G) matrix, got shape {counts.shape}")
    n_top = validate.int_in_range("n_top", n_top, 2, counts.shape[1])
    lib = counts.sum(axis=1, keepdims=True)
    if np.any(lib == 0):
        raise ValueError("counts must have at least one count per cell (a row sums to 0)")
    x = np.log1p(target * counts / lib)
    keep = np.sort(np.argsort(x.var(axis=0))[::-1][:n_top])
    x = x[:, keep]
    sd = x.std(axis=0)
    return (x - x.mean(axis=0)) / np.where(sd > 0, sd, 1.0)


def gaussian_clusters(n_cells: int, d: int, n_clusters: int, *, separation: float, noise=1.0,
                      seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The Gaussian mixture of {eq}`eq-ch14-mixture`: ``x_i = mu_(y_i) + s_i g_i``, ``g_i ~ N(0, I_d)``.

    The ``n_clusters`` means are orthogonal, along the first coordinate axes, scaled so that two different
    means are ``separation`` apart (``|mu_a - mu_b| = separation``). ``noise`` is the noise standard deviation
    ``s_i``: a number (every cell alike) or a pair ``(low, high)`` (each cell draws ``s_i ~ U[low, high]``, a
    cell-to-cell spread like that of library sizes). Labels are balanced. Returns ``X`` (n, d), labels (n,).
    """
    n_cells = validate.positive_int("n_cells", n_cells)
    n_clusters = validate.int_in_range("n_clusters", n_clusters, 2, n_cells)
    d = validate.int_in_range("d", d, n_clusters, 10**6)
    separation = validate.nonnegative("separation", separation)
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n_cells) % n_clusters)
    if np.ndim(noise) == 0:
        s = np.full(n_cells, validate.positive("noise", noise))
    else:
        lo, hi = (validate.positive("noise", v) for v in noise)
        if lo > hi:
            raise ValueError(f"noise must be a number or an interval (low, high) with low <= high, got {noise!r}")
        s = rng.uniform(lo, hi, size=n_cells)
    means = np.zeros((n_clusters, d))
    means[np.arange(n_clusters), np.arange(n_clusters)] = separation / np.sqrt(2.0)
    X = means[labels] + s[:, None] * rng.standard_normal((n_cells, d))
    return X, labels


def pbmc68k_path() -> Path:
    """Where the installed scanpy keeps ``10x_pbmc68k_reduced.h5ad``; found without importing scanpy (which is
    slow to import). Raises ``FileNotFoundError`` with what to install when scanpy or the file is missing."""
    spec = importlib.util.find_spec("scanpy")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("The PBMC data set ships inside scanpy's wheel, and scanpy is not installed: "
                                "run `pip install -r requirements.txt` (it pins scanpy). Nothing is downloaded.")
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / PBMC_FILE
    if not path.is_file():
        raise FileNotFoundError(f"scanpy is installed but its data file {path} is missing; reinstall the pinned "
                                "scanpy (`pip install --force-reinstall -r requirements.txt`).")
    return path


def load_pbmc68k_reduced() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The 10x PBMC 68k reduced data set: 700 cells x 765 genes, already normalised, log-transformed and scaled
    by its authors, as scanpy ships it (``scanpy.datasets.pbmc68k_reduced()`` reads the same file).

    Returns ``X`` (700, 765) float64 (``.X`` as shipped), the cell-type labels (700,) as integer codes, and the
    names of the 10 cell types (``obs["bulk_labels"]``). Raises ``FileNotFoundError`` with a clear message when
    the file is not there (see :func:`pbmc68k_path`).
    """
    path = pbmc68k_path()
    import anndata  # imported here: only the real-data section needs it

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")            # old-format notices from anndata about the shipped file
        adata = anndata.read_h5ad(path)
    labels = adata.obs["bulk_labels"]
    return np.asarray(adata.X, dtype=np.float64), labels.cat.codes.to_numpy().astype(int), \
        [str(c) for c in labels.cat.categories]
