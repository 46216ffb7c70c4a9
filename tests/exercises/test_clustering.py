"""The coding-exercise checkers of the confident-clustering chapter: solutions pass, common mistakes get hints."""

import numpy as np

from iclcore.exercises.clustering import check_compression_ratio, check_confident_set


def _ratio(x_i, x_j, components):
    diff = x_i - x_j
    return np.linalg.norm(diff) / np.linalg.norm(components @ diff)


def _confident(neighbours, labels, threshold):
    return (labels[neighbours] == labels[:, None]).mean(axis=1) >= threshold


def test_the_solutions_pass():
    assert check_compression_ratio(_ratio, show=False)
    projector = check_compression_ratio(                           # with the (d, d) projector P = V^T V
        lambda a, b, V: np.linalg.norm(a - b) / np.linalg.norm(V.T @ V @ (a - b)), show=False)
    assert projector
    assert check_confident_set(_confident, show=False)


def test_common_mistakes_get_their_hints():
    upside = check_compression_ratio(lambda a, b, V: 1 / _ratio(a, b, V), show=False)
    assert not upside and "upside down" in upside.hint
    squared = check_compression_ratio(lambda a, b, V: _ratio(a, b, V) ** 2, show=False)
    assert not squared and "squared" in squared.hint
    one_cell = check_compression_ratio(lambda a, b, V: np.linalg.norm(a) / np.linalg.norm(V @ a), show=False)
    assert not one_cell and "DIFFERENCE" in one_cell.hint
    strict = check_confident_set(lambda nb, lab, q: (lab[nb] == lab[:, None]).mean(1) > q, show=False)
    assert not strict and ">=" in strict.hint
    inverted = check_confident_set(lambda nb, lab, q: (lab[nb] == lab[:, None]).mean(1) < q, show=False)
    assert not inverted and "inverted" in inverted.hint
    counts = check_confident_set(lambda nb, lab, q: (lab[nb] == lab[:, None]).sum(1) >= q, show=False)
    assert not counts and "Divide" in counts.hint
