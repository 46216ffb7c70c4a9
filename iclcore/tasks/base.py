"""What every task shares: the seeded generator, the squared-error metric and :func:`stack`.

A **sampler** is any callable ``sampler(batch_size, generator) -> (inputs, targets)``; nothing reads global
random state. Regression prompts are ``Z`` of shape ``(B, T, D)`` with targets ``y`` of shape ``(B,)``;
a stacked sampler adds a leading member axis E.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence

import torch

Sampler = Callable[[int, torch.Generator], tuple[torch.Tensor, torch.Tensor]]


def make_generator(seed: int) -> torch.Generator:
    """A CPU ``torch.Generator`` seeded with ``seed`` (the only source of randomness a sampler uses)."""
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an int, got {seed!r}")
    return torch.Generator().manual_seed(seed)


def squared_error(pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean squared error over the batch for each ensemble member: pred (E, B), y (E, B) or (B,) -> (E,)."""
    return ((pred - y) ** 2).mean(dim=-1)


class Stacked:
    """E samplers drawn together as one ensemble sampler: ``Z`` (E, B, T_max, D), ``y`` (E, B).

    ``members`` names the samplers (the keys of the mapping given to :func:`stack`, else 0..E-1), so
    results can be read by name (:class:`iclcore.evaluate.Results`).
    """

    def __init__(self, samplers: Sequence[Sampler], members: Sequence[Hashable], pad_features: bool = False):
        self.samplers = list(samplers)
        self.members = tuple(members)
        self.pad_features = pad_features

    def __len__(self) -> int:
        return len(self.samplers)

    def __getitem__(self, member: Hashable) -> Sampler:
        """The sampler of one member, by name."""
        return self.samplers[self.members.index(member)]

    def __call__(self, batch_size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        parts = [s(batch_size, generator) for s in self.samplers]
        widths = {Z.shape[-1] for Z, _ in parts}
        if self.pad_features and len(widths) > 1:
            D = max(widths)
            parts = [(torch.cat([Z[..., :-1], Z.new_zeros(*Z.shape[:-1], D - Z.shape[-1]), Z[..., -1:]], -1), y)
                     for Z, y in parts]
        elif len(widths) != 1:
            raise ValueError(f"samplers: all must give the same token width D (or use pad_features=True), "
                             f"got {sorted(widths)}")
        t_max = max(Z.shape[-2] for Z, _ in parts)
        padded = [torch.nn.functional.pad(Z, (0, 0, t_max - Z.shape[-2], 0)) for Z, _ in parts]
        return torch.stack(padded), torch.stack([y for _, y in parts])


def stack(samplers: Mapping[Hashable, Sampler] | Sequence[Sampler], pad_features: bool = False) -> Stacked:
    """Stack samplers into one ensemble sampler (the book's one way to batch configurations).

    Prompts shorter than ``T_max`` are **left-padded with zero tokens**. For models whose prediction is a
    sum over example tokens (linear attention), a zero token contributes exactly nothing, so one batched
    model can train configurations with different prompt lengths n at once. All samplers must produce the
    same token width D, unless ``pad_features=True``: then narrower tokens are zero-padded to the widest
    one **before their last column**, which suits regression prompts ``[x; y]``.

    Pass a mapping ``{name: sampler}`` to name the members (e.g. ``{(n, rank): ...}``).
    """
    if isinstance(samplers, Mapping):
        members, items = list(samplers.keys()), list(samplers.values())
    else:
        items = list(samplers)
        members = list(range(len(items)))
    if not items:
        raise ValueError("samplers must contain at least one sampler")
    if not all(callable(s) for s in items):
        raise ValueError("samplers: every entry must be a sampler callable(batch_size, generator)")
    return Stacked(items, members, pad_features)
