"""JupyterLab as a reader meets it: ``make lab`` started on a throw-away copy of a small notebook, driven by
headless chromium (Playwright). A live panel is built; moving its slider must mark the old output stale;
pressing Run must disable the button while the update runs, show a progress bar, and update the output.
MyST markup in markdown cells is rendered (jupyterlab-myst), and nothing is requested outside 127.0.0.1.

Nothing is saved into the repository: Lab is rooted at a temporary folder holding only the test notebook,
its settings and workspaces go there too. Needs Debian's chromium (skips without it outside CI).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import nbformat
import pytest
from browsers import CHROMIUM_ARGS, require_chromium

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "icl-lab-test"
NOTEBOOK = "book/chapters/lab-test.ipynb"
BUDGET_S = 60

pytestmark = pytest.mark.browser

CELLS = [
    ("markdown", "# Live panel\n\n```{note}\nMyST admonition rendered by jupyterlab-myst.\n```\n\n"
                 "$$ y = w x $$ (eq-lab-test)\n\nSee {eq}`eq-lab-test` and {cite}`vonoswald2023`.\n\n"
                 ":::{exercise}\n:label: ex-lab\nAn exercise.\n:::\n\n"
                 ":::{solution} ex-lab\n:class: dropdown\nA solution.\n:::"),
    ("code", "import time\n\nfrom tqdm.auto import tqdm\n\nfrom iclcore.widgets import float_knob, live_panel"),
    ("code", "def update(a):\n"
             "    for _ in tqdm(range(15), desc='training', mininterval=0.1):\n"
             "        time.sleep(0.1)\n"
             "    return f'result for a = {a:.2f}'\n\n\n"
             "live_panel(update, {'a': float_knob('a', 0.5, 0.0, 1.0, 0.1)}, run_now=True)"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """``make lab`` rooted at a temporary folder; yields its base URL; stops it (its process group) after."""
    require_chromium()
    started = time.monotonic()
    root = tmp_path_factory.mktemp("lab")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(s) if kind == "markdown"
                                         else nbformat.v4.new_code_cell(s) for kind, s in CELLS])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    (root / NOTEBOOK).parent.mkdir(parents=True)
    nbformat.write(nb, root / NOTEBOOK)
    port = _free_port()
    args = (f"--no-browser --ServerApp.open_browser=False --ServerApp.ip=127.0.0.1 --ServerApp.port={port} "
            f"--ServerApp.port_retries=0 --IdentityProvider.token={TOKEN} --LabApp.expose_app_in_browser=True "
            "--LabApp.news_url=None --LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate")
    env = {**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(root / ".settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(root / ".workspaces"), "JUPYTER_RUNTIME_DIR": str(root / ".runtime")}
    log = (root / "lab.log").open("w")
    proc = subprocess.Popen(["make", "--no-print-directory", "lab", f"LAB_ROOT={root}", f"LAB_ARGS={args}"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 40
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={TOKEN}", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not start:\n{(root / 'lab.log').read_text()[-3000:]}")
                time.sleep(0.3)
        print(f"\nJupyterLab started in {time.monotonic() - started:.1f} s")
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def test_live_panel_in_lab_marks_stale_and_reruns(lab):
    from playwright.sync_api import sync_playwright

    start = time.monotonic()
    offsite, errors = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=require_chromium(), headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on("request", lambda r: urlparse(r.url).scheme in ("http", "https", "ws", "wss")
                and urlparse(r.url).hostname != "127.0.0.1" and offsite.append(r.url))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{lab}/lab/tree/{NOTEBOOK}?token={TOKEN}", wait_until="domcontentloaded")
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=30_000)
        page.wait_for_function("""() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
            const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
            return k && k.connectionStatus === 'connected' && k.status === 'idle'; }""", timeout=30_000)
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")

        panel = page.locator(".icl-live-panel")
        output = panel.locator(".icl-live-output")
        panel.wait_for(timeout=30_000)
        output.get_by_text("result for a = 0.50").wait_for(timeout=30_000)
        run = panel.locator("button.icl-live-run")
        assert run.is_enabled()

        # move the slider: click far along its rail (as a reader drags it); the old output goes stale
        rail = panel.locator(".noUi-target").first
        box = rail.bounding_box()
        page.mouse.click(box["x"] + 0.9 * box["width"], box["y"] + box["height"] / 2)
        panel.get_by_text("settings changed — press Run to update").wait_for(timeout=10_000)
        page.wait_for_function("() => document.querySelector('.icl-live-panel .icl-live-output.icl-stale')",
                               timeout=10_000)
        page.wait_for_function("() => getComputedStyle(document.querySelector('.icl-live-panel .icl-live-output'))"
                               ".opacity < 1", timeout=5_000)     # dimmed by the panel's own CSS
        assert output.get_by_text("result for a = 0.50").is_visible(), "a change must not rerun a retraining panel"

        # press Run: the button is disabled while update runs, a progress bar shows, then the output updates
        run.click()
        page.wait_for_function("() => document.querySelector('.icl-live-panel button.icl-live-run').disabled",
                               timeout=10_000)
        panel.locator(".widget-hprogress, .progress").first.wait_for(timeout=10_000)
        output.get_by_text("result for a = 0.90").wait_for(timeout=30_000)
        page.wait_for_function("() => !document.querySelector('.icl-live-panel button.icl-live-run').disabled",
                               timeout=10_000)
        assert panel.locator(".icl-live-output.icl-stale").count() == 0
        assert panel.get_by_text("settings changed").count() == 0

        # MyST markup renders (jupyterlab-myst): admonitions, labelled equations and {eq}, exercises and
        # solutions. {cite} shows the bare key: jupyterlab-myst does not read references.bib.
        myst = page.locator(".jp-MarkdownCell .myst").first
        myst.locator(".myst-admonition-note").wait_for(timeout=10_000)
        text = myst.inner_text().replace("\xa0", " ")
        assert "Exercise 1" in text and "Solution to Exercise 1" in text, text
        assert "{note}" not in text and "{eq}" not in text and "{exercise}" not in text, text
        browser.close()

    elapsed = time.monotonic() - start
    print(f"JupyterLab live-panel test: {elapsed:.1f} s in the browser (kernel start, two runs, slider, MyST)")
    assert offsite == [], f"requests outside 127.0.0.1: {offsite}"
    assert errors == [], f"page errors: {errors}"
    assert elapsed <= BUDGET_S, f"took {elapsed:.0f} s > {BUDGET_S} s"
