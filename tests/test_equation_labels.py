"""iclcore cites the book's equations by label (``{eq}`eq-ch1-pgd```), and every cited label exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CITE = re.compile(r"\{eq\}`(eq-[A-Za-z0-9_-]+)`")
DEFINE = re.compile(r"\$\$\s*\((eq-[A-Za-z0-9_-]+)\)|:label:\s*(eq-[A-Za-z0-9_-]+)")
NUMBERED = re.compile(r"\b[Ee]q(?:uation)?s?\.?\s*\(?\d+\.\d+")


def book_labels() -> set[str]:
    text = "\n".join(p.read_text() for p in (ROOT / "book").rglob("*") if p.suffix in (".ipynb", ".md"))
    return {a or b for a, b in DEFINE.findall(text)}


def iclcore_sources() -> dict[Path, str]:
    return {p: p.read_text() for p in sorted((ROOT / "iclcore").rglob("*.py"))}


def test_every_cited_label_exists_in_the_book():
    labels = book_labels()
    missing = sorted({f"{p.relative_to(ROOT)}: {lab}" for p, src in iclcore_sources().items()
                      for lab in CITE.findall(src) if lab not in labels})
    assert missing == [], "iclcore cites equation labels the book does not define"


def test_no_equation_is_cited_by_number():
    numbered = [f"{p.relative_to(ROOT)}: {m.group(0)}" for p, src in iclcore_sources().items()
                for m in NUMBERED.finditer(src)]
    assert numbered == [], "cite equations by label ({eq}`eq-chN-name`), numbers change when chapters move"


def test_the_label_patterns_match():
    assert CITE.findall("see {eq}`eq-ch1-pgd` and {eq}`eq-ch5-mass`") == ["eq-ch1-pgd", "eq-ch5-mass"]
    assert {a or b for a, b in DEFINE.findall("$$\nx\n$$ (eq-ch1-pgd)\n:label: eq-ch2-h3")} == {"eq-ch1-pgd",
                                                                                             "eq-ch2-h3"}
    assert NUMBERED.search("Book eq. 3.5") and not NUMBERED.search("{eq}`eq-ch3-ngd`")
