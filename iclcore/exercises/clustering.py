"""Checkers for the coding exercises of the confident-clustering chapter.

* :func:`check_compression_ratio` -- ``fn(x_i, x_j, components) -> rho``, the compression ratio of one pair,
  {eq}`eq-ch14-cr`;
* :func:`check_confident_set` -- ``fn(neighbours, labels, threshold) -> mask``, the confident cells of
  {eq}`eq-ch14-round1` with the confidence of {eq}`eq-ch14-confidence`.

Each calls the reader's function on several cases (edge cases included), prints a verdict, and returns a
:class:`iclcore.exercises.base.Verdict`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from iclcore.clustering import neighbour_confidence, pair_compression_ratio
from iclcore.exercises.base import Case, Verdict, check_function


def _axes(rng: np.random.Generator, r: int, d: int) -> np.ndarray:
    """``r`` orthonormal rows in ``R^d`` (like ``PCA.components_``)."""
    q, _ = np.linalg.qr(rng.standard_normal((d, r)))
    return q.T


def _ratio_cases() -> list[Case]:
    rng = np.random.default_rng(14)
    V = _axes(rng, 3, 8)
    x = rng.standard_normal(8)
    cases = [Case("two random cells, r=3, d=8", (x, rng.standard_normal(8), V))]
    inside = x - V.T @ np.array([1.0, -2.0, 0.5])
    cases.append(Case("a difference inside the span of the axes (rho = 1)", (x, inside, V)))
    V1 = _axes(rng, 1, 5)
    cases.append(Case("one axis, d=5", (rng.standard_normal(5), rng.standard_normal(5), V1)))
    V6 = _axes(rng, 6, 40)
    signal = 4.0 * V6[0]
    cases.append(Case("same-type pair: noise only, r=6, d=40",
                      (rng.standard_normal(40), rng.standard_normal(40), V6)))
    cases.append(Case("different types: a signal along the first axis",
                      (signal + rng.standard_normal(40), -signal + rng.standard_normal(40), V6)))
    cases.append(Case("axes equal to coordinate axes", (np.array([3.0, 4.0, 12.0]), np.zeros(3), np.eye(2, 3))))
    return cases


def check_compression_ratio(fn: Callable, show: bool = True) -> Verdict:
    """Check ``fn(x_i, x_j, components)``: the compression ratio ``|x_i - x_j| / |P_r (x_i - x_j)|`` (a number
    >= 1), where the rows of ``components`` (r, d) are orthonormal principal axes."""

    def diff(x_i, x_j):
        return np.asarray(x_i, float) - np.asarray(x_j, float)

    wrong = [(lambda x_i, x_j, V: 1 / pair_compression_ratio(x_i, x_j, V),
              "Your ratio is upside down: it is the distance BEFORE PCA over the distance AFTER, so it is >= 1."),
             (lambda x_i, x_j, V: pair_compression_ratio(x_i, x_j, V) ** 2,
              "That is the squared ratio: take the norms (square roots), not the squared norms."),
             (lambda x_i, x_j, V: np.linalg.norm(x_i) / np.linalg.norm(V @ x_i),
              "The ratio is about the pair's DIFFERENCE x_i - x_j, not about one cell."),
             (lambda x_i, x_j, V: np.linalg.norm(diff(x_i, x_j))
              / np.linalg.norm(diff(x_i, x_j) - V.T @ V @ diff(x_i, x_j)),
              "You divided by the part PCA drops, (I - P) u. The denominator is the part PCA keeps, P u (|V u|)."),
             (lambda x_i, x_j, V: np.linalg.norm(diff(x_i, x_j)) / np.abs(V @ diff(x_i, x_j)).sum(),
              "The projected length is a Euclidean norm (root of the sum of squares of V u), not a sum of "
              "absolute values.")]
    return check_function(fn, pair_compression_ratio, _ratio_cases(), name="compression ratio",
                          wrong_answers=wrong, rtol=1e-8, atol=1e-10, show=show)


def _reference_confident(neighbours, labels, threshold) -> np.ndarray:
    return neighbour_confidence(neighbours, labels) >= threshold


def _confident_cases() -> list[Case]:
    rng = np.random.default_rng(141)
    labels = np.array([0, 0, 0, 1, 1, 1])
    hand = np.array([[1, 2, 3], [0, 2, 4], [3, 4, 5], [4, 5, 1], [3, 5, 0], [0, 1, 2]])
    n, m = 40, 20
    lab = rng.integers(0, 3, size=n)
    nb = np.stack([rng.choice(np.delete(np.arange(n), i), size=m, replace=False) for i in range(n)])
    lab[nb[0]] = lab[0]                                   # cell 0: all neighbours agree
    agree = np.flatnonzero((lab == lab[1]) & (np.arange(n) != 1))
    other = np.flatnonzero(lab != lab[1])
    nb[1] = np.r_[rng.choice(agree, 18), rng.choice(other, 2)]   # cell 1: exactly 18 / 20 = 0.9 agree
    return [Case("six cells, q = 2/3", (hand, labels, 2 / 3)),
            Case("40 cells, m = 20, q = 0.9 (one cell has exactly 18 of 20 agreeing)", (nb, lab, 0.9)),
            Case("q = 0 keeps every cell", (nb, lab, 0.0)),
            Case("q = 1 keeps only unanimous neighbourhoods", (nb, lab, 1.0))]


def check_confident_set(fn: Callable, show: bool = True) -> Verdict:
    """Check ``fn(neighbours, labels, threshold)``: the bool mask (n,) of cells whose confidence, the share of
    their neighbours (row i of ``neighbours``, shape (n, m)) carrying their own label, is at least ``threshold``."""

    def confidence(nb, lab):
        return (lab[nb] == lab[:, None]).mean(axis=1)

    def majority_share(nb, lab):
        return np.array([np.bincount(lab[row]).max() / row.size for row in nb])

    wrong = [(lambda nb, lab, q: confidence(nb, lab) > q,
              "Close: a cell whose confidence equals the threshold exactly (e.g. 18 of 20 at q = 0.9) counts as "
              "confident: use >=, not >."),
             (lambda nb, lab, q: confidence(nb, lab) < q,
              "Your mask is inverted: True marks the CONFIDENT cells, those with confidence >= threshold."),
             (lambda nb, lab, q: majority_share(nb, lab) >= q,
              "You measured how much the neighbours agree with EACH OTHER (their majority label). The confidence "
              "compares each neighbour's label with the cell's own label, labels[i]."),
             (lambda nb, lab, q: (lab[nb] == lab[:, None]).sum(axis=1) >= q,
              "Divide the number of agreeing neighbours by m: the confidence is a share in [0, 1].")]
    return check_function(fn, _reference_confident, _confident_cases(), name="confident set",
                          wrong_answers=wrong, rtol=0, atol=0, show=show)
