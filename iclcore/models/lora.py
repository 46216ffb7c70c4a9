"""Low-rank tools: a generic LoRA wrapper (Hu et al. 2022), LoRA on linear attention's score matrix, and
per-member rank masks for ensembles of low-rank attention models (Li, Rawat & Oymak 2024, Sec. 5;
{eq}`eq-ch2-rank` and {eq}`eq-ch2-lora`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from iclcore import validate
from iclcore.models.linear_attention import LinearAttention, ensemble_prompts, preconditioner_from


def _ranks(rank: int | Sequence[int], n_members: int, high: int, name: str = "rank") -> list[int]:
    ranks = [rank] * n_members if isinstance(rank, int | bool) else list(rank)
    if len(ranks) != n_members:
        raise ValueError(f"{name} must be an int or a sequence of n_members={n_members} ints, got {rank!r}")
    return [validate.int_in_range(name, r, 0, high) for r in ranks]


class LoRA(nn.Module):
    """A frozen weight ``W0`` plus a trainable low-rank update: ``W = W0 + U V^T`` (Hu et al. 2022).

    Parameters
    ----------
    base : the pretrained weight, shape (m, k) or (E, m, k); it is copied and frozen (a buffer).
    rank : the LoRA rank r, or one rank per ensemble member (a sequence of E ints; 0 = no adaptation).
        Members with different ranks share one ``U`` (E, m, r_max), ``V`` (E, k, r_max) whose extra columns
        are masked to zero, so one batched training runs every rank at once.
    n_members : ensemble size E (default: ``base.shape[0]`` for a 3-d base, else the length of ``rank``).
    init_scale, seed : ``U`` starts at zero (so ``W = W0`` at the start) and ``V ~ N(0, init_scale^2 / k)``.

    Calling the module returns ``W`` (E, m, k).
    """

    def __init__(self, base: torch.Tensor, rank: int | Sequence[int], n_members: int | None = None,
                 init_scale: float = 0.3, seed: int = 0):
        super().__init__()
        base = torch.as_tensor(base).detach()
        if base.dim() not in (2, 3):
            raise ValueError(f"base must have shape (m, k) or (E, m, k), got {tuple(base.shape)}")
        if n_members is None:
            n_members = base.shape[0] if base.dim() == 3 else (1 if isinstance(rank, int) else len(rank))
        E = validate.positive_int("n_members", n_members)
        m, k = base.shape[-2:]
        if base.dim() == 3 and base.shape[0] not in (1, E):
            raise ValueError(f"base has {base.shape[0]} members but n_members={E}")
        validate.positive("init_scale", init_scale)
        self.ranks = _ranks(rank, E, min(m, k))
        r_max = max(max(self.ranks), 1)
        g = torch.Generator().manual_seed(seed)
        self.register_buffer("base", base.expand(E, m, k).clone())
        self.register_buffer("mask", (torch.arange(r_max)[None, :] < torch.tensor(self.ranks)[:, None])
                             .to(base.dtype)[:, None, :])
        self.U = nn.Parameter(torch.zeros(E, m, r_max, dtype=base.dtype))
        self.V = nn.Parameter(init_scale / k**0.5 * torch.randn(E, k, r_max, generator=g).to(base.dtype))

    def delta(self) -> torch.Tensor:
        """The low-rank update ``U V^T`` (E, m, k); member e has rank at most ``ranks[e]``."""
        return (self.U * self.mask) @ (self.V * self.mask).transpose(-1, -2)

    def forward(self) -> torch.Tensor:
        return self.base + self.delta()


class LoRAAttention(nn.Module):
    """Linear attention whose merged score matrix ``A = W_k W_q^T`` is adapted by LoRA; values frozen.

    ``base``: a trained :class:`~iclcore.models.LinearAttention` (one member, or as many as ``rank`` has);
    ``rank``: LoRA rank(s); ``member``: adapt only this member of an ensemble ``base``.
    Prediction as in linear attention ({eq}`eq-ch1-la`) with ``A = A0 + U V^T``:

        y_hat = sum_{i<=n} (z_i^T A z_q) (v^T z_i).
    """

    def __init__(self, base: LinearAttention, rank: int | Sequence[int], member: int | None = None,
                 init_scale: float = 0.3, seed: int = 0):
        super().__init__()
        if not isinstance(base, LinearAttention):
            raise ValueError(f"base must be a LinearAttention, got {type(base).__name__}")
        A0, v0 = base.score_matrix().detach(), base.value_vector().detach()
        if member is not None:       # adapt one member of an ensemble (copied into every LoRA member)
            validate.int_in_range("member", member, 0, base.n_members - 1)
            A0, v0 = A0[member:member + 1], v0[member:member + 1]
        E = len(rank) if not isinstance(rank, int) else A0.shape[0]
        if A0.shape[0] not in (1, E):
            raise ValueError(f"base has {A0.shape[0]} members but rank asks for {E}; pass member=")
        self.score = LoRA(A0.expand(E, -1, -1), rank, n_members=E, init_scale=init_scale, seed=seed)
        self.register_buffer("value", v0.expand(E, -1).clone())
        self.token_dim, self.n_members, self.normalize = base.token_dim, E, base.normalize

    def forward(self, Z: torch.Tensor) -> torch.Tensor:
        Z = ensemble_prompts(Z, self.token_dim, self.n_members)
        examples, query = Z[..., :-1, :], Z[..., -1, :]
        scores = torch.einsum("ebtd,edf,ebf->ebt", examples, self.score(), query)
        out = (scores * torch.einsum("ebtd,ed->ebt", examples, self.value)).sum(-1)
        return out / examples.shape[-2] if self.normalize else out

    @torch.no_grad()
    def effective_preconditioner(self) -> torch.Tensor:
        """PGD preconditioner (E, d, d) of the adapted model (same formula as linear attention, {eq}`eq-ch1-pgd`)."""
        return preconditioner_from(self.score(), self.value)


def mask_factor_rank(model: LinearAttention, ranks: Sequence[int]) -> LinearAttention:
    """Give each member e of an ensemble :class:`LinearAttention` key/query rank ``ranks[e]`` (in place).

    Columns ``>= ranks[e]`` of ``W_q`` and ``W_k`` are set to zero and their gradients are masked, so the
    member trains exactly like a model built with ``rank=ranks[e]`` (Adam leaves zero-gradient entries at
    zero). This lets one batched model train every rank of a rank sweep. Returns ``model``.
    """
    if not isinstance(model, LinearAttention):
        raise ValueError(f"model must be a LinearAttention, got {type(model).__name__}")
    ranks = _ranks(list(ranks), model.n_members, model.rank, name="ranks")
    mask = (torch.arange(model.rank)[None, :] < torch.tensor(ranks)[:, None]).float()[:, None, :]
    with torch.no_grad():
        model.W_q.mul_(mask)
        model.W_k.mul_(mask)
    model.W_q.register_hook(lambda g: g * mask)
    model.W_k.register_hook(lambda g: g * mask)
    model.factor_ranks = ranks
    return model
