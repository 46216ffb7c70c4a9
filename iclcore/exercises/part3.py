"""Checkers for the coding exercises of Part III: selective attention (file 05) and the convolution-augmented
transformer (file 06).

Selective attention (references :func:`iclcore.theory.dilution_mass` and :func:`iclcore.theory.sphere_log_mgf`):

* :func:`check_dilution_mass` -- ``fn(n, delta, inv_temp) -> a``, the attention on the needle {eq}`eq-ch5-dilution`;
* :func:`check_required_temperature` -- ``fn(n, delta, mass) -> inv_temp``, the inverse temperature that keeps a given
  mass on the needle (the reference inverts ``dilution_mass`` numerically);
* :func:`check_effective_gap` -- ``fn(s_target, kappa, d, inv_temp) -> delta_eff``, the gap against random
  distractors {eq}`eq-ch5-random`.

Convolution-augmented transformer (references :func:`iclcore.models.causal_conv` and the hand-built CAT
``cat_recall_construction`` of the chapter's module):

* :func:`check_causal_conv` -- ``fn(u, taps) -> s``, the causal convolution of {eq}`eq-ch6-cat`;
* :func:`check_construction_attention` -- ``fn(tokens, c) -> A``, the attention map of the hand-built CAT
  {eq}`eq-ch6-construction`.

Each prints a verdict and returns a :class:`iclcore.exercises.base.Verdict`; a failed case whose answer matches
a known mistake (n instead of n - 1, a temperature that divides, a flipped filter, a missing shift) carries a
hint about that mistake.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from scipy.optimize import brentq

from iclcore.exercises.base import Case, Verdict, check_function
from iclcore.experiments.ch06_convolution_augmented_transformer import cat_recall_construction
from iclcore.models import causal_conv
from iclcore.theory import dilution_mass, sphere_log_mgf

# --------------------------------------------------------------------------------------------------------------
# Selective attention (file 05)
# --------------------------------------------------------------------------------------------------------------


def check_dilution_mass(fn: Callable, show: bool = True) -> Verdict:
    """Check ``fn(n, delta, inv_temp)``: the attention on one target key among ``n`` keys whose ``n - 1``
    distractors score ``delta`` less, at inverse temperature ``inv_temp`` ({eq}`eq-ch5-dilution`). ``n`` and
    ``inv_temp`` may be arrays (broadcast)."""
    n_grid = np.array([2, 10, 100, 1000, 10_000])
    cases = [Case("a single key (n=1): nothing to dilute", (1, 2.0, 1.0)),
             Case("two keys, no gap", (2, 0.0, 1.0)),
             Case("100 keys, gap 2", (100, 2.0, 1.0)),
             Case("a sweep over n, fixed ϑ", (n_grid, 2.0, 1.0)),
             Case("a sweep over n, ϑ = 1 + 0.5 log n", (n_grid, 2.0, 1 + 0.5 * np.log(n_grid))),
             Case("a negative gap, ϑ = 2", (10, -1.0, 2.0)),
             Case("a million keys, ϑΔ = 30", (10**6, 3.0, 10.0))]
    wrong = [(lambda n, delta, inv_temp: 1 / (1 + np.asarray(n, dtype=float) * np.exp(-inv_temp * delta)),
              "The target is not one of its own distractors: there are n − 1 of them, so a single key (n = 1) "
              "gets all the attention."),
             (lambda n, delta, inv_temp: dilution_mass(n, delta / np.asarray(inv_temp) ** 2, inv_temp),
              "ϑ is an *inverse* temperature: it multiplies the logits, so the weight of a distractor relative "
              "to the target is exp(−ϑΔ), not exp(−Δ/ϑ) (a temperature τ would divide them)."),
             (lambda n, delta, inv_temp: dilution_mass(n, delta, 1.0) + 0 * np.asarray(inv_temp),
              "ϑ is missing: every logit is multiplied by ϑ, so the gap becomes ϑΔ."),
             (lambda n, delta, inv_temp: 1 / (1 + (np.asarray(n, dtype=float) - 1) * np.exp(inv_temp * delta)),
              "The sign of the exponent is flipped: a larger gap must give the target *more* attention, "
              "1/(1 + (n − 1) exp(−ϑΔ)).")]
    return check_function(fn, lambda n, delta, inv_temp: dilution_mass(n, delta, inv_temp), cases, name="dilution mass",
                          wrong_answers=wrong, rtol=1e-9, atol=1e-12, show=show)


def _temperature_for(n, delta: float, mass: float):
    """The inv_temp > 0 with ``dilution_mass(n, delta, inv_temp) == mass``, by bracketing (element-wise over ``n``)."""
    def one(m):
        return brentq(lambda t: float(dilution_mass(m, delta, t)) - mass, 1e-9, 1e4, xtol=1e-14, rtol=1e-14)
    n = np.asarray(n, dtype=np.float64)
    return np.vectorize(one)(n) if n.ndim else one(float(n))


def check_required_temperature(fn: Callable, show: bool = True) -> Verdict:
    """Check ``fn(n, delta, mass)``: the inverse temperature ``inv_temp`` at which a target with logit gap ``delta``
    over ``n - 1`` equal distractors receives attention ``mass`` (invert {eq}`eq-ch5-dilution`); ``n`` may be an
    array. Every case has a positive answer."""
    cases = [Case("10 keys, gap 2, mass 0.9", (10, 2.0, 0.9)),
             Case("two keys, gap 1, mass 0.8", (2, 1.0, 0.8)),
             Case("a sweep over n = 10 … 10⁴, gap 1, mass 0.5", (np.array([10, 100, 1000, 10_000]), 1.0, 0.5)),
             Case("1000 keys, small gap 0.5, mass 0.99", (1000, 0.5, 0.99))]

    def odds(n, mass):
        return (np.asarray(n, dtype=np.float64) - 1) * mass / (1 - mass)

    wrong = [(lambda n, delta, mass: np.log(np.asarray(n, dtype=np.float64) * mass / (1 - mass)) / delta,
              "n − 1 distractors, not n: the target does not compete with itself."),
             (lambda n, delta, mass: np.log(odds(n, mass)),
              "Divide by Δ: the distractors weigh exp(−ϑΔ), so ϑΔ = log((n − 1) a/(1 − a))."),
             (lambda n, delta, mass: np.log((np.asarray(n, dtype=np.float64) - 1) * (1 - mass) / mass) / delta,
              "The odds are inverted: from a = 1/(1 + (n − 1) exp(−ϑΔ)), exp(ϑΔ) = (n − 1) a/(1 − a)."),
             (lambda n, delta, mass: np.log(np.asarray(n, dtype=np.float64) - 1) / delta,
              "That keeps the mass at 1/2 only: the target mass a enters through its odds a/(1 − a).")]
    return check_function(fn, _temperature_for, cases, name="required temperature", wrong_answers=wrong,
                          rtol=1e-8, atol=1e-10, show=show)


def check_effective_gap(fn: Callable, show: bool = True) -> Verdict:
    """Check ``fn(s_target, kappa, d, inv_temp)``: the effective gap
    ``s_target - log M_d(inv_temp kappa) / inv_temp`` of a target with untempered logit ``s_target`` against
    distractor keys uniform on the unit sphere of R^d, for a query logit vector of norm ``kappa``
    ({eq}`eq-ch5-random`; ``theory.sphere_log_mgf(kappa, d)`` is ``log M_d(kappa)``)."""
    cases = [Case("κ = 0: every distractor scores 0", (1.0, 0.0, 8, 1.0)),
             Case("s = 3, κ = 5, d = 16, ϑ = 1", (3.0, 5.0, 16, 1.0)),
             Case("the same at ϑ = 2.5", (3.0, 5.0, 16, 2.5)),
             Case("the circle, d = 2", (10.0, 12.0, 2, 1.0)),
             Case("d = 64, κ = 20, ϑ = 1.5", (4.0, 20.0, 64, 1.5))]
    wrong = [(lambda s, kappa, d, inv_temp: s,
              "That treats the distractors as equal, each at the mean logit 0. Random keys spread their logits, "
              "and the softmax averages exp(ϑ w^T x), whose mean is M_d(ϑκ) ≥ exp(0)."),
             (lambda s, kappa, d, inv_temp: s - sphere_log_mgf(inv_temp * kappa, d),
              "Divide log M_d(ϑκ) by ϑ: the gap is measured before the temperature, so that the distractors weigh "
              "exp(−ϑ Δ_eff)."),
             (lambda s, kappa, d, inv_temp: s - sphere_log_mgf(kappa, d) / inv_temp,
              "The temperature multiplies the logits before they are exponentiated: the moment generating "
              "function is taken at ϑκ, M_d(ϑκ)."),
             (lambda s, kappa, d, inv_temp: s - inv_temp * kappa**2 / (2 * d),
              "That is the small-κ (Gaussian) approximation log M_d(ϑκ) ≈ (ϑκ)²/(2d). Trained models have κ of "
              "several units: use sphere_log_mgf.")]
    return check_function(fn, lambda s, kappa, d, inv_temp: s - sphere_log_mgf(inv_temp * kappa, d) / inv_temp, cases,
                          name="effective gap", wrong_answers=wrong, rtol=1e-9, atol=1e-12, show=show)


# --------------------------------------------------------------------------------------------------------------
# Convolution-augmented transformer (file 06)
# --------------------------------------------------------------------------------------------------------------


def _conv_reference(u, taps) -> np.ndarray:
    return causal_conv(torch.as_tensor(np.asarray(u, dtype=np.float64)),
                       torch.as_tensor(np.asarray(taps, dtype=np.float64))).numpy()


def _shifted_sum(u, taps, offset: int = 0, sign: int = -1, wrap: bool = False) -> np.ndarray:
    """``s_t = sum_j taps_j * u_{t + sign * (j + offset)}``; zero outside the sequence unless ``wrap``."""
    u, taps = np.asarray(u, dtype=np.float64), np.asarray(taps, dtype=np.float64)
    T = u.shape[0]
    out = np.zeros_like(u)
    for j in range(taps.shape[0]):
        for t in range(T):
            src = t + sign * (j + offset)
            if wrap:
                src %= T
            if 0 <= src < T:
                out[t] += taps[j] * u[src]
    return out


def check_causal_conv(fn: Callable, show: bool = True) -> Verdict:
    """Check ``fn(u, taps)``: for a sequence ``u`` (T, h) and a filter ``taps`` (w, h), return the causal
    convolution ``s_t = sum_{0 <= j < w} taps_j * u_{t-j}`` (per channel; tokens before the start count as zero),
    shape (T, h) ({eq}`eq-ch6-cat`)."""
    rng = np.random.default_rng(12)
    cases = [Case("T=5, h=2, window 3", (rng.standard_normal((5, 2)), rng.standard_normal((3, 2)))),
             Case("the shift by one position (taps 0, 1)", (np.arange(8.0).reshape(4, 2), np.array([[0.0, 0.0],
                                                                                                  [1.0, 1.0]]))),
             Case("window 1: a per-channel scale", (rng.standard_normal((4, 3)), np.array([[2.0, -1.0, 0.5]]))),
             Case("a long filter, w = T + 2", (rng.standard_normal((3, 2)), rng.standard_normal((5, 2)))),
             Case("one token (T=1)", (np.array([[1.5, -2.0]]), rng.standard_normal((3, 2))))]
    wrong = [(lambda u, taps: _conv_reference(u, np.asarray(taps)[::-1].copy()),
              "Your filter is flipped: taps[0] multiplies the current token u_t, taps[j] the token j positions "
              "back (np.convolve and np.correlate differ exactly by this flip)."),
             (lambda u, taps: _shifted_sum(u, taps, sign=+1),
              "That looks ahead: a causal convolution only uses u_t, u_{t−1}, …, never u_{t+j}."),
             (lambda u, taps: _shifted_sum(u, taps, offset=1),
              "Off by one: taps[0] multiplies the current token (lag 0), not the one before it."),
             (lambda u, taps: _shifted_sum(u, taps, wrap=True),
              "No wrap-around: the tokens before the start of the sequence count as zero (np.roll wraps the end "
              "of the sequence into its start).")]
    return check_function(fn, _conv_reference, cases, name="causal convolution", wrong_answers=wrong, rtol=1e-9,
                          atol=1e-12, show=show)


def _construction_reference(tokens, c) -> np.ndarray:
    """The attention map of the hand-built CAT of the chapter (``cat_recall_construction``), shape (T, T)."""
    tokens = torch.as_tensor(np.asarray(tokens, dtype=np.int64))
    model = cat_recall_construction(int(tokens.max()) + 1, c=float(c))
    with torch.no_grad():
        attn, h = model.first_attention(tokens[None])
        return attn.attention_map(h)[0, 0].numpy()


def _match_attention(tokens, c, lag: int = 1, causal: bool = True, softmax: bool = True) -> np.ndarray:
    """Scores ``c * 1[x_{s - lag} == x_t]`` (0 where s - lag is outside the prompt), masked and normalised."""
    x = np.asarray(tokens)
    T = len(x)
    key = np.full(T, -1)
    for s in range(T):
        if 0 <= s - lag < T:
            key[s] = x[s - lag]
    scores = c * (key[None, :] == x[:, None]).astype(np.float64)
    visible = np.tril(np.ones((T, T), dtype=bool)) if causal else np.ones((T, T), dtype=bool)
    if not softmax:
        return np.where(visible, scores, 0.0)
    w = np.where(visible, np.exp(scores - scores.max(1, keepdims=True)), 0.0)
    return w / w.sum(1, keepdims=True)


def check_construction_attention(fn: Callable, show: bool = True) -> Verdict:
    """Check ``fn(tokens, c)``: the attention map (T, T) of the hand-built CAT {eq}`eq-ch6-construction` on the
    integer prompt ``tokens`` (T,): row t is the softmax over the visible positions s <= t of the scores
    ``c * 1[x_{s-1} == x_t]`` (position 0 has no predecessor and scores 0), and 0 for s > t."""
    cases = [Case("a recall prompt: keys 10-12, values 20-22, query 11",
                  (np.array([10, 20, 11, 21, 12, 22, 11]), 4.0)),
             Case("a small scale c = 0.5", (np.array([10, 20, 11, 21, 12, 22, 11]), 0.5)),
             Case("a copying prompt", (np.array([0, 7, 8, 9, 0, 7, 8]), 2.0)),
             Case("no repeated token: every row is uniform", (np.array([3, 1, 4, 2]), 4.0)),
             Case("one token (T=1)", (np.array([5]), 4.0))]
    wrong = [(lambda tokens, c: _match_attention(tokens, c, lag=0),
              "The key of position s must hold its *predecessor* x_{s−1} (the key filter shifts by one): "
              "matching x_s itself finds the queried key, not the value right after it."),
             (lambda tokens, c: _match_attention(tokens, c, lag=-1),
              "The shift goes the wrong way: the key of position s is x_{s−1}, the token *before* s (a causal "
              "convolution looks back)."),
             (lambda tokens, c: _match_attention(tokens, c, causal=False),
              "Mask the future: row t may only attend to positions s ≤ t (zeros above the diagonal)."),
             (lambda tokens, c: _match_attention(tokens, c, softmax=False),
              "Those are the scores: the attention is their softmax over the visible positions of each row "
              "(every row sums to 1).")]
    return check_function(fn, _construction_reference, cases, name="construction attention", wrong_answers=wrong,
                          rtol=1e-9, atol=1e-12, show=show)
