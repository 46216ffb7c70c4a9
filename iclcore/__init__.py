"""iclcore: the shared code of the ICL Companion book.

Modules
-------
tasks    seeded prompt samplers            models   torch modules (linear attention, ...)
theory   closed forms in numpy             train    online training loop, risk evaluation
viz      plotly theme, book renderer,      widgets  ipywidgets panels for live Jupyter use
         slider figures over a grid        checks   the "Reproduction checks" table
profile  ICL_PROFILE=ci|full switch        validate argument checks raising ValueError
"""

from iclcore.profile import PROFILE, choose

__version__ = "0.1.0"

__all__ = ["PROFILE", "choose", "__version__"]
