"""Bad input to every public name of the cold-start tool: a WorkbenchError that says what to fix.

Each case here escaped before the boundary checks: a raw numpy/pandas/joblib exception, a hang
or out-of-memory on a typo such as ``horizon=10**7``, a NaN forecast marked as done, or a wrong
value silently accepted (``launch_date=123`` read as 1970, text in a price column turned into
categories).
"""

from __future__ import annotations

import datetime as dt

import matplotlib
import numpy as np
import pandas as pd
import pytest

from workbench.coldstart import (
    ColdStartForecaster,
    backtest,
    coverage,
    make_launches,
    mase,
    pinball_loss,
    wape,
)
from workbench.coldstart.panel import ColdStartPanel
from workbench.core.errors import InputError, InputTypeError, UnknownNameError, WorkbenchError

matplotlib.use("Agg")

ORIGIN = "2025-01-06"
LAUNCH = "2025-02-03"


@pytest.fixture(scope="module")
def data():
    return make_launches(n_items=60, n_periods=60, random_state=0)


@pytest.fixture(scope="module")
def parts(data):
    known, new = data.split_by_launch(ORIGIN)
    hist = data.history[data.history["item_id"].isin(known["item_id"])].reset_index(drop=True)
    young = data.history[data.history["item_id"].isin(new["item_id"].head(2))]
    return hist, known, new.head(2).reset_index(drop=True), young.groupby("item_id").head(3)


@pytest.fixture(scope="module")
def model(parts):
    hist, known, _, _ = parts
    return ColdStartForecaster(method="knn", random_state=0).fit(hist, known)


def _mixed(values: pd.Series, bad: object) -> pd.Series:
    out = values.astype(object)
    out.iloc[0] = bad
    return out


# --------------------------------------------------------------------------- make_launches
@pytest.mark.parametrize(
    ("kwargs", "exc", "text"),
    [
        ({"n_items": 100_001, "n_periods": 1}, InputError, r"n_items must lie in .*100000"),
        ({"n_items": 10**20}, InputError, "n_items must lie in"),
        ({"n_periods": 2000}, InputError, "n_periods must lie in"),
        ({"n_items": 6000, "n_periods": 1000}, InputError, "rows is more than"),
        ({"item_noise": 1e308}, InputError, "item_noise must lie in"),
        ({"dispersion": 1e308}, InputError, "dispersion must lie in"),
        ({"random_state": -1}, InputError, r"random_state must lie in \[0, 2\*\*32 - 1\]"),
        ({"random_state": 2**40}, InputError, "random_state must lie in"),
        ({"start": 123}, InputTypeError, "start must be a date"),
        ({"start": None}, InputTypeError, "start must be a date"),
    ],
)
def test_make_launches_refuses(kwargs, exc, text):
    with pytest.raises(exc, match=text):
        make_launches(**{"n_items": 10, "n_periods": 20, **kwargs})


@pytest.mark.parametrize("bad", [123, None, 2.5])
def test_split_by_launch_refuses_numbers(data, bad):
    with pytest.raises(InputTypeError, match="date must be a date"):
        data.split_by_launch(bad)


# ------------------------------------------------------------------ forecaster parameters
@pytest.mark.parametrize(
    ("params", "exc", "text"),
    [
        ({"random_state": -1}, InputError, "random_state must lie in"),
        ({"random_state": 2**40}, InputError, "random_state must lie in"),
        ({"n_neighbors": 1001}, InputError, r"n_neighbors must lie in \[1, 1000\]"),
        ({"n_neighbors": 10**20}, InputError, "n_neighbors must lie in"),
        ({"max_iter": 5001}, InputError, "max_iter must lie in"),
        ({"method": []}, UnknownNameError, "Unknown method"),
        ({"interval": "narrow"}, UnknownNameError, "Unknown interval 'narrow'.*shortest"),
        ({"quantiles": list(np.linspace(0.01, 0.99, 100))}, InputError, "at most 99"),
    ],
)
def test_forecaster_parameters_refused_at_fit(parts, params, exc, text):
    hist, known, _, _ = parts
    with pytest.raises(exc, match=text):
        ColdStartForecaster(**{"method": "profile", **params}).fit(hist, known)


def test_forecaster_accepts_numpy_quantiles(parts):
    hist, known, new, _ = parts
    model = ColdStartForecaster(method="profile", quantiles=np.array([0.1, 0.9]))
    fc = model.fit(hist, known).predict(new, 3, LAUNCH)
    assert list(fc.frame.columns[-2:]) == ["q0.1", "q0.9"]


# ----------------------------------------------------------------------------- fit inputs
def test_fit_refuses_huge_and_boolean_quantities(parts):
    hist, known, _, _ = parts
    fit = ColdStartForecaster(method="profile").fit
    with pytest.raises(InputError, match=r"above 3\.4e"):
        fit(hist.assign(quantity=1e308), known)
    with pytest.raises(InputTypeError, match="numeric quantities"):
        fit(hist.assign(quantity=True), known)


def test_fit_refuses_numbers_as_dates(parts):
    hist, known, _, _ = parts
    with pytest.raises(InputTypeError, match="holds numbers, not dates"):
        ColdStartForecaster(method="profile").fit(hist.assign(date=np.arange(len(hist))), known)


@pytest.mark.parametrize(
    ("column", "values", "exc", "text"),
    [
        ("price", lambda k: _mixed(k["price"], "cheap"), InputTypeError, "mixes numbers"),
        ("price", lambda k: k["price"].where(k.index != 0, 1e308), InputError, "above 3.4e"),
        ("launched", lambda k: pd.Timestamp("2024-01-01"), InputTypeError, "dates"),
        ("tags", lambda k: [[1, 2]] * len(k), InputTypeError, "list values"),
        ("price", lambda k: k["price"] + 1j, InputTypeError, "complex"),
    ],
)
def test_fit_refuses_ambiguous_attribute_columns(parts, column, values, exc, text):
    hist, known, _, _ = parts
    attrs = known.assign(**{column: values(known)})
    with pytest.raises(exc, match=text):
        ColdStartForecaster(method="profile").fit(hist, attrs)


def test_numbers_stored_as_objects_stay_numeric(parts):
    hist, known, _, _ = parts
    attrs = known.assign(price=known["price"].astype(object))
    model = ColdStartForecaster(method="profile").fit(hist, attrs)
    assert "price" in model.schema_.numeric


# -------------------------------------------------------------------------------- predict
@pytest.mark.parametrize(
    ("call", "exc", "text"),
    [
        (lambda m, n: m.predict(n, 521, LAUNCH), InputError, r"horizon must lie in \[1, 520\]"),
        (lambda m, n: m.predict(n, 10**20, LAUNCH), InputError, "horizon must lie in"),
        (lambda m, n: m.predict(n, 3, 123), InputTypeError, "launch_date must be a date"),
        (lambda m, n: m.predict(n, 3, [123, 456]), InputTypeError, "not a date"),
        (lambda m, n: m.predict(n, 3, object()), InputError, "not a date"),
        (lambda m, n: m.predict(n.assign(launch_date=123), 3), InputTypeError, "not dates"),
        (lambda m, n: m.predict(n.assign(price=1e308), 3, LAUNCH), InputError, "price"),
        (lambda m, n: m.predict(n.assign(price=True), 3, LAUNCH), InputTypeError, "numeric"),
        (lambda m, n: m.analogues(n, 1001), InputError, "n_neighbors must lie in"),
        (lambda m, n: m.analogues(n, 10**20), InputError, "n_neighbors must lie in"),
        (lambda m, n: m.analogues(n.assign(price=1e308)), InputError, "price"),
    ],
)
def test_predict_and_analogues_refuse(model, parts, call, exc, text):
    with pytest.raises(exc, match=text):
        call(model, parts[2])


def test_update_refuses(model, parts):
    _, _, new, young = parts
    with pytest.raises(InputError, match="horizon must lie in"):
        model.update(young, new, 1001)
    with pytest.raises(InputError, match=r"above 3\.4e"):
        model.update(young.assign(quantity=1e308), new, 3)
    with pytest.raises(InputTypeError, match="launch_date must be a date"):
        model.update(young, new, 3, launch_date=123)


def test_forecasts_of_extreme_but_valid_attributes_are_finite(parts):
    # A price column that barely varies in training used to blow attribute distances up to
    # infinity for a new item with a large price: the knn forecast came back all NaN.
    hist, known, new, _ = parts
    flat = known.assign(price=1e-150 * np.arange(len(known)))
    model = ColdStartForecaster(method="knn", random_state=0).fit(hist, flat)
    frame = model.predict(new.assign(price=3e38), 4, LAUNCH).to_frame()
    assert np.isfinite(frame.select_dtypes("number").to_numpy()).all()


# ------------------------------------------------------------------------------- backtest
@pytest.mark.parametrize(
    ("kwargs", "exc", "text"),
    [
        ({"methods": 3}, InputTypeError, "list of method names"),
        ({"methods": ["profile", "profile"]}, InputError, "twice"),
        ({"scheme": "kfold", "group_col": []}, InputTypeError, "group_col must be a column"),
        ({"random_state": -1}, InputError, "random_state must lie in"),
        ({"show_progress": "x"}, InputTypeError, "show_progress must be"),
        ({"step": 10**6}, InputError, "step must lie in"),
        ({"n_folds": 101}, InputError, "n_folds must lie in"),
        ({"horizon": 1001}, InputError, "horizon must lie in"),
        ({"forecaster": ColdStartForecaster(n_neighbors=10**20)}, InputError, "n_neighbors"),
    ],
)
def test_backtest_refuses(data, kwargs, exc, text):
    args = {"methods": ["profile", "category_mean"], "horizon": 6, "random_state": 0}
    with pytest.raises(exc, match=text):
        backtest(data.history, data.attributes, **{**args, **kwargs})


# -------------------------------------------------------------------------------- metrics
@pytest.mark.parametrize(
    ("call", "exc", "text"),
    [
        (lambda: wape(np.full(3, 1e308), np.zeros(3)), InputError, "overflow float32"),
        (lambda: wape([1e-320, 1e-320], [1.0, 2.0]), InputError, "WAPE overflowed"),
        (lambda: mase([1, 2], [1, 3], "x"), InputTypeError, "scale must be numeric"),
        (lambda: mase([1, 2, 3], [1, 2, 4], np.ones(2)), InputError, "scale has 2 values"),
        (lambda: mase([1, 2], [1, 3], 1e-320), InputError, "scale must be finite and > 0"),
        (lambda: mase([1, 2], [1, 3], None), InputTypeError, "scale must be a positive"),
        (lambda: pinball_loss([1], [2], 0.5, np.ones((1, 2))), InputError, "1-dimensional"),
        (lambda: coverage([1.0], [0.0], [1e308]), InputError, "overflow float32"),
    ],
)
def test_metrics_refuse(call, exc, text):
    with pytest.raises(exc, match=text):
        call()


# -------------------------------------------------------------------------- result methods
@pytest.fixture(scope="module")
def results(model, parts, data):
    _, _, new, _ = parts
    bt = backtest(
        data.history, data.attributes, methods=["profile"], horizon=4, show_progress=False
    )
    return model.predict(new, 4, LAUNCH), model.analogues(new, 3), bt


@pytest.mark.parametrize("which", [0, 1, 2])
@pytest.mark.parametrize("ax", ["x", 1, pd.DataFrame()])
def test_plots_refuse_a_non_axes(results, which, ax):
    with pytest.raises(InputTypeError, match="ax must be a matplotlib Axes"):
        results[which].plot(ax=ax)


def test_analogue_plot_refuses_bad_max_age(results):
    with pytest.raises(InputTypeError, match="max_age must be an integer"):
        results[1].plot(max_age="x")
    with pytest.raises(InputError, match="max_age must lie in"):
        results[1].plot(max_age=-1)


# ---------------------------------------------------------------------------------- panel
def test_panel_constructor_refuses_bad_arguments():
    with pytest.raises(InputTypeError, match="data must be a LaunchData"):
        ColdStartPanel(data=42)
    with pytest.raises(InputError, match="random_state must lie in"):
        ColdStartPanel(random_state=-1)


def test_panel_shows_the_message_for_a_typed_price(data):
    panel = ColdStartPanel(data, random_state=0)
    panel.method.value = "profile"
    panel.launch_date.value = dt.date(2025, 3, 3)
    panel.attribute_widgets["price"].value = 1e308
    panel.forecast_button.click()
    assert panel.last_error is not None and "price" in panel.last_error
    assert "Unexpected error" not in panel.last_error and panel.result is None
    panel.attribute_widgets["price"].value = 4.0
    panel.launch_date.value = None
    panel.forecast_button.click()
    assert "pick the product's launch in the date picker" in panel.last_error
    panel.launch_date.value = dt.date(2025, 3, 3)
    panel.forecast_button.click()
    assert panel.last_error is None
    assert issubclass(UnknownNameError, WorkbenchError)


# --------------------------------------------------- comparing methods on one fitted model
def test_fit_several_methods_and_predict_each(parts):
    hist, known, new, _ = parts
    model = ColdStartForecaster(method="profile", random_state=0)
    model.fit(hist, known, methods=["knn", "category_mean"])
    assert {"profile", "knn", "category_mean"} <= set(model.fitted_methods_)
    for m in ("profile", "knn", "category_mean"):
        fc = model.predict(new, 3, LAUNCH, method=m)
        assert fc.method == m and len(fc.frame) == 3 * len(new)
    scale = model.mase_scale(new)
    assert list(scale.index) == new["item_id"].tolist() and (scale > 0).all()
    with pytest.raises(UnknownNameError, match="fitted method 'gbm'"):
        model.predict(new, 3, LAUNCH, method="gbm")
    with pytest.raises(InputTypeError, match="not one string"):
        model.fit(hist, known, methods="knn")
    with pytest.raises(UnknownNameError, match="prophet"):
        model.fit(hist, known, methods=["prophet"])
