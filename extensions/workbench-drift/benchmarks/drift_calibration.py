"""Calibration and speed of the drift monitor on the demo deployment log.

Not a test: run it by hand and copy the printed tables into ``docs/drift.md``::

    python extensions/workbench-drift/benchmarks/drift_calibration.py [--seeds 20]

1. False alarms: logs without drift, weekly windows of 300 rows and daily windows of ~43 rows;
   share of checked windows that alert, per rule.
2. Detection: logs with drift from week 6 at several strengths; share of drifted weeks that alert
   and the delay (weeks) from the drift start to the first alert, per rule.
3. Speed: one year of weekly windows at 20,000 rows a week (1.04 M rows, 13 columns), DuckDB
   read + tests, n_jobs=1 and 2.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from workbench_drift import DriftMonitor, make_demo_log, monitor_table

RULES = ["psi", "test", "both"]


def _timeline(log, every, reference_windows, rule, end=None):
    return monitor_table(
        log.connection,
        log.table,
        time_column="ts",
        every=every,
        reference_windows=reference_windows,
        end=end,
        monitor=DriftMonitor(prediction_columns=log.prediction_columns, rule=rule),
        show_progress=False,
    )


def false_alarms(seeds: int) -> pd.DataFrame:
    rows = []
    for seed in range(seeds):
        log = make_demo_log(n_weeks=10, drift_week=None, random_state=seed)
        for every, ref in (("1 week", 2), ("1 day", 14)):
            for rule in RULES:
                w = _timeline(log, every, ref, rule).windows
                w = w[w["status"] == "checked"]
                rows.append(
                    {"window": every, "rule": rule, "alerts": w["alert"].sum(), "windows": len(w)}
                )
        log.connection.close()
    df = pd.DataFrame(rows).groupby(["window", "rule"], sort=False)[["alerts", "windows"]].sum()
    df["false alarm rate"] = (df["alerts"] / df["windows"]).round(3)
    return df.reset_index()


def detection(seeds: int, strengths=(0.25, 0.5, 1.0)) -> pd.DataFrame:
    rows = []
    for strength in strengths:
        for seed in range(seeds):
            log = make_demo_log(
                n_weeks=10, drift_week=6, drift_strength=strength, random_state=seed
            )
            for rule in RULES:
                w = _timeline(log, "1 week", 2, rule).windows
                after = w[w["window_start"] >= log.drift_start]
                before = w[(w["status"] == "checked") & (w["window_start"] < log.drift_start)]
                first = after.loc[after["alert"], "window_start"]
                delay = (first.iloc[0] - log.drift_start).days / 7 if len(first) else np.nan
                rows.append(
                    {
                        "strength": strength,
                        "rule": rule,
                        "detected share": after["alert"].mean(),
                        "false alarms before": before["alert"].mean(),
                        "missed (no alert)": float(first.empty),
                        "delay (weeks)": delay,
                    }
                )
            log.connection.close()
    df = pd.DataFrame(rows).groupby(["strength", "rule"], sort=False).mean()
    return df.round(3).reset_index()


def speed() -> pd.DataFrame:
    log = make_demo_log(n_weeks=52, rows_per_week=20_000, drift_week=40, random_state=0)
    rows = []
    for n_jobs in (1, 2):
        start = time.perf_counter()
        tl = monitor_table(
            log.connection,
            log.table,
            time_column="ts",
            every="1 week",
            reference_windows=4,
            n_jobs=n_jobs,
            monitor=DriftMonitor(prediction_columns=log.prediction_columns),
            show_progress=False,
        )
        seconds = time.perf_counter() - start
        rows.append(
            {
                "rows": 52 * 20_000,
                "windows": len(tl.reports),
                "n_jobs": n_jobs,
                "seconds": round(seconds, 2),
                "rows/s": round(52 * 20_000 / seconds),
                "first alert": str(tl.first_alert.date()),
                "drift start": str(log.drift_start.date()),
            }
        )
    log.connection.close()
    return pd.DataFrame(rows)


def markdown(df: pd.DataFrame) -> str:
    """A pipe table (pandas' to_markdown needs the optional tabulate package)."""
    head = "| " + " | ".join(map(str, df.columns)) + " |"
    rule = "|" + "|".join("---" for _ in df.columns) + "|"
    body = ["| " + " | ".join(str(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    args = parser.parse_args()
    pd.set_option("display.width", 160)
    print(f"## False alarms ({args.seeds} logs without drift)\n")
    print(markdown(false_alarms(args.seeds)))
    print(f"\n## Detection ({args.seeds} logs per strength, drift from week 6 of 10)\n")
    print(markdown(detection(args.seeds)))
    print("\n## Speed (one year, weekly windows)\n")
    print(markdown(speed()))


if __name__ == "__main__":
    main()
