"""Chapter 15's explore-then-commit driver: bookkeeping, common random numbers, and a direct recomputation."""

import numpy as np

from iclcore.experiments.ch15_bandits import exploration_data, run_etc
from iclcore.tasks import make_generator
from iclcore.tasks.bandits import (
    credit,
    direction_error,
    greedy_arms,
    lagged_design,
    pseudo_regret,
    sample_bandits,
    sample_streams,
)
from iclcore.theory.bandits import sparse_recovery


def _setup(reps=3):
    b = sample_bandits(reps, 3, h=24, s=2, noise=0.5, max_lag=10, generator=make_generator(1))
    return b, sample_streams(b, 600, generator=make_generator(2))


def test_regret_adds_up_and_equals_a_direct_computation():
    b, streams = _setup()
    res = run_etc(b, {600: 80, 300: 60}, streams=streams, progress=False)
    assert set(res.members) == {(p, T) for p in ("sparse", "full OLS", "oracle lags", "myopic") for T in (600, 300)}
    for m in res.members:
        np.testing.assert_allclose(res[m]["regret"], res[m]["explore"] + res[m]["commit"])
    phi, y = exploration_data(b, 80, streams=streams)
    for r in range(b.reps):
        fit = sparse_recovery(lagged_design(phi[r], 24), y[r], 3, 2, 0.5, 0.5)
        ctx = streams.contexts[r:r + 1]
        arms = np.concatenate([streams.explore_arms[r:r + 1, :80], greedy_arms(ctx[:, 80:], fit.beta[None])], 1)
        direct = pseudo_regret(b.beta[r:r + 1], ctx, arms, credit(b.lags[r:r + 1], b.w[r:r + 1], 600)).sum()
        assert np.isclose(res[("sparse", 600)]["regret"][r], direct, rtol=1e-6)
        assert np.isclose(res[("sparse", 600)]["direction_error"][r], direction_error(fit.beta, b.beta[r]))
    assert np.all(res[("oracle lags", 600)]["lags_found"] == 1)
    assert np.all(res[("myopic", 600)]["lags_found"] == 0) and np.all(np.isnan(res[("myopic", 600)]["theta_error"]))


def test_common_random_numbers_across_policies_and_seeds():
    b, streams = _setup()
    alone = run_etc(b, {600: 80}, streams=streams, policies=("sparse",), progress=False)
    crowd = run_etc(b, {600: 80}, streams=streams, progress=False)
    np.testing.assert_array_equal(alone[("sparse", 600)]["regret"], crowd[("sparse", 600)]["regret"])
    np.testing.assert_array_equal(crowd[("sparse", 600)]["explore"], crowd[("myopic", 600)]["explore"])
    seeded = run_etc(b, {600: 80}, seed=2, policies=("sparse",), progress=False)
    np.testing.assert_array_equal(seeded[("sparse", 600)]["regret"], alone[("sparse", 600)]["regret"])


def test_a_myopic_learner_horizon_sees_nothing():
    b, streams = _setup(reps=2)
    res = run_etc(b, {600: 80}, streams=streams, learner_horizon=1, policies=("sparse",), progress=False)
    assert np.all(res[("sparse", 600)]["lags_found"] == 0)
