"""Time each notebook of the book in a fresh kernel (``make bench``) against its budget.

Usage: ``python tests/bench.py [--cells] [--out FILE] [notebook ...]`` (default: every notebook in _toc.yml).

Prints, per notebook, the execution time, its budget (``metadata.icl.budget_s`` in the notebook, default
60 s in the ci profile), the kernel's peak memory, and the total; writes the same table as Markdown to
``--out`` (default ``_build/bench.md``). Exits non-zero when a chapter exceeds its budget or the total
exceeds 12 minutes. ``--cells`` also prints the slowest cells. Time it on an otherwise idle machine: other
jobs on the same cores inflate the numbers.
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
PEAK = "import resource; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"   # kilobytes on Linux
DEFAULT_BUDGET_S = 60.0
TOTAL_BUDGET_S = 12 * 60.0


def budget(nb: nbformat.NotebookNode) -> float:
    """The notebook's own budget in seconds (``metadata.icl.budget_s``), else the book default."""
    return float(nb.metadata.get("icl", {}).get("budget_s", DEFAULT_BUDGET_S))


def run(nb: nbformat.NotebookNode, cwd: Path) -> tuple[float, float, list[tuple[float, int, str]]]:
    """Execute ``nb``; return seconds, the kernel's peak memory in MB, and (seconds, index, first line) per cell."""
    cell_times: list[tuple[float, int, str]] = []
    client = NotebookClient(nb, timeout=1200, kernel_name="python3", resources={"metadata": {"path": str(cwd)}})
    start = time.perf_counter()
    with client.setup_kernel():
        for i, cell in enumerate(nb.cells):
            t = time.perf_counter()
            client.execute_cell(cell, i)
            if cell.cell_type == "code":
                cell_times.append((time.perf_counter() - t, i, cell.source.splitlines()[0][:60] if cell.source else ""))
        total = time.perf_counter() - start
        probe = nbformat.v4.new_code_cell(PEAK)
        nb.cells.append(probe)
        client.execute_cell(probe, len(nb.cells) - 1)
        peak_mb = int(probe.outputs[0]["text"].strip()) / 1024
    return total, peak_mb, cell_times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--cells", action="store_true", help="show the slowest cells of each notebook")
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "bench.md")
    args = parser.parse_args()
    paths = [p.resolve() for p in args.notebooks] or toc_notebooks()

    startup, startup_mb, _ = run(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(IMPORTS)]), ROOT)
    rows = []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        total, peak, cells = run(nb, path.parent)
        rows.append((str(path.relative_to(ROOT)), total, budget(nb), peak))
        print(f"{rows[-1][0]}: {total:.1f} s (budget {rows[-1][2]:.0f} s), peak {peak:.0f} MB", flush=True)
        if args.cells:
            for t, i, first in sorted(cells, reverse=True)[:5]:
                print(f"    {t:7.1f} s  cell {i:3d}  {first}")
    grand = sum(r[1] for r in rows)
    over = [r for r in rows if r[1] > r[2]]
    lines = ["| notebook | seconds | budget (s) | peak memory (MB) | within budget |", "|---|---:|---:|---:|:---:|",
             f"| kernel start + imports | {startup:.1f} | | {startup_mb:.0f} | |"]
    lines += [f"| {name} | {t:.1f} | {b:.0f} | {mb:.0f} | {'✓' if t <= b else '✗'} |" for name, t, b, mb in rows]
    ok = "✓" if grand <= TOTAL_BUDGET_S else "✗"
    lines.append(f"| **total** | **{grand:.1f}** | {TOTAL_BUDGET_S:.0f} | | {ok} |")
    table = "\n".join(lines)
    print("\n" + table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(table + "\n")
    if over or grand > TOTAL_BUDGET_S:
        print("\nover budget: " + ", ".join(f"{n} ({t:.0f} s > {b:.0f} s)" for n, t, b, _ in over)
              + (f" total {grand:.0f} s > {TOTAL_BUDGET_S:.0f} s" if grand > TOTAL_BUDGET_S else ""))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
