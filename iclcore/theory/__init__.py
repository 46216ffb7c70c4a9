"""Closed-form theory, plain numpy.

Risk convention (used everywhere in the book): the risk of a predictor is
``E[(y - y_hat)^2]`` for a fresh query, **including the query-label noise** ``noise**2``.
Subtract ``noise**2`` to get the excess risk. ``noise`` is always a standard deviation.
"""

from iclcore.theory.dilution import dilution_mass, log_scaled_tau, random_key_mass, sphere_log_mgf
from iclcore.theory.lora import lora_risk
from iclcore.theory.pgd import pgd_optimal, pgd_risk
from iclcore.theory.rag import iid_isotropic_risk, rag_kappa, rag_risk
from iclcore.theory.wpgd import la_isotropic_hetero, wpgd_isotropic

__all__ = [
    "dilution_mass", "iid_isotropic_risk", "la_isotropic_hetero", "log_scaled_tau", "lora_risk", "pgd_optimal",
    "pgd_risk", "rag_kappa", "rag_risk", "random_key_mass", "sphere_log_mgf", "wpgd_isotropic",
]
