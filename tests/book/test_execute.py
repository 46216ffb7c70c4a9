"""The book's execution cache is keyed on everything an execution depends on (tests/execute.py)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import execute  # noqa: E402


def test_key_changes_with_iclcore_and_icl_environment(monkeypatch, tmp_path):
    root = tmp_path / "repo"
    (root / "iclcore").mkdir(parents=True)
    (root / "iclcore" / "train.py").write_text("x = 1\n")
    (root / "requirements.txt").write_text("torch==2.13.0\n")
    (root / "pyproject.toml").write_text("")
    monkeypatch.setattr(execute, "ROOT", root)
    for k in [k for k in list(__import__("os").environ) if k.startswith("ICL_")]:
        monkeypatch.delenv(k)
    base = execute.execution_key()
    assert execute.execution_key() == base                       # nothing changed: cache reused
    monkeypatch.setenv("ICL_CHECKS_DIR", "/elsewhere")
    assert execute.execution_key() == base                       # where checks are written does not matter
    monkeypatch.setenv("ICL_SEED", "1")
    seeded = execute.execution_key()
    assert seeded != base
    (root / "iclcore" / "train.py").write_text("x = 2\n")      # an edit to iclcore
    assert execute.execution_key() != seeded
    (root / "requirements.txt").write_text("torch==2.13.1\n")
    assert execute.execution_key() not in (base, seeded)


def test_a_new_key_clears_cache_doctrees_html_and_checks(tmp_path):
    build = tmp_path / "_build"
    for path in execute.STALE:
        target = build / path.relative_to(execute.BUILD)
        target.mkdir(parents=True)
        (target / "f").write_text("old")
    assert execute.clear_if_stale("k1", build)
    assert not any((build / p.relative_to(execute.BUILD)).exists() for p in execute.STALE)
    (build / execute.KEY_FILE.name).write_text("k1")
    (build / ".jupyter_cache").mkdir()
    assert not execute.clear_if_stale("k1", build) and (build / ".jupyter_cache").exists()   # same key: kept
    assert execute.clear_if_stale("k2", build) and not (build / ".jupyter_cache").exists()
