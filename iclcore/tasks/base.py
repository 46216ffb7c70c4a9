"""Helpers shared by all prompt samplers."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

Sampler = Callable[[int, torch.Generator], tuple[torch.Tensor, torch.Tensor]]


def make_generator(seed: int) -> torch.Generator:
    """A CPU ``torch.Generator`` seeded with ``seed`` (the only source of randomness a sampler uses)."""
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an int, got {seed!r}")
    return torch.Generator().manual_seed(seed)


class StackedTasks:
    """Stack E samplers into one ensemble sampler: ``Z`` (E, B, T_max, D), ``y`` (E, B).

    Prompts shorter than ``T_max`` are **left-padded with zero tokens**. For models whose prediction is a
    sum over example tokens (linear attention), a zero token contributes exactly nothing, so one batched
    model can train configurations with different prompt lengths n at once. All samplers must produce the
    same token width D.
    """

    def __init__(self, samplers: Sequence[Sampler]):
        if len(samplers) == 0:
            raise ValueError("samplers must contain at least one sampler")
        self.samplers = list(samplers)

    def __len__(self) -> int:
        return len(self.samplers)

    def __call__(self, batch_size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        parts = [s(batch_size, generator) for s in self.samplers]
        widths = {Z.shape[-1] for Z, _ in parts}
        if len(widths) != 1:
            raise ValueError(f"all stacked samplers must give the same token width D, got {sorted(widths)}")
        t_max = max(Z.shape[-2] for Z, _ in parts)
        padded = [torch.nn.functional.pad(Z, (0, 0, t_max - Z.shape[-2], 0)) for Z, _ in parts]
        return torch.stack(padded), torch.stack([y for _, y in parts])
