"""How the browser tests find and launch Debian's chromium with Playwright (tests/book/test_browser.py,
tests/book/test_lab.py). Outside CI a missing chromium skips the test with a message; with ``CI=true`` it fails."""

from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def chromium_path() -> str | None:
    """The first chromium-like browser on PATH, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def require_chromium() -> str:
    """chromium's path; skips the test (fails it under ``CI=true``) when there is none."""
    exe = chromium_path()
    if exe is None:
        message = "no chromium found: install Debian's chromium (apt-get install chromium) to run the browser test"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return exe
