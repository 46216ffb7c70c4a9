"""Chapter 9's Monte Carlo driver: per-draw risks on common random numbers, equal to a direct computation."""

import numpy as np
import pytest

from iclcore.experiments.ch09_distillation import simulate_risks
from iclcore.tasks import GaussianFeatures, excess_risk, make_generator, power_law_signal, power_law_spectrum
from iclcore.theory import min_norm_interpolator


def test_equals_a_direct_computation_and_nests_the_designs():
    lam, beta = power_law_spectrum(30, 1.5), power_law_signal(30, 1.5, 2.0)
    half = beta / 2
    surrogates = {("strong", 12): beta, ("half", 12): half, ("strong", 5): beta}
    res = simulate_risks(lam, beta, surrogates, trials=3, seed=4, noise=0.2, block=3)
    assert res.members == tuple(surrogates) and res.metric("risk")[("strong", 12)].shape == (3,)
    X, Y = GaussianFeatures(lam, 12, surrogates, 0.2)(3, make_generator(4))
    for e, (name, n) in enumerate(surrogates):
        direct = excess_risk(min_norm_interpolator(X[:, :n], Y[e, :, :n]), beta, lam).numpy()
        np.testing.assert_allclose(res.metric("risk")[(name, n)], direct, rtol=1e-10)


def test_common_random_numbers_across_members():
    """A member's draws do not depend on which other members are simulated beside it (same n_max, d)."""
    lam, beta = power_law_spectrum(40, 2.0), power_law_signal(40, 2.0, 1.5)
    alone = simulate_risks(lam, beta, {("strong", 20): beta}, trials=8, seed=9).metric("risk")[("strong", 20)]
    crowd = simulate_risks(lam, beta, {("strong", 20): beta, ("zero", 20): 0 * beta}, trials=8,
                           seed=9).metric("risk")
    np.testing.assert_allclose(crowd[("strong", 20)], alone, rtol=1e-12)
    assert crowd[("zero", 20)] == pytest.approx(np.full(8, np.sum(lam * beta**2)))   # beta_s = 0 -> beta_hat = 0
