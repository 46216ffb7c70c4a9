"""Sphinx extension: put a source archive of the runnable companion into the built site.

At the end of an HTML build, ``_downloads/icl-companion.zip`` is written with everything needed to run the
chapters offline on one's own machine: ``iclcore/``, the notebooks, ``templates/``, ``requirements.txt``,
``pyproject.toml``, ``Makefile``, ``README.md``, ``CONTRIBUTING.md``, the book configuration and the tests.
It is made from the files in the source tree (build outputs, caches and virtual environments are left out),
so it always matches the book it ships with. Pages link to it as ``/_downloads/icl-companion.zip``.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

ARCHIVE = "icl-companion.zip"
INCLUDE = ["iclcore", "book", "templates", "tests", "_ext", ".ci", "requirements.txt", "pyproject.toml", "Makefile",
           "README.md", "CONTRIBUTING.md", "_config.yml", "_toc.yml", "references.bib", ".gitignore"]
SKIP_PARTS = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache", ".ruff_cache", "_build", ".venv"}


def archive_files(root: Path) -> list[Path]:
    """The files that go into the archive, relative to ``root``."""
    files = []
    for name in INCLUDE:
        path = root / name
        candidates = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        files += [p.relative_to(root) for p in candidates if not SKIP_PARTS & set(p.parts) and p.suffix != ".pyc"]
    return files


def write_archive(root: Path, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for rel in archive_files(root):
            zf.write(root / rel, Path("icl-companion") / rel)
    return target


def _build_finished(app, exception):
    if exception is None and app.builder.format == "html":
        write_archive(Path(app.srcdir), Path(app.outdir) / "_downloads" / ARCHIVE)


def setup(app):
    app.connect("build-finished", _build_finished)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
