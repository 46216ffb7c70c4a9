"""iclcore: the shared code of the ICL Companion book.

Modules
-------
tasks    seeded prompt samplers            models   torch modules (linear attention, ...)
theory   closed forms in numpy             train    online training loop, risk evaluation
viz      plotly theme, book renderer,      widgets  ipywidgets panels for live Jupyter use
         slider figures over a grid        checks   the "Reproduction checks" table
profile  ICL_PROFILE=ci|full switch        validate argument checks raising ValueError
"""

import os

import torch

from iclcore.profile import PROFILE, choose

# The book's models are small, so a step is dominated by overhead, and notebooks run two at a time under
# nbval: one torch thread per kernel is faster than two competing ones. Override with ICL_TORCH_THREADS.
torch.set_num_threads(int(os.environ.get("ICL_TORCH_THREADS", "1")))

__version__ = "0.1.0"

__all__ = ["PROFILE", "choose", "__version__"]
