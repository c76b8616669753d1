"""DriftMonitor and its DriftReport / DriftTimeline results."""

from __future__ import annotations

import json

import joblib
import matplotlib
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression
from workbench_drift import DriftMonitor, DriftReport, DriftTimeline, Window

from workbench.core.errors import (
    InputError,
    InputTypeError,
    ModelError,
    NotFittedError,
    UnknownNameError,
)

matplotlib.use("Agg")


def _frame(rng, n, shift=0.0, mix=(0.5, 0.3, 0.2)):
    return pd.DataFrame(
        {
            "x": rng.normal(shift, 1.0, n),
            "y": rng.normal(0.0, 1.0, n),
            "city": rng.choice(["a", "b", "c"], size=n, p=list(mix)),
            "flag": rng.random(n) < 0.3,
            "code": rng.integers(0, 4, n),
            "when": pd.Timestamp("2026-01-01") + pd.to_timedelta(np.arange(n), unit="min"),
        }
    )


@pytest.fixture
def data():
    rng = np.random.default_rng(42)
    return _frame(rng, 2000), rng


def test_detects_numeric_and_categorical_shift_only_where_it_is(data):
    ref, rng = data
    cur = _frame(rng, 1000, shift=1.0, mix=(0.2, 0.3, 0.5))
    report = DriftMonitor().fit(ref).compare(cur)
    assert isinstance(report, DriftReport)
    assert set(report.drifted_columns) == {"x", "city"}
    assert report.alert
    table = report.to_frame().set_index("column")
    assert table.loc["x", "test"] == "ks"
    assert table.loc["city", "test"] == "chi2"
    assert table.loc["x", "psi"] > 0.5
    assert table.loc["y", "psi"] < 0.05


def test_no_alert_without_drift(data):
    ref, rng = data
    report = DriftMonitor().fit(ref).compare(_frame(rng, 1000))
    assert not report.alert
    assert report.drifted_columns == []
    assert report.summary()["drifted"] == "none"


def test_column_kinds_and_datetime_columns_left_out(data):
    ref, _ = data
    mon = DriftMonitor(categorical=["code"]).fit(ref)
    assert mon.columns_ == ["x", "y", "city", "flag", "code"]
    assert mon.kinds_ == {
        "x": "numeric",
        "y": "numeric",
        "city": "categorical",
        "flag": "categorical",
        "code": "categorical",
    }
    assert len(mon.bin_edges_["x"]) == 9
    assert mon.reference_counts_["x"].sum() == 2000


def test_rules_and_bonferroni(data):
    rng = np.random.default_rng(1)
    # a tiny shift on a large sample: significant but not large
    ref = pd.DataFrame({"x": rng.normal(0, 1, 20000), "y": rng.normal(0, 1, 20000)})
    cur = pd.DataFrame({"x": rng.normal(0.1, 1, 20000), "y": rng.normal(0, 1, 20000)})
    by_rule = {
        rule: DriftMonitor(rule=rule).fit(ref).compare(cur).drifted_columns
        for rule in ("psi", "test", "both", "either")
    }
    assert by_rule == {"psi": [], "test": ["x"], "both": [], "either": ["x"]}
    table = DriftMonitor().fit(ref).compare(cur).to_frame()
    np.testing.assert_allclose(table["p_adjusted"], np.minimum(table["p_value"] * 2, 1.0))
    raw = DriftMonitor(correction="none").fit(ref).compare(cur).to_frame()
    np.testing.assert_allclose(raw["p_adjusted"], raw["p_value"])


def test_psi_alone_is_noisy_on_small_windows_the_test_guards_it():
    rng = np.random.default_rng(3)
    ref = pd.DataFrame({f"f{i}": rng.normal(size=2000) for i in range(10)})
    cur = pd.DataFrame({f"f{i}": rng.normal(size=30) for i in range(10)})
    psi_only = DriftMonitor(rule="psi").fit(ref).compare(cur)
    both = DriftMonitor(rule="both").fit(ref).compare(cur)
    assert len(psi_only.drifted_columns) >= 1  # 30 rows over 10 bins: PSI ~0.3 by chance
    assert both.drifted_columns == []


def test_missing_values_are_reported_and_an_empty_column_alerts(data):
    ref, rng = data
    cur = _frame(rng, 200)
    cur.loc[:49, "y"] = np.nan
    cur["city"] = None
    table = DriftMonitor().fit(ref).compare(cur).to_frame().set_index("column")
    assert table.loc["y", "missing_current"] == pytest.approx(0.25)
    assert table.loc["y", "n_current"] == 150
    assert table.loc["city", "test"] == "missing"
    assert bool(table.loc["city", "drifted"])


def test_object_columns_of_numbers_or_nothing_are_accepted(data):
    from decimal import Decimal

    ref, rng = data
    mon = DriftMonitor(columns=["x", "y"]).fit(ref)
    cur = _frame(rng, 100)
    cur["x"] = [Decimal(str(round(v, 6))) for v in cur["x"]]
    cur["y"] = pd.Series([None] * 100, dtype=object)
    table = mon.compare(cur).to_frame().set_index("column")
    assert table.loc["x", "test"] == "ks"
    assert table.loc["x", "n_current"] == 100
    assert table.loc["y", "test"] == "missing"
    with pytest.raises(InputTypeError, match="reference had numbers"):
        mon.compare(cur.assign(x=True))


def test_binary_classifier_prediction_drift(data):
    ref, rng = data
    X = ref[["x", "y"]]
    model = LogisticRegression().fit(X, (X["x"] + X["y"] > 0).astype(int))
    mon = DriftMonitor(model=model, columns=["x", "y"]).fit(ref)
    assert mon.roles_ == {"x": "feature", "y": "feature", "prediction": "prediction"}
    assert mon.kinds_["prediction"] == "numeric"
    report = mon.compare(_frame(rng, 500, shift=1.5))
    assert report.prediction_drift
    assert "prediction" in report.drifted_columns
    assert not mon.compare(_frame(rng, 500)).prediction_drift


def test_multiclass_and_regression_predictions(data):
    ref, _ = data
    X = ref[["x", "y"]]
    labels = np.digitize(X["x"], [-0.5, 0.5])
    mon = DriftMonitor(model=LogisticRegression().fit(X, labels), columns=["y"]).fit(ref)
    assert mon.kinds_["prediction"] == "categorical"
    reg = DriftMonitor(model=LinearRegression().fit(X.to_numpy(), X["x"]), model_columns=["x", "y"])
    assert reg.fit(ref).kinds_["prediction"] == "numeric"


def test_prediction_columns_are_marked(data):
    ref, _ = data
    mon = DriftMonitor(prediction_columns=["y"]).fit(ref)
    assert mon.roles_["y"] == "prediction"
    assert mon.roles_["x"] == "feature"


def test_report_views_json_and_plots(data):
    ref, rng = data
    report = DriftMonitor().fit(ref).compare(_frame(rng, 500, shift=1.0), window_start="2026-02-02")
    payload = json.loads(report.to_json())
    assert payload["columns"][0]["column"] == "x"
    assert payload["window_start"].startswith("2026-02-02")
    page = report._repr_html_()
    assert "Drift report, window from 2026-02-02" in page
    assert "&lt; 1e-4" in page  # the shifted column's p-value
    assert "<td>x</td>" in page
    assert "0x" not in repr(report)
    assert repr(report).startswith("DriftReport(alert=True")
    ax = report.plot()
    assert len(ax.patches) == 5
    assert ax.get_lines()[0].get_xdata()[0] == pytest.approx(0.2)
    bins = report.bins("x")
    assert len(bins) == 10
    assert bins["reference"].sum() == pytest.approx(1.0)
    assert report.bins("city")["bin"].tolist() == ["a", "b", "c"]
    assert len(report.plot_distribution("city").patches) == 6
    with pytest.raises(UnknownNameError, match="Unknown column 'nope'"):
        report.bins("nope")
    matplotlib.pyplot.close("all")


def _windows(rng, sizes, shifts):
    start = pd.Timestamp("2026-01-05")
    out = []
    for i, (n, s) in enumerate(zip(sizes, shifts, strict=True)):
        a = start + pd.Timedelta(weeks=i)
        out.append(
            Window(a, a + pd.Timedelta(weeks=1), _frame(rng, n, shift=s).drop(columns="when"))
        )
    return out


def test_compare_windows_timeline(data):
    ref, rng = data
    windows = _windows(rng, [300, 10, 300, 300], [0.0, 0.0, 0.0, 1.0])
    timeline = DriftMonitor().fit(ref).compare_windows(windows, show_progress=False)
    assert isinstance(timeline, DriftTimeline)
    assert timeline.windows["status"].tolist() == ["checked", "too few rows", "checked", "checked"]
    assert timeline.windows["alert"].tolist() == [False, False, False, True]
    assert timeline.first_alert == pd.Timestamp("2026-01-26")
    assert len(timeline.reports) == 3
    assert timeline.report("2026-01-26").drifted_columns == ["x"]
    assert timeline.report(0).window_start == pd.Timestamp("2026-01-05")
    assert timeline.psi_matrix().shape == (3, 5)
    assert timeline.summary() == {"windows checked": 3, "alerts": 1, "first alert": "2026-01-26"}
    json.loads(timeline.to_json())
    ax = timeline.plot()
    assert len(ax.get_lines()) == 6  # five columns and the threshold
    assert len(timeline.plot(columns=["x"]).get_lines()) == 2
    matplotlib.pyplot.close("all")
    with pytest.raises(UnknownNameError, match="Unknown window"):
        timeline.report("2030-01-01")
    with pytest.raises(InputError, match="out of range"):
        timeline.report(7)
    with pytest.raises(UnknownNameError, match="Unknown column"):
        timeline.plot(columns=["nope"])


def test_windows_in_parallel_match_sequential(data):
    ref, rng = data
    windows = _windows(rng, [200, 200, 200], [0.0, 0.5, 1.0])
    mon = DriftMonitor().fit(ref)
    seq = mon.compare_windows(windows, show_progress=False)
    with joblib.parallel_config(backend="threading"):
        threaded = mon.compare_windows(windows, n_jobs=2, show_progress=False)
    par = mon.compare_windows(windows, n_jobs=2, show_progress=False)
    pd.testing.assert_frame_equal(seq.scores, threaded.scores)
    pd.testing.assert_frame_equal(seq.scores, par.scores)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"bins": 1}, InputError, r"bins must lie in \[2, 1000\]"),
        ({"bins": "ten"}, InputTypeError, "bins must be an integer"),
        ({"psi_threshold": 0}, InputError, r"psi_threshold must lie in \(0, inf\)"),
        ({"psi_threshold": "high"}, InputTypeError, "psi_threshold must be a number"),
        ({"p_value_threshold": 1.5}, InputError, "p_value_threshold must lie in"),
        ({"rule": "bothh"}, UnknownNameError, "Did you mean 'both'"),
        ({"correction": "holm"}, UnknownNameError, "Unknown correction 'holm'"),
        ({"min_rows": 0}, InputError, r"min_rows must lie in \[1, "),
        ({"eps": 0.0}, InputError, r"eps must lie in \[1e-12, 0.5\)"),
        ({"prediction_name": ""}, InputTypeError, "prediction_name"),
        ({"columns": "x"}, InputTypeError, "columns must be a list"),
        ({"columns": []}, InputError, "columns is empty"),
        ({"columns": ["x", "nope"]}, UnknownNameError, "Unknown column 'nope'"),
        ({"categorical": ["nope"]}, UnknownNameError, "Unknown column 'nope'"),
        ({"prediction_columns": ["nope"]}, UnknownNameError, "Unknown column 'nope'"),
        ({"columns": ["x", "when"]}, InputTypeError, "holds dates"),
        ({"model": object()}, InputTypeError, "must be a scikit-learn style estimator"),
        ({"model": LogisticRegression()}, NotFittedError, "not fitted"),
    ],
)
def test_fit_bad_options(data, kwargs, error, message):
    ref, _ = data
    with pytest.raises(error, match=message):
        DriftMonitor(**kwargs).fit(ref)


def test_fit_bad_reference(data):
    ref, _ = data
    with pytest.raises(InputTypeError, match="must be a pandas DataFrame"):
        DriftMonitor().fit([[1, 2], [3, 4]])
    with pytest.raises(InputError, match="is empty"):
        DriftMonitor().fit(pd.DataFrame())
    with pytest.raises(InputError, match="min_rows=30"):
        DriftMonitor().fit(ref.head(10))
    with pytest.raises(InputError, match="2-dimensional"):
        DriftMonitor().fit(np.ones(50))
    with pytest.raises(InputError, match="duplicated column names"):
        DriftMonitor().fit(pd.concat([ref[["x"]], ref[["x"]]], axis=1))
    with pytest.raises(InputError, match="no non-missing value"):
        DriftMonitor().fit(ref.assign(y=np.nan))
    with pytest.raises(InputError, match="only datetime columns"):
        DriftMonitor().fit(ref[["when"]])
    assert DriftMonitor().fit(np.ones((40, 2))).columns_ == ["x0", "x1"]


def test_model_bad_input(data):
    ref, rng = data
    X = ref[["x", "y"]]
    y = (X["x"] > 0).astype(int)
    with pytest.raises(InputError, match="fitted without column names"):
        DriftMonitor(model=LogisticRegression().fit(X.to_numpy(), y)).fit(ref)
    model = LogisticRegression().fit(X, y)
    with pytest.raises(InputError, match="already has a column 'x'"):
        DriftMonitor(model=model, prediction_name="x").fit(ref)
    mon = DriftMonitor(model=model).fit(ref)
    cur = _frame(rng, 100)
    with pytest.raises(InputError, match="missing values in the model's input"):
        mon.compare(cur.assign(y=np.nan))
    with pytest.raises(InputError, match=r"lacks column\(s\) \['x'\]"):
        mon.compare(cur.drop(columns="x"))
    with pytest.raises(ModelError, match="failed to predict"):
        DriftMonitor(model=model, columns=["city"]).fit(ref).compare(cur.assign(x="text"))


def test_compare_bad_input(data):
    ref, rng = data
    with pytest.raises(NotFittedError, match=r"call \.fit\(reference\) first"):
        DriftMonitor().compare(ref)
    mon = DriftMonitor().fit(ref)
    cur = _frame(rng, 100)
    with pytest.raises(InputError, match=r"lacks column\(s\) \['city'\]"):
        mon.compare(cur.drop(columns="city"))
    with pytest.raises(InputError, match="current has 5 rows"):
        mon.compare(cur.head(5))
    with pytest.raises(InputTypeError, match=r"'x' of current is .*reference had numbers"):
        mon.compare(cur.assign(x="text"))
    with pytest.raises(InputError, match="infinite"):
        mon.compare(cur.assign(x=np.inf))
    with pytest.raises(InputTypeError, match="must be a pandas DataFrame"):
        mon.compare("data.csv")


def test_compare_windows_bad_input(data):
    ref, rng = data
    mon = DriftMonitor().fit(ref)
    with pytest.raises(InputTypeError, match="list of Window"):
        mon.compare_windows(_windows(rng, [50], [0.0])[0])
    with pytest.raises(InputError, match="windows is empty"):
        mon.compare_windows([])
    with pytest.raises(InputTypeError, match="found DataFrame"):
        mon.compare_windows([ref])
    with pytest.raises(InputError, match="n_jobs must be"):
        mon.compare_windows(_windows(rng, [50], [0.0]), n_jobs=0)
    empty = mon.compare_windows(_windows(rng, [5], [0.0]), show_progress=False)
    with pytest.raises(InputError, match="No window was checked"):
        empty.report()
    assert empty.summary()["windows checked"] == 0
