"""Upload a CSV through the DataPicker of a panel in real JupyterLab, run it, see the result table.

A user's file, not the demo: the rows carry ids 5000..5239 that no demo dataset has, and the
result table must show some of them. Screenshots go to ``test-output/browser/upload_<panel>.png``.
"""

from __future__ import annotations

import re

import nbformat
import numpy as np
import pandas as pd
import pytest

from tests.browser.jupyter import CELL_TIMEOUT_S, SHOTS, main_button, run_all

pytestmark = pytest.mark.browser

FIRST_ID, N_ROWS = 5000, 240
PANELS = {
    "valuation": "from workbench.valuation.panel import ValuationPanel\nValuationPanel()",
    "privacy": "from workbench.privacy.panel import PrivacyPanel\nPrivacyPanel()",
}


def _user_csv(folder) -> str:
    rng = np.random.default_rng(11)
    x1, x2 = rng.normal(size=N_ROWS), rng.normal(size=N_ROWS)
    frame = pd.DataFrame(
        {
            "member_id": np.arange(FIRST_ID, FIRST_ID + N_ROWS),
            "visits": x1.round(3),
            "spend": (50 + 10 * x2).round(2),
            "tier": rng.choice(["bronze", "silver", "gold"], N_ROWS),
            "left": (x1 + 0.5 * x2 + rng.normal(0, 0.7, N_ROWS) > 0).astype(int),
        }
    )
    path = folder / "members.csv"
    frame.to_csv(path, index=False)
    return str(path)


def _notebook(folder, panel: str) -> str:
    name = f"upload_{panel}.ipynb"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(PANELS[panel])])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(nb, folder / name)
    return name


@pytest.mark.parametrize("panel", sorted(PANELS))
def test_upload_a_csv_and_run_the_panel(lab, browser, panel, tmp_path):
    base, token, folder = lab
    csv = _user_csv(tmp_path)
    notebook = _notebook(folder, panel)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1200})
    try:
        state = run_all(page, base, token, notebook)
        assert not state["errors"], f"{panel}: cells raised {state['errors']}"
        cell = page.locator(".jp-Notebook .jp-Cell.jp-CodeCell").last
        cell.locator(".workbench-source button", has_text="Upload").click()
        # The upload button opens the browser's file chooser, as it does for a user.
        with page.expect_file_chooser() as chooser:
            cell.locator(".workbench-upload").first.click()
        chooser.value.set_files(csv)
        # The preview shows the file's first rows once the kernel has read it.
        cell.locator(".workbench-preview", has_text="members.csv").wait_for(timeout=60_000)
        cell.locator(".workbench-target select").select_option(label="left")
        main_button(page).click()
        done = cell.locator(".workbench-status-ok, .workbench-status-error").first
        done.wait_for(timeout=CELL_TIMEOUT_S * 1000)
        assert "workbench-status-ok" in (done.get_attribute("class") or ""), done.inner_text()
        table = cell.locator(".workbench-output table").first
        table.wait_for(timeout=30_000)
        table.scroll_into_view_if_needed()
        cells = cell.locator(".workbench-output td").all_inner_texts()
        ids = {int(t) for t in cells if re.fullmatch(r"\d{4}", t.strip())}
        assert ids & set(range(FIRST_ID, FIRST_ID + N_ROWS)), (
            f"{panel}: the result table shows none of the uploaded rows' ids: {sorted(ids)[:10]}"
        )
        assert cell.locator("a.workbench-download").count() == 1
    finally:
        page.screenshot(path=str(SHOTS / f"upload_{panel}.png"), full_page=True)
        page.close()
