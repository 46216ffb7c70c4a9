"""House rules for the book's notebooks (CONTRIBUTING.md): listed in the toc, committed without outputs,
titled, with exercises, citations, break switches and a Reproduction checks table that is asserted.

The rules are checked on each notebook *as git would commit it*: the working file passed through the clean
filter that ``.gitattributes`` names (nbstripout, registered by ``make install``). So a notebook that
JupyterLab autosaved with outputs passes, since ``git add`` strips them; without the filter the raw file must be
stripped, because then git would commit the outputs.
"""

from __future__ import annotations

import ast
import json
import re
import shlex
import subprocess
from pathlib import Path

import pytest
from toc import ROOT, toc_files, toc_notebooks

NOTEBOOKS = toc_notebooks()


def _git(*args: str) -> str | None:
    """``git args`` at the repository root: its stdout, or None outside a git work tree / without git."""
    try:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30)
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def clean_filter(path: Path) -> str | None:
    """The clean command git runs on ``path`` when it is added (``filter=`` in .gitattributes + git config)."""
    attr = _git("check-attr", "filter", "--", str(path.relative_to(ROOT)))
    driver = attr.rsplit(": ", 1)[-1] if attr else "unspecified"
    if driver in ("unspecified", "unset", "set"):
        return None
    return _git("config", "--get", f"filter.{driver}.clean") or None


def as_committed(path: Path, content: bytes | None = None) -> dict:
    """The notebook at ``path`` as ``git add`` would store it: ``content`` (default: the working file) through
    its clean filter, run as git runs it (at the top of the work tree); the raw content where none applies
    or the filter fails (git then stores the raw content too)."""
    raw = path.read_bytes() if content is None else content
    nb = json.loads(raw)
    if not _has_run_state(nb):
        return nb                   # nothing for the filter to strip: skip starting it (it takes a second)
    command = clean_filter(path)
    top = _git("rev-parse", "--show-toplevel")
    if command and top:
        command = command.replace("%f", shlex.quote(str(path.resolve().relative_to(Path(top).resolve()))))
        done = subprocess.run(command, shell=True, cwd=top, input=raw, capture_output=True, timeout=60)
        if done.returncode == 0:
            return json.loads(done.stdout)
    return nb


def _has_run_state(nb: dict) -> bool:
    """Whether a notebook holds anything a run leaves behind: outputs, execution counts, widget state."""
    return "widgets" in nb.get("metadata", {}) or any(
        c.get("outputs") or c.get("execution_count") is not None for c in nb["cells"] if c["cell_type"] == "code")


def test_notebooks_are_committed_stripped_even_with_outputs_saved():
    """Running a chapter in JupyterLab autosaves outputs; ``git add`` must strip them (make install)."""
    if _git("rev-parse", "--is-inside-work-tree") != "true":
        pytest.skip("not a git work tree (e.g. the source archive): nothing is committed from here")
    path = NOTEBOOKS[0]
    assert clean_filter(path) is not None, "no git clean filter for notebooks: run `make install` (nbstripout)"
    nb = json.loads(path.read_text())
    cell = next(c for c in nb["cells"] if c["cell_type"] == "code")
    cell["execution_count"] = 3
    cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["saved by Lab\n"]}]
    nb["metadata"]["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    stored = as_committed(path, json.dumps(nb, indent=1).encode())
    code = [c for c in stored["cells"] if c["cell_type"] == "code"]
    assert all(not c["outputs"] and c["execution_count"] is None for c in code)
    assert "widgets" not in stored["metadata"], "saved widget state must not be committed"
    assert [c["id"] for c in stored["cells"]] == [c["id"] for c in nb["cells"]], "cell ids are kept"


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
    nb = as_committed(path)
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


def _checkers_called(cells: list[str]) -> set[str]:
    """Checkers (``check_*``) imported from ``iclcore.exercises`` and called in the chapter's code cells."""
    imported, called = set(), set()
    for source in cells:
        code = "\n".join(ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!")))
        try:
            tree = ast.parse(code)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("iclcore.exercises"):
                imported |= {a.asname or a.name for a in node.names if a.name.startswith("check_")}
            elif isinstance(node, ast.Call):
                called.add(getattr(node.func, "id", getattr(node.func, "attr", None)))
    return imported & called


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if "chapters" in p.parts], ids=lambda p: p.stem)
def test_every_chapter_has_two_checked_coding_exercises(path):
    cells = ["".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    found = _checkers_called(cells)
    assert len(found) >= 2, f"a chapter needs at least two exercises checked by iclcore.exercises, found {found}"

# --- figure captions (CONTRIBUTING.md: say which paper figure each book figure reproduces) ---------------------

CAPTION = re.compile(r"\*\*Figure (\d+)\.\*\*")


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_figure_has_a_numbered_caption(path):
    """Each code cell that calls ``.show(`` is followed, before the next code cell, by markdown with one
    ``**Figure k.**`` caption per figure it shows, and the captions run 1, 2, 3, … through the chapter."""
    cells = json.loads(path.read_text())["cells"]
    missing, numbers = [], []
    for i, cell in enumerate(cells):
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            numbers += [int(k) for k in CAPTION.findall(source)]
        elif ".show(" in source:
            following = []
            for after in cells[i + 1:]:
                if after["cell_type"] == "code":
                    break
                following.append("".join(after["source"]))
            shown, captioned = source.count(".show("), len(CAPTION.findall("\n".join(following)))
            if captioned != shown:
                missing.append(f"cell {i}: {shown} figure(s), {captioned} caption(s) before the next code cell")
    assert missing == [], f"figures without a **Figure k.** caption right after them: {missing}"
    assert numbers == list(range(1, len(numbers) + 1)), f"captions must be numbered 1, 2, 3, … in order: {numbers}"
