"""Figures: one plotly theme for the book, the renderer that makes figures appear in the static book,
and :func:`slider_figure`, which turns a precomputed grid into a figure with a slider (no kernel needed).

Call :func:`setup_plotly` once at the top of a chapter (the hidden first cell does it). Every figure the
renderers draw passes through :func:`tidy` first, so the book's figure rules hold in every chapter without
each chapter remembering them: log axes show plain numbers (20, 60 -- not "2, 6"; 1e-05, not "10μ"), linear
axes never use SI prefixes, and TeX written between dollars in trace names and titles becomes plotly's own
markup (``$W_F^{mm}$`` -> ``W<sub>F</sub><sup>mm</sup>``, ``$\\alpha$`` -> α). :func:`fmt` formats a number
for a label or a caption.
"""

from __future__ import annotations

import base64
import copy
import math
import re
from collections.abc import Callable, Sequence

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
from plotly.io._base_renderers import MimetypeRenderer, PlotlyRenderer

PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"]
"""Colours in a fixed order: theory lines and their measured points share a colour."""


GREEK = {"alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "Delta": "Δ", "epsilon": "ε", "varepsilon": "ε",
         "eta": "η", "theta": "θ", "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν", "pi": "π", "rho": "ρ",
         "sigma": "σ", "Sigma": "Σ", "tau": "τ", "phi": "φ", "varphi": "φ", "chi": "χ", "psi": "ψ",
         "omega": "ω", "Omega": "Ω", "ell": "ℓ", "infty": "∞", "star": "*", "ast": "*", "cdot": "·",
         "times": "×", "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥", "approx": "≈", "to": "→", "sim": "~",
         "top": "ᵀ", "prime": "′", "pm": "±", "neq": "≠", "propto": "∝", "sqrt": "√", "log": "log",
         "exp": "exp", "min": "min", "max": "max", "quad": " ", ",": " ", ";": " "}
_SCRIPT = re.compile(r"([_^])(\{[^{}]*\}|\\?[A-Za-z0-9*+\-]|\\[A-Za-z]+)")


def tex_to_plotly(text: str) -> str:
    """Rewrite the TeX between ``$...$`` in ``text`` as plotly markup (Unicode, ``<sub>``, ``<sup>``).

    Plotly figures in the static book do not typeset TeX; this keeps legends readable:
    ``"$W_F^{mm}$"`` -> ``"W<sub>F</sub><sup>mm</sup>"``, ``"$e^{-\\Delta}$"`` -> ``"e<sup>-Δ</sup>"``.
    Text outside dollars is left alone.
    """
    def inner(m: re.Match) -> str:
        t = m.group(1)
        t = re.sub(r"\\(?:mathrm|text|mathbf|operatorname|boldsymbol|mathcal)\{([^{}]*)\}", r"\1", t)
        t = re.sub(r"\\(hat|tilde|bar)\s*(\\[A-Za-z]+|[A-Za-z])", r"\\\1{\2}", t)
        t = re.sub(r"\\(hat|tilde|bar)\{([^{}]*)\}", lambda g: g.group(2) + {"hat": "\u0302", "tilde": "\u0303",
                                                                           "bar": "\u0304"}[g.group(1)], t)
        t = re.sub(r"\\([A-Za-z]+|[,;])", lambda g: GREEK.get(g.group(1), g.group(1)), t)
        t = _SCRIPT.sub(lambda g: f"<{'sub' if g.group(1) == '_' else 'sup'}>{g.group(2).strip('{}')}"
                                  f"</{'sub' if g.group(1) == '_' else 'sup'}>", t)
        return t.replace("{", "").replace("}", "")
    return re.sub(r"\$([^$]+)\$", inner, text)


def fmt(x: float, digits: int = 3) -> str:
    """``x`` with ``digits`` significant digits, for labels and captions (0.117, not 0.11699999868869781)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    return f"{x:.{digits}g}"


def _texts(obj: dict, keys=("name", "text", "title", "hovertemplate", "legendgrouptitle")) -> None:
    for key in keys:
        v = obj.get(key)
        if isinstance(v, str) and "$" in v:
            obj[key] = tex_to_plotly(v)
        elif isinstance(v, dict) and isinstance(v.get("text"), str) and "$" in v["text"]:
            v["text"] = tex_to_plotly(v["text"])


def tidy(fig: go.Figure | dict) -> dict:
    """The book's figure rules, applied by the renderers to every figure (see the module docstring).

    Returns a new figure dict; ``fig`` is not modified. Axes the chapter has formatted itself
    (``tickformat`` or ``exponentformat`` set) are left as they are. The theme's defaults for trace kinds the
    figure does not draw are dropped (about 4 kB a figure in the page).
    """
    d = copy.deepcopy(fig.to_plotly_json() if isinstance(fig, go.Figure) else fig)
    layout = d.setdefault("layout", {})
    for key, axis in list(layout.items()):
        if not (re.fullmatch(r"[xy]axis\d*", key) and isinstance(axis, dict)):
            continue
        _texts(axis, ("title",))
        if "tickformat" in axis or "exponentformat" in axis:
            continue
        if axis.get("type") == "log":
            axis["tickformat"] = "~g"          # 20, 60, 0.001, 1e-05: no "2, 6" minor digits, no SI prefix
        # linear axes: the book template sets exponentformat="power" (10⁻⁵, never "10μ")
    _texts(layout, ("title",))
    for ann in layout.get("annotations", []) or []:
        _texts(ann, ("text",))
    for trace in d.get("data", []) or []:
        _texts(trace)
        _compact(trace)
    template = layout.get("template")
    if isinstance(template, dict) and isinstance(template.get("data"), dict):   # defaults of unused trace kinds
        used = {t.get("type", "scatter") for t in d.get("data", []) or []}      # are kilobytes per figure
        template["data"] = {k: v for k, v in template["data"].items() if k in used}
    for frame in d.get("frames", []) or []:
        for trace in frame.get("data", []) or []:
            _texts(trace)
            _compact(trace)
    return d


COMPACT_KEYS = ("x", "y", "z", "customdata")


def _compact(trace: dict) -> None:
    """Store a trace's float coordinates as float32: half the bytes in the page, 7 significant digits.

    Only arrays of finite-or-NaN floats whose nonzero magnitudes lie in [1e-30, 1e30] are converted (a log axis
    reaching 1e-40 keeps float64); lists with gaps (``None``), strings and integers are left alone.
    """
    for key in COMPACT_KEYS:
        value = trace.get(key)
        if isinstance(value, dict) and value.get("dtype") == "f8" and "bdata" in value:   # plotly's typed array
            arr = np.frombuffer(base64.b64decode(value["bdata"]), dtype="<f8")
            if "shape" in value:
                arr = arr.reshape([int(n) for n in str(value["shape"]).split(",")])
        elif value is None or isinstance(value, (str, dict)):
            continue
        try:
            arr = np.asarray(arr if isinstance(value, dict) else value)
        except (ValueError, TypeError):
            continue
        if arr.dtype.kind != "f" or arr.dtype == np.float32 or arr.size < 8:
            continue
        size = np.abs(arr[np.isfinite(arr) & (arr != 0)])
        if size.size and (size.min() < 1e-30 or size.max() > 1e30):
            continue
        packed = {"dtype": "f4", "bdata": base64.b64encode(arr.astype("<f4").tobytes()).decode()}
        if arr.ndim > 1:
            packed["shape"] = ", ".join(str(n) for n in arr.shape)
        trace[key] = packed                     # plotly.js's typed-array form: 4 bytes a value, base64


class TidyPlotlyRenderer(PlotlyRenderer):
    """Plotly's own mimetype renderer (JupyterLab, VS Code), drawing the :func:`tidy` figure."""

    def to_mimebundle(self, fig_dict):
        return super().to_mimebundle(tidy(fig_dict))


class BookHtmlRenderer(MimetypeRenderer):
    """Adds a ``text/html`` output that references the site's single local copy of plotly.js.

    JupyterLab draws the plotly mimetype; the book (myst-nb) uses this HTML. ``include_plotlyjs=False``
    keeps each figure to its JSON (kilobytes); ``_ext/plotly_offline.py`` adds the one ``<script>`` tag.
    """

    def to_mimebundle(self, fig_dict):
        html = pio.to_html(tidy(fig_dict), include_plotlyjs=False, include_mathjax=False, full_html=False,
                           auto_play=False, validate=False, config={"displaylogo": False})
        return {"text/html": html}


def book_template() -> go.layout.Template:
    """The book's plotly theme: white background, light grid, the fixed palette."""
    t = go.layout.Template(pio.templates["plotly_white"])
    t.layout.colorway = PALETTE
    t.layout.font = {"family": "Helvetica, Arial, sans-serif", "size": 13}
    t.layout.margin = {"l": 60, "r": 20, "t": 60, "b": 50}
    t.layout.legend = {"bgcolor": "rgba(255,255,255,0.7)"}
    for axis in (t.layout.xaxis, t.layout.yaxis):
        axis.exponentformat = "power"          # 10⁻⁵ rather than plotly's SI prefixes ("10μ", "100p")
    return t


def setup_plotly() -> None:
    """Register the book theme and renderers: ``icl_mimetype+book`` (Jupyter and the static book)."""
    pio.templates["icl"] = book_template()
    pio.templates.default = "icl"
    pio.renderers["icl_mimetype"] = TidyPlotlyRenderer()
    pio.renderers["book"] = BookHtmlRenderer()
    pio.renderers.default = "icl_mimetype+book"


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
