"""The chapter template runs, and its break switch makes its checks fail (this also tests tests/breaks.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
from breaks import declared_breaks, run_with_break  # noqa: E402

TEMPLATE = ROOT / "templates" / "chapter.ipynb"


def test_template_declares_its_switches_as_a_literal():
    assert declared_breaks(nbformat.read(TEMPLATE, as_version=4)) == {
        "no-training": "the shrinkage c is left at its initial value instead of being trained"}


def test_template_break_fails_its_checks_and_names_the_rows():
    result = run_with_break(str(TEMPLATE), "no-training")
    assert result["ok"], result
    assert any("n=16" in claim for claim in result["failed"])


def test_an_undeclared_switch_is_an_error_not_a_pass():
    result = run_with_break(str(TEMPLATE), "typo")
    assert not result["ok"] and "ValueError" in result["why"]
