"""One-layer causal linear attention on augmented tokens ``e_t = (0, s_t, s_{t-1})`` (Sander et al. 2024, Sec. 4).

At position t the layer reads out the first d coordinates (the zero slot of the token, so a residual
connection would add nothing there) of ({eq}`eq-ch7-la`)

    f_t = (1/t) * sum_{tau <= t} W_PV e_tau (e_tau^T W_KQ e_t),      W_PV in R^{d x 3d}, W_KQ in R^{3d x 3d}.

``structure="block"`` is the parameter class of the theorem: the value reads only the ``s_tau`` slot (block
``B``) and the score pairs the key's ``s_{tau-1}`` slot with the query's ``s_t`` slot (block ``A``), so

    f_t = B G_t A s_t,     G_t = (1/t) sum_{tau <= t} s_tau s_{tau-1}^T                ({eq}`eq-ch7-block`).

With ``B A = eta I`` (e.g. ``B = b I``, ``A = a I``, ``ab = eta``) this is exactly one gradient step from
``W = 0`` on the inner loss, applied to ``s_t`` ({eq}`eq-ch7-gd`). ``structure="full"`` trains every entry.
The two classes are masks on the same parameters, so members of one ensemble may differ in structure.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from iclcore import validate

STRUCTURES = ("block", "full")


def structure_masks(d: int, structure: str) -> tuple[torch.Tensor, torch.Tensor]:
    """0/1 masks of ``W_PV`` (d, 3d) and ``W_KQ`` (3d, 3d) for one structure ("block" or "full")."""
    if structure not in STRUCTURES:
        raise ValueError(f"structure must be one of {STRUCTURES}, got {structure!r}")
    if structure == "full":
        return torch.ones(d, 3 * d), torch.ones(3 * d, 3 * d)
    pv, kq = torch.zeros(d, 3 * d), torch.zeros(3 * d, 3 * d)
    pv[:, d:2 * d] = 1                 # value reads s_tau
    kq[2 * d:, d:2 * d] = 1            # key slot s_{tau-1}, query slot s_t
    return pv, kq


class AugmentedLinearAttention(nn.Module):
    """Causal one-layer linear attention with 1/t normalisation, read out on the first d coordinates.

    Parameters
    ----------
    d : state dimension (tokens have width 3d).
    n_members : number E of independent members trained as one batch.
    structure : "block" (the theorem's class, {eq}`eq-ch7-block`) or "full"; or one per member.
    init_scale, seed : entries start i.i.d. ``N(0, init_scale^2)`` (masked entries stay 0).
    init_step : if given (one float or one per member, ``None`` for members left random), the member starts
        exactly at the gradient step of that size: ``B = A = sqrt(eta) I`` and every other entry 0. Used to start
        a larger class at the solution of the smaller one (is it still a minimum there?).

    ``forward(tokens)``: (B, T, 3d) or (E, B, T, 3d) -> predictions of ``s_{t+1}``, shape (E, B, T, d).
    """

    def __init__(self, d: int, n_members: int = 1, structure: str | Sequence[str] = "block",
                 init_scale: float = 0.1, seed: int = 0,
                 init_step: float | Sequence[float | None] | None = None):
        super().__init__()
        self.d = validate.positive_int("d", d)
        E = validate.positive_int("n_members", n_members)
        validate.positive("init_scale", init_scale)
        structures = [structure] * E if isinstance(structure, str) else list(structure)
        if len(structures) != E:
            raise ValueError(f"structure must be one string or one per member ({E}), got {len(structures)}")
        masks = [structure_masks(d, s) for s in structures]
        self.structures = tuple(structures)
        self.register_buffer("mask_pv", torch.stack([m[0] for m in masks]))
        self.register_buffer("mask_kq", torch.stack([m[1] for m in masks]))
        g = torch.Generator().manual_seed(seed)
        self.W_PV = nn.Parameter(init_scale * torch.randn(E, d, 3 * d, generator=g) * self.mask_pv)
        self.W_KQ = nn.Parameter(init_scale * torch.randn(E, 3 * d, 3 * d, generator=g) * self.mask_kq)
        self.n_members = E
        steps = init_step if isinstance(init_step, Sequence) else [init_step] * E
        if len(steps) != E:
            raise ValueError(f"init_step must be one value or one per member ({E}), got {len(steps)}")
        with torch.no_grad():
            for e, eta in enumerate(steps):
                if eta is not None:
                    root = validate.positive("init_step", eta) ** 0.5
                    self.W_PV[e].zero_()
                    self.W_KQ[e].zero_()
                    self.W_PV[e, :, d:2 * d] = root * torch.eye(d)
                    self.W_KQ[e, 2 * d:, d:2 * d] = root * torch.eye(d)

    def weights(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The masked ``(W_PV, W_KQ)``, shapes (E, d, 3d) and (E, 3d, 3d)."""
        return self.W_PV * self.mask_pv, self.W_KQ * self.mask_kq

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        D = 3 * self.d
        if tokens.dim() == 3:
            tokens = tokens.unsqueeze(0)
        if tokens.dim() != 4 or tokens.shape[-1] != D or tokens.shape[0] not in (1, self.n_members):
            raise ValueError(f"tokens must have shape (B, T, {D}) or ({self.n_members}, B, T, {D}), "
                             f"got {tuple(tokens.shape)}")
        W_PV, W_KQ = self.weights()
        W_PV, W_KQ = W_PV.to(tokens.dtype), W_KQ.to(tokens.dtype)
        T = tokens.shape[-2]
        values = torch.einsum("eij,ebtj->ebti", W_PV, tokens)          # W_PV e_tau      (E, B, T, d)
        queries = torch.einsum("eij,ebtj->ebti", W_KQ, tokens)         # W_KQ e_t        (E, B, T, 3d)
        scores = torch.einsum("ebsi,ebti->ebts", tokens, queries)      # e_tau^T W_KQ e_t (E, B, t, tau)
        t = torch.arange(1, T + 1, dtype=tokens.real.dtype)        # real positions, also for complex tokens
        scores = scores * torch.ones(T, T, dtype=torch.bool).tril() / t[:, None]
        return scores @ values

    def value_block(self) -> torch.Tensor:
        """``B``: the block of ``W_PV`` that reads the ``s_tau`` slot, shape (E, d, d)."""
        d = self.d
        return self.weights()[0][:, :, d:2 * d].detach()

    def score_block(self) -> torch.Tensor:
        """``A``: the block of ``W_KQ`` pairing the key's ``s_{tau-1}`` slot with the query's ``s_t``, (E, d, d)."""
        d = self.d
        return self.weights()[1][:, 2 * d:, d:2 * d].detach()

    def pv_kq_product(self) -> torch.Tensor:
        """``B A`` (E, d, d): in the gradient-step solution ``B A = eta I`` ({eq}`eq-ch7-gd`)."""
        return self.value_block() @ self.score_block()

    def block_share(self) -> torch.Tensor:
        """Share of the squared norm of ``W_PV`` in B times that of ``W_KQ`` in A, per member (E,): 1 for the
        block class. Entries that touch a zero slot of the tokens (the columns of ``W_PV`` and the rows and
        columns of ``W_KQ`` on the first d coordinates) get no gradient and are left out of the norms."""
        d = self.d
        W_PV, W_KQ = (w.detach() for w in self.weights())
        pv_live, kq_live = W_PV[:, :, d:], W_KQ[:, d:, d:]
        pv = W_PV[:, :, d:2 * d].pow(2).sum((1, 2)) / pv_live.pow(2).sum((1, 2)).clamp_min(1e-30)
        kq = W_KQ[:, 2 * d:, d:2 * d].pow(2).sum((1, 2)) / kq_live.pow(2).sum((1, 2)).clamp_min(1e-30)
        return pv * kq
