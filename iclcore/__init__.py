"""iclcore: the shared code of the ICL Companion book, organised by job.

Imports go one way, down this list (``tests/test_layout.py`` enforces it):

===============  ========================================================================================
``validate``     argument checks raising ``ValueError`` that name the argument
``profile``      ``ICL_PROFILE`` sizes, ``ICL_SEED`` seeds, ``ICL_BREAK`` break switches, torch threads
``tasks``        seeded samplers and the metric that goes with each task; :func:`tasks.stack`
``models``       torch modules only (``n_members=E`` ensembles; :class:`models.Ensemble`)
``theory``       every closed form and every convex program (the attention-SVM solvers included)
``train``        the one training loop :func:`train.fit` (``optim``: normalised gradient descent)
``evaluate``     :func:`evaluate.evaluate` -> :class:`evaluate.Results`, named metrics per member
``experiments``  one module per chapter, for drivers too long for a notebook; imported only by its chapter
``viz``          the plotly theme, the book renderer, slider figures
``widgets``      ipywidgets panels for live use in Jupyter
``checks``       the "Reproduction checks" table
===============  ========================================================================================

Nothing here changes global state at import; a chapter's first cell calls ``profile.set_threads()`` and
``viz.setup_plotly()``.
"""

__version__ = "0.2.0"

__all__ = ["__version__"]
