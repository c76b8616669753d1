"""The cold-start panel, driven through its widgets."""

from __future__ import annotations

import datetime as dt

import matplotlib
import pytest

from workbench.coldstart import make_launches
from workbench.coldstart.panel import ColdStartPanel

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def panel():
    return ColdStartPanel(make_launches(n_items=160, n_periods=90, random_state=5), random_state=0)


def test_default_construction_is_light():
    p = ColdStartPanel()
    assert p.result is None and p.backtest_ is None
    assert set(p.attribute_widgets) == {"category", "brand", "price", "pack_size", "launch_support"}
    assert repr(p) == "ColdStartPanel(items=300)"


def test_forecast_button(panel):
    panel.attribute_widgets["category"].value = panel.attribute_widgets["category"].options[1]
    panel.attribute_widgets["price"].value = 3.5
    panel.method.value = "knn"
    panel.horizon.value = 12
    panel.launch_date.value = dt.date(2026, 1, 5)
    panel.n_analogues.value = 4
    panel.forecast_button.click()
    assert panel.last_error is None, panel.last_error
    f = panel.result.to_frame()
    assert len(f) == 12 and f["item_id"].eq("NEW").all()
    assert f["date"].min().date() == dt.date(2026, 1, 5)
    assert len(panel.analogues_.neighbors) == 4
    assert panel.result.method == "knn"
    assert "Done" in panel.status.value
    assert len(panel.figure.axes) == 2


def test_bad_input_shows_error_in_panel(panel):
    panel.launch_date.value = None
    panel.forecast_button.click()
    assert panel.last_error is not None and "launch_date" in panel.last_error
    assert "error" not in panel.status.value or "b00020" in panel.status.value
    panel.launch_date.value = dt.date(2026, 1, 5)
    panel.forecast_button.click()
    assert panel.last_error is None


def test_backtest_button(panel):
    panel.horizon.value = 8
    panel.backtest_button.click()
    assert panel.last_error is None, panel.last_error
    t = panel.backtest_.to_frame()
    assert "category_mean" in set(t["method"]) and panel.backtest_.horizon == 8
