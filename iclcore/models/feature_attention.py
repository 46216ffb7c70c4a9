"""A learned feature map followed by one linear-attention layer (Kim, Nakamaki & Suzuki 2024).

A multilayer perceptron ``phi: R^d -> R^N`` embeds every input, and one linear-attention layer reads the
prompt in feature space ({eq}`eq-ch13-model`):

    y_hat = phi(x)^T Gamma (1/n) sum_{i<=n} phi(x_i) y_i,

with ``Gamma`` an N x N matrix. The query-key score of example i is ``phi(x_i)^T Gamma^T phi(x)`` and its value
is the label ``y_i``: one preconditioned gradient step from zero on the in-context least-squares loss, in the
feature space that pretraining chose. With ``phi`` the first N basis functions of the task prior and
``Gamma = I`` this is the projection estimator; with ``Gamma`` diagonal, a shrunk projection estimator.

Left-padded zero tokens (:func:`iclcore.tasks.stack` of prompts with different n) carry no label and are not
counted in n. Members whose prompts are shorter are computed on their own tokens only (no wasted feature
evaluations on padding), so one ensemble trains models for many n at the cost of their total length.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from iclcore import validate


class FeatureLinearAttention(nn.Module):
    """``phi`` = MLP(d -> width -> ... -> N) with GELU, then linear attention with matrix ``Gamma``
    ({eq}`eq-ch13-model`).

    Parameters
    ----------
    d : input dimension (tokens have width d + 1).
    n_features : number N of features (the output width of ``phi``).
    width, depth : hidden width and number of hidden layers of the MLP (depth >= 1).
    n_members : number E of independent models trained as one batch (see :mod:`iclcore.models`).
    learn_features : ``True`` (train ``phi``), ``False`` (``phi`` stays at its random initialisation: only
        ``Gamma`` learns), or one bool per member.
    input_scale : norm of a first-layer weight vector at initialisation; each first-layer unit's kink is
        placed through a uniform random point of the cube [0, 1]^d, so the random features vary inside it.
    seed : seed of the initialisation. ``Gamma`` starts at zero (the model first predicts 0).

    ``forward(Z)``: ``Z`` of shape (B, T, d+1) or (E, B, T, d+1), last token the query -> (E, B).
    """

    def __init__(self, d: int, n_features: int, width: int = 32, depth: int = 2, n_members: int = 1,
                 learn_features: bool | Sequence[bool] = True, input_scale: float = 8.0, seed: int = 0):
        super().__init__()
        self.d = validate.positive_int("d", d)
        self.n_features = N = validate.positive_int("n_features", n_features)
        self.width = w = validate.positive_int("width", width)
        self.depth = validate.positive_int("depth", depth)
        self.n_members = E = validate.positive_int("n_members", n_members)
        validate.positive("input_scale", input_scale)
        learn = [learn_features] * E if isinstance(learn_features, bool) else list(learn_features)
        if len(learn) != E or not all(isinstance(v, bool) for v in learn):
            raise ValueError(f"learn_features must be a bool or {E} bools (one per member), got {learn_features!r}")
        g = torch.Generator().manual_seed(seed)
        W0 = input_scale / math.sqrt(d) * torch.randn(E, d, w, generator=g)
        anchor = torch.rand(E, 1, d, generator=g)                   # kink of unit j through a point of the cube
        widths = [w] * depth + [N]
        self.weights = nn.ParameterList([nn.Parameter(W0)] + [
            nn.Parameter(torch.randn(E, widths[i], widths[i + 1], generator=g) / math.sqrt(widths[i]))
            for i in range(depth)])
        self.biases = nn.ParameterList([nn.Parameter(-(anchor @ W0))] + [
            nn.Parameter(torch.zeros(E, 1, widths[i + 1])) for i in range(depth)])
        self.Gamma = nn.Parameter(torch.zeros(E, N, N))
        self.register_buffer("learn_mask", torch.tensor(learn, dtype=torch.float32))
        self.learn_features = tuple(learn)
        if not all(learn):
            for p in self.feature_parameters():
                p.register_hook(self._mask_gradient)

    def feature_parameters(self) -> list[nn.Parameter]:
        """The parameters of ``phi`` (weights and biases of the MLP)."""
        return [*self.weights, *self.biases]

    def _mask_gradient(self, grad: torch.Tensor) -> torch.Tensor:
        return grad * self.learn_mask.to(grad.dtype).reshape(-1, *([1] * (grad.dim() - 1)))

    @property
    def token_dim(self) -> int:
        return self.d + 1

    def _phi(self, x: torch.Tensor, members: torch.Tensor | None) -> torch.Tensor:
        """Features of points ``x`` (e, ..., d) for the given members (all when None) -> (e, ..., N)."""
        lead = x.shape[1:-1]
        h = x.reshape(x.shape[0], -1, self.d)
        for i, (W, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            if members is not None:
                W, b = W[members], b[members]
            h = torch.baddbmm(b, h, W)
            if i < self.depth:
                h = nn.functional.gelu(h)
        return h.reshape(x.shape[0], *lead, self.n_features)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """``phi(x)`` of every member: ``x`` (..., d) shared by all members, or (E, ..., d) -> (E, ..., N)."""
        if x.shape[-1] != self.d:
            raise ValueError(f"x must have last dimension d={self.d}, got shape {tuple(x.shape)}")
        if x.dim() == 1 or x.shape[0] != self.n_members:
            x = x.expand(self.n_members, *x.shape)
        return self._phi(x, None)

    @torch.no_grad()
    def kernel(self, x: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
        """The smoothing kernel ``K(x, x') = phi(x)^T Gamma phi(x')`` of every member: ``y_hat = (1/n) sum_i
        K(x, x_i) y_i``. Points ``x`` (P, d) and ``x2`` (Q, d) -> (E, P, Q)."""
        return torch.einsum("epn,enm,eqm->epq", self.features(x), self.Gamma, self.features(x2))

    def _predict(self, Z: torch.Tensor, members: torch.Tensor | None) -> torch.Tensor:
        phi = self._phi(Z[..., : self.d], members)                              # (e, B, t, N)
        examples, labels = Z[..., :-1, :], Z[..., :-1, -1]
        count = (examples != 0).any(-1).sum(-1).clamp(min=1)                   # real examples per prompt
        b_hat = torch.einsum("ebtn,ebt->ebn", phi[..., :-1, :], labels) / count.unsqueeze(-1)
        Gamma = self.Gamma if members is None else self.Gamma[members]
        return torch.einsum("ebn,enm,ebm->eb", phi[..., -1, :], Gamma, b_hat)

    def forward(self, Z: torch.Tensor) -> torch.Tensor:
        if Z.dim() == 3:
            Z = Z.unsqueeze(0)
        if Z.dim() != 4 or Z.shape[-1] != self.token_dim or Z.shape[0] not in (1, self.n_members):
            raise ValueError(f"Z must have shape (B, T, {self.token_dim}) or ({self.n_members}, B, T, "
                             f"{self.token_dim}), got {tuple(Z.shape)}")
        Z = Z.expand(self.n_members, *Z.shape[1:])
        # first position holding a real token, per member: tokens before it are padding for every prompt
        real = (Z != 0).any(-1).any(1)                                           # (E, T)
        start = torch.where(real.any(-1), real.float().argmax(-1), Z.shape[2] - 1)
        starts = torch.unique(start)
        if len(starts) == 1:
            return self._predict(Z[:, :, int(starts[0]):], None)
        out = Z.new_empty(self.n_members, Z.shape[1])
        for t0 in starts.tolist():
            members = torch.nonzero(start == t0).squeeze(-1)
            out[members] = self._predict(Z[members][:, :, t0:], members)
        return out
