"""One-layer linear attention (von Oswald et al. 2023; Li, Rawat & Oymak 2024, Sec. 3).

For a prompt ``Z = [z_1, ..., z_n, z_q]`` with ``z_i = [x_i; y_i]`` and ``z_q = [x; 0]``, the prediction is
the last coordinate of one attention head without softmax, summed over the n example tokens
({eq}`eq-ch1-la`):

    y_hat = sum_{i<=n} (z_i^T W_k W_q^T z_q) * (v^T z_i).

``v`` is the last column of the value matrix W_v (the only column the prediction reads). Writing
``A = W_k W_q^T``, the part of y_hat that is odd in the labels is ``x^T P X^T y`` with

    P = (v_y A_xx + v_x A_yx)^T,

one step of preconditioned gradient descent with preconditioner P (:meth:`LinearAttention.
effective_preconditioner`; {eq}`eq-ch1-pgd` is the case ``v_x = 0``).

``value="label"`` fixes ``v_x = 0`` so the value reads only the label, as in Ahn et al. (2023) and
Zhang, Frei & Bartlett (2024). With the full value vector (``value="full"``) the model has a second route
to a preconditioner, ``v_x A_yx`` (rank one), and for small d training can get stuck there (Chapter 1,
"What to try").
"""

from __future__ import annotations

import torch
from torch import nn

from iclcore import validate


def ensemble_prompts(Z: torch.Tensor, token_dim: int, n_members: int) -> torch.Tensor:
    """Check a prompt batch and give it the ensemble layout (E or 1, B, T, D).

    ``Z`` is (B, T, D) (one batch shared by every member) or (E, B, T, D) (one batch per member).
    """
    if Z.dim() == 3:
        Z = Z.unsqueeze(0)
    if Z.dim() != 4 or Z.shape[-1] != token_dim or Z.shape[0] not in (1, n_members):
        raise ValueError(f"Z must have shape (B, T, {token_dim}) or ({n_members}, B, T, {token_dim}), "
                         f"got {tuple(Z.shape)}")
    return Z


def preconditioner_from(A: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """The PGD preconditioner ``P = (v_y A_xx + v_x A_yx)^T`` of score matrices A (E, D, D) and value readouts
    v (E, D); shape (E, d, d). With ``v_x = 0`` this is ``P = v_y A_xx^T`` of {eq}`eq-ch1-pgd`."""
    v_x, v_y = v[:, :-1], v[:, -1]
    return (v_y[:, None, None] * A[:, :-1, :-1] + v_x[:, :, None] * A[:, -1, None, :-1]).transpose(-1, -2)


class LinearAttention(nn.Module):
    """1-layer, 1-head linear attention with optional rank-r key/query factors ({eq}`eq-ch1-la`).

    Parameters
    ----------
    token_dim : width D of a token (d + 1 for regression prompts).
    rank : inner dimension r of ``W_q, W_k`` (D × r); ``None`` means full rank r = D.
    n_members : number E of independent models trained as one batch (see :mod:`iclcore.models`).
    value : ``"full"`` (trainable v in R^D) or ``"label"`` (v = v_y e_D: only the label is read).
    normalize : divide the sum over examples by n (the prompt length).
    init_scale, seed : parameters start at ``N(0, init_scale^2 / D)`` drawn from ``seed`` (not at 0:
        the factorised model has a saddle there).

    ``forward(Z)``: ``Z`` of shape (B, T, D) or (E, B, T, D), last token is the query; returns (E, B).
    Zero tokens contribute nothing to the sum, so left-padded prompts of different lengths
    (:func:`iclcore.tasks.stack`) share one model.
    """

    def __init__(self, token_dim: int, rank: int | None = None, n_members: int = 1, value: str = "full",
                 normalize: bool = False, init_scale: float = 0.3, seed: int = 0):
        super().__init__()
        D = validate.positive_int("token_dim", token_dim)
        r = D if rank is None else validate.int_in_range("rank", rank, 1, D)
        E = validate.positive_int("n_members", n_members)
        validate.positive("init_scale", init_scale)
        if value not in ("full", "label"):
            raise ValueError(f"value must be 'full' or 'label', got {value!r}")
        g = torch.Generator().manual_seed(seed)
        std = init_scale / D**0.5
        self.W_q = nn.Parameter(std * torch.randn(E, D, r, generator=g))
        self.W_k = nn.Parameter(std * torch.randn(E, D, r, generator=g))
        v = std * torch.randn(E, D, generator=g)
        self.value = nn.Parameter(v if value == "full" else v[:, -1:].abs())
        self.token_dim, self.rank, self.n_members, self.normalize = D, r, E, normalize
        self.value_mode = value

    def value_vector(self) -> torch.Tensor:
        """The value readout v (last column of W_v), shape (E, D); zero except v_y when value='label'."""
        if self.value_mode == "full":
            return self.value
        return torch.nn.functional.pad(self.value, (self.token_dim - 1, 0))

    def forward(self, Z: torch.Tensor) -> torch.Tensor:
        Z = ensemble_prompts(Z, self.token_dim, self.n_members)
        examples, query = Z[..., :-1, :], Z[..., -1, :]               # (E, B, n, D), (E, B, D)
        q = torch.einsum("ebd,edr->ebr", query, self.W_q)              # W_q^T z_q
        Az_q = torch.einsum("ebr,edr->ebd", q, self.W_k)               # A z_q = W_k W_q^T z_q
        scores = (examples * Az_q.unsqueeze(-2)).sum(-1)               # z_i^T A z_q, (E, B, n)
        values = (examples * self.value_vector()[:, None, None, :]).sum(-1)   # v^T z_i
        out = (scores * values).sum(-1)
        return out / examples.shape[-2] if self.normalize else out

    def score_matrix(self) -> torch.Tensor:
        """``A = W_k W_q^T``, shape (E, D, D)."""
        return self.W_k @ self.W_q.transpose(-1, -2)

    @torch.no_grad()
    def effective_preconditioner(self) -> torch.Tensor:
        """The PGD preconditioner P of {eq}`eq-ch1-pgd` (shape (E, d, d)): the odd-in-y part of the model is
        ``x^T P X^T y``.

        Not divided by n when ``normalize=True``; divide by the prompt length yourself in that case.
        """
        return preconditioner_from(self.score_matrix(), self.value_vector())
