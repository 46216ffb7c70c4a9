"""Sphinx extension: serve plotly.js from the site itself, and only on pages that draw a figure.

At the end of the build, the plotly.js bundled in the installed ``plotly`` wheel is written once to
``_static/plotly.min.js`` (so its version always matches the Python package, and nothing is committed).
Pages whose body contains ``Plotly.newPlot`` get a ``<script>`` tag for it, with priority 400 so that it
loads before require.js (otherwise plotly registers itself as an AMD module and ``window.Plotly`` is
undefined).
"""

from __future__ import annotations

from pathlib import Path

FILENAME = "plotly.min.js"


def _add_script(app, pagename, templatename, context, doctree):
    if "Plotly.newPlot" in context.get("body", ""):
        app.add_js_file(FILENAME, priority=400)


def _write_plotlyjs(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    from plotly.offline import get_plotlyjs

    static = Path(app.outdir) / "_static"
    static.mkdir(parents=True, exist_ok=True)
    (static / FILENAME).write_text(get_plotlyjs(), encoding="utf-8")


def setup(app):
    app.connect("html-page-context", _add_script)
    app.connect("build-finished", _write_plotlyjs)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
