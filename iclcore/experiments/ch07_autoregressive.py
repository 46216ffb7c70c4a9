"""Drivers of Chapter 7 (in-context autoregressive learning, Sander et al. 2024): the configurations of the
augmented-token experiment, their one-gradient-step references, and risks per position."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import torch

from iclcore import validate
from iclcore.evaluate import evaluate
from iclcore.models.augmented_linear_attention import AugmentedLinearAttention
from iclcore.tasks import make_generator, stack
from iclcore.tasks.autoregressive import RotationSequences, position_risk
from iclcore.theory.autoregressive import StepMoments, gd_step_monte_carlo, gd_step_theory


@dataclass(frozen=True)
class Member:
    """One configuration of the augmented experiment: the attention class, the positions it is trained on
    (t <= horizon), the sequence law (keyword arguments of :class:`RotationSequences`) and whether an
    unconstrained member starts exactly at the gradient step of its law."""

    structure: str = "block"
    horizon: int = 24
    law: dict = field(default_factory=dict)
    start_at_gd: bool = False

    def has_closed_form(self) -> bool:
        """Whether {eq}`eq-ch7-moments` applies: commuting rotations, no noise (any start, norms and angle law)."""
        return self.law.get("family", "commuting") == "commuting" and self.law.get("noise", 0.0) == 0.0


def gd_reference(member: Member, d: int, n_mc: int = 2**14, seed: int = 0) -> StepMoments:
    """The moments of one gradient step for a member's law, at positions 1..horizon: closed form where it
    applies, else Monte Carlo on ``n_mc`` sequences drawn with ``seed``."""
    if member.has_closed_form():
        law = {k: v for k, v in member.law.items() if k in ("block_norms", "angle_spread", "angle_center")}
        return gd_step_theory(d, member.horizon, **law)
    task = RotationSequences(d, member.horizon, **member.law)
    return gd_step_monte_carlo(task.states(validate.positive_int("n_mc", n_mc), make_generator(seed)).numpy())


def augmented_experiment(members: Mapping[str, Member], d: int, T: int, tokens: str = "augmented",
                         references: Mapping[str, StepMoments] | None = None, seed: int = 0):
    """The stacked sampler (all members draw sequences of T tokens; member ``m`` weighs positions
    ``t <= m.horizon``) and one batched :class:`AugmentedLinearAttention` (structure per member; members with
    ``start_at_gd`` start at ``eta*`` of their reference). Returns ``(sampler, model)``."""
    sampler = stack({name: RotationSequences(d, T, tokens=tokens, horizon=m.horizon, **m.law)
                     for name, m in members.items()})
    init = [references[name].optimal_eta() if m.start_at_gd else None for name, m in members.items()]
    model = AugmentedLinearAttention(d, n_members=len(members), structure=[m.structure for m in members.values()],
                                     init_step=init, seed=seed)
    return sampler, model


def risk_by_position(model: torch.nn.Module, sampler, n_positions: int, n_samples: int = 2**14,
                     seed: int = 0) -> dict:
    """``{member: array of E||s_{t+1} - s_hat_{t+1}||^2 at t = 1..n_positions}`` (one evaluate call)."""
    n = validate.positive_int("n_positions", n_positions)
    res = evaluate(model, sampler, {f"t={t}": position_risk(t) for t in range(1, n + 1)}, n_samples=n_samples,
                   batch_size=4096, seed=seed)
    return {m: np.array([res[m][f"t={t}"] for t in range(1, n + 1)]) for m in res.members}


def relative_deviation(M: np.ndarray, eta: float) -> float:
    """``||M - eta I||_F / ||eta I||_F``: how far a learned ``B A`` is from the gradient step ``eta I``."""
    M = np.asarray(M, dtype=np.float64)
    eye = np.eye(M.shape[-1])
    return float(np.linalg.norm(M - eta * eye) / np.linalg.norm(eta * eye))
