"""Closed-form theory, plain numpy.

Risk convention (used everywhere in the book): the risk of a predictor is
``E[(y - y_hat)^2]`` for a fresh query, **including the query-label noise** ``noise**2``.
Subtract ``noise**2`` to get the excess risk. ``noise`` is always a standard deviation.
"""

from iclcore.theory.pgd import pgd_optimal, pgd_risk

__all__ = ["pgd_optimal", "pgd_risk"]
