"""Chapter 9 (knowledge distillation): Monte Carlo risks of min-norm interpolators trained on surrogate labels.

:func:`simulate_risks` measures, draw by draw, the excess risk of the target model of {eq}`eq-ch9-data` for
many (surrogate, n) pairs on **common random numbers**: every surrogate labels the same design ``X`` and the
same noise ``z``, and the ``n`` samples of a smaller ``n`` are the first ``n`` rows of the largest design. The
work is batched over draws (one linear solve per block of draws and per ``n``, for all surrogates at once).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping

import numpy as np
import torch
from tqdm.auto import tqdm

from iclcore import validate
from iclcore.evaluate import Results
from iclcore.tasks.base import make_generator
from iclcore.tasks.gaussian_features import GaussianFeatures, as_spectrum, as_weights, excess_risk
from iclcore.theory.distillation import min_norm_interpolator


@torch.no_grad()
def simulate_risks(lam, beta_star, surrogates: Mapping[tuple[Hashable, int], object], *, trials: int,
                   seed: int, noise: float = 0.0, block: int | None = None, progress: bool = True,
                   desc: str = "Monte Carlo") -> Results:
    """Per-draw excess risks ``||beta_hat - beta_star||^2_Sigma`` of the min-norm interpolator.

    Parameters
    ----------
    lam, beta_star : (d,) feature variances and ground truth.
    surrogates : ``{(name, n): beta_s}``: the surrogate that labels ``n`` samples (``1 <= n < d``).
    trials : number of independent draws of the design (and of the label noise).
    seed : seeds the one generator of the whole simulation (pass ``profile.seed(k)``).
    noise : label-noise standard deviation sigma.
    block : draws per batched solve (default: about 5 10^6 floats of design, ``block * n_max * d``).
    progress, desc : show a progress bar over the blocks of draws, with this label.

    Returns :class:`iclcore.evaluate.Results` with members ``(name, n)`` and the metric ``"risk"``, an array
    of shape ``(trials,)`` per member (draw ``t`` of every member uses the same ``X`` and ``z``).
    """
    lam = as_spectrum(lam)
    beta_star = as_weights("beta_star", beta_star, lam.size)
    trials = validate.positive_int("trials", trials)
    if not surrogates:
        raise ValueError("surrogates must name at least one (name, n) pair")
    for key in surrogates:
        if not (isinstance(key, tuple) and len(key) == 2):
            raise ValueError(f"surrogates: keys must be (name, n) pairs, got {key!r}")
        validate.int_in_range("n", key[1], 1, lam.size - 1)
    members = tuple(surrogates)
    n_max = max(n for _, n in members)
    block = max(1, 5_000_000 // (n_max * lam.size)) if block is None else validate.positive_int("block", block)
    sampler = GaussianFeatures(lam, n_max, surrogates, noise)       # labels of every member on one design
    by_n = {n: [e for e, (_, m) in enumerate(members) if m == n] for n in sorted({n for _, n in members})}
    generator = make_generator(seed)
    risks = np.empty((len(members), trials))
    for start in tqdm(range(0, trials, block), desc=desc, disable=not progress, mininterval=0.5):
        B = min(block, trials - start)
        X, Y = sampler(B, generator)                                 # (B, n_max, d), (E, B, n_max)
        for n, rows in by_n.items():
            labels = Y[rows, :, :n].permute(1, 2, 0)                 # (B, n, S): S surrogates on one design
            beta_hat = min_norm_interpolator(X[:, :n], labels)       # (B, d, S)
            risks[rows, start:start + B] = excess_risk(beta_hat.transpose(1, 2), beta_star, lam).T.numpy()
    return Results(members, {"risk": risks})
