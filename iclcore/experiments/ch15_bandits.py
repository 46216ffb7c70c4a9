"""Chapter 15 (long-horizon bandits): explore-then-commit with four reward models, on common random numbers.

:func:`run_etc` plays, for every pair ``(T, n)`` of ``runs``, an explore-then-commit policy: uniform arms for
``n`` rounds, an estimate of ``beta`` from those ``n`` rewards, then the greedy arm ``argmax_a x_{t,a}^T beta_hat``
until round ``T``. The policies differ only in how they estimate ``beta``:

* ``"sparse"`` -- :func:`iclcore.theory.bandits.sparse_recovery` on the lagged design of width ``min(h, n)``;
* ``"full OLS"`` -- :func:`iclcore.theory.bandits.min_norm_recovery` on the same design;
* ``"oracle lags"`` -- least squares on the true lags (:func:`iclcore.theory.bandits.support_recovery`);
* ``"myopic"`` -- least squares of ``r_t`` on the arm just played, ``phi_t`` (a learner that assumes immediate
  rewards; with no active lag 0 it sees only noise).

Every policy of a run sees the same contexts, exploration arms and reward noise (one
:func:`iclcore.tasks.bandits.sample_streams` draw), and the runs for different ``T`` share the stream's first
rounds, so differences between policies and between horizons are measured on common random numbers. A trajectory
has no rounds before round 0, so lags ``>= n`` never appear in ``n`` rounds: the learner's design has
``min(h, n)`` lags.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from iclcore import validate
from iclcore.evaluate import Results
from iclcore.tasks.bandits import (
    BanditStreams,
    DelayedBandit,
    credit,
    delayed_rewards,
    direction_error,
    greedy_arms,
    lagged_design,
    lags_recovered,
    played,
    pseudo_regret,
    sample_streams,
)
from iclcore.tasks.base import make_generator
from iclcore.theory.bandits import (
    direction_error_theory,
    greedy_regret_rate,
    least_squares,
    min_norm_recovery,
    sparse_recovery,
    support_recovery,
)

POLICIES = ("sparse", "full OLS", "oracle lags", "myopic")
METRICS = ("regret", "explore", "commit", "commit_theory", "direction_error", "theory_error", "lags_found",
           "theta_error")


def _streams(bandit: DelayedBandit, T: int, seed: int | None, streams: BanditStreams | None) -> BanditStreams:
    if streams is None:
        if seed is None:
            raise ValueError("seed: give a seed or streams")
        return sample_streams(bandit, T, generator=make_generator(seed))
    if streams.T < T or streams.contexts.shape[0] != bandit.reps or streams.contexts.shape[2:] != (bandit.n_arms,
                                                                                                   bandit.d):
        raise ValueError(f"streams must hold {bandit.reps} runs of at least {T} rounds with {bandit.n_arms} arms "
                         f"in d={bandit.d}, got shape {streams.contexts.shape}")
    return streams


def exploration_data(bandit: DelayedBandit, n: int, *, seed: int | None = None,
                     streams: BanditStreams | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The first ``n`` rounds of uniform exploration: played features ``phi`` (R, n, d) and rewards ``y`` (R, n)
    of {eq}`eq-ch15-reward`, from ``streams`` or from a fresh draw seeded with ``seed``."""
    n = validate.positive_int("n", n)
    streams = _streams(bandit, n, seed, streams)
    phi = played(streams.contexts[:, :n], streams.explore_arms[:, :n]).astype(np.float64)
    return phi, delayed_rewards(bandit, phi, streams.eps[:, :n])


def _estimate(policy: str, X: np.ndarray, y: np.ndarray, phi: np.ndarray, bandit: DelayedBandit, r: int,
              penalty: float, fix_sign: bool):
    """(beta_hat, lags_hat or None, first-stage theta or None) of one policy on one trajectory."""
    d = bandit.d
    if policy == "myopic":
        return least_squares(phi, y), None, None
    if policy == "oracle lags":
        true = bandit.lags[r]
        fit = support_recovery(lagged_design(phi, int(true.max()) + 1), y, true, d, fix_sign)
        return fit.beta, fit.lags, None
    if policy == "sparse":
        fit = sparse_recovery(X, y, d, min(bandit.s, X.shape[1] // d), bandit.noise, penalty, fix_sign)
        return fit.beta, fit.lags, fit.theta
    fit = min_norm_recovery(X, y, d, fix_sign)                   # "full OLS"
    return fit.beta, None, fit.theta


def run_etc(bandit: DelayedBandit, runs: Mapping[int, int], *, seed: int | None = None,
            streams: BanditStreams | None = None, policies: Sequence[str] = POLICIES, penalty: float = 0.5,
            fix_sign: bool = True, learner_horizon: int | None = None, progress: bool = True,
            desc: str = "explore-then-commit") -> Results:
    """Explore-then-commit for every ``T -> n`` of ``runs`` and every policy, on common random numbers.

    Parameters
    ----------
    bandit : ``R`` instances (:func:`iclcore.tasks.bandits.sample_bandits`); every active lag must be ``< n``.
    runs : ``{T: n}``: total rounds ``T`` and exploration rounds ``n`` (``1 <= n <= T``; ``n = T`` measures the
        estimate alone).
    seed : seeds the streams (pass ``profile.seed(k)``), or give ``streams`` directly (shared across calls).
    policies : names from :data:`POLICIES`.
    penalty : the Lasso factor ``c`` of {eq}`eq-ch15-lasso` (0: no sparsity).
    fix_sign : fix the sign of rank-1 factors by ``sum(w_hat) >= 0`` (False: keep the SVD's arbitrary sign).
    learner_horizon : the horizon the learner assumes for the sparse and full-OLS models (default ``bandit.h``;
        1 is a learner that believes rewards are immediate).

    Returns :class:`iclcore.evaluate.Results` with members ``(policy, T)`` and, per member, arrays of shape (R,):
    ``regret`` (= ``explore + commit``), ``explore``, ``commit``, ``commit_theory`` (the commit regret that
    {eq}`eq-ch15-greedy` predicts from the estimate's own ``1 - cos``), ``direction_error`` (``1 - cos``),
    ``theory_error`` ({eq}`eq-ch15-angle`; NaN where least squares is under-determined or not defined),
    ``lags_found`` (1.0 when the selected lags are the true ones), ``theta_error`` (relative Frobenius error of the
    first-stage estimate of Theta; NaN for policies without one).
    """
    if not runs:
        raise ValueError("runs must hold at least one (T, n) pair")
    for T, n in runs.items():
        validate.positive_int("T", T)
        validate.int_in_range("n", n, 1, T)
    policies = tuple(policies)
    if not policies or any(p not in POLICIES for p in policies):
        raise ValueError(f"policies must be names from {POLICIES}, got {policies!r}")
    h = bandit.h if learner_horizon is None else validate.positive_int("learner_horizon", learner_horizon)
    if min(runs.values()) <= bandit.lags.max():
        raise ValueError(f"runs: every n must exceed the largest active lag {bandit.lags.max()}, got "
                         f"{min(runs.values())}")
    streams = _streams(bandit, max(runs), seed, streams)
    phi_all, y_all = exploration_data(bandit, max(runs.values()), streams=streams)
    members = [(p, T) for T in runs for p in policies]
    out = {m: {k: np.full(bandit.reps, np.nan) for k in METRICS} for m in members}
    with threadpool_limits(1), tqdm(total=bandit.reps * len(runs), desc=desc, disable=not progress,
                                    mininterval=0.5) as bar:    # small solves: one BLAS thread is faster
        for T, n in runs.items():
            credits = credit(bandit.lags, bandit.w, T)                                          # (R, T)
            explore = pseudo_regret(bandit.beta, streams.contexts[:, :n], streams.explore_arms[:, :n],
                                    credits[:, :n]).sum(axis=1)
            for r in range(bandit.reps):
                _one_run(out, bandit, r, T, n, h, phi_all[r, :n], y_all[r, :n], streams, credits[r], explore[r],
                         policies, penalty, fix_sign)
                bar.update()
    for m in members:
        out[m]["regret"] = out[m]["explore"] + out[m]["commit"]
    return Results(tuple(members), {k: np.stack([out[m][k] for m in members]) for k in METRICS})


def _one_run(out, bandit, r, T, n, h, phi, y, streams, credits, explore, policies, penalty, fix_sign) -> None:
    """Every policy on run ``r`` of horizon ``T``: fills ``out[(policy, T)][metric][r]``."""
    d, width = bandit.d, min(h, n)
    X = lagged_design(phi, width)
    theta_true = bandit.theta(width)[r]
    contexts = streams.contexts[r:r + 1, n:T]
    for policy in policies:
        beta_hat, lags_hat, theta_hat = _estimate(policy, X, y, phi, bandit, r, penalty, fix_sign)
        m = out[(policy, T)]
        m["explore"][r] = explore
        arms = greedy_arms(contexts, beta_hat[None])
        m["commit"][r] = pseudo_regret(bandit.beta[r:r + 1], contexts, arms, credits[None, n:]).sum()
        err = float(direction_error(beta_hat, bandit.beta[r]))
        m["direction_error"][r] = err
        m["commit_theory"][r] = greedy_regret_rate(err, bandit.n_arms) * credits[n:].sum()
        m["lags_found"][r] = float(lags_hat is not None and lags_hat.size == bandit.s
                                   and bool(lags_recovered(lags_hat, bandit.lags[r])))
        if theta_hat is not None and np.any(theta_true):
            m["theta_error"][r] = np.linalg.norm(theta_hat - theta_true) / np.linalg.norm(theta_true)
        p = {"sparse": bandit.s * d, "oracle lags": bandit.s * d, "full OLS": width * d}.get(policy)
        if p is not None and n - bandit.lags[r].max() - p - 1 > 0:
            m["theory_error"][r] = direction_error_theory(n, bandit.lags[r], bandit.w[r], p=p, d=d,
                                                          noise=bandit.noise)
