"""Several different models trained side by side as one ensemble (the book's ensemble convention).

Models of one architecture batch their members themselves (``n_members=E``: parameters with a leading
dimension E). Models of different architectures are put side by side with :class:`Ensemble`: ``forward``
stacks their outputs along a leading member axis, so the loss is one value per member and the sum trains
each exactly as if alone.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

import torch
from torch import nn


class Ensemble(nn.ModuleList):
    """Models side by side: ``forward(x)`` returns ``(E, ...)``; ``members`` names them.

    With ``split_inputs=True`` member e receives ``x[e]`` (inputs stacked along a leading member axis, e.g.
    from :func:`iclcore.tasks.stack`) instead of the shared input.
    """

    def __init__(self, models: Mapping[Hashable, nn.Module] | Sequence[nn.Module], split_inputs: bool = False):
        if isinstance(models, Mapping):
            names, mods = list(models.keys()), list(models.values())
        else:
            mods = list(models)
            names = list(range(len(mods)))
        if not mods:
            raise ValueError("models must hold at least one model")
        super().__init__(mods)
        self.members = tuple(names)
        self.split_inputs = split_inputs

    def member(self, name: Hashable) -> nn.Module:
        """One member, by name."""
        return self[self.members.index(name)]

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        if not self.split_inputs:
            return torch.stack([m(*inputs) for m in self])
        if any(len(x) != len(self) for x in inputs):
            raise ValueError(f"split_inputs needs one input per member: got {[len(x) for x in inputs]} inputs "
                             f"for {len(self)} models")
        return torch.stack([m(*(x[e] for x in inputs)) for e, m in enumerate(self)])
