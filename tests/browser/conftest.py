"""Fixtures of the browser tests: one Jupyter server and one Chromium per test module."""

from __future__ import annotations

import shutil

import pytest

from tests.browser.jupyter import CHROMIUM, CHROMIUM_ARGS, ROOT, jupyter_server, require_browser


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    require_browser()
    # Serve copies: JupyterLab autosaves, and the committed notebooks must not change.
    root = tmp_path_factory.mktemp("lab")
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    with jupyter_server("lab", root) as (base, token):
        yield base, token, root / "notebooks"


@pytest.fixture(scope="module")
def notebook7(tmp_path_factory):
    """A Notebook 7 server (``python -m notebook``) on an empty folder: (base, token, folder)."""
    require_browser()
    root = tmp_path_factory.mktemp("notebook7")
    (root / "notebooks").mkdir()
    with jupyter_server("notebook", root) as (base, token):
        yield base, token, root / "notebooks"


@pytest.fixture(scope="module")
def browser(lab):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()
