"""``make breaks``: prove that every chapter's Reproduction checks can fail.

Every chapter declares its break switches with ``iclcore.profile.declare_breaks({...})`` (a literal dict:
name -> what it breaks). This script reads the names from each notebook's source, executes the notebook
once per switch with ``ICL_BREAK=<name>`` in a fresh kernel, and passes only when each such run ends with
failed Reproduction checks (the ``AssertionError`` of ``ReproductionChecks.report()``); it prints which
rows failed. A switch under which every check still passes, a run that dies of another error, or a chapter
without switches fails the script.

Usage: ``python tests/breaks.py [-j JOBS] [notebook ...]`` (default: every chapter in _toc.yml).
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).parent))
from toc import ROOT, toc_notebooks  # noqa: E402

FAILED_MARK = "reproduction check(s) failed"


def declared_breaks(nb: nbformat.NotebookNode) -> dict[str, str]:
    """The switches declared by ``declare_breaks({...})`` in the notebook's code cells."""
    found: dict[str, str] = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        src = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
        try:
            tree = ast.parse(src)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == \
                    "declare_breaks" and node.args:
                found.update(ast.literal_eval(node.args[0]))
    return found


def run_with_break(path: str, name: str) -> dict:
    """Execute ``path`` with ``ICL_BREAK=name``; report whether the checks failed, and which."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory() as out:
        os.environ.update({"ICL_BREAK": name, "ICL_CHECKS_DIR": out})
        client = NotebookClient(nb, timeout=1200, kernel_name="python3",
                                resources={"metadata": {"path": str(Path(path).parent)}})
        start = time.perf_counter()
        error = None
        try:
            client.execute()
        except CellExecutionError as e:
            error = e
        seconds = time.perf_counter() - start
        rows = []
        for f in Path(out).glob("*.json"):
            rows += [r for r in json.loads(f.read_text())["rows"] if not r["passed"]]
    if error is None:
        return {"ok": False, "seconds": seconds, "why": "every Reproduction check passed"}
    if error.ename != "AssertionError" or FAILED_MARK not in str(error):
        return {"ok": False, "seconds": seconds, "why": f"died of {error.ename}: {str(error.evalue)[:300]}"}
    return {"ok": True, "seconds": seconds, "failed": [r["claim"] for r in rows]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("-j", "--jobs", type=int, default=int(os.environ.get("JOBS", "2")))
    args = parser.parse_args()
    paths = [p.resolve() for p in args.notebooks] or [p for p in toc_notebooks() if "chapters" in p.parts]
    jobs, problems = [], []
    for path in paths:
        switches = declared_breaks(nbformat.read(path, as_version=4))
        if not switches:
            problems.append(f"{path.relative_to(ROOT)}: declares no break switch (iclcore.profile.declare_breaks)")
        jobs += [(path, name) for name in switches]
    print(f"{len(jobs)} break runs over {len(paths)} chapters, {args.jobs} at a time", flush=True)
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [(p, n, pool.submit(run_with_break, str(p), n)) for p, n in jobs]
        for path, name, fut in futures:
            res = fut.result()
            label = f"{path.stem} ICL_BREAK={name}"
            if res["ok"]:
                print(f"ok    {label} ({res['seconds']:.0f} s): {len(res['failed'])} check(s) failed", flush=True)
                for claim in res["failed"]:
                    print(f"        ✗ {claim}")
            else:
                print(f"FAIL  {label} ({res['seconds']:.0f} s): {res['why']}", flush=True)
                problems.append(f"{label}: {res['why']}")
    if problems:
        print("\nBreak switches that do not break the checks:\n" + "\n".join(f"  - {p}" for p in problems))
        return 1
    print(f"\nall {len(jobs)} break switches make their chapter's checks fail")
    return 0


if __name__ == "__main__":
    sys.exit(main())
