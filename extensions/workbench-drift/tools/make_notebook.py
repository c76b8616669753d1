"""Write notebooks/07_drift_monitoring.ipynb from the cells below; then run it with nbconvert."""

from __future__ import annotations

from pathlib import Path

import nbformat as nbf

ROOT = Path(__file__).resolve().parents[3]

CELLS: list[tuple[str, str]] = [
    (
        "md",
        """# Drift monitoring for a deployed model

A model that scored well at validation keeps getting new data after it is deployed, and nobody
labels that data for weeks. What *can* be watched right away is whether the inputs (**data
drift**) and the model's outputs (**prediction drift**) still look like the data the model was
validated on. This notebook uses the `workbench-drift` extension:

- per column, the **population stability index** (PSI) over the reference's decile bins (or its
  categories) measures *how much* the distribution moved;
- a **Kolmogorov–Smirnov** test (numeric) or **chi-square** test (categorical), Bonferroni-corrected
  over the columns, says whether the move is more than sampling noise;
- a column **drifts** when both agree (PSI ≥ 0.2 and adjusted p < 0.05, configurable), and a window
  raises an **alert** when any column drifts;
- the monitored data are a prediction log in **DuckDB**, cut into time windows with `time_bucket`.

The drift tool is not part of the `workbench` package: it is a separately installed plugin that
the launcher finds through the `workbench.tools` entry point (see the end of the notebook).""",
    ),
    (
        "code",
        """%matplotlib inline
import matplotlib.pyplot as plt
import pandas as pd
from workbench_drift import DriftMonitor, make_demo_log, monitor_table, read_windows

pd.set_option("display.precision", 3)
SEED = 0""",
    ),
    (
        "md",
        """## A deployment log in DuckDB

`make_demo_log` trains a real classifier (scaler + logistic regression on half of the Wisconsin
breast-cancer data) and replays the other half as ten weeks of traffic, 300 predictions a week,
logged with a timestamp, the ten model inputs, a `referral` channel, the model's `score`
(probability of malignancy) and predicted `label`. From week 6 (16 February) the traffic
shifts towards larger tumours and hospital referrals, ramping up over two weeks. The model
itself never changes.""",
    ),
    (
        "code",
        """demo = make_demo_log(n_weeks=10, rows_per_week=300, drift_week=6, random_state=SEED)
con = demo.connection
print(demo)
con.sql(
    \"\"\"
    SELECT time_bucket(INTERVAL '1 week', ts)::DATE AS week, count(*) AS n,
           round(avg(mean_radius), 2) AS mean_radius, round(avg(score), 3) AS avg_score,
           round(avg((referral = 'hospital')::INT), 2) AS hospital_share
    FROM predictions GROUP BY week ORDER BY week
    \"\"\"
).df()""",
    ),
    (
        "md",
        """## One window against the reference

The first two weeks are the reference. `DriftMonitor` follows scikit-learn's pattern: `fit` learns
the reference distributions (decile edges, category counts), `compare` returns a `DriftReport`.
The logged `score` and `label` are marked as prediction columns.""",
    ),
    (
        "code",
        """windows = read_windows(con, "predictions", time_column="ts", every="1 week")
reference = pd.concat([w.data for w in windows[:2]]).drop(columns="ts")
monitor = DriftMonitor(prediction_columns=["score", "label"], psi_threshold=0.2).fit(reference)

last = windows[-1]
report = monitor.compare(last.data, window_start=last.start, window_end=last.end)
report""",
    ),
    (
        "code",
        """fig, axes = plt.subplots(1, 2, figsize=(13, 4.5))
report.plot(ax=axes[0])
report.plot_distribution("mean_radius", ax=axes[1])
fig.tight_layout()""",
    ),
    (
        "md",
        """## Every week, straight from DuckDB

`monitor_table` does the whole loop: read the windows, fit on the first `reference_windows`, check
the rest (in parallel with `n_jobs`, on any joblib backend). The alert fires in the first shifted
week and not before.""",
    ),
    (
        "code",
        """timeline = monitor_table(
    con,
    "predictions",
    time_column="ts",
    every="1 week",
    reference_windows=2,
    monitor=DriftMonitor(prediction_columns=["score", "label"]),
    show_progress=False,
)
print(timeline)
timeline.to_frame()[["window_start", "status", "n_drifted", "max_psi", "alert"]]""",
    ),
    (
        "code",
        """ax = timeline.plot()
ax.axvline(demo.drift_start, color="grey", linestyle=":")
ax.figure.set_size_inches(10, 4)""",
    ),
    (
        "md",
        """## Why the rule asks for PSI *and* a test

PSI has an upward bias on small samples: with 10 bins and a ~40-row window, it exceeds 0.2 by
chance alone. Daily windows over the six weeks *before* the shift show it: PSI alone raises false
alarms, while requiring a significant test as well keeps them quiet. (On very large windows the
reverse happens: a test flags shifts too small to matter, and the PSI threshold filters them.)""",
    ),
    (
        "code",
        """daily = monitor_table(
    con, "predictions", time_column="ts", every="1 day", reference_windows=14,
    end=demo.drift_start, show_progress=False,
)
# every window's per-column PSI and adjusted p-value are in `scores`: apply each rule to them
scores = daily.scores
flags = pd.DataFrame({"psi": scores["psi"] >= 0.2, "test": scores["p_adjusted"] < 0.05})
flags["both"] = flags["psi"] & flags["test"]
per_day = flags.groupby(scores["window_start"]).any()
per_day.agg(["count", "sum"]).T.set_axis(["days checked", "days alerted"], axis=1)""",
    ),
    (
        "md",
        """## Prediction drift from the model itself

When the log holds only the inputs, pass the fitted model: the monitor scores every sample and
watches the predicted probability as a `prediction` column.""",
    ),
    (
        "code",
        """with_model = DriftMonitor(model=demo.model, columns=["referral"]).fit(reference)
table = with_model.compare(last.data).to_frame()
table[["column", "role", "test", "psi", "p_adjusted", "drifted"]].round(4)""",
    ),
    (
        "md",
        """## It is an extension

`workbench-drift` lives in `extensions/workbench-drift/`, with its own `pyproject.toml` whose only
link to the workbench is one entry point:

```toml
[project.entry-points."workbench.tools"]
drift = "workbench_drift.spec:SPEC"
```

The registry lists it with the distribution it came from; uninstall the package and it is gone
from the launcher.""",
    ),
    (
        "code",
        """from workbench.core import registry

spec = registry.get("drift")
spec.title, spec.source, spec.panel""",
    ),
    (
        "md",
        """## The panel

Pick the prediction log: a DataFrame variable, an uploaded CSV/Parquet file, a workspace
table or a SQL query (a log kept in a `.duckdb` file: pass
`workspace=Workspace(path, read_only=True)` and pick its table); the demo log is preselected
(its drift week and strength are sliders).
Choose the time column and the prediction columns from the log's columns, and the monitored
inputs in the picker's list; tick *Monitor a model's predictions too* to add a fitted model's
predictions. **Check drift** reads the windows and shows the PSI timeline and the selected
window's report; the windows table (`drift_windows`) can be saved to the workspace or
downloaded as CSV.""",
    ),
    (
        "code",
        """from workbench_drift.panel import DriftPanel

DriftPanel()""",
    ),
]


def main() -> None:
    nb = nbf.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "display_name": "Python 3",
        "language": "python",
        "name": "python3",
    }
    nb.cells = [
        nbf.v4.new_markdown_cell(src) if kind == "md" else nbf.v4.new_code_cell(src)
        for kind, src in CELLS
    ]
    path = ROOT / "notebooks" / "07_drift_monitoring.ipynb"
    nbf.write(nb, path)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
