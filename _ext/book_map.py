"""Sphinx extension: the ``{book-map}`` and ``{knob-index}`` directives, generated from the chapters themselves.

* ``{book-map}`` draws how the chapters connect, as a plotly figure: one box per chapter (a link to it,
  coloured by part), and an arrow from every chapter that a chapter's overview box links to (its
  prerequisites) to that chapter; columns are prerequisite depth, and chapters that build on no other and
  that no other builds on stand in a last column. Nothing is listed by hand: a new chapter
  appears, with its arrows, once it is in ``_toc.yml`` and its overview's *Prerequisites* line links the
  chapters it builds on.
* ``{knob-index}`` lists every knob a reader can turn: each static slider figure
  (``iclcore.viz.slider_figure(values, traces, "label", ...)``) and each live-panel control
  (``iclcore.widgets.int_knob`` / ``float_knob("label", ...)``), grouped by kind (rank, correlation,
  temperature, ...), each linking to the section of the chapter that holds it.

Chapters are numbered by their order in ``_toc.yml``, as everywhere in the book.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import nbformat
from docutils import nodes
from sphinx.util.docutils import SphinxDirective

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from toc import toc_files  # noqa: E402

LINK = re.compile(r"\((\d\d-[a-z0-9-]+)\.ipynb\)|\{doc\}`(\d\d-[a-z0-9-]+)`")
KINDS = [  # (kind, pattern on the knob's label); the first match wins
    ("rank", r"\brank\b|components r|\bm \(K, Q"),
    ("correlation", r"^[αρ]$|correlation"),
    ("temperature and score scale", r"τ|temperature|‖p‖|score scale|slope c|largest β|score gap"),
    ("noise", r"σ|noise|^s²$|spread ν"),
    ("sample size and context length", r"^n\b|samples|context length|prompt length|^T$|pairs|tokens|length|"
                                       r"window|pool size|n/d|horizon|^K$"),
    ("dimension", r"^d$|dimension|features"),
    ("training", r"step|iteration|η|layers|instances"),
    ("other", r"."),
]
KNOB_CALLS = {"slider_figure": (2, "slider figure (works in this page)"),
              "int_knob": (0, "live panel (needs a kernel)"), "float_knob": (0, "live panel (needs a kernel)")}


def chapters() -> list[str]:
    """The chapters' docnames in book order."""
    return [d for d in toc_files() if d.startswith("book/chapters/")]


def prerequisites(srcdir: Path, docname: str) -> list[str]:
    """The chapters (docnames) that the *Prerequisites* line of ``docname``'s overview box links to."""
    overview = nbformat.read(srcdir / f"{docname}.ipynb", as_version=4).cells[0].source
    line = overview.split("**Prerequisites.**", 1)[1].split("\n- **", 1)[0] if "**Prerequisites.**" in overview else ""
    names = {a or b for a, b in LINK.findall(line)}
    return [d for d in chapters() if d.rsplit("/", 1)[-1] in names and d != docname]


def knob_labels(source: str) -> list[tuple[str, str]]:
    """``(label, kind of control)`` of every slider figure and live-panel knob built in a code cell."""
    code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", getattr(node.func, "attr", None))
        if name in KNOB_CALLS:
            index, control = KNOB_CALLS[name]
            if len(node.args) > index and isinstance(node.args[index], ast.Constant):
                found.append((str(node.args[index].value), control))
    return found


def knob_kind(label: str) -> str:
    return next(kind for kind, pattern in KINDS if re.search(pattern, label))


def _collect_knobs(app, doctree: nodes.document) -> None:
    env, docname = app.env, app.env.docname
    store = env.__dict__.setdefault("icl_knobs", {})
    store.pop(docname, None)
    if not docname.startswith("book/chapters/"):
        return
    knobs = []
    for cell in doctree.findall(nodes.container):
        if cell.get("nb_element") != "cell_code":
            continue
        source = "".join(b.astext() for b in cell.findall(nodes.literal_block)
                         if b.parent.get("nb_element") == "cell_code_source")
        labels = knob_labels(source)
        if not labels:
            continue
        section = next((p for p in _parents(cell) if isinstance(p, nodes.section)), None)
        anchor = section["ids"][0] if section is not None and section["ids"] else ""
        title = section[0].astext() if section is not None else ""
        knobs += [(label, control, anchor, title) for label, control in labels]
    store[docname] = knobs


def _parents(node: nodes.Node):
    while node.parent is not None:
        node = node.parent
        yield node


def _purge(app, env, docname):
    env.__dict__.get("icl_knobs", {}).pop(docname, None)


def _merge(app, env, docnames, other):
    env.__dict__.setdefault("icl_knobs", {}).update(
        {d: v for d, v in other.__dict__.get("icl_knobs", {}).items() if d in docnames})


class knob_index(nodes.General, nodes.Element):
    """Placeholder, filled once every chapter has been read."""


class KnobIndex(SphinxDirective):
    def run(self) -> list[nodes.Node]:
        return [knob_index()]


class BookMap(SphinxDirective):
    def run(self) -> list[nodes.Node]:
        docs = chapters()
        for doc in docs:
            self.env.note_dependency(str(Path(self.env.srcdir) / f"{doc}.ipynb"))
        return [nodes.raw("", book_map_html(Path(self.env.srcdir), Path(self.env.docname).parent), format="html")]


def _parts() -> list[tuple[str, list[str]]]:
    import yaml

    toc = yaml.safe_load((Path(__file__).resolve().parents[1] / "_toc.yml").read_text())
    return [(p["caption"], [c["file"] for c in p.get("chapters", [])]) for p in toc["parts"]
            if any(c["file"].startswith("book/chapters/") for c in p.get("chapters", []))]


def book_map_html(srcdir: Path, here: Path) -> str:
    """The map of the book as a plotly figure's HTML (drawn by the page's plotly loader).

    Chapters are placed in columns by how many prerequisites deep they are (networkx's topological
    generations of the prerequisite graph), so every arrow points right; a box's colour is its part.
    """
    import networkx as nx
    import plotly.graph_objects as go

    from iclcore import viz

    docs = chapters()
    number = {d: i + 1 for i, d in enumerate(docs)}
    graph = nx.DiGraph()
    graph.add_nodes_from(docs)
    graph.add_edges_from((pre, doc) for doc in docs for pre in prerequisites(srcdir, doc))
    if not nx.is_directed_acyclic_graph(graph):
        raise ValueError(f"the chapters' prerequisites form a cycle: {nx.find_cycle(graph)}")
    alone = [d for d in docs if graph.degree(d) == 0]          # chapters that stand on their own: last column
    columns = [list(g) for g in nx.topological_generations(graph.subgraph([d for d in docs if d not in alone]))]
    columns += [alone] if alone else []
    pos: dict[str, tuple[float, float]] = {}
    for col, members in enumerate(columns):                      # order each column by the mean height of
        def height(doc):                                          # its prerequisites (fewer crossings)
            above = [pos[p][1] for p in graph.predecessors(doc) if p in pos]
            return (-sum(above) / len(above) if above else 0.0, number[doc])
        for row, doc in enumerate(sorted(members, key=height)):
            pos[doc] = (col, (len(members) - 1) / 2 - row)
    parts = _parts()
    colours = viz.PALETTE
    part_of = {doc: k for k, (_, files) in enumerate(parts) for doc in files}
    fig = go.Figure()
    for pre, doc in graph.edges:
        (x0, y0), (x1, y1) = pos[pre], pos[doc]
        fig.add_annotation(x=x1, y=y1, ax=x0, ay=y0, xref="x", yref="y", axref="x", ayref="y", text="",
                           showarrow=True, arrowhead=2, arrowsize=1.2, arrowwidth=1.2,
                           arrowcolor="rgba(90,90,90,0.45)", standoff=40, startstandoff=40)
    for doc in docs:
        nb = nbformat.read(srcdir / f"{doc}.ipynb", as_version=4)
        title = nb.cells[0].source.splitlines()[0].lstrip("# ").strip()
        href = Path(_rel(f"{doc}.html", here)).as_posix()
        colour = colours[part_of[doc] % len(colours)]
        fig.add_annotation(x=pos[doc][0], y=pos[doc][1], showarrow=False, bgcolor="white", bordercolor=colour,
                           hovertext=_wrap(claim(nb.cells[0].source), 60), hoverlabel={"bgcolor": "white"},
                           borderwidth=1.5, borderpad=4, font={"size": 11, "color": colour},
                           text=f'<a href="{href}" target="_self" style="color:{colour}">'
                                f"{_wrap(f'{number[doc]}. {title}', 24)}</a>")
    for k, (caption, _) in enumerate(parts):       # one legend entry per part
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=caption,
                                 marker={"color": colours[k % len(colours)], "symbol": "square", "size": 11}))
    half = max(abs(y) for _, y in pos.values()) + 0.5
    width = len(columns)
    fig.update_layout(
        template=viz.book_template(), height=150 + 184 * half, margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis={"visible": False, "range": [-0.55, width - 0.45], "fixedrange": True},
        yaxis={"visible": False, "range": [-half, half], "fixedrange": True},
        legend={"orientation": "h", "yanchor": "top", "y": -0.02, "x": 0, "font": {"size": 11}})
    return fig.to_html(full_html=False, include_plotlyjs=False, config={"displayModeBar": False,
                                                                           "responsive": True})


def claim(overview: str) -> str:
    """The one-sentence claim in italics under a chapter's title (plain text, for a hover label)."""
    found = re.search(r"\n\*([^*].*?)\*\n", overview, re.DOTALL)
    text = " ".join(found.group(1).split()) if found else ""
    return re.sub(r"\$([^$]*)\$", r"\1", text).replace("\\", "")


def _rel(target: str, here: Path) -> str:
    import os

    return os.path.relpath(target, here)


def _wrap(text: str, width: int) -> str:
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "<br>".join(lines + [line])


def _fill_knob_index(app, doctree: nodes.document, docname: str) -> None:
    store = app.env.__dict__.get("icl_knobs", {})
    docs = chapters()
    for placeholder in list(doctree.findall(knob_index)):
        by_kind: dict[str, list] = {kind: [] for kind, _ in KINDS}
        for number, doc in enumerate(docs, start=1):
            for label, control, anchor, title in store.get(doc, []):
                by_kind[knob_kind(label)].append((label, number, doc, anchor, title, control))
        out = []
        for kind, rows in by_kind.items():
            if not rows:
                continue
            section = nodes.section(ids=[f"knobs-{nodes.make_id(kind)}"])
            section += nodes.title(text=kind.capitalize())
            items = nodes.bullet_list()
            for label, number, doc, anchor, title, control in rows:
                uri = app.builder.get_relative_uri(docname, doc) + (f"#{anchor}" if anchor else "")
                para = nodes.paragraph()
                para += nodes.literal(text=label)
                para += nodes.Text(" — ")
                para += nodes.reference("", f"{number}. {app.env.titles[doc].astext()}"
                                        + (f" § {title}" if title else ""), internal=True, refuri=uri)
                para += nodes.Text(f" ({control})")
                items += nodes.list_item("", para)
            section += items
            out.append(section)
        placeholder.replace_self(out)


def _always_reread(app, env, added, changed, removed):
    return [d for d in env.found_docs if d in ("book/index", "book/knobs")]


def setup(app):
    app.add_node(knob_index)
    app.connect("env-get-outdated", _always_reread)
    app.add_directive("knob-index", KnobIndex)
    app.add_directive("book-map", BookMap)
    app.connect("doctree-read", _collect_knobs)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    app.connect("doctree-resolved", _fill_knob_index)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "env_version": 1}
