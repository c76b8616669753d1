"""A demo deployment: a real classifier's prediction log in DuckDB, with drift after a given week.

The model is a logistic regression trained on half of the Wisconsin breast-cancer data (bundled
with scikit-learn). The log replays the other half as weekly traffic: every week samples rows from
that held-out pool. From ``drift_week`` on, the sampling favours larger tumours (as if a new
hospital started referring more advanced cases) and the referral mix changes; the shift ramps up
over two weeks. Inputs shift (data drift) and so do the model's scores (prediction drift), while
the model itself stays the same.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from workbench.core.datasets import load_dataset
from workbench.core.errors import InputError, InputTypeError
from workbench.core.params import check_number, check_random_state, check_size
from workbench_drift.checks import check_time, open_duckdb

__all__ = ["DEMO_FEATURES", "MAX_DEMO_ROWS", "MAX_DEMO_WEEKS", "DemoLog", "make_demo_log"]

MAX_DEMO_WEEKS = 520
"""Most weeks of traffic the demo log may span (ten years)."""

MAX_DEMO_ROWS = 1_000_000
"""Most rows the demo log may hold (``n_weeks * rows_per_week``)."""

DEMO_FEATURES = [
    "mean_radius",
    "mean_texture",
    "mean_perimeter",
    "mean_area",
    "mean_smoothness",
    "mean_compactness",
    "mean_concavity",
    "mean_concave_points",
    "mean_symmetry",
    "mean_fractal_dimension",
]
"""Model inputs of the demo: the ten "mean" cell-nucleus measurements."""

_REFERRALS = ["gp", "screening", "hospital"]
_MIX_BEFORE = np.array([0.55, 0.30, 0.15])
_MIX_SHIFTED = np.array([0.20, 0.20, 0.60])


@dataclasses.dataclass(frozen=True, eq=False)
class DemoLog:
    """What :func:`make_demo_log` built.

    Attributes
    ----------
    connection : duckdb.DuckDBPyConnection
        Holds the log table.
    table : str
        Name of the log table: ``ts``, the model inputs, ``referral``, ``score``, ``label``.
    time_column : str
        ``"ts"``.
    model : sklearn.pipeline.Pipeline
        The deployed classifier (scaler + logistic regression), fitted on DataFrame columns.
    features : list of str
        The model's input columns.
    prediction_columns : list of str
        ``["score", "label"]``: probability of malignancy and the predicted class.
    drift_start : pandas.Timestamp
        Start of the first shifted week (``None`` when ``drift_week`` is past the end).
    """

    connection: duckdb.DuckDBPyConnection
    table: str
    time_column: str
    model: Any
    features: list[str]
    prediction_columns: list[str]
    drift_start: pd.Timestamp | None

    def __repr__(self) -> str:
        n = self.connection.execute(f'SELECT count(*) FROM "{self.table}"').fetchall()[0][0]
        return f"DemoLog(table={self.table!r}, rows={n}, drift_start={self.drift_start})"


def make_demo_log(
    *,
    n_weeks: int = 10,
    rows_per_week: int = 300,
    drift_week: int | None = 6,
    drift_strength: float = 1.0,
    start: str = "2026-01-05",
    database: str = ":memory:",
    table: str = "predictions",
    random_state: int | None = 0,
) -> DemoLog:
    """Train a real classifier and write a drifting prediction log into DuckDB.

    Parameters
    ----------
    n_weeks : int, default=10
        Weeks of traffic, 1 to :data:`MAX_DEMO_WEEKS`.
    rows_per_week : int, default=300
        Predictions logged per week; ``n_weeks * rows_per_week`` may not exceed
        :data:`MAX_DEMO_ROWS`.
    drift_week : int or None, default=6
        Zero-based week in which the shift starts (at most :data:`MAX_DEMO_WEEKS`; past
        ``n_weeks`` means no drift); ``None`` for a log without drift.
    drift_strength : float, default=1.0
        Size of the shift, 0 (none) to 10: the log-weight of a tumour's standardized radius in
        the sampling, and how far the referral mix moves towards hospitals.
    start : str or datetime, default="2026-01-05"
        First day of the log (a Monday, so weekly windows line up with DuckDB's). Numbers are
        refused; a time zone is dropped.
    database : str or os.PathLike, default=":memory:"
        DuckDB database to write into (a file path keeps it; an existing file must be a DuckDB
        database).
    table : str, default="predictions"
        Name of the log table (replaced if it exists).
    random_state : int, optional
        Seed of the split, the sampling and the timestamps.

    Returns
    -------
    DemoLog

    Raises
    ------
    InputTypeError
        If an argument has the wrong type (e.g. a number for ``start``).
    InputError
        If a size or strength is out of range, or ``database`` is a folder or cannot be opened.
    IntegrityError
        If ``database`` is an existing file that is not a DuckDB database.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    n_weeks = check_size(n_weeks, name="n_weeks", high=MAX_DEMO_WEEKS)
    rows_per_week = check_size(
        rows_per_week,
        name="rows_per_week",
        high=MAX_DEMO_ROWS // n_weeks,
        hint=f"the demo log holds at most {MAX_DEMO_ROWS:,} rows; use fewer weeks or rows.",
    )
    drift_strength = check_number(drift_strength, name="drift_strength", low=0, high=10)
    if drift_week is not None:
        drift_week = check_size(drift_week, name="drift_week", low=0, high=MAX_DEMO_WEEKS)
    if not isinstance(table, str) or not table.isidentifier():
        raise InputError(f"table must be a plain SQL name (letters, digits, _), got {table!r}.")
    random_state = check_random_state(random_state)
    first = check_time(start, name="start")
    if first is None:
        raise InputTypeError("start must be a date such as '2026-01-05', got None.")
    first = first.normalize()
    if (first + pd.Timedelta(weeks=n_weeks)).year > 9999:
        raise InputError(
            f"start={start!r} plus {n_weeks} weeks runs past the year 9999; choose an earlier "
            "start."
        )

    ds = load_dataset("breast_cancer")
    frame = pd.DataFrame(ds.X, columns=[n.replace(" ", "_") for n in ds.feature_names])
    X = frame[DEMO_FEATURES]
    # Class 0 is malignant in this dataset; the log scores malignancy.
    y = (ds.y == 0).astype(int)
    X_train, X_pool, y_train, _ = train_test_split(
        X, y, test_size=0.5, stratify=y, random_state=random_state
    )
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    model.fit(X_train, y_train)

    rng = np.random.default_rng(random_state)
    pool = X_pool.reset_index(drop=True)
    radius = pool["mean_radius"].to_numpy()
    z = (radius - radius.mean()) / radius.std()
    parts = []
    for week in range(n_weeks):
        level = 0.0
        if drift_week is not None and week >= drift_week:
            level = drift_strength * min(1.0, (week - drift_week + 1) / 2)
        weights = np.exp(level * z)
        idx = rng.choice(len(pool), size=rows_per_week, p=weights / weights.sum())
        rows = pool.iloc[idx].reset_index(drop=True)
        share = level / (1.0 + level)
        mix = (1 - share) * _MIX_BEFORE + share * _MIX_SHIFTED
        rows.insert(
            len(DEMO_FEATURES), "referral", rng.choice(_REFERRALS, size=rows_per_week, p=mix)
        )
        seconds = np.sort(rng.integers(0, 7 * 24 * 3600, size=rows_per_week))
        rows.insert(0, "ts", first + pd.Timedelta(weeks=week) + pd.to_timedelta(seconds, unit="s"))
        parts.append(rows)
    log = pd.concat(parts, ignore_index=True)
    log["score"] = model.predict_proba(log[DEMO_FEATURES])[:, 1].round(6)
    log["label"] = np.where(log["score"] >= 0.5, "malignant", "benign")

    con = open_duckdb(database, read_only=False, name="database")
    con.register("__workbench_demo", log)
    con.execute(f'CREATE OR REPLACE TABLE "{table}" AS SELECT * FROM __workbench_demo')
    con.unregister("__workbench_demo")
    drift_start = (
        first + pd.Timedelta(weeks=drift_week)
        if drift_week is not None and drift_week < n_weeks
        else None
    )
    return DemoLog(
        connection=con,
        table=table,
        time_column="ts",
        model=model,
        features=list(DEMO_FEATURES),
        prediction_columns=["score", "label"],
        drift_start=drift_start,
    )
