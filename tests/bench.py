"""Time each notebook of the book in a fresh kernel (``make bench``).

Usage: ``python tests/bench.py [--cells] [notebook ...]`` (default: every notebook in _toc.yml).
``--cells`` also prints the slowest cells. The first row times a kernel start plus the book's imports.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

sys.path.insert(0, str(Path(__file__).parent))
from toc import ROOT, toc_notebooks  # noqa: E402

IMPORTS = "import numpy, torch, plotly.graph_objects, iclcore.train, iclcore.viz, iclcore.checks, iclcore.widgets"


def run(nb: nbformat.NotebookNode, cwd: Path) -> tuple[float, list[tuple[float, int, str]]]:
    cell_times: list[tuple[float, int, str]] = []
    client = NotebookClient(nb, timeout=1200, kernel_name="python3", resources={"metadata": {"path": str(cwd)}})
    start = time.perf_counter()
    with client.setup_kernel():
        for i, cell in enumerate(nb.cells):
            t = time.perf_counter()
            client.execute_cell(cell, i)
            if cell.cell_type == "code":
                cell_times.append((time.perf_counter() - t, i, cell.source.splitlines()[0][:60] if cell.source else ""))
    return time.perf_counter() - start, cell_times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--cells", action="store_true", help="show the slowest cells of each notebook")
    args = parser.parse_args()
    paths = [p.resolve() for p in args.notebooks] or toc_notebooks()

    startup, _ = run(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(IMPORTS)]), ROOT)
    rows = [("kernel start + imports", startup)]
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        total, cells = run(nb, path.parent)
        rows.append((str(path.relative_to(ROOT)), total))
        if args.cells:
            for t, i, first in sorted(cells, reverse=True)[:5]:
                print(f"    {t:7.1f} s  cell {i:3d}  {first}")
    width = max(len(r[0]) for r in rows)
    print(f"\n{'notebook':<{width}}  seconds")
    for name, secs in rows:
        print(f"{name:<{width}}  {secs:7.1f}")
    print(f"{'total (notebooks)':<{width}}  {sum(s for _, s in rows[1:]):7.1f}")


if __name__ == "__main__":
    main()
