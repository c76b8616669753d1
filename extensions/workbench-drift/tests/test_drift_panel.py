"""The drift panel, driven like a user: pick a log, set widget values, click, read the state."""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import re

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from workbench_drift import DriftReport, DriftTimeline, make_demo_log
from workbench_drift.panel import DriftPanel

from workbench.core.workspace import Workspace

matplotlib.use("Agg")


@pytest.fixture
def panel():
    p = DriftPanel(namespace={})
    yield p
    plt.close("all")


def _user_log(weeks: int = 6, shift_from: int = 4, seed: int = 1) -> pd.DataFrame:
    """A log that is not the demo's: own column names, ids 1000.., x1 shifts late."""
    rng = np.random.default_rng(seed)
    n = 200 * weeks
    when = pd.Timestamp("2025-03-03") + pd.to_timedelta(
        np.sort(rng.uniform(0, 7 * weeks, n)), unit="D"
    )
    week = ((when - when[0]).days // 7).to_numpy()
    x1 = rng.normal(0, 1, n) + np.where(week >= shift_from, 1.5, 0.0)
    x2 = rng.normal(5, 2, n)
    return pd.DataFrame(
        {
            "row_id": np.arange(1000, 1000 + n),
            "logged_at": when,
            "x1": x1,
            "x2": x2,
            "segment": rng.choice(["a", "b", "c"], n),
            "pred": 1 / (1 + np.exp(-x1)),
        }
    )


@pytest.fixture(scope="module")
def log():
    return _user_log()


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


def _csv_rows(export) -> pd.DataFrame:
    b64 = re.search(r"base64,([^']+)'", export.download.value).group(1)
    return pd.read_csv(io.BytesIO(base64.b64decode(b64)))


# --- the demo log (preselected when no data is given) ------------------------------------------
def test_demo_check_shows_alerts_and_windows(panel):
    assert repr(panel) == "DriftPanel(title='Drift monitoring')"
    assert panel.data_picker.source.value == "demo" and panel.time_column.value == "ts"
    assert panel.prediction_columns.value == ("score", "label")
    panel.run_button.click()
    assert panel.last_error is None
    assert isinstance(panel.result, DriftTimeline)
    assert isinstance(panel.window_report, DriftReport)
    assert panel.result.first_alert == panel.demo.drift_start
    assert panel.window.options[0] == "2026-01-19"
    assert panel.window.value == "2026-03-09"
    assert "4 alert(s) in 8 windows" in panel.status.value
    assert len(panel.figure.axes) == 2
    panel.window.value = "2026-01-26"
    assert panel.window_report.window_start.strftime("%Y-%m-%d") == "2026-01-26"
    assert not panel.window_report.alert
    assert panel.export.name.value == "drift_windows"


def test_settings_reach_the_monitor(panel):
    panel.drift_strength.value = 0.0
    panel.prediction_columns.value = ()
    panel.every.value = "2 weeks"
    panel.reference_windows.value = 1
    panel.rule.value = "either"
    panel.run_button.click()
    assert panel.last_error is None
    spans = panel.result.windows["window_end"] - panel.result.windows["window_start"]
    assert (spans == pd.Timedelta(days=14)).all()
    assert len(panel.result.reports) == len(spans) - 1
    assert set(panel.result.scores["role"]) == {"feature"}
    assert panel.result.report(-1).rule == "either"
    assert panel.demo.drift_start is not None  # the demo log was rebuilt with strength 0


def test_reads_a_table_of_a_duckdb_file(tmp_path):
    path = tmp_path / "log.duckdb"
    make_demo_log(database=str(path), n_weeks=4, drift_week=None).connection.close()
    ws = Workspace(path, read_only=True)
    p = DriftPanel(workspace=ws, namespace={})
    p.data_picker.source.value = "table"
    assert p.data_picker.table.value == "predictions" and p.time_column.value == "ts"
    p.run_button.click()
    assert p.last_error is None and p.demo is None
    assert len(p.result.reports) == 2


# --- the user's log ---------------------------------------------------------------------------
def test_user_dataframe_is_monitored_not_the_demo(log):
    ws = Workspace(":memory:")
    p = DriftPanel(log, workspace=ws, namespace={})
    assert p.data_picker.source.value == "given"
    assert p.time_column.value == "logged_at" and p.prediction_columns.value == ("pred",)
    assert "row_id" not in p.data_picker.features.value  # the id is not a monitored input
    p.run_button.click()
    assert p.last_error is None, p.last_error
    w = p.result.windows
    assert w["window_start"].iloc[0] == pd.Timestamp("2025-03-03")
    assert w["n_rows"].sum() == len(log)
    assert set(p.result.scores["column"]) == {"x1", "x2", "segment", "pred"}
    roles = p.result.scores.drop_duplicates("column").set_index("column")["role"]
    assert roles["pred"] == "prediction" and roles["x1"] == "feature"
    assert p.result.first_alert == pd.Timestamp("2025-03-31")  # week 4, when x1 shifts
    assert p.demo is None and p.export.name.value == "drift_windows"
    assert ws.tables() == []
    p.export.save_button.click()
    assert p.last_error is None and ws.tables() == ["drift_windows"]
    saved = ws.con.execute("SELECT * FROM drift_windows ORDER BY window_start").df()
    assert len(saved) == len(w) and saved["n_rows"].tolist() == w["n_rows"].tolist()
    rows = _csv_rows(p.export)
    assert rows["n_rows"].tolist() == w["n_rows"].tolist()
    assert rows["alert"].tolist() == w["alert"].tolist()


def test_time_and_prediction_columns_from_the_constructor(log):
    frame = log.assign(other_time=log["logged_at"] - pd.Timedelta(days=1))
    p = DriftPanel(frame, time="other_time", prediction_columns=["x2"], namespace={})
    assert p.time_column.value == "other_time" and p.prediction_columns.value == ("x2",)


def test_uploaded_csv_and_a_variable(log):
    ns = {"mylog": log}
    p = DriftPanel(namespace=ns)
    p.data_picker.source.value = "variable"
    assert p.data_picker.variable.value == "mylog" and p.time_column.value == "logged_at"
    p.run_button.click()
    assert p.last_error is None and p.result.windows["n_rows"].sum() == len(log)
    _upload(p.data_picker, "log.csv", log.to_csv(index=False).encode())
    assert p.time_column.value == "logged_at"
    p.run_button.click()
    assert p.last_error is None and p.result.windows["n_rows"].sum() == len(log)


def test_a_user_model_is_used_as_given(log):
    model = LogisticRegression().fit(log[["x1", "x2"]], (log["x1"] > 0).astype(int))
    p = DriftPanel(log, model=model, namespace={})
    assert p.use_model.value and p.model_picker.source.value == "given"
    p.run_button.click()
    assert p.last_error is None, p.last_error
    assert p.monitor_.model is model
    scores = p.result.scores
    assert "prediction" in set(scores.loc[scores["role"] == "prediction", "column"])


# --- bad input: a clear message, no result, nothing written ------------------------------------
@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("unfitted model", "not fitted"),
        ("model on other columns", "that the log lacks"),
        ("gone variable", "no longer exists"),
        ("sql syntax error", "syntax"),
        ("not csv or parquet", "neither a CSV nor a Parquet file"),
        ("empty file", "empty"),
        ("time column no date", "not DATE or TIMESTAMP"),
        ("no time column", "Choose the log's time column"),
        ("nothing monitored", "at least one input or prediction column"),
        ("psi below 0", "psi_threshold must lie in (0, inf)"),
        ("psi nan", "psi_threshold must be a finite number"),
        ("p-value 2", "p_value_threshold must lie in"),
        ("p-value 0", "p_value_threshold must lie in (0, 1)"),
        ("too many reference windows", "reference_windows=6 but the table spans only 6"),
        ("month windows", "spans only 2 window(s) of 1 month"),
    ],
)
def test_bad_input_is_shown_not_raised(log, case, message):
    ws = Workspace(":memory:")
    ws.con.execute("CREATE TABLE other_log AS SELECT 1 AS a")
    ns = {"mylog": log}
    model = None
    if case == "unfitted model":
        model = LogisticRegression()
    elif case == "model on other columns":
        frame = log[["x1", "x2"]].rename(columns={"x2": "income"})
        model = LogisticRegression().fit(frame, log["x1"] > 0)
    p = DriftPanel(log, model=model, namespace=ns, workspace=ws)
    if case == "gone variable":
        p.data_picker.source.value = "variable"
        del ns["mylog"]
    elif case == "sql syntax error":
        p.data_picker.source.value = "query"
        p.data_picker.query.value = "SELEC * FROM other_log"
    elif case == "not csv or parquet":
        _upload(p.data_picker, "log.xlsx", b"PK\x03\x04 not a table")
    elif case == "empty file":
        _upload(p.data_picker, "log.csv", b"")
    elif case == "time column no date":
        p.time_column.value = "x1"
    elif case == "no time column":
        p.time_column.value = None
    elif case == "nothing monitored":
        p.data_picker.features.value = ()
        p.prediction_columns.value = ()
    elif case == "psi below 0":
        p.psi_threshold.value = -1.0
    elif case == "psi nan":
        p.psi_threshold.value = float("nan")
    elif case == "p-value 2":
        p.p_value_threshold.value = 2.0
    elif case == "p-value 0":
        p.p_value_threshold.value = 0.0
    elif case == "too many reference windows":
        p.reference_windows.value = 6
    elif case == "month windows":
        p.every.value = "1 month"
        p.reference_windows.value = 2
    p.run_button.click()
    assert p.last_error is not None and message in p.last_error, p.last_error
    assert message in html.unescape(p.status.value)
    assert "Unexpected" not in p.last_error and "Traceback" not in p.status.value
    assert p.result is None and p.export is None
    assert ws.tables() == ["other_log"]


def test_error_then_good_run_clears_the_message(log):
    p = DriftPanel(log, namespace={})
    p.time_column.value = "x2"
    p.run_button.click()
    assert "x2" in html.unescape(p.status.value) and p.result is None
    p.time_column.value = "logged_at"
    p.run_button.click()
    assert p.last_error is None and "x2" not in p.status.value
    assert "alert(s)" in p.status.value
    first = p.result
    p.psi_threshold.value = -1.0
    p.run_button.click()
    assert p.last_error is not None and p.result is first  # a failed run keeps the last result


def test_unknown_window_selection_is_shown(panel):
    panel.run_button.click()
    panel.window.options = [*panel.window.options, "1999-01-04"]
    panel.window.value = "1999-01-04"
    assert "Unknown window '1999-01-04'" in panel.last_error
    panel.window.value = panel.window.options[0]
    assert panel.last_error is None and panel.window_report.window_start == pd.Timestamp(
        panel.window.options[0]
    )
