"""Token-selection data of the max-margin attention papers (Tarzanagh et al. 2023a, 2023b).

Each *instance* is a small classification data set of n sequences with T tokens each:

    x_{it} ~ N(0, I_d) / ||.||     (unit tokens),      Y_i = ±1 (fair coin),      v ~ N(0, I_d) / ||.||,

and, for the cross-attention model of "Transformers as SVMs", one query token per sequence z_i ~ N(0, I_d)/||.||
(or ``z_i = x_{i1}`` for self-attention). The **token score** of token t in sequence i is

    gamma_{it} = Y_i * x_{it}^T v                                                ({eq}`eq-ch3-gamma`)

and the *globally optimal* token of sequence i is ``argmax_t gamma_{it}``. All arrays carry a leading
**instance** dimension E, so many random instances are drawn (and later trained) at once.

The metric that goes with the task is :func:`classification_loss`, ``mean_i l(Y_i f_i)`` for a decreasing
loss l, one value per ensemble member (the ``loss=`` of :func:`iclcore.train.fit`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from iclcore import validate
from iclcore.tasks.base import make_generator


@dataclass(frozen=True)
class TokenSelectionData:
    """E instances of the token-selection task (float64 by default).

    Attributes
    ----------
    X : tokens, shape (E, n, T, d).
    Y : labels ±1, shape (E, n).
    v : fixed value head, shape (E, d).
    z : query tokens, shape (E, n, d) (cross-attention) or ``X[:, :, 0]`` (self-attention).
    """

    X: torch.Tensor
    Y: torch.Tensor
    v: torch.Tensor
    z: torch.Tensor

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """(E, n, T, d)."""
        E, n, T, d = self.X.shape
        return E, n, T, d

    @property
    def gamma(self) -> torch.Tensor:
        """Token scores ``gamma_{it} = Y_i x_{it}^T v`` ({eq}`eq-ch3-gamma`), shape (E, n, T)."""
        return self.Y[..., None] * torch.einsum("entd,ed->ent", self.X, self.v)

    @property
    def optimal_tokens(self) -> torch.Tensor:
        """Index of the globally optimal token of each sequence, ``argmax_t gamma_{it}``, shape (E, n)."""
        return self.gamma.argmax(dim=-1)

    def instance(self, e: int) -> TokenSelectionData:
        """Instance ``e`` alone, keeping a leading dimension of size 1."""
        validate.int_in_range("e", e, 0, self.X.shape[0] - 1)
        return TokenSelectionData(self.X[e:e + 1], self.Y[e:e + 1], self.v[e:e + 1], self.z[e:e + 1])

    def repeat(self, k: int) -> TokenSelectionData:
        """Every instance ``k`` times in a row, shape (E k, ...): member ``(e, j)`` sits at ``e * k + j``, so
        ``array.reshape(E, k, ...)`` of anything computed per member gives the (instance, copy) grid.

        The one way to train k copies of a model (k starts, k losses, ...) on each instance in one batch.
        """
        k = validate.positive_int("k", k)
        return TokenSelectionData(*(t.repeat_interleave(k, dim=0) for t in (self.X, self.Y, self.v, self.z)))


def _unit(t: torch.Tensor) -> torch.Tensor:
    return t / t.norm(dim=-1, keepdim=True)


def token_selection(n: int, T: int, d: int, n_instances: int = 1, seed: int = 0, cross: bool = True,
                    sphere: bool = True, value_scale: float = 1.0,
                    dtype: torch.dtype = torch.float64) -> TokenSelectionData:
    """Draw ``n_instances`` independent token-selection data sets (seeded; same seed -> same data).

    Parameters
    ----------
    n, T, d : sequences per instance, tokens per sequence (T >= 2), token dimension.
    n_instances : number E of independent instances (leading dimension of every array).
    seed : seed of the ``torch.Generator`` that draws everything.
    cross : query tokens ``z_i`` drawn independently (cross-attention); ``False`` uses ``z_i = x_{i1}``
        (self-attention with the first token as query).
    sphere : normalise tokens and queries to unit norm (as in the papers' code); otherwise plain N(0, I_d).
    value_scale : norm of the value head v (the scale of the score gaps gamma).
    """
    validate.positive_int("n", n)
    validate.int_in_range("T", T, 2, 10_000)
    validate.positive_int("d", d)
    E = validate.positive_int("n_instances", n_instances)
    validate.positive("value_scale", value_scale)
    g = make_generator(seed)
    X = torch.randn(E, n, T, d, generator=g, dtype=dtype)
    z = torch.randn(E, n, d, generator=g, dtype=dtype)
    Y = torch.randint(0, 2, (E, n), generator=g).to(dtype) * 2 - 1
    v = value_scale * _unit(torch.randn(E, d, generator=g, dtype=dtype))
    if sphere:
        X, z = _unit(X), _unit(z)
    if not cross:
        z = X[:, :, 0].clone()
    return TokenSelectionData(X, Y, v, z)


LOSSES = ("logistic", "exponential", "correlation")


def classification_loss(pred: torch.Tensor, Y: torch.Tensor, loss: str | list[str] = "logistic") -> torch.Tensor:
    """Mean over sequences of ``l(Y_i f_i)`` for each member: pred (..., E, n), Y (E, n) -> (..., E).

    ``logistic``: log(1 + e^{-u}); ``exponential``: e^{-u}; ``correlation``: -u (all strictly decreasing).
    A list of E names gives each member its own loss (to compare losses in one batched run).
    """
    if not isinstance(loss, str):
        if len(loss) != pred.shape[-2]:
            raise ValueError(f"loss: a list of losses needs one name per member ({pred.shape[-2]}), got {len(loss)}")
        per_loss = {name: classification_loss(pred, Y, name) for name in set(loss)}
        return torch.stack([per_loss[name][..., e] for e, name in enumerate(loss)], dim=-1)
    u = Y * pred
    if loss == "logistic":
        return F.softplus(-u).mean(-1)
    if loss == "exponential":
        return torch.exp(-u).mean(-1)
    if loss == "correlation":
        return (-u).mean(-1)
    raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")


def classification_accuracy(pred: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
    """Share of sequences with ``Y_i f_i > 0`` for each member: pred (..., E, n), Y (E, n) -> (..., E)."""
    return ((Y * pred) > 0).to(pred.dtype).mean(-1)
