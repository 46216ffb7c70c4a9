"""Drivers of the mesa-optimization chapter (Zheng et al. 2024): the start laws, the batched layer started on the
paper's diagonal initialisation, and the trained layer's error at contexts longer than the training length."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from iclcore import validate
from iclcore.models.augmented_linear_attention import AugmentedLinearAttention
from iclcore.tasks import make_generator, stack
from iclcore.tasks.diagonal_ar import DiagonalARSequences, check_start
from iclcore.theory.mesa import StartMoments, block_step_predict, start_moments


@dataclass(frozen=True)
class Law:
    """A start law of :mod:`iclcore.tasks.diagonal_ar` (``start``, ``scale``, ``modulus_spread``)."""

    start: str
    scale: float = 1.0
    modulus_spread: float = 0.0

    def __post_init__(self):
        check_start(self.start, self.scale, self.modulus_spread)

    def moments(self, d: int) -> StartMoments:
        """Its start moments ({eq}`eq-ch11-moments`)."""
        return start_moments(self.start, d, self.scale, self.modulus_spread)

    def sampler(self, d: int, T: int, tokens: str = "augmented") -> DiagonalARSequences:
        return DiagonalARSequences(d, T, self.start, self.scale, self.modulus_spread, tokens=tokens)


def diagonal_start(model: AugmentedLinearAttention, inits: Sequence[tuple[float, float]]) -> None:
    """Put member e on the paper's diagonal initialisation: ``B = b_e I``, ``A = a_e I``, every other entry 0.
    ``inits``: one ``(a_e, b_e)`` per member."""
    if len(inits) != model.n_members:
        raise ValueError(f"inits must hold one (a, b) per member ({model.n_members}), got {len(inits)}")
    d = model.d
    with torch.no_grad():
        model.W_PV.zero_()
        model.W_KQ.zero_()
        for e, (a, b) in enumerate(inits):
            model.W_PV[e, :, d:2 * d] = float(b) * torch.eye(d)
            model.W_KQ[e, 2 * d:, d:2 * d] = float(a) * torch.eye(d)


def mesa_experiment(members: Mapping, d: int, T: int, tokens: str = "augmented"):
    """``members``: ``{name: (law, (a0, b0))}``. Returns the stacked sampler (one :class:`DiagonalARSequences`
    of T tokens per member) and one batched block-class layer on the diagonal initialisation."""
    validate.positive_int("d", d)
    if not members:
        raise ValueError("members must hold at least one (law, (a0, b0))")
    sampler = stack({name: law.sampler(d, T, tokens) for name, (law, _) in members.items()})
    model = AugmentedLinearAttention(d, n_members=len(members), structure="block")
    diagonal_start(model, [init for _, init in members.values()])
    return sampler, model


def diagonal_scales(model: AugmentedLinearAttention) -> torch.Tensor:
    """``(a, b) = (tr A / d, tr B / d)`` per member, shape (E, 2): the scalars of the diagonal class."""
    a = model.score_block().diagonal(dim1=1, dim2=2).mean(-1)
    b = model.value_block().diagonal(dim1=1, dim2=2).mean(-1)
    return torch.stack([a, b], dim=-1)


def long_context_error(model: AugmentedLinearAttention, members: Mapping, positions: Sequence[int],
                       n_samples: int, seed: int = 0) -> dict:
    """Relative error ``E||s_{t+1} - f_t||^2 / E||s_{t+1}||^2`` of each trained member at ``positions`` (possibly
    far beyond the training length), on ``n_samples`` fresh sequences of its own law.

    ``members``: the mapping given to :func:`mesa_experiment` (``{name: (law, init)}``, in the model's member
    order). The layer's function ``B G_t A s_t`` is evaluated position by position
    (:func:`iclcore.theory.mesa.block_step_predict`, equal to the attention forward), so contexts of hundreds
    of tokens need no T x T score matrix. Returns ``{name: array of e(t) over positions}``.
    """
    n = validate.positive_int("n_samples", n_samples)
    pos = [validate.positive_int("positions", int(p)) for p in positions]
    if not pos:
        raise ValueError("positions must hold at least one position")
    if len(members) != model.n_members:
        raise ValueError(f"members must name the model's {model.n_members} members, got {len(members)}")
    Bs, As = model.value_block().double().numpy(), model.score_block().double().numpy()
    out = {}
    for e, (name, (law, _)) in enumerate(members.items()):
        states = law.sampler(model.d, max(pos)).states(n, make_generator(seed + e)).numpy()
        pred = block_step_predict(states[:, :max(pos) + 1], Bs[e], As[e], pos)
        target = states[:, [p + 1 for p in pos]]
        err = (np.abs(pred - target) ** 2).sum(-1).mean(0)
        out[name] = err / (np.abs(target) ** 2).sum(-1).mean(0)
    return out


def relative_deviation(M: np.ndarray, c: float) -> float:
    """``||M - c I||_F / ||c I||_F``: how far a learned ``B A`` is from the gradient step ``c I``."""
    M = np.asarray(M, dtype=np.float64)
    eye = np.eye(M.shape[-1])
    return float(np.linalg.norm(M - c * eye) / np.linalg.norm(c * eye))
