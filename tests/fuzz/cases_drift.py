"""Fuzz cases of the drift extension ``workbench_drift``: one valid call per public name."""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from tests.fuzz.harness import Case

wd = __import__("workbench_drift")

# The drift rules DriftMonitor(rule=...) accepts: nothing to call with input.
CONSTANTS = {"drift.RULES"}


@functools.cache
def _log():
    return wd.make_demo_log(n_weeks=4, rows_per_week=100, drift_week=2, random_state=0)


@functools.cache
def _frames():
    rng = np.random.default_rng(0)

    def frame(shift: float) -> pd.DataFrame:
        return pd.DataFrame({"a": rng.normal(shift, 1, 200), "b": rng.choice(["x", "y"], 200)})

    return frame(0.0), frame(0.5)


@functools.cache
def _monitor():
    return wd.DriftMonitor().fit(_frames()[0])


@functools.cache
def _timeline():
    log = _log()
    return wd.monitor_table(log.connection, log.table, time_column=log.time_column,
                            every="1 week", show_progress=False)


def _demo_path() -> str:
    return str(Path(tempfile.mkdtemp(prefix="wb-fuzz-")) / "d.duckdb")


def _make_log(**kw):
    log = wd.make_demo_log(**kw)
    log.connection.close()
    return log.table


CASES = [
    Case("drift.make_demo_log", _make_log,
         lambda: {"n_weeks": 3, "rows_per_week": 50, "drift_week": 2, "drift_strength": 1.0,
                  "start": "2026-01-05", "database": _demo_path(), "table": "predictions",
                  "random_state": 0}, ("drift.make_demo_log", "drift.DemoLog")),
    Case("drift.DriftMonitor.fit", lambda **kw: wd.DriftMonitor().fit(**kw) and "ok",
         lambda: {"reference": _frames()[0], "y": None}, ("drift.DriftMonitor",)),
    Case("drift.DriftMonitor", lambda **kw: wd.DriftMonitor(**kw).fit(_frames()[0]) and "ok",
         lambda: {"columns": None, "categorical": ["b"], "prediction_columns": None},
         ("drift.DriftMonitor",)),
    Case("drift.DriftMonitor.compare", lambda **kw: _monitor().compare(**kw).to_frame(),
         lambda: {"current": _frames()[1], "window_start": "2026-01-01",
                  "window_end": "2026-01-08"}, ("drift.DriftMonitor", "drift.DriftReport"),
         nan_ok=("p_value",)),
    Case("drift.DriftReport.bins",
         lambda column: _monitor().compare(_frames()[1]).bins(column),
         lambda: {"column": "a"}, ("drift.DriftReport",)),
    Case("drift.read_table", wd.read_table,
         lambda: {"source": _log().connection, "table": _log().table, "columns": None,
                  "time_column": _log().time_column, "start": None, "end": None},
         ("drift.read_table",), nan_ok=("referral", "label")),
    Case("drift.read_windows", lambda **kw: len(wd.read_windows(**kw)),
         lambda: {"source": _log().connection, "table": _log().table,
                  "time_column": _log().time_column, "every": "1 week", "start": None,
                  "end": None}, ("drift.read_windows", "drift.Window")),
    Case("drift.monitor_table", lambda **kw: wd.monitor_table(**kw).to_frame(),
         lambda: {"source": _log().connection, "table": _log().table,
                  "time_column": _log().time_column, "every": "1 week",
                  "reference_windows": 1, "show_progress": False},
         ("drift.monitor_table", "drift.DriftTimeline"), max_examples=25,
         nan_ok=("p_value", "['max_psi']")),
    Case("drift.DriftTimeline.report", lambda window_start: _timeline().report(window_start)
         .to_frame(), lambda: {"window_start": -1}, ("drift.DriftTimeline",),
         nan_ok=("p_value",)),
    Case("drift.population_stability_index", wd.population_stability_index,
         lambda: {"reference": _frames()[0]["a"].to_numpy(),
                  "current": _frames()[1]["a"].to_numpy(), "categorical": False, "bins": 10,
                  "eps": 1e-4}, ("drift.population_stability_index",)),
    Case("drift.ks_test", wd.ks_test,
         lambda: {"reference": _frames()[0]["a"].to_numpy(),
                  "current": _frames()[1]["a"].to_numpy()}, ("drift.ks_test",)),
    Case("drift.chi_square_test", wd.chi_square_test,
         lambda: {"reference": _frames()[0]["b"].to_numpy(),
                  "current": _frames()[1]["b"].to_numpy()}, ("drift.chi_square_test",)),
]
