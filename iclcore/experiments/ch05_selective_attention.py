"""Chapter 5 (selective attention): read-outs of the trained needle and query-selectivity models.

* :func:`needle_report` measures trained :class:`iclcore.models.NeedleAttention` models at several context
  lengths and puts the closed forms {eq}`eq-ch5-dilution` and {eq}`eq-ch5-random` next to the measurement;
* :func:`norm_at_fit` compares the weight norms of two query-selectivity models at the same fit
  (a scale-invariant version of the paper's "smaller norm" claim).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from iclcore.evaluate import Results
from iclcore.models.selective_attention import NeedleAttention
from iclcore.tasks.base import make_generator
from iclcore.tasks.sequences import NeedleRetrieval
from iclcore.theory.dilution import dilution_mass, random_key_mass

NEEDLE_METRICS = ("mass", "mass_theory", "mass_equal", "mse", "inv_temp")


def _members(model: nn.Module) -> list[tuple[object, nn.Module]]:
    """``[(name, module)]`` of an :class:`iclcore.models.Ensemble`, or ``[(0, model)]`` for one model."""
    names = getattr(model, "members", None)
    return [(0, model)] if names is None else [(name, model.member(name)) for name in names]


@torch.no_grad()
def _needle_at(model: NeedleAttention, n: int, noise: float, n_prompts: int, seed: int) -> dict[str, float]:
    Z, y, t = NeedleRetrieval(model.d, n, noise).sample(n_prompts, make_generator(seed))
    inv_temp = model.temperature(n)
    target_logit, kappa = model.query_geometry(Z, t)
    logits = model.scores(Z) / inv_temp
    gap = target_logit - (logits.sum(-1) - target_logit) / (n - 1)
    return {"mass": model.attention_map(Z)[torch.arange(n_prompts), t].double().mean().item(),
            "mass_theory": float(random_key_mass(n, target_logit.double().numpy(), kappa.double().numpy(),
                                                 model.d, inv_temp).mean()),
            "mass_equal": float(dilution_mass(n, gap.double().mean().item(), inv_temp)),
            "mse": ((model(Z) - y) ** 2).double().mean().item(), "inv_temp": inv_temp}


def needle_report(model: nn.Module, ns: Sequence[int], noise: float = 0.1, n_prompts: int = 2000,
                  seed: int = 123) -> Results:
    """Measure trained needle models at each context length in ``ns`` and compare with the closed forms.

    ``model`` is a :class:`iclcore.models.NeedleAttention` or an :class:`iclcore.models.Ensemble` of them.
    Every member sees the same ``n_prompts`` prompts per length (seeded by ``seed``). Returns
    :class:`iclcore.evaluate.Results`; each metric is an array over ``ns`` per member:

    * ``mass``: mean attention on the needle;
    * ``mass_theory``: {eq}`eq-ch5-random` (:func:`iclcore.theory.random_key_mass`) with the model's own target
      logit, ``kappa = ||w||`` and temperature, averaged over the same prompts;
    * ``mass_equal``: the equal-distractor formula {eq}`eq-ch5-dilution` with the mean untempered logit gap
      between needle and distractors (the naive prediction);
    * ``mse``: test error (predicting 0 scores 1); ``inv_temp``: the temperature at that length.
    """
    if len(ns) == 0 or any(int(n) < 2 for n in ns):
        raise ValueError(f"ns must hold context lengths >= 2, got {list(ns)}")
    names, rows = [], []
    for name, m in _members(model):
        if not isinstance(m, NeedleAttention):
            raise ValueError(f"model must hold NeedleAttention members, got {type(m).__name__}")
        per_n = [_needle_at(m, int(n), noise, n_prompts, seed) for n in ns]
        names.append(name)
        rows.append({k: np.array([r[k] for r in per_n], dtype=np.float64) for k in NEEDLE_METRICS})
    return Results(tuple(names), {k: np.stack([r[k] for r in rows]) for k in NEEDLE_METRICS})


def norm_at_fit(kl: np.ndarray, norm: np.ndarray, level: float) -> float:
    """The norm of a model the first time its fit reaches ``level``: ``norm[i]`` for the first i with
    ``kl[i] <= level`` (``nan`` if it never does).

    ``kl`` and ``norm`` are one model's training path (e.g. recorded by :class:`iclcore.train.Snapshot`), in
    step order. Compared at the same ``level`` for two models, with the temperature's scale moved into W
    (:meth:`iclcore.models.BilinearSoftmax.normalized_weight_norm`), this is a scale-invariant version of
    "reaches the same fit with a smaller weight norm".
    """
    kl, norm = np.asarray(kl, dtype=np.float64), np.asarray(norm, dtype=np.float64)
    if kl.shape != norm.shape or kl.ndim != 1 or len(kl) == 0:
        raise ValueError(f"kl and norm must be 1-D paths of equal length, got {kl.shape} and {norm.shape}")
    hit = np.nonzero(kl <= level)[0]
    return float(norm[hit[0]]) if len(hit) else float("nan")
