"""Execute the book's notebooks for ``make book``: in parallel, cached, and never stale.

Jupyter Book's cache (jupyter-cache) keys an execution on the notebook's code cells only, so on its own it
would reuse outputs after a change to ``iclcore``. This script keys the whole cache on everything an
execution depends on besides the notebook:

* the ``iclcore`` source tree, ``requirements.txt`` and ``pyproject.toml``;
* every ``ICL_*`` environment variable (profile, seed, break switch, threads).

When that key changes, the cache, Sphinx's doctrees and the recorded check values are deleted, so every
chapter executes again and every page is rebuilt. Then the notebooks that the cache does not hold are
executed in parallel on every core (jupyter-cache's parallel executor; ``--jobs 1`` for one at a
time), and ``jupyter-book build`` finds them all in the cache. A second ``make book`` with no change executes nothing.

Usage: ``python tests/execute.py [--jobs N]`` (run by ``make book`` before ``jupyter-book build``).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from toc import ROOT, toc_notebooks  # noqa: E402

BUILD = ROOT / "_build"
CACHE = BUILD / ".jupyter_cache"
KEY_FILE = BUILD / ".execution_key"
STALE = [CACHE, BUILD / ".doctrees", BUILD / "jupyter_execute", BUILD / "html", BUILD / "checks" / "book"]


def execution_key() -> str:
    """A hash of everything besides the notebook itself that an execution's outputs depend on."""
    h = hashlib.sha256()
    files = sorted((ROOT / "iclcore").rglob("*.py")) + [ROOT / "requirements.txt", ROOT / "pyproject.toml"]
    for path in files:
        h.update(str(path.relative_to(ROOT)).encode())
        h.update(path.read_bytes())
    for name in sorted(k for k in os.environ if k.startswith("ICL_") and k != "ICL_CHECKS_DIR"):
        h.update(f"{name}={os.environ[name]}".encode())
    return h.hexdigest()


def clear_if_stale(key: str, build: Path = BUILD) -> bool:
    """Delete the cache, doctrees, html and recorded check values when ``key`` differs from the last build's.

    Returns whether it did.
    """
    key_file = build / KEY_FILE.name
    if key_file.exists() and key_file.read_text() == key:
        return False
    for path in STALE:
        shutil.rmtree(build / path.relative_to(BUILD), ignore_errors=True)
    key_file.unlink(missing_ok=True)
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("JOBS", "2")))
    parser.add_argument("--timeout", type=int, default=1200)
    args = parser.parse_args()

    from jupyter_cache import get_cache
    from jupyter_cache.executors import load_executor

    key = execution_key()
    if clear_if_stale(key):
        print("execution key changed (iclcore, pins or ICL_* environment): every chapter executes again")
    BUILD.mkdir(exist_ok=True)

    cache = get_cache(CACHE)
    notebooks = [str(p) for p in toc_notebooks()]
    for nb in notebooks:
        cache.add_nb_to_project(nb)
    todo = [r for r in cache.list_unexecuted() if r.uri in notebooks]
    if not todo:
        print(f"all {len(notebooks)} notebooks are cached for this key: nothing to execute")
        KEY_FILE.write_text(key)
        return 0
    print(f"executing {len(todo)} of {len(notebooks)} notebooks, {args.jobs} at a time", flush=True)
    start = time.perf_counter()
    executor = load_executor("local-parallel" if args.jobs > 1 else "local-serial", cache)   # a pool of os.cpu_count()
    result = executor.run_and_cache(filter_pks=[r.pk for r in todo], timeout=args.timeout, allow_errors=False)
    print(f"executed in {time.perf_counter() - start:.0f} s: {len(result.succeeded)} succeeded, "
          f"{len(result.errored)} failed, {len(result.excepted)} raised")
    if result.errored or result.excepted:
        for uri in result.errored + result.excepted:
            record = cache.get_project_record(uri)
            print(f"\n--- {uri}\n{(record.traceback or '')[-3000:]}")
        return 1
    KEY_FILE.write_text(key)
    return 0


if __name__ == "__main__":
    sys.exit(main())
