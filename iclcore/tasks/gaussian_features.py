"""Gaussian features with a diagonal covariance, labelled by linear "surrogate" models (knowledge distillation).

The data model of {eq}`eq-ch9-data`: ``n`` samples ``x ~ N(0, diag(lam))`` in ``d`` dimensions. A surrogate
``beta_s`` labels them ``y = X beta_s + noise * z`` with ``z ~ N(0, I_n)``; the truth is ``beta_star``, and a
target model ``beta_hat`` is measured by its excess risk ``||beta_hat - beta_star||^2_Sigma``
(:func:`excess_risk`). Everything is float64: the tail features carry variances of 1e-6 and less.

* :func:`power_law_spectrum` and :func:`power_law_signal` build the book's default problem
  ``lam_i = i^-a``, ``lam_i beta_star_i^2 = i^-b``;
* :class:`GaussianFeatures` is the sampler. Several surrogates label **the same** draws (common random
  numbers: the same ``X`` and the same noise ``z``), one member per surrogate, so that differences between
  surrogates are measured without the design's noise.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping

import numpy as np
import torch

from iclcore import validate


def power_law_spectrum(d: int, a: float) -> np.ndarray:
    """Feature variances ``lam_i = i^-a`` for ``i = 1..d`` (float64, shape (d,)); ``a > 0`` is the spectrum
    decay of {eq}`eq-ch9-powerlaw`."""
    d = validate.positive_int("d", d)
    a = validate.positive("a", a)
    return np.arange(1, d + 1, dtype=np.float64) ** -a


def power_law_signal(d: int, a: float, b: float) -> np.ndarray:
    """The ground truth ``beta_star_i = i^((a - b) / 2)`` of {eq}`eq-ch9-powerlaw`, so that the signal carried
    by feature i is ``lam_i beta_star_i^2 = i^-b`` (float64, shape (d,)). ``b > 1`` keeps the total signal
    ``sum_i i^-b`` finite as ``d`` grows."""
    d = validate.positive_int("d", d)
    a = validate.positive("a", a)
    b = validate.positive("b", b)
    return np.arange(1, d + 1, dtype=np.float64) ** ((a - b) / 2)


def as_spectrum(lam) -> np.ndarray:
    """``lam`` as a float64 vector of positive, finite feature variances (raises ``ValueError`` naming lam)."""
    lam = np.asarray(lam, dtype=np.float64)
    if lam.ndim != 1 or lam.size < 2:
        raise ValueError(f"lam must be a vector of d >= 2 feature variances, got shape {lam.shape}")
    if not np.all(np.isfinite(lam)) or np.any(lam <= 0):
        raise ValueError(f"lam must hold finite eigenvalues > 0, got min {np.nanmin(lam)!r}")
    return lam


def as_weights(name: str, beta, d: int) -> np.ndarray:
    """``beta`` as a finite float64 vector of shape (d,) (raises ``ValueError`` naming ``name``)."""
    beta = np.asarray(beta, dtype=np.float64)
    if beta.shape != (d,):
        raise ValueError(f"{name} must have shape ({d},) like lam, got {beta.shape}")
    if not np.all(np.isfinite(beta)):
        raise ValueError(f"{name} must be finite")
    return beta


class GaussianFeatures:
    """``n`` samples ``x ~ N(0, diag(lam))``, labelled by each surrogate on the same draws.

    Parameters
    ----------
    lam : (d,) positive feature variances (the eigenvalues of Sigma_x, which is diagonal).
    n : samples per draw, >= 1.
    surrogates : ``{name: beta_s}`` with each ``beta_s`` of shape (d,), or one vector (member name 0).
    noise : label-noise standard deviation sigma >= 0 (the same noise draw for every surrogate).

    Calling ``sampler(batch_size, generator)`` returns ``X`` of shape ``(B, n, d)`` and the labels ``Y`` of
    shape ``(E, B, n)``, ``Y[e] = X beta_s[e] + noise * z``: member ``e`` is the surrogate named
    ``members[e]``. ``X`` is drawn first, then ``z``, so two samplers with the same ``lam``, ``n`` and generator
    state see the same ``X`` whatever their surrogates or noise.
    """

    def __init__(self, lam, n: int, surrogates: Mapping[Hashable, object] | object, noise: float = 0.0):
        self.lam = as_spectrum(lam)
        self.d = self.lam.size
        self.n = validate.positive_int("n", n)
        self.noise = validate.nonnegative("noise", noise)
        if not isinstance(surrogates, Mapping):
            surrogates = {0: surrogates}
        if not surrogates:
            raise ValueError("surrogates must name at least one surrogate beta_s")
        self.members = tuple(surrogates)
        self.surrogates = np.stack([as_weights(f"surrogates[{k!r}]", v, self.d) for k, v in surrogates.items()])

    def __len__(self) -> int:
        return len(self.members)

    def __call__(self, batch_size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        B = validate.positive_int("batch_size", batch_size)
        scale = torch.from_numpy(np.sqrt(self.lam))
        X = torch.randn(B, self.n, self.d, generator=generator, dtype=torch.float64) * scale
        z = torch.randn(B, self.n, generator=generator, dtype=torch.float64)
        Y = torch.einsum("bnd,ed->ebn", X, torch.from_numpy(self.surrogates)) + self.noise * z
        return X, Y


def excess_risk(beta_hat, beta_star, lam) -> torch.Tensor:
    """The excess risk ``||beta_hat - beta_star||^2_Sigma = sum_i lam_i (beta_hat_i - beta_star_i)^2``
    of {eq}`eq-ch9-data`: the test error ``E(x^T beta_hat - y)^2`` minus the query noise.

    ``beta_hat`` has shape ``(..., d)`` (torch or numpy); returns shape ``(...)`` (torch, float64).
    """
    beta_hat = torch.as_tensor(beta_hat, dtype=torch.float64)
    lam = torch.as_tensor(as_spectrum(lam))
    beta_star = torch.as_tensor(as_weights("beta_star", beta_star, lam.numel()))
    if beta_hat.shape[-1:] != lam.shape:
        raise ValueError(f"beta_hat must end with d={lam.numel()} coordinates, got shape {tuple(beta_hat.shape)}")
    return ((beta_hat - beta_star) ** 2 * lam).sum(-1)
