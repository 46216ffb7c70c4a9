"""Sphinx extension: the ``{checks-dashboard}`` directive, a table of every chapter's Reproduction checks.

It reads the check values that the chapters' own executions recorded (``ReproductionChecks.report()`` writes
``$ICL_CHECKS_DIR/<slug>.json``; ``make book`` sets ``ICL_CHECKS_DIR=_build/checks/book``) and shows, per
chapter, how many checks there are, how many pass, what they compare, and a link to the chapter's table. With
``:bench:`` it also shows ``_build/bench.md`` (written by ``make bench``) when it exists. The page holding the
directive is re-read on every build, so it never shows an older run than the chapters.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util.docutils import SphinxDirective

from iclcore.checks import slug

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from toc import toc_files  # noqa: E402

TITLE = re.compile(r'ReproductionChecks\(\s*\\?"([^"\\]+)\\?"')
KINDS = ("simulation vs theory", "simulation vs simulation", "simulation vs paper")


def _table(header: list[str], rows: list[list[nodes.Node | str]]) -> nodes.table:
    table = nodes.table(classes=["checks-dashboard"])
    group = nodes.tgroup(cols=len(header))
    table += group
    group.extend(nodes.colspec(colwidth=1) for _ in header)
    head, body = nodes.thead(), nodes.tbody()
    group += head
    group += body
    for cells, parent in [(header, head)] + [(r, body) for r in rows]:
        row = nodes.row()
        for cell in cells:
            entry = nodes.entry()
            entry += cell if isinstance(cell, nodes.Node) else nodes.paragraph(text=str(cell))
            row += entry
        parent += row
    return table


class ChecksDashboard(SphinxDirective):
    option_spec = {"bench": directives.flag}

    def run(self) -> list[nodes.Node]:
        root = Path(self.env.srcdir)
        checks_dir = Path(os.environ.get("ICL_CHECKS_DIR") or root / "_build" / "checks" / "book")
        chapters = [d for d in toc_files() if d.startswith("book/chapters/")]   # book order = displayed numbers
        rows, missing = [], []
        here = Path(self.env.docname).parent
        for doc in chapters:
            source = (root / f"{doc}.ipynb").read_text()
            found = TITLE.search(source)
            record = checks_dir / f"{slug(found.group(1))}.json" if found else None
            if record is None or not record.exists():
                missing.append(doc)
                continue
            data = json.loads(record.read_text())
            checks = data["rows"]
            passed = sum(r["passed"] for r in checks)
            link = nodes.paragraph()
            uri = os.path.relpath(f"{doc}.html", here) + "#reproduction-checks"
            link += nodes.reference("", f"{len(rows) + len(missing) + 1}. {data['title']}", refuri=uri)
            rows.append([link, len(checks), f"{passed} {'✓' if passed == len(checks) else '✗'}",
                         *[sum(r.get("compares") == k for r in checks) for k in KINDS]])
        if missing:
            raise self.error(f"no recorded checks for {missing} in {checks_dir}: build with `make book`, which "
                             "executes the chapters with ICL_CHECKS_DIR set")
        total = [sum(r[i] for r in rows) for i in (1, 3, 4, 5)]
        passed = sum(int(str(r[2]).split()[0]) for r in rows)
        rows.append(["all chapters", total[0], f"{passed} {'✓' if passed == total[0] else '✗'}", *total[1:]])
        out: list[nodes.Node] = [_table(["chapter", "checks", "passing", *KINDS], rows)]
        bench = root / "_build" / "bench.md"
        if "bench" in self.options and bench.exists():
            lines = [ln for ln in bench.read_text().splitlines() if ln.startswith("|") and "---" not in ln]
            cells = [[c.strip().strip("*") for c in ln.strip("|").split("|")] for ln in lines]
            out.append(nodes.paragraph(text="Execution time of each chapter in a fresh kernel (make bench):"))
            out.append(_table(cells[0], cells[1:]))
        return out


def _always_reread(app, env, added, changed, removed):
    return [d for d in env.found_docs if d.endswith("dashboard")]


def setup(app):
    app.add_directive("checks-dashboard", ChecksDashboard)
    app.connect("env-get-outdated", _always_reread)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
