"""Figures: one plotly theme for the book, the renderer that makes figures appear in the static book,
and :func:`slider_figure`, which turns a precomputed grid into a figure with a slider (no kernel needed).

Call :func:`setup_plotly` once at the top of a chapter (the hidden first cell does it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import plotly.graph_objects as go
import plotly.io as pio
from plotly.io._base_renderers import MimetypeRenderer

PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"]
"""Colours in a fixed order: theory lines and their measured points share a colour."""


class BookHtmlRenderer(MimetypeRenderer):
    """Adds a ``text/html`` output that references the site's single local copy of plotly.js.

    JupyterLab draws the plotly mimetype; the book (myst-nb) uses this HTML. ``include_plotlyjs=False``
    keeps each figure to its JSON (kilobytes); ``_ext/plotly_offline.py`` adds the one ``<script>`` tag.
    """

    def to_mimebundle(self, fig_dict):
        html = pio.to_html(fig_dict, include_plotlyjs=False, include_mathjax=False, full_html=False,
                           auto_play=False, validate=False, config={"displaylogo": False})
        return {"text/html": html}


def book_template() -> go.layout.Template:
    """The book's plotly theme: white background, light grid, the fixed palette."""
    t = go.layout.Template(pio.templates["plotly_white"])
    t.layout.colorway = PALETTE
    t.layout.font = {"family": "Helvetica, Arial, sans-serif", "size": 13}
    t.layout.margin = {"l": 60, "r": 20, "t": 60, "b": 50}
    t.layout.legend = {"bgcolor": "rgba(255,255,255,0.7)"}
    return t


def setup_plotly() -> None:
    """Register the book theme and renderer: ``plotly_mimetype+book`` (Jupyter and the static book)."""
    pio.templates["icl"] = book_template()
    pio.templates.default = "icl"
    pio.renderers["book"] = BookHtmlRenderer()
    pio.renderers.default = "plotly_mimetype+book"


def slider_figure(values: Sequence, traces_for: Callable[[object], list], label: str,
                  layout: dict | None = None, fmt: Callable[[object], str] = str, active: int = 0) -> go.Figure:
    """A figure whose slider steps through precomputed ``values`` of one knob.

    ``traces_for(value)`` returns the list of traces to draw at that value; it must return the same number
    and kinds of traces for every value (plotly animates trace i into trace i). The slider is drawn in the
    static HTML and needs no kernel. ``fmt`` formats a value for the slider label.
    """
    values = list(values)
    if not values:
        raise ValueError("values must hold at least one knob value")
    if not 0 <= active < len(values):
        raise ValueError(f"active must be in [0, {len(values) - 1}], got {active}")
    per_value = [traces_for(v) for v in values]
    counts = {len(t) for t in per_value}
    if len(counts) != 1:
        raise ValueError(f"traces_for must return the same number of traces for every value, got {counts}")
    names = [fmt(v) for v in values]
    frames = [go.Frame(data=traces, name=name) for traces, name in zip(per_value, names, strict=True)]
    steps = [{"method": "animate", "label": name,
              "args": [[name], {"mode": "immediate", "frame": {"duration": 0, "redraw": True},
                                "transition": {"duration": 0}}]} for name in names]
    fig = go.Figure(data=per_value[active], frames=frames)
    fig.update_layout(
        sliders=[{"active": active, "currentvalue": {"prefix": f"{label} = "}, "pad": {"t": 50},
                  "steps": steps}],
        **(layout or {}))
    return fig
