"""Seeded prompt samplers. Every sampler takes a ``torch.Generator``; nothing reads global random state.

A sampler is any callable ``sampler(batch_size, generator) -> (Z, y)`` with prompt tokens ``Z`` of shape
``(B, T, D)`` (or ``(E, B, T, D)`` for an ensemble of E configurations) and targets ``y`` of shape ``(B,)``
(or ``(E, B)``); :func:`iclcore.train.fit_online` trains on any such callable.
"""

from iclcore.tasks.base import StackedTasks, make_generator
from iclcore.tasks.linear_regression import LinearRegression
from iclcore.tasks.recall import AssociativeRecall, Copying
from iclcore.tasks.retrieval import RetrievalRegression
from iclcore.tasks.sequences import LMWindows, NeedleRetrieval, spiky_transitions, synthetic_stories
from iclcore.tasks.token_selection import repeat_instances, token_selection

__all__ = [
    "AssociativeRecall", "Copying", "LMWindows", "LinearRegression", "NeedleRetrieval", "RetrievalRegression",
    "StackedTasks", "make_generator", "repeat_instances", "spiky_transitions", "synthetic_stories",
    "token_selection",
]
