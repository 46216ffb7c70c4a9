"""House rules for the book's notebooks (CONTRIBUTING.md): listed in the toc, committed without outputs,
titled, with exercises, citations, break switches and a Reproduction checks table that is asserted."""

from __future__ import annotations

import json
import re

import pytest
from toc import ROOT, toc_files, toc_notebooks

NOTEBOOKS = toc_notebooks()


def test_every_toc_entry_exists():
    missing = [f for f in toc_files() if not any((ROOT / f"{f}{ext}").exists() for ext in (".md", ".ipynb"))]
    assert missing == []


def test_every_notebook_is_in_the_toc():
    listed = {p.resolve() for p in NOTEBOOKS}
    stray = [str(p.relative_to(ROOT)) for p in (ROOT / "book").rglob("*.ipynb")
             if ".ipynb_checkpoints" not in p.parts and p.resolve() not in listed]
    assert stray == [], f"notebooks not in _toc.yml (nbval would skip them): {stray}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_house_rules(path):
    nb = json.loads(path.read_text())
    cells = nb["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    markdown = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    source = "\n".join("".join(c["source"]) for c in code)
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code), "strip the outputs"
    assert cells[0]["cell_type"] == "markdown" and "".join(cells[0]["source"]).startswith("# "), "needs a # title"
    assert "ReproductionChecks(" in source, "needs a Reproduction checks table"
    assert ".report()" in "".join(code[-1]["source"]), "the last code cell must call .report() (it raises on failure)"
    assert "{exercise}" in markdown and "{solution}" in markdown, "needs exercises with solutions"
    assert "{cite" in markdown, "needs a citation from references.bib"
    assert "setup_plotly()" in "".join(code[0]["source"]), "first code cell must call setup_plotly()"
    assert "set_threads()" in "".join(code[0]["source"]), "first code cell must call profile.set_threads()"
    if "chapters" in path.parts:
        assert "declare_breaks(" in source, "a chapter declares its break switches (iclcore.profile.declare_breaks)"
        assert re.search(r"\bseed\(", source), "a chapter takes its seeds from iclcore.profile.seed (ICL_SEED)"
        for phrase in FORBIDDEN:
            assert not re.search(phrase, markdown, re.IGNORECASE), f"reader-facing text must not say {phrase!r}"


FORBIDDEN = (r"\bspecs?\b", r"\.\./shared", r"notes/style\.md", r"public summaries", r"abstract-level")


CHAPTER_FILES = [f.split("/")[-1] for f in toc_files() if f.startswith("book/chapters/")]
CHAPTER_NUMBER = {name: i + 1 for i, name in enumerate(CHAPTER_FILES)}
PAGES = list(NOTEBOOKS) + sorted((ROOT / "book").glob("*.md"))


def _reader_text(path) -> str:
    if path.suffix == ".ipynb":
        return "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"]
                         if c["cell_type"] == "markdown")
    return path.read_text()


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_chapter_numbers_are_links_that_follow_the_toc(path):
    """A chapter is numbered by its place in _toc.yml, so a number written in the text goes stale when a chapter
    is inserted. Every "Chapter N" must be a link to the chapter's notebook, and N its number in the toc."""
    text = _reader_text(path)
    unlinked = re.findall(r"(?<!\[)\b[Cc]hapters? \d+", text)
    assert unlinked == [], f"link these chapter numbers to the chapter: {unlinked}"
    wrong = []
    link = r"\[((?:[Cc]hapters? )?\d+)[^\][]*\]\((?:[./a-z]*/)?(\d\d-[a-z0-9-]+)\.ipynb"
    for label, target in re.findall(link, text):
        number = int(re.search(r"\d+", label).group())
        if CHAPTER_NUMBER.get(target) != number:
            wrong.append(f"{label!r} -> {target} (chapter {CHAPTER_NUMBER.get(target)})")
    assert wrong == [], f"chapter numbers that do not match _toc.yml: {wrong}"


# --- notation (book/notation.md: one meaning per symbol, book-wide) -------------------------------------------

CHAPTERS = [p for p in NOTEBOOKS if "chapters" in p.parts]
TAU_AS_INVERSE = re.compile(r"(?:\\tau|τ)[^.;\n]{0,30}inverse\W+temperature|inverse\W+temperature\W{0,4}(?:\$\\tau|τ)",
                            re.IGNORECASE)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapters_keep_the_book_notation(path):
    """Every chapter links the notation page; τ is a temperature that divides the scores (an inverse temperature
    is ϑ); σ is the label-noise std, never the sigmoid; ω is H3's sample weight (chapter file 02) only."""
    text = _reader_text(path)
    assert "notation.md" in text, "link the notation page (book/notation.md), e.g. in the prerequisites"
    assert not TAU_AS_INVERSE.search(text), "τ is a temperature (scores divided by τ); write ϑ for an inverse one"
    assert not re.search(r"\\sigma\s*\(", text), r"σ is the noise std: write \operatorname{sigmoid}(…)"
    if not path.stem.startswith("02-"):
        assert r"\omega" not in text, "ω means H3's sample weights (file 02): pick another letter"


def test_the_notation_page_covers_every_part():
    """The notation page has one symbols table per Part of _toc.yml, and names τ and ϑ as the book uses them."""
    text = (ROOT / "book" / "notation.md").read_text()
    parts = re.findall(r"^### Part ([IVX]+) ", text, re.MULTILINE)
    toc_parts = re.findall(r'caption: "Part ([IVX]+):', (ROOT / "_toc.yml").read_text())
    assert parts == toc_parts, f"one table per Part, in toc order: {parts} vs {toc_parts}"
    assert re.search(r"\| \$\\tau\$ \| `tau` \|[^\n]*divided", text)
    assert re.search(r"\| \$\\vartheta\$ \| `inv_temp` \|[^\n]*inverse temperature", text)
