"""Two executions of every notebook give identical check values.

``make nbval`` and ``make book`` each execute every notebook in a fresh kernel and, through
``ICL_CHECKS_DIR``, each writes the measured values of its reproduction checks to ``_build/checks/<run>/``.
This test compares the two runs value by value.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

CHECKS = Path(__file__).resolve().parents[2] / "_build" / "checks"


def _load(run: str) -> dict[str, dict]:
    return {p.name: json.loads(p.read_text()) for p in sorted((CHECKS / run).glob("*.json"))}


def test_two_executions_give_identical_check_values():
    nbval, book = _load("nbval"), _load("book")
    if not nbval or not book:
        pytest.fail(f"run `make nbval` and `make book` first (found {len(nbval)} and {len(book)} check files)")
    assert set(book) <= set(nbval), "the book build recorded chapters nbval did not run"
    assert len(book) >= 6, f"the book build recorded only {len(book)} chapters"
    for name in book:           # nbval also runs templates/chapter.ipynb, which is not in the book
        rows_a, rows_b = nbval[name]["rows"], book[name]["rows"]
        assert [r["claim"] for r in rows_a] == [r["claim"] for r in rows_b], name
        for a, b in zip(rows_a, rows_b, strict=True):
            assert a["measured"] == b["measured"], f"{name}: '{a['claim']}' gave {a['measured']} then {b['measured']}"
