"""The notebooks of the book, read from ``_toc.yml`` (run as a script: prints their paths, one per line)."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _files(node) -> list[str]:
    out: list[str] = []
    if isinstance(node, dict):
        if "file" in node:
            out.append(node["file"])
        for key in ("root", "parts", "chapters", "sections"):
            if key in node:
                value = node[key]
                out.extend([value] if isinstance(value, str) else _files(value))
    elif isinstance(node, list):
        for item in node:
            out.extend(_files(item))
    return out


def toc_files() -> list[str]:
    """Every document of _toc.yml, without suffix, relative to the repository root."""
    return _files(yaml.safe_load((ROOT / "_toc.yml").read_text()))


def toc_notebooks() -> list[Path]:
    """The notebooks listed in _toc.yml, in book order."""
    return [ROOT / f"{f}.ipynb" for f in toc_files() if (ROOT / f"{f}.ipynb").exists()]


if __name__ == "__main__":
    print("\n".join(str(p.relative_to(ROOT)) for p in toc_notebooks()))
