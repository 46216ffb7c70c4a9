"""Drivers of the chapter "Dissecting chain-of-thought" (Li, Sreenivasan, Giannou, Papailiopoulos & Oymak 2023).

* :func:`risk_curves` -- normalised risk after k = 0..n-1 examples ({eq}`eq-ch16-risk`) of the trained models
  (the CoT model with the true thought of the query and with its own) and of the reference algorithms, all on
  the same seeded prompts;
* :func:`thought_risk` -- how well a CoT model predicts the thought ``h_{k+1}`` itself;
* :func:`filtering_mass` -- the filtering probe ({eq}`eq-ch16-filter`): the share of attention that tokens of
  one type give to earlier tokens of another type, per layer and head;
* :func:`steps_to_reach` -- the first step at which a (moving-average) training loss reaches a level.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch

from iclcore import validate
from iclcore.models.cot_gpt import TYPES, CoTGPT
from iclcore.tasks.base import make_generator
from iclcore.tasks.mlp_regression import MLPRegression
from iclcore.theory.cot import least_squares_xy, stepwise_least_squares


def _risk(pred: torch.Tensor, y: torch.Tensor, d: int) -> np.ndarray:
    """Normalised squared error per prompt length: pred (..., B, n), y (B, n) -> (n,) (first member)."""
    pred = pred.reshape(-1, *y.shape)[0]
    return (((pred.double() - y.double()) ** 2).mean(0) / d).numpy()


@torch.no_grad()
def risk_curves(models: Mapping[str, CoTGPT], task: MLPRegression, *, corrupt=None, n_samples: int = 2000,
                seed: int = 10_000) -> dict:
    """``{curve name: normalised risk after k examples, k = 0..n-1}`` on ``n_samples`` prompts drawn with
    ``seed`` (the same prompts for every curve).

    For every model ``name``: ``name`` (its label prediction; for a CoT model with the **true** thought of the
    query, i.e. teacher-forced) and, for a CoT model, ``name + " (own thought)"`` (:meth:`CoTGPT.generate`).
    Reference curves: ``"least squares on (x, y)"``, ``"step-wise least squares (true thought)"`` and
    ``"step-wise least squares (own thought)"`` (:func:`iclcore.theory.cot.stepwise_least_squares`).
    ``corrupt(P, generator) -> P``, if given, changes the prompts the **models** read (a break switch); the
    reference algorithms always read the intact prompts.
    """
    validate.positive_int("n_samples", n_samples)
    gen = make_generator(seed)
    P, _ = task(n_samples, gen)
    X, H, y = task.split(P)
    d, m = task.d, task.m
    seen = P if corrupt is None else corrupt(P.clone(), gen)
    out = {}
    for name, model in models.items():
        out[name] = _risk(model(seen)[..., m], y, d)
        if model.cot:
            out[f"{name} (own thought)"] = _risk(model.generate(seen), y, d)
    out["least squares on (x, y)"] = _risk(least_squares_xy(X, y), y, d)
    out["step-wise least squares (true thought)"] = _risk(stepwise_least_squares(X, H, y, own_thought=False), y, d)
    out["step-wise least squares (own thought)"] = _risk(stepwise_least_squares(X, H, y), y, d)
    return out


@torch.no_grad()
def thought_risk(model: CoTGPT, task: MLPRegression, *, n_samples: int = 2000, seed: int = 10_000) -> np.ndarray:
    """Normalised error ``E||h_{k+1} - h_hat_{k+1}||^2 / d`` of the thought predicted at the token of
    ``x_{k+1}``, k = 0..n-1 (first member); predicting the mean thought gives about 0.7."""
    if not model.cot:
        raise ValueError("model must be a CoT model (cot=True): a plain ICL model predicts no thought")
    P, _ = task(n_samples, make_generator(seed))
    _, H, _ = task.split(P)
    err = ((model(P)[0, ..., : task.m].double() - H.double()) ** 2).sum(-1)
    return (err.mean(0) / task.d).numpy()


@torch.no_grad()
def filtering_mass(model: CoTGPT, P: torch.Tensor, query: str, key: str, *, skip_first: int = 1) -> np.ndarray:
    """Share of attention that tokens of type ``query`` put on **earlier** tokens of type ``key``
    ({eq}`eq-ch16-filter`), per layer and head: (n_layers, n_heads), first member, averaged over prompts and over
    the query tokens of examples ``skip_first+1, ..., n`` (the first examples have few earlier tokens).

    ``query``, ``key`` in ``("x", "h", "y")`` (``"h"`` only for a CoT model). Self-attention is excluded from
    both the numerator and the normaliser, so a head that spreads its attention evenly over the earlier tokens
    scores the share of ``key`` tokens among them (about 1/3 for a CoT prompt).
    """
    types = model.token_types(P.shape[-2])
    for name, value in (("query", query), ("key", key)):
        if value not in set(types):
            raise ValueError(f"{name} must be one of {sorted(set(types))} for this model, got {value!r}")
    validate.int_in_range("skip_first", skip_first, 0, P.shape[-2] - 1)
    kinds = np.array(types)
    T = len(types)
    rows = [t for t in range(T) if kinds[t] == query and t // model.steps >= skip_first and t > 0]
    is_key = torch.tensor(kinds == key, dtype=torch.float64)
    masses = []
    for A in model.attention_maps(P):                                        # (E, B, H, T, T)
        A = A[0].double()
        A = A * (1 - torch.eye(T, dtype=A.dtype))                           # drop self-attention
        A = A[..., rows, :]
        masses.append(((A * is_key).sum(-1) / A.sum(-1).clamp_min(1e-12)).mean(dim=(0, 2)).numpy())
    return np.stack(masses)


def steps_to_reach(history: np.ndarray, level: float, window: int = 50) -> float:
    """First step (1-based, at the end of the window) at which the ``window``-step moving average of
    ``history`` (steps,) is at most ``level``; ``inf`` if it never is."""
    h = np.asarray(history, dtype=float)
    validate.positive_int("window", window)
    if h.ndim != 1 or h.size < window:
        raise ValueError(f"history must be 1-D with at least window = {window} entries, got shape {h.shape}")
    avg = np.convolve(h, np.ones(window) / window, mode="valid")
    hit = np.nonzero(avg <= level)[0]
    return float(hit[0] + window) if hit.size else float("inf")


__all__ = ["TYPES", "filtering_mass", "risk_curves", "steps_to_reach", "thought_risk"]
