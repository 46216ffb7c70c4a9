"""Sphinx extension: what every chapter page gives a reader, and a page that is light and works on a phone.

* A **"Run this chapter"** box under each chapter's title: how to get the code (the source archive built
  into the site, or the repository), ``make lab``, which notebook to open, and a link to the notation page.
  Every **live panel** (a code cell calling ``live_panel(``) gets a one-line note linking to that box: the
  static page has no kernel, so the panel's output is not shown.
* **Downloaded notebooks keep their outputs:** the ``.ipynb`` offered by the page's download button is the
  executed notebook (with its kernelspec), not the output-free source.
* **Light pages:** ``reader.css`` (code, equations, tables and figures scroll inside their own box on a phone;
  the plotly toolbar is hidden there; the theme's few icons drawn as characters) replaces the theme's 1.5 MB
  icon script, MathJax loads only the parts the book uses, and the thebe configuration (live code is off,
  and the script was included twice, which raised a console error) is dropped.
  The site gets a favicon, so no page asks for a missing one.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from docutils import nodes
from sphinx import addnodes

STATIC = Path(__file__).parent / "static"
ARCHIVE = "_downloads/icl-companion.zip"
CHAPTERS = "book/chapters/"


def _xref(docname: str, text: str) -> addnodes.pending_xref:
    ref = addnodes.pending_xref("", refdomain="std", reftype="doc", reftarget=f"/{docname}", refexplicit=True,
                                refwarn=True)
    ref += nodes.inline("", text)
    return ref


def run_box(docname: str) -> nodes.admonition:
    """The "Run this chapter" admonition for the chapter ``docname`` (e.g. ``book/chapters/01-x``)."""
    depth = docname.count("/")
    box = nodes.admonition(classes=["tip", "run-this-chapter"], ids=["run-this-chapter"])
    box += nodes.title("", "Run this chapter")
    para = nodes.paragraph()
    para += nodes.Text("Everything on this page was computed by the code beside it. To run it yourself, offline: get "
                       "the companion (")
    para += nodes.reference("", "icl-companion.zip", refuri="../" * depth + ARCHIVE)
    para += nodes.Text(", built with this page, or a clone of the repository), run ")
    para += nodes.literal("", "make lab")
    para += nodes.Text(" and open ")
    para += nodes.literal("", f"{docname}.ipynb")
    para += nodes.Text(". The live panels need that kernel; this page shows precomputed slider figures instead. "
                       "Details: ")
    para += _xref("book/run", "run it yourself")
    para += nodes.Text("; symbols: ")
    para += _xref("book/notation", "notation")
    para += nodes.Text(".")
    box += para
    return box


def _is_live_panel(node: nodes.Node) -> bool:
    if node.tagname != "container" or "cell" not in node.get("classes", []):
        return False
    return any("live_panel(" in lit.astext() for lit in node.findall(nodes.literal_block))


def add_chapter_boxes(app, doctree: nodes.document) -> None:
    docname = app.env.docname
    if not docname.startswith(CHAPTERS):
        return
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None:
        return
    title = next((i for i, child in enumerate(section.children) if isinstance(child, nodes.title)), 0)
    section.insert(title + 1, run_box(docname))
    for cell in [c for c in doctree.findall(nodes.container) if _is_live_panel(c)]:
        note = nodes.paragraph(classes=["live-panel-note"])
        note += nodes.Text("▶ Live panel: it runs in Jupyter with a kernel (see ")
        note += nodes.reference("", "Run this chapter", refuri="#run-this-chapter")
        note += nodes.Text("); below it, the slider figure works on this page.")
        cell.parent.insert(cell.parent.index(cell) + 1, note)


def _page(app, pagename, templatename, context, doctree):
    context["default_mode"] = context.get("default_mode") or "light"   # empty reads as invalid: a console error
    scripts = context.get("script_files", [])
    keep = [s for s in scripts if "thebe" not in str(getattr(s, "filename", s) or "")
            and "THEBE_JS_URL" not in str(getattr(s, "attributes", {}).get("body", ""))]
    scripts[:] = keep


def _finish(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    out = Path(app.outdir)
    icons = out / "_static" / "scripts" / "fontawesome.js"
    if icons.exists():
        icons.write_text("/* ICL Companion: the theme's icons are drawn by _static/reader.css */\n")
        (out / "_static" / "scripts" / "fontawesome.js.map").unlink(missing_ok=True)
    executed = out.parent / "jupyter_execute"
    for source in (out / "_sources").rglob("*.ipynb"):
        done = executed / source.relative_to(out / "_sources")
        if done.exists():
            shutil.copyfile(done, source)


def _light_mathjax(app, config):
    # sphinx-mathjax-offline (which copies MathJax into the site) points at the 1.2 MB all-in-one file in its
    # setup(); the loader plus the parts listed in _config.yml (mathjax3_config.loader) is about half of that.
    config.mathjax_path = "mathjax/startup.js"


def setup(app):
    app.connect("config-inited", _light_mathjax)
    app.connect("builder-inited", lambda app: app.config.html_static_path.append(str(STATIC))
                if str(STATIC) not in app.config.html_static_path else None)
    app.add_css_file("reader.css")
    app.connect("doctree-read", add_chapter_boxes)
    app.connect("html-page-context", _page)
    app.connect("build-finished", _finish)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
