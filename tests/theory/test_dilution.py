import numpy as np
import pytest

from iclcore import theory


def test_known_values():
    assert theory.dilution_mass(1, 0.3) == pytest.approx(1.0)
    assert theory.dilution_mass(2, 0.0) == pytest.approx(0.5)
    assert theory.dilution_mass(11, np.log(10), 1.0) == pytest.approx(0.5)
    # inv_temp multiplies the gap
    assert theory.dilution_mass(50, 1.0, 3.0) == pytest.approx(theory.dilution_mass(50, 3.0, 1.0))


def test_softmax_definition():
    """The dilution formula (eq-ch5-dilution) is the softmax weight of a key with logit inv_temp*delta among n-1 keys
    with logit 0."""
    n, delta, inv_temp = 37, 1.7, 2.2
    logits = np.r_[inv_temp * delta, np.zeros(n - 1)]
    p = np.exp(logits - logits.max())
    assert theory.dilution_mass(n, delta, inv_temp) == pytest.approx(p[0] / p.sum(), rel=1e-12)


def test_dilution_and_log_scaling_limits():
    """Fixed inv_temp dilutes to 0; log scaling with c * delta > 1 keeps the mass rising to 1 (eq-ch5-logscale)."""
    n = np.array([10, 1e3, 1e6, 1e9])
    fixed = theory.dilution_mass(n, 2.0, 1.0)
    assert np.all(np.diff(fixed) < 0) and fixed[-1] < 1e-6            # fixed inv_temp: mass -> 0
    slope = 1.0                                                        # c * delta = 2 > 1: mass -> 1
    scaled = theory.dilution_mass(n, 2.0, theory.log_scaled_inv_temp(n, slope))
    assert np.all(np.diff(scaled) > 0) and scaled[-1] > 0.999
    critical = theory.dilution_mass(n, 2.0, theory.log_scaled_inv_temp(n, 0.5))   # c * delta = 1: bounded
    limit = 1 / (1 + np.exp(-2.0))
    assert critical[-1] == pytest.approx(limit, rel=1e-6)


def test_sphere_log_mgf_against_monte_carlo():
    rng = np.random.default_rng(0)
    for d in (2, 3, 16):
        x = rng.standard_normal((400_000, d))
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        for kappa in (0.5, 3.0, 8.0):
            mc = np.log(np.mean(np.exp(kappa * x[:, 0])))
            assert theory.sphere_log_mgf(kappa, d) == pytest.approx(mc, abs=0.02), (d, kappa)
    assert theory.sphere_log_mgf(0.0, 5) == 0.0
    # d = 3 has the elementary form sinh(k)/k
    assert theory.sphere_log_mgf(2.0, 3) == pytest.approx(np.log(np.sinh(2.0) / 2.0))


def test_random_key_mass_against_monte_carlo():
    """eq-ch5-random: softmax over a target and n-1 random unit keys, averaged over draws, vs the closed form."""
    rng = np.random.default_rng(1)
    d, n, inv_temp, trials = 8, 200, 1.5, 3000
    w = 3.0 * np.eye(d)[0]                                     # query logit vector, kappa = 3
    target_logit = 2.5
    x = rng.standard_normal((trials, n - 1, d))
    x /= np.linalg.norm(x, axis=-1, keepdims=True)
    logits = np.concatenate([np.full((trials, 1), target_logit), x @ w], axis=1) * inv_temp
    p = np.exp(logits - logits.max(1, keepdims=True))
    measured = (p[:, 0] / p.sum(1)).mean()
    assert theory.random_key_mass(n, target_logit, 3.0, d, inv_temp) == pytest.approx(measured, abs=0.01)
