"""The drift monitor: fit on a reference sample, compare later samples or time windows with it."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from workbench.core.errors import (
    InputError,
    InputTypeError,
    ModelError,
    NotFittedError,
    UnknownNameError,
)
from workbench.core.parallel import parallel_map
from workbench.core.params import check_number, check_size
from workbench.core.validation import check_columns, check_consistent_length
from workbench_drift.checks import (
    as_frame,
    check_bins,
    check_eps,
    check_model,
    check_option,
    check_parallel,
    check_predictions,
    check_time,
    column_names,
)
from workbench_drift.report import COLUMN_FIELDS, DriftReport, DriftTimeline
from workbench_drift.sources import MAX_WINDOWS, Window, read_windows
from workbench_drift.statistics import (
    DEFAULT_EPS,
    bin_counts,
    chi_square_from_counts,
    ks_test_sorted,
    numeric_bin_edges,
    psi_from_proportions,
    sorted_bin_counts,
)

__all__ = ["RULES", "DriftMonitor", "monitor_table"]

RULES = {
    "psi": "PSI at or above psi_threshold",
    "test": "adjusted p-value below p_value_threshold",
    "both": "PSI at or above the threshold and a significant test",
    "either": "PSI at or above the threshold or a significant test",
}
"""Ways to turn a column's PSI and test into its ``drifted`` flag."""

CORRECTIONS = ("bonferroni", "none")


def _bin_labels(edges: np.ndarray) -> list[str]:
    e = [f"{v:.3g}" for v in edges]
    if not e:
        return ["all"]
    pairs = itertools.pairwise(e)
    return [f"<= {e[0]}", *(f"{a} to {b}" for a, b in pairs), f"> {e[-1]}"]


class DriftMonitor:
    """Watch a model's input columns and predictions for drift against a reference sample.

    Each column gets the population stability index (PSI) over reference-quantile bins (numeric)
    or categories (categorical), and a test: two-sample Kolmogorov–Smirnov (numeric) or
    chi-square homogeneity (categorical). ``rule`` turns these into a ``drifted`` flag per column;
    a report raises an alert when any column drifted.

    Parameters
    ----------
    columns : list of str, optional
        Columns to monitor. Default: every column of the reference except datetime columns.
    categorical : list of str, optional
        Columns to treat as categorical even if numeric (codes, ratings). Text, category and
        boolean columns are categorical anyway.
    prediction_columns : list of str, optional
        Monitored columns that hold the model's logged outputs (scores, labels); they are reported
        with role "prediction" (prediction drift) instead of "feature" (data drift).
    model : estimator, optional
        A fitted scikit-learn style model. When given, its predictions on every sample become an
        extra prediction column ``prediction_name``: the positive-class probability of a binary
        classifier, the predicted label of a multi-class one, the prediction of a regressor.
    model_columns : list of str, optional
        Input columns of ``model``, in order. Default: ``model.feature_names_in_``.
    prediction_name : str, default="prediction"
        Name of the column holding ``model``'s predictions.
    bins : int, default=10
        Quantile bins of numeric columns for the PSI, 2 to 1000.
    psi_threshold : float, default=0.2
        PSI at or above which a column counts as shifted (0.1–0.2 is usually read as moderate,
        above 0.2 as significant).
    p_value_threshold : float, default=0.05
        Adjusted p-value below which a test counts as significant.
    rule : {"both", "psi", "test", "either"}, default="both"
        How PSI and test combine. "both" needs a large *and* significant shift: PSI alone is biased
        upward on small windows, tests alone flag negligible shifts on large ones.
    correction : {"bonferroni", "none"}, default="bonferroni"
        Multiple-testing correction over the monitored columns of one report.
    min_rows : int, default=30
        Fewest rows a sample needs to be compared; smaller windows are skipped.
    eps : float, default=1e-4
        Floor for empty-bin proportions in the PSI, in ``[1e-12, 0.5)``.

    Attributes
    ----------
    columns_ : list of str
        Monitored columns, including the model's prediction column.
    kinds_ : dict of str to str
        ``"numeric"`` or ``"categorical"`` per column.
    roles_ : dict of str to str
        ``"feature"`` or ``"prediction"`` per column.
    bin_edges_ : dict of str to numpy.ndarray
        Inner PSI bin edges of the numeric columns.
    reference_counts_ : dict of str to pandas.Series
        Reference counts per bin (numeric) or category (categorical).
    n_reference_ : int
        Rows in the reference sample.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> ref = pd.DataFrame({"x": rng.normal(size=500), "c": rng.choice(["a", "b"], 500)})
    >>> cur = pd.DataFrame({"x": rng.normal(1.0, 1, 500), "c": rng.choice(["a", "b"], 500)})
    >>> DriftMonitor().fit(ref).compare(cur).drifted_columns
    ['x']
    """

    def __init__(
        self,
        *,
        columns: Sequence[str] | None = None,
        categorical: Sequence[str] | None = None,
        prediction_columns: Sequence[str] | None = None,
        model: Any = None,
        model_columns: Sequence[str] | None = None,
        prediction_name: str = "prediction",
        bins: int = 10,
        psi_threshold: float = 0.2,
        p_value_threshold: float = 0.05,
        rule: str = "both",
        correction: str = "bonferroni",
        min_rows: int = 30,
        eps: float = DEFAULT_EPS,
    ) -> None:
        self.columns = columns
        self.categorical = categorical
        self.prediction_columns = prediction_columns
        self.model = model
        self.model_columns = model_columns
        self.prediction_name = prediction_name
        self.bins = bins
        self.psi_threshold = psi_threshold
        self.p_value_threshold = p_value_threshold
        self.rule = rule
        self.correction = correction
        self.min_rows = min_rows
        self.eps = eps

    def __repr__(self) -> str:
        state = f"columns={len(self.columns_)}" if hasattr(self, "columns_") else "unfitted"
        return (
            f"DriftMonitor({state}, psi_threshold={self.psi_threshold}, "
            f"p_value_threshold={self.p_value_threshold}, rule={self.rule!r})"
        )

    # ------------------------------------------------------------------ validation
    def _check_params(self) -> None:
        check_bins(self.bins)
        check_number(self.psi_threshold, name="psi_threshold", low=0, low_open=True)
        check_number(
            self.p_value_threshold,
            name="p_value_threshold",
            low=0,
            high=1,
            low_open=True,
            high_open=True,
        )
        check_option(self.rule, RULES, kind="drift rule")
        check_option(self.correction, CORRECTIONS, kind="correction")
        check_size(self.min_rows, name="min_rows", high=10**9)
        check_eps(self.eps)
        if not isinstance(self.prediction_name, str) or not self.prediction_name:
            raise InputTypeError("prediction_name must be a non-empty string.")

    # ------------------------------------------------------------------ model
    def _resolve_model(self) -> list[str]:
        check_model(self.model)
        cols = column_names(self.model_columns, name="model_columns")
        if not cols:
            names = getattr(self.model, "feature_names_in_", None)
            if names is None:
                raise InputError(
                    "model was fitted without column names; fit it on a DataFrame or pass "
                    "model_columns=[...] in the order the model expects."
                )
            cols = [str(n) for n in names]
        return cols

    def _predict(self, frame: pd.DataFrame, name: str) -> pd.Series:
        check_columns(frame.columns, self.model_columns_, what=f"{name} (model inputs)")
        X: Any = frame[self.model_columns_]
        if X.isna().to_numpy().any():
            raise InputError(
                f"{name} has missing values in the model's input columns; the model cannot "
                "predict them. Impute or drop those rows first."
            )
        if getattr(self.model, "feature_names_in_", None) is None:
            X = X.to_numpy()  # a model fitted on an array warns when given named columns
        try:
            proba = getattr(self.model, "predict_proba", None)
            classes = getattr(self.model, "classes_", None)
            if callable(proba) and classes is not None and len(classes) == 2:
                values = np.asarray(proba(X))[:, 1]
            else:
                values = np.asarray(self.model.predict(X))
        except Exception as exc:
            raise ModelError(
                f"model ({type(self.model).__name__}) failed to predict on {name}: {exc}"
            ) from exc
        values = check_predictions(values, len(frame), model=self.model, sample=name)
        return pd.Series(values, index=frame.index, name=self.prediction_name)

    # ------------------------------------------------------------------ fit
    def fit(self, reference: Any, y: Any = None) -> DriftMonitor:
        """Learn the reference distribution of every monitored column.

        Parameters
        ----------
        reference : pandas.DataFrame or 2-D numpy.ndarray
            The sample the model is known to work on (its validation data or the first weeks of
            production).
        y : array-like, optional
            Ignored (scikit-learn pipeline compatibility); when given, one value per row.

        Returns
        -------
        DriftMonitor
            ``self``, fitted.

        Raises
        ------
        InputTypeError
            If ``reference`` is not a table, a monitored column is a datetime, or an option has
            the wrong type.
        InputError
            If ``reference`` is empty, smaller than ``min_rows``, a column has no values, or an
            option is out of range.
        UnknownNameError
            If a named column does not exist, or ``rule``/``correction`` is unknown.
        """
        self._check_params()
        frame = as_frame(reference, "reference")
        if y is not None:
            if not hasattr(y, "__len__") or isinstance(y, str | bytes):
                raise InputTypeError(f"y must be None or one value per row, got {y!r}.")
            check_consistent_length(reference=frame, y=y)
        if len(frame) < self.min_rows:
            raise InputError(
                f"reference has {len(frame)} rows but min_rows={self.min_rows}; pass a larger "
                "reference sample or lower min_rows."
            )
        columns = column_names(self.columns, name="columns")
        categorical = column_names(self.categorical, name="categorical")
        predictions = column_names(self.prediction_columns, name="prediction_columns")
        if self.columns is not None and not columns:
            raise InputError("columns is empty; name at least one column or pass None for all.")
        for c in (*columns, *categorical, *predictions):
            if c not in frame.columns:
                raise UnknownNameError("column", c, frame.columns)
        if not columns:
            columns = [
                c for c in frame.columns if not pd.api.types.is_datetime64_any_dtype(frame[c])
            ]
        for c in (*categorical, *predictions):
            if c not in columns:
                columns.append(c)
        self.model_columns_: list[str] = []
        if self.model is not None:
            self.model_columns_ = self._resolve_model()
            if self.prediction_name in frame.columns:
                raise InputError(
                    f"reference already has a column {self.prediction_name!r}; pass another "
                    "prediction_name for the model's predictions."
                )
            frame = frame.assign(**{self.prediction_name: self._predict(frame, "reference")})
            columns.append(self.prediction_name)
            predictions.append(self.prediction_name)
            classes = getattr(self.model, "classes_", None)
            if classes is not None and len(classes) != 2:
                # predicted class labels are categories even when they are integers
                categorical.append(self.prediction_name)
        if not columns:
            raise InputError("reference has no column to monitor (only datetime columns).")

        self.columns_ = columns
        self.roles_ = {c: "prediction" if c in predictions else "feature" for c in columns}
        self.kinds_: dict[str, str] = {}
        self.bin_edges_: dict[str, np.ndarray] = {}
        self.reference_counts_: dict[str, pd.Series] = {}
        self._reference_values: dict[str, np.ndarray] = {}
        for c in columns:
            series = frame[c]
            kind = self._kind(series, c in categorical, "reference")
            values = self._values(series, kind, "reference")
            self.kinds_[c] = kind
            if kind == "numeric":
                edges = numeric_bin_edges(values, self.bins)
                self.bin_edges_[c] = edges
                self._reference_values[c] = np.sort(values)
                self.reference_counts_[c] = pd.Series(
                    bin_counts(values, edges), index=_bin_labels(edges)
                )
            else:
                counts = pd.Series(values).value_counts()
                order = sorted(counts.index, key=lambda k: (-counts[k], k))
                self.reference_counts_[c] = counts.reindex(order)
        self.n_reference_ = len(frame)
        return self

    @staticmethod
    def _kind(series: pd.Series, force_categorical: bool, name: str) -> str:
        if pd.api.types.is_datetime64_any_dtype(series) or pd.api.types.is_timedelta64_dtype(
            series
        ):
            raise InputTypeError(
                f"Column {series.name!r} of {name} holds dates or durations, which are not "
                "monitored; leave it out of columns (use it as the time column of windows)."
            )
        if force_categorical or pd.api.types.is_bool_dtype(series):
            return "categorical"
        if pd.api.types.is_numeric_dtype(series):
            return "numeric"
        return "categorical"

    @staticmethod
    def _values(series: pd.Series, kind: str, name: str) -> np.ndarray:
        present = series[~series.isna()]
        if kind == "numeric":
            numeric = pd.api.types.is_numeric_dtype(series)
            if pd.api.types.is_bool_dtype(series) or (not numeric and not present.empty):
                try:
                    # object columns of numbers (e.g. decimals) are fine; text or flags are not
                    if (
                        pd.api.types.is_bool_dtype(series)
                        or present.map(lambda v: isinstance(v, bool | str | bytes)).any()
                    ):
                        raise TypeError
                    present = pd.to_numeric(present)
                except (TypeError, ValueError):
                    raise InputTypeError(
                        f"Column {series.name!r} of {name} is {series.dtype}, but the reference "
                        "had numbers; fix the column's type upstream."
                    ) from None
            values = present.to_numpy(dtype=np.float64)
            if np.isinf(values).any():
                raise InputError(
                    f"Column {series.name!r} of {name} contains infinite values; clip or drop them."
                )
        else:
            values = present.astype(str).to_numpy()
        if name == "reference" and values.size == 0:
            raise InputError(
                f"Column {series.name!r} of the reference has no non-missing value; drop it "
                "from columns."
            )
        return values

    # ------------------------------------------------------------------ compare
    def _check_is_fitted(self) -> None:
        if not hasattr(self, "columns_"):
            raise NotFittedError("This DriftMonitor is not fitted; call .fit(reference) first.")

    def compare(
        self, current: Any, *, window_start: Any = None, window_end: Any = None
    ) -> DriftReport:
        """Compare a current sample with the reference, column by column.

        Parameters
        ----------
        current : pandas.DataFrame or 2-D numpy.ndarray
            Recent data with the monitored columns (and the model's inputs when a model is set).
        window_start, window_end : str or datetime, optional
            Recorded in the report when the sample is a time window (numbers are refused, time
            zones dropped; the end must come after the start).

        Returns
        -------
        DriftReport

        Raises
        ------
        NotFittedError
            If :meth:`fit` was not called.
        InputError
            If columns are missing, or ``current`` has fewer than ``min_rows`` rows.
        InputTypeError
            If a numeric column now holds text.
        """
        self._check_is_fitted()
        start, end = (
            check_time(window_start, name="window_start"),
            check_time(window_end, name="window_end"),
        )
        if start is not None and end is not None and end <= start:
            raise InputError(f"window_end ({end}) must come after window_start ({start}).")
        frame = as_frame(current, "current")
        needed = [
            c for c in self.columns_ if not (self.model is not None and c == self.prediction_name)
        ]
        check_columns(frame.columns, needed, what="current sample")
        if len(frame) < self.min_rows:
            raise InputError(
                f"current has {len(frame)} rows but min_rows={self.min_rows}; compare a larger "
                "sample (a longer window) or lower min_rows."
            )
        if self.model is not None:
            frame = frame.assign(**{self.prediction_name: self._predict(frame, "current")})

        rows: list[dict[str, Any]] = []
        bins: dict[str, tuple[list[str], np.ndarray, np.ndarray]] = {}
        for c in self.columns_:
            series = frame[c]
            kind = self.kinds_[c]
            values = self._values(series, kind, "current")
            row: dict[str, Any] = {
                "column": c,
                "role": self.roles_[c],
                "type": kind,
                "n_reference": int(self.reference_counts_[c].sum()),
                "n_current": int(values.size),
                "missing_current": float(series.isna().mean()),
            }
            ref_counts = self.reference_counts_[c]
            if values.size == 0:
                row.update(test="missing", psi=np.nan, statistic=np.nan, p_value=np.nan)
                bins[c] = (
                    list(map(str, ref_counts.index)),
                    ref_counts.to_numpy(),
                    np.zeros(len(ref_counts)),
                )
            elif kind == "numeric":
                values = np.sort(values)
                cur_counts = sorted_bin_counts(values, self.bin_edges_[c])
                stat, p = ks_test_sorted(self._reference_values[c], values)
                psi = psi_from_proportions(ref_counts.to_numpy(), cur_counts, eps=self.eps)
                row.update(test="ks", psi=psi, statistic=stat, p_value=p)
                bins[c] = (list(ref_counts.index), ref_counts.to_numpy(), cur_counts)
            else:
                cur = pd.Series(values).value_counts()
                labels = list(ref_counts.index) + sorted(
                    k for k in cur.index if k not in ref_counts.index
                )
                r = ref_counts.reindex(labels, fill_value=0).to_numpy(dtype=np.int64)
                k = cur.reindex(labels, fill_value=0).to_numpy(dtype=np.int64)
                stat, p = chi_square_from_counts(r, k)
                psi = psi_from_proportions(r, k, eps=self.eps)
                row.update(test="chi2", psi=psi, statistic=stat, p_value=p)
                bins[c] = (labels, r, k)
            rows.append(row)

        table = pd.DataFrame(rows)
        m = len(self.columns_) if self.correction == "bonferroni" else 1
        table["p_adjusted"] = np.minimum(table["p_value"].astype(float) * m, 1.0)
        shifted = table["psi"].astype(float) >= self.psi_threshold
        significant = table["p_adjusted"].astype(float) < self.p_value_threshold
        flag = {
            "psi": shifted,
            "test": significant,
            "both": shifted & significant,
            "either": shifted | significant,
        }[self.rule]
        table["drifted"] = flag | (table["test"] == "missing")
        table = table[COLUMN_FIELDS]
        return DriftReport(
            columns=table,
            psi_threshold=float(self.psi_threshold),
            p_value_threshold=float(self.p_value_threshold),
            rule=self.rule,
            correction=self.correction,
            n_reference=int(self.n_reference_),
            n_current=len(frame),
            window_start=start,
            window_end=end,
            _bins=bins,
        )

    def compare_windows(
        self,
        windows: Sequence[Window],
        *,
        n_jobs: int | None = None,
        show_progress: bool | None = None,
    ) -> DriftTimeline:
        """Compare every time window with the reference.

        Parameters
        ----------
        windows : list of Window
            From :func:`~workbench_drift.sources.read_windows`. Windows with fewer than
            ``min_rows`` rows are listed with status "too few rows" and never alert.
        n_jobs : int, optional
            Parallel workers over windows (joblib; honours ``joblib.parallel_config``).
        show_progress : bool, optional
            Force the progress bar on or off.

        Returns
        -------
        DriftTimeline
        """
        self._check_is_fitted()
        if isinstance(windows, Window) or not isinstance(windows, Sequence):
            raise InputTypeError("windows must be a list of Window objects (see read_windows).")
        if not windows:
            raise InputError("windows is empty; pass at least one Window.")
        bad = [type(w).__name__ for w in windows if not isinstance(w, Window)]
        if bad:
            raise InputTypeError(f"windows must hold Window objects, found {bad[0]}.")
        return self._timeline_of(windows, n_jobs=n_jobs, show_progress=show_progress)

    def _timeline_of(
        self,
        windows: Sequence[Window],
        *,
        n_jobs: int | None,
        show_progress: bool | None,
        reference: Sequence[Window] = (),
    ) -> DriftTimeline:
        checked = [w for w in windows if w.n_rows >= self.min_rows]
        n_jobs, show_progress = check_parallel(n_jobs, show_progress, n_items=len(checked))
        reports = parallel_map(
            functools.partial(_compare_window, self),
            checked,
            n_jobs=n_jobs,
            desc="drift windows",
            show_progress=show_progress,
        )
        ready = dict(zip(map(id, checked), reports, strict=True))
        return _timeline(self, windows, ready, reference)


def _compare_window(monitor: DriftMonitor, window: Window) -> DriftReport:
    return monitor.compare(window.data, window_start=window.start, window_end=window.end)


def _timeline(
    monitor: DriftMonitor,
    windows: Sequence[Window],
    reports: dict[int, DriftReport],
    reference: Sequence[Window] = (),
) -> DriftTimeline:
    rows = []
    for w in reference:
        rows.append(_window_row(w, "reference", None))
    for w in windows:
        rep = reports.get(id(w))
        rows.append(_window_row(w, "checked" if rep else "too few rows", rep))
    ordered = [reports[id(w)] for w in windows if id(w) in reports]
    scores = (
        pd.concat(
            [r.columns.assign(window_start=r.window_start) for r in ordered], ignore_index=True
        )
        if ordered
        else pd.DataFrame(columns=["window_start", *COLUMN_FIELDS])
    )
    scores = scores[["window_start", *COLUMN_FIELDS]]
    return DriftTimeline(
        windows=pd.DataFrame(rows),
        scores=scores,
        psi_threshold=float(monitor.psi_threshold),
        reference_start=reference[0].start if reference else None,
        reference_end=reference[-1].end if reference else None,
        _reports=ordered,
    )


def _window_row(window: Window, status: str, report: DriftReport | None) -> dict[str, Any]:
    psi = report.columns["psi"].to_numpy(dtype=float) if report else np.array([])
    return {
        "window_start": window.start,
        "window_end": window.end,
        "n_rows": window.n_rows,
        "status": status,
        "n_drifted": len(report.drifted_columns) if report else 0,
        "max_psi": float(np.nanmax(psi)) if np.isfinite(psi).any() else np.nan,
        "drifted_columns": ", ".join(report.drifted_columns) if report else "",
        "alert": bool(report.alert) if report else False,
    }


def monitor_table(
    source: Any,
    table: str,
    *,
    time_column: str,
    every: str = "1 week",
    reference_windows: int = 1,
    monitor: DriftMonitor | None = None,
    columns: Sequence[str] | None = None,
    start: Any = None,
    end: Any = None,
    n_jobs: int | None = None,
    show_progress: bool | None = None,
) -> DriftTimeline:
    """Monitor a logged table in DuckDB: the first windows are the reference, the rest are checked.

    Parameters
    ----------
    source : duckdb.DuckDBPyConnection or path-like
        An open connection, or a DuckDB file (opened read-only).
    table : str
        Table or view with one row per prediction.
    time_column : str
        DATE or TIMESTAMP column that defines the windows.
    every : str, default="1 week"
        Window length as a DuckDB interval.
    reference_windows : int, default=1
        How many of the first windows form the reference sample.
    monitor : DriftMonitor, optional
        Unfitted monitor holding the options (thresholds, rule, prediction columns); it is fitted
        on the reference here. Default: ``DriftMonitor()``.
    columns : list of str, optional
        Columns to read; all by default. The time column is never monitored.
    start, end : timestamp-like, optional
        Only rows with ``start <= time < end``.
    n_jobs : int, optional
        Parallel workers over windows.
    show_progress : bool, optional
        Force the progress bar on or off.

    Returns
    -------
    DriftTimeline
        Reference windows are listed with status "reference".

    Raises
    ------
    InputError
        If ``reference_windows`` leaves no window to check, or as :func:`read_windows` and
        :meth:`DriftMonitor.fit` raise.
    """
    if monitor is None:
        monitor = DriftMonitor()
    if not isinstance(monitor, DriftMonitor):
        raise InputTypeError(f"monitor must be a DriftMonitor, got {type(monitor).__name__}.")
    check_size(reference_windows, name="reference_windows", high=MAX_WINDOWS)
    check_parallel(n_jobs, show_progress)
    windows = read_windows(
        source, table, time_column=time_column, every=every, columns=columns, start=start, end=end
    )
    if reference_windows >= len(windows):
        raise InputError(
            f"reference_windows={reference_windows} but the table spans only {len(windows)} "
            f"window(s) of {every}; use fewer reference windows or shorter windows."
        )
    windows = [
        Window(start=w.start, end=w.end, data=w.data.drop(columns=time_column)) for w in windows
    ]
    reference, checked = windows[:reference_windows], windows[reference_windows:]
    monitor.fit(pd.concat([w.data for w in reference], ignore_index=True))
    return monitor._timeline_of(
        checked, n_jobs=n_jobs, show_progress=show_progress, reference=reference
    )
