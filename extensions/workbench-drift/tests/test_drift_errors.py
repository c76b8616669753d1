"""Bad input to every public name of workbench_drift: a WorkbenchError saying what to do, or a
valid result without NaN/inf; never a raw pandas/duckdb/numpy error, a hang or a memory blow-up."""

from __future__ import annotations

import math
import sqlite3

import duckdb
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import workbench_drift as wd
from sklearn.linear_model import LogisticRegression
from workbench_drift import sources
from workbench_drift.statistics import bin_counts, numeric_bin_edges, psi_from_proportions

from workbench.core.errors import (
    InputError,
    InputTypeError,
    IntegrityError,
    ModelError,
    ResourceNotFoundError,
    WorkbenchError,
)

matplotlib.use("Agg")

#: The local list of bad values every argument is tried with.
BAD = {
    "None": None,
    "text": "x",
    "-1": -1,
    "0": 0,
    "nan": math.nan,
    "inf": math.inf,
    "1e308": 1e308,
    "huge int": 10**30,
    "bool": True,
    "empty list": [],
    "empty frame": pd.DataFrame(),
    "object": object(),
    "nul text": "a\x00b",
}


@pytest.fixture(scope="module")
def month_log(tmp_path_factory):
    """Four weeks of hourly rows in a DuckDB file (672 rows)."""
    path = tmp_path_factory.mktemp("drift_err") / "log.duckdb"
    rng = np.random.default_rng(0)
    times = pd.date_range("2026-03-02", periods=4 * 7 * 24, freq="h")
    frame = pd.DataFrame({"ts": times, "x": rng.normal(size=len(times))})
    with duckdb.connect(str(path)) as con:
        con.register("frame", frame)
        con.execute("CREATE TABLE log AS SELECT * FROM frame")
    return str(path)


@pytest.fixture(scope="module")
def frames():
    rng = np.random.default_rng(1)
    ref = pd.DataFrame({"x": rng.normal(size=200), "c": rng.choice(["a", "b"], 200)})
    cur = pd.DataFrame({"x": rng.normal(0.5, 1, 200), "c": rng.choice(["a", "b"], 200)})
    return ref, cur


@pytest.fixture(scope="module")
def timeline(month_log):
    return wd.monitor_table(month_log, "log", time_column="ts", every="1 week", show_progress=False)


@pytest.fixture
def not_duckdb(tmp_path):
    path = tmp_path / "notes.duckdb"
    path.write_text("hello, I am not a database\n" * 20)
    return path


def _accepts(call):
    """Run ``call``: a WorkbenchError passes, so does a result without NaN/inf; else fail."""
    try:
        result = call()
    except WorkbenchError as exc:
        assert str(exc).strip(), f"{type(exc).__name__} without a message"
        return None
    values = result if isinstance(result, tuple) else (result,)
    for value in values:
        if isinstance(value, float):
            assert math.isfinite(value), f"non-finite result {result!r}"
    if isinstance(result, wd.DriftReport):
        numbers = result.columns[["psi", "statistic", "p_value"]].to_numpy(dtype=float)
        assert np.isfinite(numbers).all(), "non-finite drift statistics"
    return result


# ---------------------------------------------------------------- the fuzz findings


@pytest.mark.parametrize("every", ["1 second", "1 microsecond", "1 millisecond"])
def test_too_fine_every_is_refused_at_once(month_log, every):
    # Counted in SQL and refused before any row is read; no wall-clock bound (it would depend on
    # how busy the machine is); a hang would fail the fuzz test's time limit.
    coarser = r"MAX_WINDOWS=10,000.*coarser every such as every='1 hour'"
    with pytest.raises(InputError, match=coarser):
        wd.read_windows(month_log, "log", time_column="ts", every=every)
    with pytest.raises(InputError, match="MAX_WINDOWS"):
        wd.monitor_table(month_log, "log", time_column="ts", every=every, show_progress=False)


def test_window_bound_counts_only_kept_windows(month_log, monkeypatch):
    monkeypatch.setattr(sources, "MAX_WINDOWS", 30)
    with pytest.raises(InputError, match="about 672 windows"):
        wd.read_windows(month_log, "log", time_column="ts", every="1 hour")
    few = wd.read_windows(month_log, "log", time_column="ts", every="1 day", include_empty=False)
    assert len(few) == 28 and all(w.end - w.start == pd.Timedelta(days=1) for w in few)


@pytest.mark.parametrize(
    ("every", "error", "message"),
    [
        ("1 month 1 day", InputError, "cannot cut time into windows"),
        ("99999999 years", InputError, "longer than 200 years"),
        ("0 days", InputError, "positive interval"),
        ("fortnightly", InputError, "not a DuckDB interval"),
        (7, InputTypeError, "interval string"),
    ],
)
def test_every_that_duckdb_cannot_use(month_log, every, error, message):
    with pytest.raises(error, match=message):
        wd.read_windows(month_log, "log", time_column="ts", every=every)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"window_start": "garbage"}, InputError, "window_start='garbage' is not a date"),
        ({"window_end": "2026-13-45"}, InputError, "window_end='2026-13-45' is not a date"),
        ({"window_start": 123}, InputTypeError, "window_start must be a date"),
        ({"window_start": math.nan}, InputTypeError, "window_start must be a date"),
        ({"window_start": True}, InputTypeError, "window_start must be a date"),
        ({"window_start": "2026-02-01", "window_end": "2026-01-01"}, InputError, "after"),
    ],
)
def test_compare_window_dates(frames, kwargs, error, message):
    ref, cur = frames
    with pytest.raises(error, match=message):
        wd.DriftMonitor().fit(ref).compare(cur, **kwargs)


def test_compare_keeps_good_window_dates(frames):
    ref, cur = frames
    report = (
        wd.DriftMonitor()
        .fit(ref)
        .compare(cur, window_start=pd.Timestamp("2026-01-05", tz="UTC"), window_end="2026-01-12")
    )
    assert report.window_start == pd.Timestamp("2026-01-05")
    assert report.window_start.tzinfo is None


def test_fit_checks_y_length(frames):
    ref, _ = frames
    with pytest.raises(InputError, match=r"different numbers of rows \(reference=200, y=5\)"):
        wd.DriftMonitor().fit(ref, np.zeros(5))
    with pytest.raises(InputTypeError, match="y must be None or one value per row"):
        wd.DriftMonitor().fit(ref, 3)
    assert wd.DriftMonitor().fit(ref, np.zeros(len(ref))).n_reference_ == 200


@pytest.mark.parametrize("call", ["read_table", "read_windows", "monitor_table"])
def test_database_that_is_a_folder_or_not_duckdb(call, tmp_path, not_duckdb):
    fn = getattr(wd, call)
    kwargs = {} if call == "read_table" else {"time_column": "ts"}
    with pytest.raises(InputError, match=r"is a folder; pass a DuckDB file inside it") as info:
        fn(tmp_path, "log", **kwargs)
    assert str(tmp_path) in str(info.value)
    with pytest.raises(IntegrityError, match=r"notes\.duckdb' is not a DuckDB database file"):
        fn(not_duckdb, "log", **kwargs)
    empty = tmp_path / "empty.duckdb"
    empty.touch()
    with pytest.raises(IntegrityError, match="not a DuckDB database file"):
        fn(empty, "log", **kwargs)
    with pytest.raises(InputError, match="NUL byte"):
        fn("log\x00.duckdb", "log", **kwargs)
    with pytest.raises(ResourceNotFoundError, match="does not exist"):
        fn(tmp_path / "missing.duckdb", "log", **kwargs)


def test_sqlite_file_is_refused_without_trying_to_load_an_extension(tmp_path):
    path = tmp_path / "log.db"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE log (ts TEXT)")
    with pytest.raises(IntegrityError, match="not a DuckDB database file"):
        wd.read_table(path, "log")


def test_closed_connection_and_file_open_elsewhere(month_log):
    con = duckdb.connect()
    con.close()
    with pytest.raises(InputError, match=r"connection .* cannot be used"):
        wd.read_windows(con, "log", time_column="ts")
    with duckdb.connect(month_log) as writer:  # same process, other settings
        with pytest.raises(InputError, match="already open in this process"):
            wd.read_table(month_log, "log")
        assert len(wd.read_table(writer, "log")) == 672


@pytest.mark.parametrize(
    ("database", "error", "message"),
    [
        ("folder", InputError, "is a folder"),
        ("not_duckdb", IntegrityError, "is not a DuckDB database file"),
        ("a\x00b", InputError, "NUL byte"),
        ("", InputError, "is empty"),
        (None, InputTypeError, "path of a DuckDB file"),
        (3, InputTypeError, "path of a DuckDB file"),
        ("missing/dir/log.duckdb", ResourceNotFoundError, "does not exist"),
    ],
)
def test_demo_database_path(tmp_path, not_duckdb, monkeypatch, database, error, message):
    monkeypatch.chdir(tmp_path)  # a relative path must not leave files in the working folder
    database = {"folder": tmp_path, "not_duckdb": not_duckdb}.get(database, database)
    with pytest.raises(error, match=message):
        wd.make_demo_log(n_weeks=2, rows_per_week=10, database=database)
    assert not (tmp_path / "a").exists()


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"n_weeks": 10**9}, InputError, r"n_weeks must lie in \[1, 520\]"),
        ({"rows_per_week": 10**8}, InputError, "holds at most 1,000,000 rows"),
        ({"drift_strength": 1e308}, InputError, r"drift_strength must lie in \[0, 10\]"),
        ({"drift_strength": math.nan}, InputError, "finite"),
        ({"drift_week": 10**30}, InputError, "drift_week must lie in"),
        ({"random_state": -1}, InputError, "random_state must lie in"),
        ({"random_state": "x"}, InputTypeError, "random_state must be None or an integer"),
        ({"start": 123}, InputTypeError, "start must be a date"),
        ({"start": None}, InputTypeError, "start must be a date"),
        ({"start": ""}, InputError, "start"),
        ({"start": "9999-12-01"}, InputError, "runs past the year 9999"),
    ],
)
def test_demo_bounds(kwargs, error, message):
    with pytest.raises(error, match=message):
        wd.make_demo_log(**kwargs)


# ---------------------------------------------------------------- statistics


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: numeric_bin_edges([1.0, 2.0], bins=10**9), InputError, r"\[2, 1000\]"),
        (lambda: wd.population_stability_index([1.0], [2.0], bins=10**30), InputError, "bins"),
        (lambda: wd.population_stability_index([1.0], [2.0], eps=5e-324), InputError, "eps"),
        (lambda: wd.population_stability_index([1.0], [2.0], eps=math.nan), InputError, "eps"),
        (
            lambda: wd.population_stability_index([1.0], [2.0], categorical=pd.DataFrame()),
            InputTypeError,
            "categorical must be True or False",
        ),
        (lambda: psi_from_proportions([math.nan, 1], [1, 1]), InputError, "NaN"),
        (lambda: psi_from_proportions([math.inf, 1], [1, 1]), InputError, "infinite"),
        (lambda: psi_from_proportions("x", [1, 1]), InputTypeError, "numeric"),
        (lambda: bin_counts([1.0], None), InputTypeError, "edges is None"),
        (lambda: bin_counts([1.0], 3.0), InputError, "1-dimensional"),
        (lambda: bin_counts([1.0], [2.0, 1.0]), InputError, "strictly increasing"),
    ],
)
def test_statistics_bad_input(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_psi_of_huge_counts_is_finite():
    assert psi_from_proportions([1e308, 1e308], [1, 1]) == 0.0
    assert math.isfinite(psi_from_proportions([1e308, 1.0], [1.0, 1e308]))


# ---------------------------------------------------------------- monitor, windows, results


class _ShapeModel:
    """A duck-typed fitted model (no scikit-learn base class) returning a chosen shape."""

    feature_names_in_ = np.array(["x"])

    def __init__(self, shape):
        self.shape = shape

    def fit(self, X, y=None):
        return self

    def predict(self, X):
        return np.zeros(self.shape(len(X)))


def test_model_predictions_must_be_one_per_row(frames):
    ref, cur = frames
    with pytest.raises(ModelError, match=r"shape \(3,\) for the 200 rows"):
        wd.DriftMonitor(model=_ShapeModel(lambda n: 3)).fit(ref)
    with pytest.raises(ModelError, match=r"shape \(200, 2\)"):
        wd.DriftMonitor(model=_ShapeModel(lambda n: (n, 2))).fit(ref)
    mon = wd.DriftMonitor(model=_ShapeModel(lambda n: (n, 1))).fit(ref)
    assert "prediction" in mon.compare(cur).columns["column"].tolist()
    with pytest.raises(InputTypeError, match="instance"):
        wd.DriftMonitor(model=LogisticRegression).fit(ref)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"bins": 10**9}, InputError, r"bins must lie in \[2, 1000\]"),
        ({"eps": 1e-300}, InputError, "eps must lie in"),
        ({"psi_threshold": math.inf}, InputError, "psi_threshold must be a finite number"),
        ({"min_rows": 10**30}, InputError, "min_rows must lie in"),
        ({"rule": pd.DataFrame()}, InputTypeError, "drift rule must be one of"),
        ({"correction": None}, InputTypeError, "correction must be one of"),
        ({"columns": [["x"]]}, InputTypeError, "columns must hold column names"),
        ({"categorical": [None]}, InputTypeError, "categorical must hold column names"),
    ],
)
def test_monitor_options(frames, kwargs, error, message):
    ref, _ = frames
    with pytest.raises(error, match=message):
        wd.DriftMonitor(**kwargs).fit(ref)


def test_reference_shapes(frames):
    ref, cur = frames
    with pytest.raises(InputError, match="multi-level column names"):
        wd.DriftMonitor().fit(pd.concat({"a": ref}, axis=1))
    report = wd.DriftMonitor(columns=["x", "x", "c"]).fit(ref).compare(cur)
    assert report.columns["column"].tolist() == ["x", "c"]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"start": "garbage"}, InputError, "Window start='garbage' is not a date"),
        ({"start": 1.5}, InputTypeError, "Window start must be a date"),
        ({"end": "2026-01-01"}, InputError, "must come after its start"),
        ({"data": None}, InputTypeError, "Window data must be a pandas DataFrame"),
    ],
)
def test_window_checks_its_fields(frames, kwargs, error, message):
    base = {"start": "2026-01-05", "end": "2026-01-12", "data": frames[1]}
    with pytest.raises(error, match=message):
        wd.Window(**{**base, **kwargs})


def test_parallel_options(month_log):
    windows = wd.read_windows(month_log, "log", time_column="ts", every="1 week")
    mon = wd.DriftMonitor(columns=["x"]).fit(windows[0].data)
    with pytest.raises(InputTypeError, match="show_progress must be True, False or None"):
        mon.compare_windows(windows, show_progress=pd.DataFrame())
    with pytest.raises(InputTypeError, match="show_progress"):
        wd.monitor_table(month_log, "log", time_column="ts", show_progress="yes")
    with pytest.raises(InputError, match="n_jobs"):
        wd.monitor_table(month_log, "log", time_column="ts", n_jobs=0)
    with pytest.raises(InputTypeError, match="include_empty must be True or False"):
        wd.read_windows(month_log, "log", time_column="ts", include_empty="no")


def test_dates_as_numbers_are_refused(month_log):
    for kwargs in ({"start": 123}, {"end": 1.5}, {"start": True}):
        with pytest.raises(InputTypeError, match="must be a date"):
            wd.read_windows(month_log, "log", time_column="ts", **kwargs)
        with pytest.raises(InputTypeError, match="must be a date"):
            wd.read_table(month_log, "log", time_column="ts", **kwargs)


def test_result_methods_bad_input(timeline, tmp_path):
    report = timeline.report(-1)
    with pytest.raises(InputTypeError, match="column must be a column name"):
        report.bins(["x"])
    with pytest.raises(InputTypeError, match="column must be a column name"):
        report.plot_distribution(pd.DataFrame())
    with pytest.raises(InputTypeError, match="ax must be a matplotlib Axes"):
        report.plot(ax="x")
    with pytest.raises(InputTypeError, match="ax must be a matplotlib Axes"):
        timeline.plot(ax=1.5)
    with pytest.raises(InputTypeError, match="top must be an integer"):
        timeline.plot(top="x")
    with pytest.raises(InputError, match="top must lie in"):
        timeline.plot(top=-1)
    with pytest.raises(InputTypeError, match="columns must be a list"):
        timeline.plot(columns=5)
    with pytest.raises(InputError, match="window_start='garbage'"):
        timeline.report("garbage")
    with pytest.raises(InputTypeError, match="window_start"):
        timeline.report(1.5)
    with pytest.raises(InputError, match="is a folder"):
        report.to_json(tmp_path)
    with pytest.raises(ResourceNotFoundError, match="does not exist"):
        timeline.to_json(tmp_path / "missing" / "t.json")
    with pytest.raises(InputError, match="NUL byte"):
        timeline.to_json("t\x00.json")
    text = timeline.to_json(tmp_path / "t.json")
    assert (tmp_path / "t.json").read_text() == text
    plt.close("all")


# ---------------------------------------------------------------- the systematic sweep


def _sweep_calls(month_log, frames, timeline):
    ref, cur = frames
    mon = wd.DriftMonitor().fit(ref)
    report = mon.compare(cur)
    src = {"source": month_log, "table": "log", "time_column": "ts"}
    calls = {
        "population_stability_index.reference": lambda v: wd.population_stability_index(v, [1.0]),
        "population_stability_index.current": lambda v: wd.population_stability_index([1.0], v),
        "population_stability_index.bins": lambda v: wd.population_stability_index(
            [1.0, 2.0], [1.0], bins=v
        ),
        "population_stability_index.eps": lambda v: wd.population_stability_index(
            [1.0, 2.0], [9.0], eps=v
        ),
        "ks_test.reference": lambda v: wd.ks_test(v, [1.0, 2.0]),
        "ks_test.current": lambda v: wd.ks_test([1.0, 2.0], v),
        "chi_square_test.reference": lambda v: wd.chi_square_test(v, ["a"]),
        "chi_square_test.current": lambda v: wd.chi_square_test(["a"], v),
        "DriftMonitor.fit.reference": lambda v: wd.DriftMonitor().fit(v),
        "DriftMonitor.fit.y": lambda v: wd.DriftMonitor().fit(ref, v),
        "DriftMonitor.compare.current": lambda v: mon.compare(v),
        "DriftMonitor.compare.window_start": lambda v: mon.compare(cur, window_start=v),
        "DriftMonitor.compare_windows.windows": lambda v: mon.compare_windows(v),
        "DriftReport.bins": lambda v: report.bins(v),
        "DriftReport.plot": lambda v: report.plot(ax=v),
        "DriftTimeline.report": lambda v: timeline.report(v),
        "DriftTimeline.plot.top": lambda v: timeline.plot(top=v),
        "DriftTimeline.to_json": lambda v: timeline.to_json(v),
        "Window.start": lambda v: wd.Window(start=v, end="2026-01-01", data=cur),
        "read_table.source": lambda v: wd.read_table(v, "log"),
        "read_table.table": lambda v: wd.read_table(month_log, v),
        "read_table.columns": lambda v: wd.read_table(month_log, "log", columns=v),
        "read_windows.time_column": lambda v: wd.read_windows(**{**src, "time_column": v}),
        "read_windows.every": lambda v: wd.read_windows(**src, every=v),
        "read_windows.start": lambda v: wd.read_windows(**src, start=v),
        "monitor_table.reference_windows": lambda v: wd.monitor_table(
            **src, reference_windows=v, show_progress=False
        ),
        "monitor_table.monitor": lambda v: wd.monitor_table(**src, monitor=v, show_progress=False),
        "make_demo_log.n_weeks": lambda v: wd.make_demo_log(n_weeks=v, rows_per_week=5),
        "make_demo_log.start": lambda v: wd.make_demo_log(n_weeks=1, rows_per_week=5, start=v),
    }
    for param in ("bins", "psi_threshold", "p_value_threshold", "rule", "min_rows", "eps"):
        calls[f"DriftMonitor.{param}"] = lambda v, p=param: wd.DriftMonitor(**{p: v}).fit(ref)
    return calls


def test_every_public_name_with_every_bad_value(month_log, frames, timeline, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # text values reach path arguments
    escaped = []
    for name, call in _sweep_calls(month_log, frames, timeline).items():
        for label, value in BAD.items():
            try:
                _accepts(lambda call=call, value=value: call(value))
            except Exception as exc:  # collect every escape, report them all
                escaped.append(f"{name}({label}): {type(exc).__name__}: {exc}"[:200])
    plt.close("all")
    assert not escaped, "\n".join(escaped)
