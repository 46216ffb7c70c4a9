"""Sphinx extension: the site serves its own plotly.js, a light one, and pages never wait for it.

* **Which plotly.js.** The cartesian-only partial bundle (``plotly.js-cartesian-dist-min``, 1.5 MB instead of
  the full 4.8 MB; every trace the book draws -- scatter, bar, box, heatmap, histogram, contour -- is in it) of
  exactly the plotly.js version that the installed ``plotly`` wheel bundles. It is installed at build time
  from its npm package into ``_build/.plotlyjs/<version>/`` (nothing is committed) and written to
  ``_static/plotly.min.js``. Where npm is missing or offline, the full bundle from the wheel is used instead
  and the build says so (the browser test's page-weight budget then fails, so this cannot go unnoticed).
* **When it loads.** Each figure's inline script becomes ``<script type="text/x-plotly-figure">``; the small
  ``_static/plotly-lazy.js`` (loaded ``async``, only on pages with figures) fetches plotly.js when the first
  figure comes near the viewport and draws each figure as it approaches. A page opens without plotly.js, and
  DOMContentLoaded never waits for it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

from sphinx.util import logging

logger = logging.getLogger(__name__)
PACKAGE = "plotly.js-cartesian-dist-min"
FILENAME = "plotly.min.js"
LOADER = Path(__file__).parent / "static" / "plotly-lazy.js"
FIGURE_SCRIPT = re.compile(r'<script(?: type="text/javascript")?>(\s*window\.PLOTLYENV=.*?)</script>', re.DOTALL)
BUILD_TRACES = {"bar", "box", "contour", "heatmap", "histogram", "histogram2d", "histogram2dcontour", "image",
                "pie", "scatter", "scatterternary", "violin"}
"""The trace types in the cartesian bundle (its README); a figure using another type fails the build (-W)."""


def trace_types(script: str) -> set[str]:
    """The trace types of the figure drawn by one ``Plotly.newPlot("id", data, ...)`` script."""
    start = script.find("Plotly.newPlot(")
    if start < 0:
        return set()
    rest = script[start + len("Plotly.newPlot("):]
    rest = rest[rest.index(",") + 1:].lstrip()                 # skip the element id
    data, _ = json.JSONDecoder().raw_decode(rest)
    return {trace.get("type", "scatter") for trace in data}


def plotlyjs_version() -> str:
    """The plotly.js version bundled in the installed plotly wheel (read from the bundle's header)."""
    from plotly.offline import get_plotlyjs

    found = re.search(r"plotly\.js v(\d+\.\d+\.\d+)", get_plotlyjs()[:2000])
    if not found:
        raise RuntimeError("cannot read the plotly.js version from the plotly wheel's bundle")
    return found.group(1)


def cartesian_bundle(build_dir: Path) -> Path | None:
    """The partial bundle for this plotly version, installed from npm on first use; None if unavailable."""
    version = plotlyjs_version()
    prefix = build_dir / ".plotlyjs" / version
    bundle = prefix / "node_modules" / PACKAGE / "plotly-cartesian.min.js"
    if bundle.exists():
        return bundle
    npm = shutil.which("npm")
    if npm is None:
        return None
    prefix.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run([npm, "install", "--no-save", "--no-audit", "--no-fund", "--loglevel=error",
                        "--prefix", str(prefix), f"{PACKAGE}@{version}"],
                       check=True, capture_output=True, timeout=300)
    except (subprocess.SubprocessError, OSError):
        return None
    return bundle if bundle.exists() and f"v{version}" in bundle.read_text()[:500] else None


def _page(app, pagename, templatename, context, doctree):
    body = context.get("body", "")
    if "Plotly.newPlot" not in body:
        return
    unknown = {t for script in FIGURE_SCRIPT.findall(body) for t in trace_types(script)} - BUILD_TRACES
    if unknown:
        logger.warning(f"{pagename}: figures use trace types outside the cartesian plotly bundle: {unknown}")
    context["body"] = FIGURE_SCRIPT.sub(r'<script type="text/x-plotly-figure">\1</script>', body)
    app.add_js_file("plotly-lazy.js", loading_method="async")


def _write(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    static = Path(app.outdir) / "_static"
    static.mkdir(parents=True, exist_ok=True)
    bundle = cartesian_bundle(Path(app.outdir).parent)
    if bundle is None:
        from plotly.offline import get_plotlyjs

        logger.info(f"{PACKAGE} could not be installed (no npm or no registry): using the full plotly.js bundle")
        (static / FILENAME).write_text(get_plotlyjs(), encoding="utf-8")
    else:
        shutil.copyfile(bundle, static / FILENAME)
    shutil.copyfile(LOADER, static / LOADER.name)


def setup(app):
    app.connect("html-page-context", _page)
    app.connect("build-finished", _write)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
