"""Driving JupyterLab in headless Chromium: shared by the browser tests (fixtures in conftest.py).

Needs Debian's ``chromium`` (``/usr/bin/chromium``) and the ``playwright`` Python package (no
browser download: Playwright drives the system Chromium). `.ci/run` installs both and sets
``WORKBENCH_REQUIRE_BROWSER=1`` so that a missing browser fails CI instead of skipping.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest

from workbench.ui.base import MAIN_CLASS

ROOT = Path(__file__).resolve().parents[2]
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


def require_browser() -> None:
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


CELL_STATE = """() => {
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


def run_all(page, base, token, notebook):
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
        state = page.evaluate(CELL_STATE)
        if state and state["errors"]:
            break
        if state and state["done"] == state["total"] and state["busy"] == "idle":
            break
        page.wait_for_timeout(500)
    else:
        pytest.fail(f"{notebook}: cells did not finish in {CELL_TIMEOUT_S} s: {state}")
    return state


def main_button(page):
    """The main action of the last cell's widget: the button marked `workbench-main`.

    Panels mark theirs through the panel contract (``ToolPanel.setmain_button``) and the
    launcher its cards' "Open" buttons (``workbench.ui.mark_main``); a panel without the mark
    fails here, there is no guessing.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    last = page.locator(".jp-Notebook .jp-Cell.jp-CodeCell").last
    button = last.locator(f"button.{MAIN_CLASS}").first
    try:
        button.wait_for(timeout=30_000)
    except PlaywrightTimeout:
        pytest.fail("no button is marked as the main action (ToolPanel.setmain_button)")
    return button
