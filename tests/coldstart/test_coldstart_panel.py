"""The cold-start panel, driven through its widgets: the demo, a LaunchData, the user's tables."""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import re

import matplotlib
import numpy as np
import pandas as pd
import pytest

from workbench.coldstart import make_launches
from workbench.coldstart.panel import ColdStartPanel
from workbench.core.errors import InputTypeError
from workbench.core.workspace import Workspace

matplotlib.use("Agg")

N_NEW = 5


@pytest.fixture(scope="module")
def panel():
    return ColdStartPanel(make_launches(n_items=160, n_periods=90, random_state=5), random_state=0)


@pytest.fixture(scope="module")
def user_tables():
    """A shop's own tables: sku ids 1000.., weeks, units; the 5 latest launches have no sales."""
    d = make_launches(n_items=80, n_periods=70, random_state=7)
    sku = {k: 1000 + i for i, k in enumerate(d.attributes["item_id"])}
    new = d.launch_dates.sort_values().index[-N_NEW:]
    hist = d.history[~d.history["item_id"].isin(new)]
    sales = pd.DataFrame(
        {"sku": hist["item_id"].map(sku), "week": hist["date"], "units": hist["quantity"]}
    ).reset_index(drop=True)
    attrs = d.attributes.rename(columns={"item_id": "sku", "category": "family"})
    attrs["sku"] = attrs["sku"].map(sku)
    return sales, attrs, sorted(sku[k] for k in new)


def _upload(picker, name, content):
    picker.source.value = "upload"
    picker.upload.value = (
        {
            "name": name,
            "content": content,
            "type": "",
            "size": len(content),
            "last_modified": dt.datetime(2026, 1, 1),
        },
    )


# --- the demo and a LaunchData (today's behaviour) -------------------------------------------
def test_default_construction_is_light():
    p = ColdStartPanel()
    assert p.result is None and p.backtest_ is None and p.last_error is None
    assert p.data_picker.source.value == "demo" and p.attributes_picker.source.value == "demo"
    assert set(p.attribute_widgets) == {"category", "brand", "price", "pack_size", "launch_support"}
    assert (p.item_column.value, p.date_column.value, p.quantity_column.value) == (
        "item_id",
        "date",
        "quantity",
    )
    assert p.items.value == "described" and p.category.value == "category"
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
    assert list(panel.forecasts_.columns) == [
        "item_id",
        "date",
        "age",
        "forecast",
        "lower",
        "upper",
    ]
    assert (panel.forecasts_["lower"] <= panel.forecasts_["upper"]).all()


def test_bad_input_shows_error_in_panel(panel):
    panel.launch_date.value = None
    panel.forecast_button.click()
    assert panel.last_error is not None and "launch_date" in panel.last_error
    panel.launch_date.value = dt.date(2026, 1, 5)
    panel.forecast_button.click()
    assert panel.last_error is None


def test_backtest_button(panel):
    panel.horizon.value = 8
    panel.backtest_button.click()
    assert panel.last_error is None, panel.last_error
    t = panel.backtest_.to_frame()
    assert "category_mean" in set(t["method"]) and panel.backtest_.horizon == 8


def test_constructor_refuses_what_is_no_table():
    with pytest.raises(InputTypeError, match="data must be a LaunchData or a sales table"):
        ColdStartPanel(data=42)


# --- the user's tables ------------------------------------------------------------------------
def test_user_tables_forecast_the_users_new_items(user_tables):
    sales, attrs, new_ids = user_tables
    ws = Workspace(":memory:")
    p = ColdStartPanel(sales, attributes=attrs, workspace=ws, namespace={})
    assert (p.item_column.value, p.date_column.value, p.quantity_column.value) == (
        "sku",
        "week",
        "units",
    )
    assert p.category.value == "family" and p.items.value == "new"
    assert p.launch_date.value == (sales["week"].max() + pd.Timedelta(days=7)).date()
    p.horizon.value = 10
    p.forecast_button.click()
    assert p.last_error is None, p.last_error
    t = p.forecasts_
    assert list(t.columns) == ["sku", "date", "age", "forecast", "lower", "upper"]
    assert sorted(t["sku"].unique()) == new_ids and len(t) == N_NEW * 10
    assert t["sku"].map(type).eq(int).all() or pd.api.types.is_integer_dtype(t["sku"])
    known = set(p.analogues_.neighbors["item_id"].astype(int))
    assert known <= set(sales["sku"]) and not known & set(new_ids)
    assert set(p.analogues_.neighbors["new_item"].astype(int)) == set(new_ids)
    assert ws.tables() == []
    p.export.save_button.click()
    assert p.last_error is None and ws.tables() == ["coldstart_forecasts"]
    saved = ws.con.execute("SELECT * FROM coldstart_forecasts ORDER BY sku, age").df()
    assert sorted(saved["sku"].unique()) == new_ids and len(saved) == len(t)
    b64 = re.search(r"base64,([^']+)'", p.export.download.value).group(1)
    rows = pd.read_csv(io.BytesIO(base64.b64decode(b64)))
    assert rows["sku"].tolist() == t["sku"].tolist()
    assert rows["forecast"].round(6).tolist() == t["forecast"].round(6).tolist()


def test_described_product_uses_the_users_attributes(user_tables):
    sales, attrs, _ = user_tables
    p = ColdStartPanel(sales, attributes=attrs, namespace={})
    p.items.value = "described"
    assert set(p.attribute_widgets) == {"family", "brand", "price", "pack_size", "launch_support"}
    p.method.value = "knn"
    p.horizon.value = 4
    p.forecast_button.click()
    assert p.last_error is None, p.last_error
    assert p.forecasts_["sku"].eq("NEW").all() and len(p.forecasts_) == 4


def test_columns_named_in_the_constructor_and_launch_dates_per_item(user_tables):
    sales, attrs, new_ids = user_tables
    odd = sales.rename(columns={"sku": "code", "week": "period_start", "units": "sold"})
    table = attrs.rename(columns={"sku": "code"})
    launch = pd.Timestamp(sales["week"].max()) + pd.Timedelta(weeks=3)
    table["launch_on"] = pd.NaT
    table.loc[table["code"] == new_ids[0], "launch_on"] = launch
    p = ColdStartPanel(
        odd, attributes=table, id="code", time="period_start", target="sold", namespace={}
    )
    assert (p.item_column.value, p.date_column.value, p.quantity_column.value) == (
        "code",
        "period_start",
        "sold",
    )
    p.method.value = "knn"
    p.horizon.value = 3
    p.forecast_button.click()
    assert p.last_error is None, p.last_error
    first = p.forecasts_.groupby("code")["date"].min()
    assert first[new_ids[0]] == launch
    assert (first.drop(new_ids[0]) == pd.Timestamp(p.launch_date.value)).all()


def test_uploads_variables_tables_and_queries(user_tables):
    sales, attrs, new_ids = user_tables
    ws = Workspace(":memory:")
    ws.add("shop_sales", sales, time="week")  # without a role, add() leaves dates out
    ns = {"product_master": attrs}
    p = ColdStartPanel(workspace=ws, namespace=ns)
    p.data_picker.source.value = "query"
    p.data_picker.query.value = "SELECT * FROM shop_sales WHERE units >= 0"
    p.data_picker.preview_button.click()
    p.attributes_picker.source.value = "variable"
    assert p.items.value == "new" and p.quantity_column.value == "units"
    p.method.value = "knn"
    p.horizon.value = 2
    p.forecast_button.click()
    assert p.last_error is None, p.last_error
    assert sorted(p.forecasts_["sku"].unique()) == new_ids
    _upload(p.data_picker, "sales.csv", sales.to_csv(index=False).encode())
    _upload(p.attributes_picker, "products.csv", attrs.to_csv(index=False).encode())
    p.forecast_button.click()
    assert p.last_error is None, p.last_error
    assert sorted(p.forecasts_["sku"].unique()) == new_ids


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("quantity with NaN", "'units' has 6 missing value(s)"),
        ("gone variable", "no longer exists"),
        ("sql syntax error", "syntax"),
        ("not csv or parquet", "neither a CSV nor a Parquet file"),
        ("empty file", "empty"),
        ("no item column in attributes", "no column 'sku'"),
        ("no new item", "none is new"),
        ("sold item without attributes", "have no attribute row"),
        ("no quantity column", "Choose the item, date and quantity columns"),
        ("same column twice", "cannot be a feature and also the target"),
    ],
)
def test_bad_input_is_shown_and_nothing_is_written(user_tables, case, message):
    sales, attrs, _ = user_tables
    ws = Workspace(":memory:")
    ws.con.execute("CREATE TABLE other AS SELECT 1 AS a")
    ns = {"shop_sales": sales}
    if case == "quantity with NaN":
        sales = sales.assign(units=sales["units"].where(sales.index % 500 != 7))
    elif case == "no item column in attributes":
        attrs = attrs.rename(columns={"sku": "code"})
    elif case == "no new item":
        attrs = attrs[attrs["sku"].isin(sales["sku"])]
    elif case == "sold item without attributes":
        attrs = attrs.iloc[3:]
    p = ColdStartPanel(sales, attributes=attrs, workspace=ws, namespace=ns)
    if case == "gone variable":
        p.data_picker.source.value = "variable"
        del ns["shop_sales"]
    elif case == "sql syntax error":
        p.data_picker.source.value = "query"
        p.data_picker.query.value = "SELEC * FROM other"
    elif case == "not csv or parquet":
        _upload(p.attributes_picker, "products.xlsx", b"PK\x03\x04 not a table")
    elif case == "empty file":
        _upload(p.data_picker, "sales.csv", b"")
    elif case == "no quantity column":
        p.quantity_column.value = None
    elif case == "same column twice":
        p.quantity_column.value = "sku"
    p.method.value = "knn"
    p.forecast_button.click()
    assert p.last_error is not None and message in p.last_error, p.last_error
    assert message in html.unescape(p.status.value)
    assert "Unexpected" not in p.last_error
    assert p.result is None and p.forecasts_ is None and p.export is None
    assert ws.tables() == ["other"]


def test_global_method_forecasts_the_users_catalogue_with_fan_and_analogues(user_tables):
    sales, attrs, new_ids = user_tables
    p = ColdStartPanel(sales, attributes=attrs, namespace={})
    assert "global" in p.method.options
    p.method.value = "global"
    p.horizon.value = 6
    p.forecast_button.click()
    assert p.last_error is None, p.last_error
    assert p.result.method == "global"
    t = p.forecasts_
    assert sorted(t["sku"].unique()) == new_ids and len(t) == N_NEW * 6
    assert (t["lower"] <= t["forecast"]).all() and (t["forecast"] <= t["upper"]).all()
    assert (t["upper"] > t["lower"]).any()  # an interval fan, not a line
    assert set(p.analogues_.neighbors["new_item"].astype(int)) == set(new_ids)
    assert len(p.figure.axes) == 2
    # The intervals menu refits with the shortest bands: same forecasts, narrower bands.
    p.interval.value = "shortest"
    p.forecast_button.click()
    assert p.last_error is None, p.last_error
    s = p.forecasts_
    np.testing.assert_allclose(s["forecast"], t["forecast"])
    assert not np.allclose(s["lower"], t["lower"]) or not np.allclose(s["upper"], t["upper"])
    assert (s["upper"] - s["lower"]).sum() < (t["upper"] - t["lower"]).sum()
