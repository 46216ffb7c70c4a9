"""Attention dilution in closed form (Zhang et al., NeurIPS 2024; {eq}`eq-ch5-dilution` to {eq}`eq-ch5-random`).

One target key has logit gap ``delta`` over ``n - 1`` distractor keys; the softmax runs at inverse
temperature ``inv_temp`` (the logits are multiplied by inv_temp). The attention mass on the target is

    a_target(n) = 1 / (1 + (n - 1) exp(-inv_temp * delta)).                           ({eq}`eq-ch5-dilution`)

With a fixed inv_temp, a_target -> 0 as n grows (dilution). Log-length scaling ``inv_temp = 1 + c log n`` gives
(n - 1) exp(-inv_temp delta) = (n - 1) n^(-c delta) e^(-delta): the mass stays bounded away from 0 when
c * delta >= 1 and tends to 1 when c * delta > 1 ({eq}`eq-ch5-logscale`).

Random distractors ({eq}`eq-ch5-random`). If the query's untempered logit on a key x is ``w^T x`` and the distractor
keys are uniform on the unit sphere of R^d, each distractor contributes on average
``E exp(inv_temp w^T x) = M_d(inv_temp ||w||)`` with the spherical moment generating function

    M_d(kappa) = Gamma(d/2) (2 / kappa)^(d/2 - 1) I_{d/2 - 1}(kappa)        (the von Mises-Fisher normaliser),

so the dilution formula holds with the **effective gap** ``delta_eff = s_target - log M_d(inv_temp ||w||) / inv_temp``.
Replacing the distractor sum by its mean is exact as n grows (the sum concentrates) and a mild approximation at small n.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln, ive


def dilution_mass(n, delta, inv_temp=1.0) -> np.ndarray:
    """Attention mass on the target key among ``n`` keys with ``n - 1`` equal distractors ({eq}`eq-ch5-dilution`).

    Parameters
    ----------
    n : number of keys the query sees (>= 1), scalar or array.
    delta : logit gap of the target over the mean distractor logit (before the temperature), any real.
    inv_temp : inverse temperature (> 0) multiplying all logits; may be an array (e.g. ``1 + c * np.log(n)``).

    Returns ``1 / (1 + (n - 1) exp(-inv_temp delta))`` broadcast over the inputs (float64).
    """
    n = np.asarray(n, dtype=np.float64)
    delta = np.asarray(delta, dtype=np.float64)
    inv_temp = np.asarray(inv_temp, dtype=np.float64)
    if not np.all(np.isfinite(n)) or np.any(n < 1):
        raise ValueError(f"n must be >= 1 (number of keys), got {n}")
    if not np.all(np.isfinite(delta)):
        raise ValueError(f"delta must be finite, got {delta}")
    if not np.all(np.isfinite(inv_temp)) or np.any(inv_temp <= 0):
        raise ValueError(f"inv_temp must be a finite number > 0, got {inv_temp}")
    # 1 / (1 + (n-1) e^{-inv_temp delta}) written as a logistic function for numerical stability at large gaps
    with np.errstate(divide="ignore"):
        log_distractors = np.log(n - 1)           # -inf when n == 1: all mass on the target
    return 1.0 / (1.0 + np.exp(np.clip(log_distractors - inv_temp * delta, -700, 700)))


def log_scaled_inv_temp(n, slope: float, base: float = 1.0) -> np.ndarray:
    """Log-length scaling of the inverse temperature, ``inv_temp(n) = base * (1 + slope * log n)``
    ({eq}`eq-ch5-logscale`)."""
    if not np.isfinite(slope) or slope < 0:
        raise ValueError(f"slope must be a finite number >= 0, got {slope!r}")
    if not np.isfinite(base) or base <= 0:
        raise ValueError(f"base must be a finite number > 0, got {base!r}")
    n = np.asarray(n, dtype=np.float64)
    if np.any(n < 1):
        raise ValueError(f"n must be >= 1, got {n}")
    return base * (1 + slope * np.log(n))


def sphere_log_mgf(kappa, d: int) -> np.ndarray:
    """``log E exp(kappa u^T x)`` for x uniform on the unit sphere of R^d and a unit vector u ({eq}`eq-ch5-random`).

    Equals ``log[Gamma(d/2) (2/kappa)^(d/2-1) I_{d/2-1}(kappa)]`` (computed with the scaled Bessel function
    ``ive`` so that large kappa does not overflow); 0 at kappa = 0.
    """
    if isinstance(d, bool) or not isinstance(d, int | np.integer) or d < 2:
        raise ValueError(f"d must be an integer >= 2, got {d!r}")
    kappa = np.asarray(kappa, dtype=np.float64)
    if not np.all(np.isfinite(kappa)) or np.any(kappa < 0):
        raise ValueError("kappa must be finite and >= 0")
    nu = d / 2 - 1
    k = np.maximum(kappa, 1e-12)
    out = gammaln(d / 2) + nu * np.log(2 / k) + np.log(ive(nu, k)) + k
    return np.where(kappa < 1e-12, 0.0, out)


def random_key_mass(n, target_logit, kappa, d: int, inv_temp=1.0) -> np.ndarray:
    """Attention mass on the target among ``n`` keys whose ``n - 1`` distractors are uniform on the sphere.

    ``target_logit`` is the query's untempered logit on the target, ``kappa = ||w||`` the norm of the query's
    logit vector (logit on key x = w^T x), ``inv_temp`` the inverse temperature. {eq}`eq-ch5-random`:
    ``dilution_mass(n, target_logit - sphere_log_mgf(inv_temp * kappa, d) / inv_temp, inv_temp)``.
    """
    inv_temp = np.asarray(inv_temp, dtype=np.float64)
    if not np.all(np.isfinite(inv_temp)) or np.any(inv_temp <= 0):
        raise ValueError(f"inv_temp must be a finite number > 0, got {inv_temp}")
    kappa = np.asarray(kappa, dtype=np.float64)
    delta_eff = np.asarray(target_logit, dtype=np.float64) - sphere_log_mgf(inv_temp * kappa, d) / inv_temp
    return dilution_mass(n, delta_eff, inv_temp)
