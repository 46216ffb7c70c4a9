"""pytest plugin for ``make nbval``: each notebook that nbval runs without an error goes into the book's cache.

nbval executes every notebook of the book as a test; ``make book`` would then execute every notebook a second
time. With this plugin (``pytest -p nbval_cache``, as ``make nbval`` runs it) the notebook that nbval just
ran, with the outputs nbval received from its kernel, is stored in the book's execution cache
(``_build/.jupyter_cache``) under the same execution key that ``tests/execute.py`` uses (the ``iclcore``
source, the pins and the ``ICL_*`` environment), and its recorded check values are copied to
``_build/checks/book`` for the dashboard. ``make book`` right after finds every chapter cached and executes
nothing; after a change to a notebook or to ``iclcore`` the cache misses (or is cleared) as before, so the
book never shows a stale result. A notebook with a failed cell is not stored.

Two executions are still compared: ``tests/book/test_determinism.py`` re-executes a few chapters in fresh
kernels and compares their check values with nbval's.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import sys
import time
import tokenize
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from execute import BUILD, CACHE, KEY_FILE, clear_if_stale, execution_key  # noqa: E402
from toc import toc_notebooks  # noqa: E402

BOOK_CHECKS = BUILD / "checks" / "book"
TITLE = re.compile(r'ReproductionChecks\(\s*"([^"]+)"')
_failed: set[str] = set()


def pytest_configure(config) -> None:
    """Once per run, in the controlling process: clear the cache if the execution key changed."""
    if hasattr(config, "workerinput"):          # an xdist worker: the controller has done it
        return
    key = execution_key()
    clear_if_stale(key)
    BUILD.mkdir(exist_ok=True)
    from jupyter_cache import get_cache

    get_cache(CACHE)                            # create the database before the workers write to it
    KEY_FILE.write_text(key)                    # what the cache holds from now on was executed under this key


def pytest_runtest_logreport(report) -> None:
    if report.failed:
        _failed.add(report.nodeid.split("::")[0])


def pytest_runtest_teardown(item, nextitem) -> None:
    """After the last cell of a notebook: store the executed notebook if every cell passed."""
    from nbval.plugin import IPyNbCell

    if not isinstance(item, IPyNbCell) or (nextitem is not None and nextitem.parent is item.parent):
        return
    path = Path(str(item.parent.fspath)).resolve()
    if item.nodeid.split("::")[0] in _failed or path not in {p.resolve() for p in toc_notebooks()}:
        return
    nb = item.parent.nb
    cells = [i for i in item.session.items if isinstance(i, IPyNbCell) and i.parent is item.parent]
    if any(c.test_outputs is None for c in cells):   # a cell was skipped: not a complete execution
        return
    for count, cell in enumerate(cells, start=1):
        cell.cell.outputs = as_jupyter_would_save(cell.cell.source, cell.test_outputs)
        cell.cell.execution_count = count
    store(nb, path)
    copy_checks(nb)


def as_jupyter_would_save(source: str, outputs: list) -> list:
    """nbval's outputs as Jupyter would save them: no empty stream, and no result after a closing ``;``.

    nbval runs a cell without storing it in the kernel's history, so IPython does not see a trailing
    semicolon and displays the value that Jupyter (and the book's own executor) would suppress.
    """
    quiet = _ends_with_semicolon(source)
    return [o for o in outputs if not (o.output_type == "stream" and not o.get("text"))
            and not (quiet and o.output_type == "execute_result")]


def _ends_with_semicolon(source: str) -> bool:
    """IPython's rule: the cell's last token, comments and newlines aside, is ``;``."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError):
        return False
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.ENDMARKER, tokenize.INDENT, tokenize.DEDENT}
    last = [t for t in tokens if t.type not in skip]
    return bool(last) and last[-1].string == ";"


def store(nb, path: Path) -> None:
    """Put the executed notebook ``nb`` (read from ``path``) in the book's execution cache."""
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    for attempt in range(5):                    # two xdist workers may write to the SQLite cache at once
        try:
            cache = get_cache(CACHE)
            cache.cache_notebook_bundle(CacheBundleIn(nb, str(path)), check_validity=False, overwrite=True)
            return
        except Exception:
            if attempt == 4:
                raise
            time.sleep(1 + attempt)


def copy_checks(nb) -> None:
    """Copy the check values the notebook recorded under nbval's ``ICL_CHECKS_DIR`` to the book's folder."""
    from iclcore.checks import slug

    source = os.environ.get("ICL_CHECKS_DIR")
    found = TITLE.search("\n".join(c.source for c in nb.cells if c.cell_type == "code"))
    if not source or not found:
        return
    record = Path(source) / f"{slug(found.group(1))}.json"
    if record.exists() and record.resolve().parent != BOOK_CHECKS.resolve():
        BOOK_CHECKS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(record, BOOK_CHECKS / record.name)
