"""Contextual bandits whose rewards arrive over a long horizon (the data model of Chapter 15).

At round ``t`` every arm ``a = 1..K`` shows a context ``x_{t,a} ~ N(0, I_d)``; the learner plays ``a_t`` and
``phi_t = x_{t,a_t}`` is the feature it played. The reward observed at round ``t`` is the weighted sum of the
features played at ``s`` earlier rounds, the **active lags** ``S``, all within the **horizon** ``h``
({eq}`eq-ch15-reward`)::

    r_t = sum_{j in S} w_j phi_{t-j}^T beta + sigma eps_t,       S subset of {0, ..., h-1}, |S| = s,

with ``eps_t ~ N(0, 1)`` and nothing played before round 0. Stacking the last ``h`` features into one row,
``r_t = <[phi_t; phi_{t-1}; ...; phi_{t-h+1}], vec(Theta)> + sigma eps_t`` with ``Theta = w beta^T`` (h, d): a
rank-1 matrix with ``s`` non-zero rows. :func:`lagged_design` builds those rows (a Toeplitz matrix: each row is
the previous one shifted by one block).

An action's worth is spread over the rewards that follow it: the action at round ``t`` adds
``w_j x_{t,a}^T beta`` to ``r_{t+j}`` for every active lag with ``t + j < T``. Its **credit** ``c_t`` is the sum of
those ``w_j`` (:func:`credit`, {eq}`eq-ch15-credit`), and the regret of a sequence of arms over ``T`` rounds is
``sum_t c_t (max_a x_{t,a}^T beta - x_{t,a_t}^T beta)`` (:func:`pseudo_regret`): the expected shortfall of the
total reward against the policy that plays ``argmax_a x_{t,a}^T beta`` every round (the best policy when every
``w_j >= 0``).

Instances are batched: a :class:`DelayedBandit` holds ``R`` independent instances (leading axis), so one call
simulates ``R`` repetitions, each with its own lags, weights and parameter. The random streams of a run
(contexts, exploration arms, reward noise) are drawn once by :func:`sample_streams` and shared by every policy
(common random numbers).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from numpy.lib.stride_tricks import sliding_window_view

from iclcore import validate


@dataclass(frozen=True)
class DelayedBandit:
    """``R`` instances of the delayed-reward bandit of {eq}`eq-ch15-reward`.

    Attributes
    ----------
    lags : (R, s) int, sorted distinct active lags in ``[0, h)``.
    w : (R, s) lag weights (the dependence pattern on its support).
    beta : (R, d) unit-norm reward parameters.
    h : the horizon: the learner knows only that every active lag is ``< h``.
    n_arms : number of arms K >= 2.
    noise : reward-noise standard deviation sigma >= 0.
    """

    lags: np.ndarray
    w: np.ndarray
    beta: np.ndarray
    h: int
    n_arms: int
    noise: float

    def __post_init__(self):
        validate.positive_int("h", self.h)
        validate.int_in_range("n_arms", self.n_arms, 2, 10**6)
        validate.nonnegative("noise", self.noise)
        lags, w, beta = np.asarray(self.lags), np.asarray(self.w, np.float64), np.asarray(self.beta, np.float64)
        if lags.ndim != 2 or w.shape != lags.shape or beta.ndim != 2 or beta.shape[0] != lags.shape[0]:
            raise ValueError(f"lags, w must have shape (R, s) and beta (R, d); got {lags.shape}, {w.shape}, "
                             f"{beta.shape}")
        if lags.size and (lags.min() < 0 or lags.max() >= self.h):
            raise ValueError(f"lags must lie in [0, h) = [0, {self.h}), got range [{lags.min()}, {lags.max()}]")
        if np.any(np.diff(lags, axis=1) <= 0):
            raise ValueError("lags must be sorted and distinct within each instance")

    @property
    def reps(self) -> int:
        return self.lags.shape[0]

    @property
    def s(self) -> int:
        return self.lags.shape[1]

    @property
    def d(self) -> int:
        return self.beta.shape[1]

    def with_horizon(self, h: int) -> DelayedBandit:
        """The same instances seen by a learner whose horizon is ``h`` (every active lag must stay below it)."""
        h = validate.positive_int("h", h)
        if self.lags.max() >= h:
            raise ValueError(f"h must exceed the largest active lag {self.lags.max()}, got {h}")
        return DelayedBandit(self.lags, self.w, self.beta, h, self.n_arms, self.noise)

    def pattern(self, h: int | None = None) -> np.ndarray:
        """The dependence pattern ``w`` in ``R^h`` (zero off the active lags), shape (R, h)."""
        h = self.h if h is None else validate.positive_int("h", h)
        out = np.zeros((self.reps, max(h, int(self.lags.max()) + 1)))
        np.put_along_axis(out, self.lags, self.w, axis=1)
        return out[:, :h]

    def theta(self, h: int | None = None) -> np.ndarray:
        """The rank-1, row-sparse matrix ``Theta = w beta^T`` of {eq}`eq-ch15-design`, shape (R, h, d)."""
        return self.pattern(h)[:, :, None] * self.beta[:, None, :]


def sample_bandits(reps: int, d: int, *, h: int, s: int, n_arms: int = 2, noise: float = 1.0,
                   max_lag: int | None = None, first_lag: int = 1, weights: tuple[float, float] = (0.5, 1.5),
                   generator: torch.Generator) -> DelayedBandit:
    """Draw ``reps`` instances: ``s`` distinct lags uniform in ``[first_lag, max_lag)``, weights uniform in
    ``weights``, and ``beta`` uniform on the unit sphere of ``R^d``.

    ``max_lag`` (default ``h``) caps the true lags below the horizon, so that one instance can be shown to
    learners with different horizons ``h >= max_lag`` (:meth:`DelayedBandit.with_horizon`). ``first_lag = 1``
    (default) means no action pays off in its own round: a learner that assumes immediate rewards sees none.
    """
    reps = validate.positive_int("reps", reps)
    d = validate.positive_int("d", d)
    h = validate.positive_int("h", h)
    max_lag = h if max_lag is None else validate.int_in_range("max_lag", max_lag, 1, h)
    first_lag = validate.int_in_range("first_lag", first_lag, 0, max_lag - 1)
    s = validate.int_in_range("s", s, 1, max_lag - first_lag)
    low, high = weights
    if not (np.isfinite(low) and np.isfinite(high) and 0 <= low <= high):
        raise ValueError(f"weights must be a range (low, high) with 0 <= low <= high, got {weights!r}")
    scores = torch.rand(reps, max_lag - first_lag, generator=generator, dtype=torch.float64)
    lags = np.sort(torch.argsort(scores, dim=1)[:, :s].numpy(), axis=1) + first_lag
    w = low + (high - low) * torch.rand(reps, s, generator=generator, dtype=torch.float64).numpy()
    beta = torch.randn(reps, d, generator=generator, dtype=torch.float64).numpy()
    beta /= np.linalg.norm(beta, axis=1, keepdims=True)
    return DelayedBandit(lags, w, beta, h, validate.int_in_range("n_arms", n_arms, 2, 10**6),
                         validate.nonnegative("noise", noise))


@dataclass(frozen=True)
class BanditStreams:
    """The random numbers of ``R`` runs of ``T`` rounds, shared by every policy (common random numbers).

    contexts : (R, T, K, d) float32, ``x_{t,a} ~ N(0, I_d)``.
    explore_arms : (R, T) int64, uniform arms (what an exploring policy plays at round t).
    eps : (R, T) float64 standard normal reward noise (scaled by the bandit's ``noise``).
    """

    contexts: np.ndarray
    explore_arms: np.ndarray
    eps: np.ndarray

    @property
    def T(self) -> int:
        return self.contexts.shape[1]


def sample_streams(bandit: DelayedBandit, T: int, *, generator: torch.Generator) -> BanditStreams:
    """Draw the contexts, exploration arms and noise of ``bandit.reps`` runs of ``T`` rounds (in that order)."""
    T = validate.positive_int("T", T)
    R, K, d = bandit.reps, bandit.n_arms, bandit.d
    contexts = torch.randn(R, T, K, d, generator=generator).numpy()
    arms = torch.randint(0, K, (R, T), generator=generator).numpy()
    eps = torch.randn(R, T, generator=generator, dtype=torch.float64).numpy()
    return BanditStreams(contexts, arms, eps)


def played(contexts: np.ndarray, arms: np.ndarray) -> np.ndarray:
    """``phi_t = x_{t,a_t}``: contexts (..., T, K, d) and arms (..., T) -> played features (..., T, d)."""
    arms = np.asarray(arms)
    if arms.shape != contexts.shape[:-2]:
        raise ValueError(f"arms must have shape {contexts.shape[:-2]} (one arm per round), got {arms.shape}")
    return np.take_along_axis(contexts, arms[..., None, None], axis=-2)[..., 0, :]


def lagged_design(phi: np.ndarray, h: int) -> np.ndarray:
    """The regression design of {eq}`eq-ch15-design`: row ``t`` is ``[phi_t, phi_{t-1}, ..., phi_{t-h+1}]``.

    ``phi`` (..., n, d) -> (..., n, h*d), float64; columns ``j*d:(j+1)*d`` hold lag ``j``. Features before
    round 0 are zero (nothing was played). Each row is the previous one shifted right by one block: the design
    is a block-Toeplitz matrix built from a single trajectory, the object whose restricted isometry the paper
    studies.
    """
    h = validate.positive_int("h", h)
    phi = np.asarray(phi, dtype=np.float64)
    if phi.ndim < 2:
        raise ValueError(f"phi must have shape (..., n, d), got {phi.shape}")
    n, d = phi.shape[-2:]
    padded = np.concatenate([np.zeros(phi.shape[:-2] + (h - 1, d)), phi], axis=-2)
    windows = sliding_window_view(padded, h, axis=-2)            # (..., n, d, h): rounds t-h+1 .. t
    rows = np.flip(windows, axis=-1).swapaxes(-1, -2)             # (..., n, h, d): lag 0 first
    return rows.reshape(phi.shape[:-2] + (n, h * d))


def delayed_rewards(bandit: DelayedBandit, phi: np.ndarray, eps: np.ndarray) -> np.ndarray:
    """Rewards of {eq}`eq-ch15-reward` for played features ``phi`` (R, n, d) and noise ``eps`` (R, n) -> (R, n).

    Equal to ``lagged_design(phi, h) @ vec(Theta) + noise * eps`` but computed lag by lag (``s`` shifts of the
    scores ``phi_t^T beta``), without building the design.
    """
    phi = np.asarray(phi, dtype=np.float64)
    R, n = phi.shape[:2]
    if phi.shape != (bandit.reps, n, bandit.d) or np.shape(eps) != (R, n):
        raise ValueError(f"phi must have shape (R, n, d) = ({bandit.reps}, n, {bandit.d}) and eps (R, n); got "
                         f"{phi.shape} and {np.shape(eps)}")
    score = np.einsum("rtd,rd->rt", phi, bandit.beta)
    t = np.arange(n)
    r = bandit.noise * np.asarray(eps, dtype=np.float64)
    for k in range(bandit.s):
        source = t[None, :] - bandit.lags[:, k:k + 1]                                  # (R, n)
        r = r + bandit.w[:, k:k + 1] * np.where(source >= 0, np.take_along_axis(score, np.maximum(source, 0), 1), 0)
    return r


def credit(lags, w, T: int) -> np.ndarray:
    """The credit of each round, {eq}`eq-ch15-credit`: ``c_t = sum_{j in S, t + j < T} w_j`` for ``t = 0..T-1``.

    ``lags`` and ``w`` have shape (..., s) (one instance, or a batch such as ``bandit.lags, bandit.w``); the
    result has shape (..., T). An action at round ``t`` is paid through the rewards ``r_{t+j}``; those after the
    last round ``T - 1`` are never collected, so the last rounds carry less credit (an end effect).
    """
    T = validate.positive_int("T", T)
    lags, w = np.asarray(lags), np.asarray(w, np.float64)
    if lags.shape != w.shape or lags.ndim < 1:
        raise ValueError(f"lags and w must have the same shape (..., s), got {lags.shape} and {w.shape}")
    t = np.arange(T)
    inside = t[:, None] + lags[..., None, :] < T                                      # (..., T, s)
    return np.sum(inside * w[..., None, :], axis=-1)


def pseudo_regret(beta, contexts: np.ndarray, arms: np.ndarray, credits: np.ndarray) -> np.ndarray:
    """Per-round regret ``c_t (max_a x_{t,a}^T beta - x_{t,a_t}^T beta)``: beta (R, d), contexts (R, T, K, d),
    arms (R, T), credits (R, T) -> (R, T). Its sum over rounds is the regret of {eq}`eq-ch15-regret`."""
    beta, contexts = np.asarray(beta, np.float64), np.asarray(contexts)
    if contexts.ndim != 4 or beta.shape != (contexts.shape[0], contexts.shape[-1]):
        raise ValueError(f"contexts must have shape (R, T, K, d) and beta (R, d), got {contexts.shape} and "
                         f"{beta.shape}")
    if np.shape(credits) != contexts.shape[:2] or np.shape(arms) != contexts.shape[:2]:
        raise ValueError(f"arms and credits must have shape {contexts.shape[:2]}, got {np.shape(arms)} and "
                         f"{np.shape(credits)}")
    score = np.einsum("rtkd,rd->rtk", contexts, beta)
    chosen = np.take_along_axis(score, np.asarray(arms)[..., None], axis=-1)[..., 0]
    return credits * (score.max(axis=-1) - chosen)


def greedy_arms(contexts: np.ndarray, beta_hat: np.ndarray) -> np.ndarray:
    """The greedy policy for an estimate: ``argmax_a x_{t,a}^T beta_hat``; contexts (R, T, K, d), beta_hat
    (R, d) -> arms (R, T)."""
    beta_hat = np.asarray(beta_hat)
    if beta_hat.shape != (contexts.shape[0], contexts.shape[-1]):
        raise ValueError(f"beta_hat must have shape (R, d) = {(contexts.shape[0], contexts.shape[-1])}, got "
                         f"{beta_hat.shape}")
    return np.einsum("rtkd,rd->rtk", contexts, beta_hat.astype(contexts.dtype)).argmax(axis=-1)


def direction_error(beta_hat: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """``1 - cos(beta_hat, beta)`` along the last axis (0 for the right direction, 2 for the opposite one).
    A zero estimate counts as orthogonal (error 1)."""
    beta_hat, beta = np.asarray(beta_hat, np.float64), np.asarray(beta, np.float64)
    if beta_hat.shape != beta.shape:
        raise ValueError(f"beta_hat must have the shape of beta {beta.shape}, got {beta_hat.shape}")
    norms = np.linalg.norm(beta_hat, axis=-1) * np.linalg.norm(beta, axis=-1)
    cos = np.divide(np.sum(beta_hat * beta, axis=-1), norms, out=np.zeros(norms.shape), where=norms > 0)
    return 1.0 - cos


def lags_recovered(lags_hat: np.ndarray, lags: np.ndarray) -> np.ndarray:
    """Whether each estimated lag set equals the true one: (R, s) and (R, s) -> (R,) bool (order ignored)."""
    lags_hat, lags = np.sort(np.asarray(lags_hat), axis=-1), np.sort(np.asarray(lags), axis=-1)
    if lags_hat.shape != lags.shape:
        raise ValueError(f"lags_hat must have shape {lags.shape}, got {lags_hat.shape}")
    return np.all(lags_hat == lags, axis=-1)
