"""Every notebook in a real JupyterLab, in headless Chromium: run all cells, see the widgets, click.

Needs Debian's ``chromium`` (``/usr/bin/chromium``) and the ``playwright`` Python package (no
browser download: Playwright drives the system Chromium). `.ci/run` installs both and sets
``WORKBENCH_REQUIRE_BROWSER=1`` so that a missing browser fails CI instead of skipping.
Screenshots go to ``test-output/browser/``.
"""

from __future__ import annotations

import pytest

from tests.browser.jupyter import CELL_TIMEOUT_S, ROOT, SHOTS, main_button, run_all

pytestmark = pytest.mark.browser

NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_notebook_runs_and_panel_works_in_browser(lab, browser, notebook):
    base, token, _folder = lab
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        state = run_all(page, base, token, notebook)
        assert not state["errors"], f"{notebook}: cells raised {state['errors']}"
        last = page.locator(".jp-Notebook .jp-Cell.jp-CodeCell").last
        last.scroll_into_view_if_needed()
        # A rendered widget, not the "Loading widget..." placeholder or a text repr.
        last.locator(".jupyter-widgets").first.wait_for(timeout=30_000)
        assert "Loading widget" not in last.inner_text()
        button = main_button(page)
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
