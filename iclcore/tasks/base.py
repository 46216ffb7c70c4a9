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
    same token width D, unless ``pad_features=True``: then narrower tokens are zero-padded to the widest
    one **before their last column**, which suits regression prompts ``[x; y]`` (the label stays last and
    the padded feature coordinates are zero, so they too contribute nothing to linear attention).
    """

    def __init__(self, samplers: Sequence[Sampler], pad_features: bool = False):
        if len(samplers) == 0:
            raise ValueError("samplers must contain at least one sampler")
        self.samplers = list(samplers)
        self.pad_features = pad_features

    def __len__(self) -> int:
        return len(self.samplers)

    def __call__(self, batch_size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        parts = [s(batch_size, generator) for s in self.samplers]
        widths = {Z.shape[-1] for Z, _ in parts}
        if self.pad_features and len(widths) > 1:
            D = max(widths)
            parts = [(torch.cat([Z[..., :-1], Z.new_zeros(*Z.shape[:-1], D - Z.shape[-1]), Z[..., -1:]], -1), y)
                     for Z, y in parts]
        elif len(widths) != 1:
            raise ValueError(f"all stacked samplers must give the same token width D (or use pad_features=True), "
                             f"got {sorted(widths)}")
        t_max = max(Z.shape[-2] for Z, _ in parts)
        padded = [torch.nn.functional.pad(Z, (0, 0, t_max - Z.shape[-2], 0)) for Z, _ in parts]
        return torch.stack(padded), torch.stack([y for _, y in parts])
