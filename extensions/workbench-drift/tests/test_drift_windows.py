"""Reading windows from DuckDB, monitoring a logged table, and the demo log."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest
from workbench_drift import (
    DriftMonitor,
    make_demo_log,
    monitor_table,
    read_table,
    read_windows,
)
from workbench_drift.demo import DEMO_FEATURES

from workbench.core.errors import (
    InputError,
    InputTypeError,
    IntegrityError,
    ResourceNotFoundError,
    UnknownNameError,
)


@pytest.fixture(scope="module")
def demo():
    log = make_demo_log(n_weeks=10, rows_per_week=300, drift_week=6, random_state=0)
    yield log
    log.connection.close()


@pytest.fixture
def gappy():
    """Three days of hourly rows with day 2 missing; a DATE, a text and a spaced column."""
    con = duckdb.connect()
    rng = np.random.default_rng(0)
    times = pd.date_range("2026-03-01", periods=72, freq="h")
    times = times[(times < "2026-03-02") | (times >= "2026-03-03")]
    frame = pd.DataFrame(
        {
            "ts": times,
            "day": times.normalize(),
            "amount x": rng.normal(size=len(times)),
            "kind": rng.choice(["a", "b"], size=len(times)),
        }
    )
    con.register("frame", frame)
    con.execute(
        'CREATE TABLE "my log" AS SELECT ts, CAST(day AS DATE) AS day, "amount x", kind FROM frame'
    )
    con.execute("CREATE SCHEMA audit")
    con.execute('CREATE TABLE audit.events AS SELECT * FROM "my log"')
    yield con
    con.close()


def test_demo_log_table(demo):
    cols = demo.connection.execute(f"DESCRIBE {demo.table}").df()
    assert cols["column_name"].tolist() == ["ts", *DEMO_FEATURES, "referral", "score", "label"]
    n, first, last = demo.connection.execute(
        f"SELECT count(*), min(ts), max(ts) FROM {demo.table}"
    ).fetchall()[0]
    assert n == 3000
    assert first >= pd.Timestamp("2026-01-05")
    assert last < pd.Timestamp("2026-03-16")
    assert demo.drift_start == pd.Timestamp("2026-02-16")
    assert "rows=3000" in repr(demo)
    # the logged score is the deployed model's own output
    frame = read_table(demo.connection, demo.table, columns=[*DEMO_FEATURES, "score"])
    np.testing.assert_allclose(
        frame["score"], demo.model.predict_proba(frame[DEMO_FEATURES])[:, 1], atol=1e-6
    )


def test_weekly_windows_from_duckdb(demo):
    windows = read_windows(demo.connection, demo.table, time_column="ts", every="1 week")
    assert len(windows) == 10
    assert [w.n_rows for w in windows] == [300] * 10
    assert windows[0].start == pd.Timestamp("2026-01-05")
    assert all(w.start.day_of_week == 0 for w in windows)
    assert all(w.end - w.start == pd.Timedelta(weeks=1) for w in windows)
    for w in windows:
        assert w.data["ts"].between(w.start, w.end, inclusive="left").all()
    two = read_windows(demo.connection, demo.table, time_column="ts", every="14 days")
    assert sum(w.n_rows for w in two) == 3000
    assert "n_rows=300" in repr(windows[0])
    # no pending result is left on the caller's connection (DuckDB refuses further work then)
    repr(demo)
    assert demo.connection.sql("SELECT 42").fetchall() == [(42,)]


def test_windows_keep_gaps_and_filter_range(gappy):
    windows = read_windows(gappy, "my log", time_column="ts", every="1 day")
    assert [w.n_rows for w in windows] == [24, 0, 24]
    assert list(windows[1].data.columns) == ["ts", "day", "amount x", "kind"]
    assert (
        len(read_windows(gappy, "my log", time_column="ts", every="1 day", include_empty=False))
        == 2
    )
    part = read_windows(
        gappy, "my log", time_column="day", every="6 hours", start="2026-03-03", columns=["kind"]
    )
    assert [w.n_rows for w in part] == [24]  # DATE values all fall at midnight
    assert list(part[0].data.columns) == ["kind", "day"]
    assert len(read_windows(gappy, "audit.events", time_column="ts", every="1 day")) == 3


def test_read_table(gappy, tmp_path):
    frame = read_table(
        gappy,
        "my log",
        columns=["amount x"],
        time_column="ts",
        start="2026-03-01 12:00",
        end="2026-03-03 06:00",
    )
    assert list(frame.columns) == ["amount x"]
    assert len(frame) == 12 + 6
    path = tmp_path / "log.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE t AS SELECT range AS i FROM range(5)")
    assert read_table(path, "t")["i"].tolist() == [0, 1, 2, 3, 4]
    assert read_table(str(path), "t", columns=["i"]).shape == (5, 1)


def test_monitor_table_alerts_from_the_drift_week_on(demo):
    monitor = DriftMonitor(prediction_columns=demo.prediction_columns)
    timeline = monitor_table(
        demo.connection,
        demo.table,
        time_column="ts",
        every="1 week",
        reference_windows=2,
        monitor=monitor,
        show_progress=False,
    )
    status = timeline.windows["status"].tolist()
    assert status == ["reference"] * 2 + ["checked"] * 8
    alerts = timeline.windows.set_index("window_start")["alert"]
    assert not alerts[alerts.index < demo.drift_start].any()
    assert alerts[alerts.index >= demo.drift_start].all()
    assert timeline.first_alert == demo.drift_start
    assert timeline.reference_start == pd.Timestamp("2026-01-05")
    assert timeline.reference_end == pd.Timestamp("2026-01-19")
    last = timeline.report(-1)
    assert last.prediction_drift
    assert {"mean_radius", "score", "referral"} <= set(last.drifted_columns)
    assert "ts" not in timeline.scores["column"].tolist()
    assert monitor.n_reference_ == 600


def test_monitor_table_without_drift_stays_quiet():
    log = make_demo_log(n_weeks=8, drift_week=None, random_state=1)
    timeline = monitor_table(
        log.connection, log.table, time_column="ts", reference_windows=2, show_progress=False
    )
    assert log.drift_start is None
    assert not timeline.windows["alert"].any()
    log.connection.close()


def test_monitor_table_marks_short_windows(gappy):
    timeline = monitor_table(
        gappy,
        "my log",
        time_column="ts",
        every="12 hours",
        columns=["amount x", "kind"],
        monitor=DriftMonitor(min_rows=10),
        show_progress=False,
    )
    assert timeline.windows["status"].tolist() == [
        "reference",
        "checked",
        "too few rows",
        "too few rows",
        "checked",
        "checked",
    ]
    assert not timeline.windows["alert"].any()


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"table": "nope"}, UnknownNameError, "Unknown table 'nope'. Choose one of: my log"),
        ({"table": ""}, InputTypeError, "table must be a non-empty string"),
        ({"table": 3}, InputTypeError, "table must be a non-empty string"),
        ({"time_column": "tss"}, UnknownNameError, "Unknown column 'tss'"),
        ({"time_column": "kind"}, InputTypeError, r"has type VARCHAR.*\['ts', 'day'\]"),
        ({"time_column": None}, InputTypeError, "time_column must be a column name"),
        ({"every": "weekly"}, InputError, "not a DuckDB interval"),
        ({"every": "-1 day"}, InputError, "positive interval"),
        ({"every": 7}, InputTypeError, "interval string"),
        ({"columns": ["nope"]}, UnknownNameError, "Unknown column 'nope'"),
        ({"columns": "kind"}, InputTypeError, "columns must be a list"),
        ({"columns": []}, InputError, "columns is empty"),
        ({"start": "2026-03-05", "end": "2026-03-01"}, InputError, "must come before end"),
        ({"start": "not a date"}, InputError, "start='not a date' is not a date"),
        ({"start": "2027-01-01"}, InputError, "no rows"),
    ],
)
def test_read_windows_bad_input(gappy, kwargs, error, message):
    args = {"table": "my log", "time_column": "ts", "every": "1 day", **kwargs}
    table = args.pop("table")
    with pytest.raises(error, match=message):
        read_windows(gappy, table, **args)


def test_sources_bad_input(gappy, tmp_path):
    with pytest.raises(ResourceNotFoundError, match="does not exist"):
        read_table(tmp_path / "missing.duckdb", "t")
    with pytest.raises(InputTypeError, match="duckdb connection or the path"):
        read_table(pd.DataFrame(), "t")
    not_db = tmp_path / "notes.duckdb"
    not_db.write_text("hello")
    with pytest.raises(IntegrityError, match=r"notes\.duckdb' is not a DuckDB database file"):
        read_table(not_db, "t")
    with pytest.raises(InputError, match="need time_column"):
        read_table(gappy, "my log", start="2026-03-01")


def test_monitor_table_bad_input(gappy):
    with pytest.raises(InputError, match="reference_windows=3 but the table spans only 3"):
        monitor_table(gappy, "my log", time_column="ts", every="1 day", reference_windows=3)
    with pytest.raises(InputError, match=r"reference_windows must lie in \[1, 10000\]"):
        monitor_table(gappy, "my log", time_column="ts", reference_windows=0)
    with pytest.raises(InputTypeError, match="monitor must be a DriftMonitor"):
        monitor_table(gappy, "my log", time_column="ts", monitor="strict")
    with pytest.raises(InputError, match="min_rows=30"):
        # the first 6-hour window has 6 rows, too few to be a reference
        monitor_table(gappy, "my log", time_column="ts", every="6 hours")


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"n_weeks": 0}, InputError, r"n_weeks must lie in \[1, 520\]"),
        ({"rows_per_week": 2.5}, InputTypeError, "rows_per_week must be an integer"),
        ({"drift_week": -1}, InputError, r"drift_week must lie in \[0, 520\]"),
        ({"drift_week": "6"}, InputTypeError, "drift_week must be an integer"),
        ({"drift_strength": -1.0}, InputError, r"drift_strength must lie in \[0, 10\]"),
        ({"table": "drop table"}, InputError, "plain SQL name"),
        ({"start": "someday"}, InputError, "start='someday' is not a date"),
    ],
)
def test_demo_bad_input(kwargs, error, message):
    with pytest.raises(error, match=message):
        make_demo_log(**kwargs)
