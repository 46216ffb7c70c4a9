"""Tiny models and samplers for testing the core (train, evaluate) without any chapter's model."""

from __future__ import annotations

import torch
from torch import nn


class LinearEnsemble(nn.Module):
    """E linear predictors ``y_hat = w_e^T x``: inputs (B, D) shared or (E, B, D) per member -> (E, B)."""

    def __init__(self, dim: int, n_members: int = 1, seed: int = 0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.w = nn.Parameter(torch.randn(n_members, dim, generator=g, dtype=torch.float64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.einsum("ed,...bd->eb", self.w, x) if x.dim() == 2 else torch.einsum("ed,ebd->eb", self.w, x)


def linear_task(beta, noise: float = 0.0):
    """A sampler of ``(x, y = beta^T x + noise * xi)`` with ``x ~ N(0, I)`` in float64."""
    beta = torch.as_tensor(beta, dtype=torch.float64)

    def sample(batch_size: int, generator: torch.Generator):
        x = torch.randn(batch_size, len(beta), generator=generator, dtype=torch.float64)
        return x, x @ beta + noise * torch.randn(batch_size, generator=generator, dtype=torch.float64)

    return sample
