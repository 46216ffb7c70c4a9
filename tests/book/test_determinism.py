"""Two independent executions give identical check values.

``make nbval`` executes every notebook and, through ``ICL_CHECKS_DIR``, writes the measured values of its
reproduction checks to ``_build/checks/nbval/``; ``make book`` reuses those executions (tests/nbval_cache.py).
This test executes a few chapters again, each in a fresh kernel, and compares their check values with
nbval's, value by value. The chapters are the quick ones that train models from random initialisations and
sample their data, so a hidden source of nondeterminism (global random state, thread-count-dependent
reductions, iteration over unordered containers) would show up here.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
CHECKS = ROOT / "_build" / "checks"
AGAIN = ["book/chapters/10-next-token-mechanics.ipynb", "book/chapters/08-attention-markov-models.ipynb"]


def _load(folder: Path) -> dict[str, dict]:
    return {p.name: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))}


def test_an_independent_execution_gives_identical_check_values(tmp_path, monkeypatch):
    nbval = _load(CHECKS / "nbval")
    if not nbval:
        pytest.fail("run `make nbval` first: no check values recorded in _build/checks/nbval")
    monkeypatch.setenv("ICL_CHECKS_DIR", str(tmp_path))
    for notebook in AGAIN:
        path = ROOT / notebook
        NotebookClient(nbformat.read(path, as_version=4), timeout=600, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    again = _load(tmp_path)
    assert len(again) == len(AGAIN), f"expected {len(AGAIN)} check records, got {sorted(again)}"
    for name, record in again.items():
        assert name in nbval, f"nbval recorded no checks named {name}"
        rows_a, rows_b = nbval[name]["rows"], record["rows"]
        assert [r["claim"] for r in rows_a] == [r["claim"] for r in rows_b], name
        for a, b in zip(rows_a, rows_b, strict=True):
            assert a["measured"] == b["measured"], f"{name}: '{a['claim']}' gave {a['measured']} then {b['measured']}"
