"""Driving JupyterLab in headless Chromium: shared by the browser tests (fixtures in conftest.py).

Needs Debian's ``chromium`` (``/usr/bin/chromium``) and the ``playwright`` Python package (no
browser download: Playwright drives the system Chromium). `.ci/run` installs both and sets
``WORKBENCH_REQUIRE_BROWSER=1`` so that a missing browser fails CI instead of skipping.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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


def run_all(page, base, token, notebook, app="lab"):
    """Open ``notebook`` and run all its cells; ``app`` is "lab" or "notebook" (Notebook 7).

    Both front ends expose the application as ``window.jupyterapp`` when started with
    ``expose_app_in_browser`` (see :func:`jupyter_server`), and their notebook widgets, commands
    and cell classes are JupyterLab's, so the same checks work in both.
    """
    if app == "lab":
        page.goto(f"{base}/lab/tree/{notebook}?token={token}&reset")
    else:
        page.goto(f"{base}/notebooks/{notebook}?token={token}")
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


# --- Servers, notebooks and waits shared by the JupyterLab and Notebook 7 tests -------------

APPS = {
    # module run with ``python -m``, and its option that sets ``window.jupyterapp``
    "lab": ("jupyterlab", "--LabApp.expose_app_in_browser=True"),
    "notebook": ("notebook", "--JupyterNotebookApp.expose_app_in_browser=True"),
}


@contextmanager
def jupyter_server(app: str, root: Path) -> Iterator[tuple[str, str]]:
    """Start JupyterLab (``app="lab"``) or Notebook 7 (``"notebook"``) serving ``root/notebooks``.

    Settings go to ``root/settings`` (the news pop-up is off); the log to ``root/<app>.log``.
    Yields ``(base_url, token)``; the server is stopped on exit.
    """
    module, expose = APPS[app]
    settings = root / "settings"
    apputils = settings / "@jupyterlab" / "apputils-extension"
    apputils.mkdir(parents=True, exist_ok=True)
    (apputils / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    port, token = free_port(), secrets.token_hex(16)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "JUPYTERLAB_SETTINGS_DIR": str(settings)}
    cmd = [
        sys.executable,
        "-m",
        module,
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root / 'notebooks'}",
        expose,
        "--allow-root",
    ]
    log_path = root / f"{app}.log"
    with open(log_path, "w") as log:
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
                    pytest.fail(f"{module} did not start:\n{log_path.read_text()[-3000:]}")
                time.sleep(0.5)
        try:
            yield base, token
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def launch_chromium(pw, *extra: str):
    """Launch the system Chromium through Playwright with the shared flags plus ``extra``."""
    return pw.chromium.launch(
        executable_path=CHROMIUM,
        args=[*CHROMIUM_ARGS, "--autoplay-policy=no-user-gesture-required", *extra],
    )


def fake_microphone_flags(wav: Path) -> list[str]:
    """Chromium flags that grant the microphone and play ``wav`` (looping) as its input."""
    return [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={wav}",
    ]


def spoken_passage_wav(path: Path, passage: str, lead_s: float, tail_s: float) -> float:
    """Speak ``passage`` (espeak-ng, en-us, 150 wpm) between silences into a 16-kHz WAV.

    Returns the file's length in seconds. The silences let a test stop before Chromium's fake
    microphone loops the file.
    """
    import numpy as np

    from workbench.transcribe import SAMPLE_RATE, synthesize, write_wav

    speech = synthesize(passage, voice="en-us", words_per_minute=150)
    lead = np.zeros(round(lead_s * SAMPLE_RATE), dtype=np.float32)
    tail = np.zeros(round(tail_s * SAMPLE_RATE), dtype=np.float32)
    audio = np.concatenate([lead, speech, tail])
    write_wav(path, audio)
    return audio.size / SAMPLE_RATE


def write_notebook(folder: Path, name: str, *sources: str) -> str:
    """Write a fresh notebook of code cells (Python 3 kernel) into ``folder``; return its name."""
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(nb, folder / name)
    return name


def wait_until(predicate: Callable[[], object], timeout_s: float, what: str, page=None):
    """Poll ``predicate`` until it is truthy (return it) or fail after ``timeout_s`` seconds."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if page is not None:
            page.wait_for_timeout(200)
        else:
            time.sleep(0.2)
    pytest.fail(f"timed out after {timeout_s:.0f} s waiting for {what}")
