"""The drift panel, driven like a user: set widget values, click the button, read the state."""

from __future__ import annotations

import html

import duckdb
import matplotlib
import pandas as pd
import pytest
from workbench_drift import DriftReport, DriftTimeline, make_demo_log
from workbench_drift.panel import DriftPanel

matplotlib.use("Agg")


@pytest.fixture
def panel():
    p = DriftPanel()
    yield p
    matplotlib.pyplot.close("all")


def test_demo_check_shows_alerts_and_windows(panel):
    assert repr(panel) == "DriftPanel(title='Drift monitoring')"
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


def test_settings_reach_the_monitor(panel):
    panel.drift_strength.value = 0.0
    panel.prediction_columns.value = ""
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


def test_reads_a_duckdb_file(panel, logfile):
    panel.database.value = logfile
    panel.run_button.click()
    assert panel.last_error is None
    assert panel.demo is None
    assert len(panel.result.reports) == 2
    with duckdb.connect(logfile) as con:  # the panel closed its read-only connection
        con.execute("CREATE TABLE touched AS SELECT 1")


@pytest.fixture(scope="module")
def logfile(tmp_path_factory):
    path = tmp_path_factory.mktemp("drift") / "log.duckdb"
    make_demo_log(database=str(path), n_weeks=4, drift_week=None).connection.close()
    return str(path)


@pytest.mark.parametrize(
    ("widget", "value", "message"),
    [
        ("time_column", "time", "Unknown column 'time'"),
        ("table", "preds", "Unknown table 'preds'. Choose one of: predictions"),
        ("psi_threshold", -1.0, "psi_threshold must lie in (0, inf)"),
        ("p_value_threshold", 2.0, "p_value_threshold must lie in"),
        ("reference_windows", 4, "reference_windows=4 but the table spans only 4"),
        ("prediction_columns", "score, proba", "Unknown column 'proba'"),
        ("every", "1 month", "spans only 2 window(s) of 1 month"),
        ("database", "/nonexistent/log.duckdb", "does not exist"),
    ],
)
def test_bad_input_is_shown_not_raised(panel, logfile, widget, value, message):
    panel.database.value = logfile
    getattr(panel, widget).value = value
    panel.run_button.click()
    assert panel.last_error is not None
    assert message in panel.last_error
    assert message in html.unescape(panel.status.value)
    assert "Traceback" not in panel.status.value
    assert panel.result is None


def test_bad_demo_table_name_is_shown(panel):
    panel.table.value = "drop table"
    panel.run_button.click()
    assert "plain SQL name" in panel.last_error


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("folder", "is a folder; pass a DuckDB file inside it"),
        ("text file", "is not a DuckDB database file"),
        ("empty file", "is not a DuckDB database file"),
    ],
)
def test_database_field_that_is_no_duckdb_file(panel, tmp_path, kind, message):
    path = tmp_path / "log.duckdb"
    if kind == "folder":
        path.mkdir()
    else:
        path.write_text("" if kind == "empty file" else "not a database\n")
    panel.database.value = str(path)
    panel.run_button.click()
    assert message in panel.last_error and str(path) in panel.last_error
    assert "Unexpected" not in panel.last_error and panel.result is None


@pytest.mark.parametrize(
    ("widget", "value", "message"),
    [
        ("psi_threshold", float("nan"), "psi_threshold must be a finite number"),
        ("psi_threshold", float("inf"), "psi_threshold must be a finite number"),
        ("p_value_threshold", 0.0, "p_value_threshold must lie in (0, 1)"),
        ("time_column", "", "Unknown column ''"),
        ("table", "", "table must be a non-empty string"),
        ("prediction_columns", ",,", None),
    ],
)
def test_typed_values_show_workbench_messages(panel, logfile, widget, value, message):
    panel.database.value = logfile
    getattr(panel, widget).value = value
    panel.run_button.click()
    if message is None:  # only separators: no prediction column, a valid check
        assert panel.last_error is None and panel.result is not None
        return
    assert message in panel.last_error and "Unexpected" not in panel.last_error


def test_error_then_good_run_clears_the_message(panel, logfile):
    panel.database.value = logfile
    panel.time_column.value = "when"
    panel.run_button.click()
    assert "Unknown column 'when'" in html.unescape(panel.status.value)
    panel.time_column.value = "ts"
    panel.run_button.click()
    assert panel.last_error is None and "when" not in panel.status.value
    assert "alert(s)" in panel.status.value


def test_unknown_window_selection_is_shown(panel):
    panel.run_button.click()
    panel.window.options = [*panel.window.options, "1999-01-04"]
    panel.window.value = "1999-01-04"
    assert "Unknown window '1999-01-04'" in panel.last_error
    panel.window.value = panel.window.options[0]
    assert panel.last_error is None and panel.window_report.window_start == pd.Timestamp(
        panel.window.options[0]
    )
