"""Every notebook in a real JupyterLab, in headless Chromium: run all cells, see the widgets, click.

Needs Debian's ``chromium`` (``/usr/bin/chromium``) and the ``playwright`` Python package (no
browser download: Playwright drives the system Chromium). `.ci/run` installs both and sets
``WORKBENCH_REQUIRE_BROWSER=1`` so that a missing browser fails CI instead of skipping.
Screenshots go to ``test-output/browser/``.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from workbench.ui.base import MAIN_CLASS

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
CHROMIUM = os.environ.get("WORKBENCH_CHROMIUM", "/usr/bin/chromium")
SHOTS = ROOT / "test-output" / "browser"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CELL_TIMEOUT_S = 180


def _require_browser() -> None:
    missing = []
    if not Path(CHROMIUM).exists():
        missing.append(f"{CHROMIUM} (apt-get install chromium chromium-driver)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright package (pip install playwright)")
    if missing:
        msg = "browser test needs " + " and ".join(missing)
        if os.environ.get("WORKBENCH_REQUIRE_BROWSER") == "1":
            pytest.fail(msg)
        pytest.skip(msg)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    _require_browser()
    # Serve copies: JupyterLab autosaves, and the committed notebooks must not change.
    root = tmp_path_factory.mktemp("lab")
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    settings = root / "settings"
    apputils = settings / "@jupyterlab" / "apputils-extension"
    apputils.mkdir(parents=True)
    (apputils / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "JUPYTERLAB_SETTINGS_DIR": str(settings)}
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root / 'notebooks'}",
        "--LabApp.expose_app_in_browser=True",
        "--allow-root",
    ]
    log = open(root / "lab.log", "w")  # closed in teardown
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"JupyterLab did not start:\n{(root / 'lab.log').read_text()[-3000:]}")
            time.sleep(0.5)
    yield base, token
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="module")
def browser(lab):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


_CELL_STATE = """() => {
  const w = window.jupyterapp.shell.currentWidget;
  if (!w || !w.content || !w.content.widgets) return null;
  const cells = w.content.widgets.filter(c => c.model.type === 'code');
  return {
    total: cells.length,
    done: cells.filter(c => c.model.executionCount !== null && c.promptNode &&
                            !c.promptNode.textContent.includes('*')).length,
    busy: w.sessionContext.session && w.sessionContext.session.kernel ?
          w.sessionContext.session.kernel.status : 'none',
    errors: cells.flatMap(c => c.model.outputs.toJSON()
                   .filter(o => o.output_type === 'error')
                   .map(o => o.ename + ': ' + o.evalue)),
  };
}"""


def _run_all(page, base, token, notebook):
    page.goto(f"{base}/lab/tree/{notebook}?token={token}&reset")
    page.wait_for_function(
        "() => window.jupyterapp && window.jupyterapp.shell.currentWidget && "
        "window.jupyterapp.shell.currentWidget.sessionContext && "
        "window.jupyterapp.shell.currentWidget.sessionContext.isReady",
        timeout=90_000,
    )
    # Clear the committed outputs so everything checked below comes from this run.
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs')")
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    deadline = time.monotonic() + CELL_TIMEOUT_S
    state = None
    while time.monotonic() < deadline:
        state = page.evaluate(_CELL_STATE)
        if state and state["errors"]:
            break
        if state and state["done"] == state["total"] and state["busy"] == "idle":
            break
        page.wait_for_timeout(500)
    else:
        pytest.fail(f"{notebook}: cells did not finish in {CELL_TIMEOUT_S} s: {state}")
    return state


def _main_button(page):
    """The main action of the last cell's widget: the button marked `workbench-main`.

    Panels mark theirs through the panel contract (``ToolPanel.set_main_button``) and the
    launcher its cards' "Open" buttons (``workbench.ui.mark_main``); a panel without the mark
    fails here, there is no guessing.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    last = page.locator(".jp-Notebook .jp-Cell.jp-CodeCell").last
    button = last.locator(f"button.{MAIN_CLASS}").first
    try:
        button.wait_for(timeout=30_000)
    except PlaywrightTimeout:
        pytest.fail("no button is marked as the main action (ToolPanel.set_main_button)")
    return button


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_notebook_runs_and_panel_works_in_browser(lab, browser, notebook):
    base, token = lab
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        state = _run_all(page, base, token, notebook)
        assert not state["errors"], f"{notebook}: cells raised {state['errors']}"
        last = page.locator(".jp-Notebook .jp-Cell.jp-CodeCell").last
        last.scroll_into_view_if_needed()
        # A rendered widget, not the "Loading widget..." placeholder or a text repr.
        last.locator(".jupyter-widgets").first.wait_for(timeout=30_000)
        assert "Loading widget" not in last.inner_text()
        button = _main_button(page)
        label = button.inner_text()
        button.click()
        if notebook == "00_tour.ipynb":
            # "Open" shows the first tool's panel (a ToolPanel: heading + status line).
            last.locator(".widget-tab .jupyter-widgets h3").first.wait_for(timeout=60_000)
        else:
            # The panel's status line ends "ok" (or "error": fail at once with its message).
            done = last.locator(".workbench-status-ok, .workbench-status-error").first
            done.wait_for(timeout=CELL_TIMEOUT_S * 1000)
            status = done.inner_text()
            assert "workbench-status-ok" in (done.get_attribute("class") or ""), (
                f"{notebook}: '{label}' showed an error: {status}"
            )
        assert "Unexpected error" not in last.inner_text(), f"{notebook}: '{label}' failed"
    finally:
        # Also on failure: the picture is the quickest diagnosis.
        page.screenshot(path=str(SHOTS / f"{notebook.removesuffix('.ipynb')}.png"), full_page=True)
        page.close()
