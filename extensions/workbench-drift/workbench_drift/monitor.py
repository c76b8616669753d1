"""The drift monitor: fit on a reference sample, compare later samples or time windows with it.

:class:`DriftMonitor` holds the options and the fitted reference; the work is done by
:mod:`~workbench_drift.profiles` (reference profiles), :mod:`~workbench_drift.predictions` (the
model's outputs as a column), :mod:`~workbench_drift.comparison` (one sample) and
:mod:`~workbench_drift.timeline` (many windows in parallel).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from workbench.core.errors import InputError, InputTypeError, NotFittedError, UnknownNameError
from workbench.core.params import check_number, check_size
from workbench.core.validation import check_columns, check_consistent_length
from workbench_drift.checks import (
    as_frame,
    check_bins,
    check_eps,
    check_option,
    check_parallel,
    check_time,
    column_names,
)
from workbench_drift.comparison import CORRECTIONS, RULES, compare_column, flag_drift
from workbench_drift.predictions import model_input_columns, predict_column, predicts_labels
from workbench_drift.profiles import ColumnProfile, column_kind, column_values, profile_column
from workbench_drift.report import BinCounts, DriftReport, DriftTimeline
from workbench_drift.sources import MAX_WINDOWS, Window, read_windows
from workbench_drift.statistics import DEFAULT_EPS
from workbench_drift.timeline import check_windows, timeline_of

# RULES is defined with the comparison it configures; it is listed here too because it names the
# accepted values of DriftMonitor's ``rule`` (the panel offers them).
__all__ = ["RULES", "DriftMonitor", "monitor_table"]


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

    def _check_is_fitted(self) -> None:
        if not hasattr(self, "columns_"):
            raise NotFittedError("This DriftMonitor is not fitted; call .fit(reference) first.")

    def _with_predictions(self, frame: pd.DataFrame, sample: str) -> pd.DataFrame:
        predictions = predict_column(
            self.model, frame, columns=self.model_columns_, sample=sample, name=self.prediction_name
        )
        return frame.assign(**{self.prediction_name: predictions})

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
            self.model_columns_ = model_input_columns(self.model, self.model_columns)
            if self.prediction_name in frame.columns:
                raise InputError(
                    f"reference already has a column {self.prediction_name!r}; pass another "
                    "prediction_name for the model's predictions."
                )
            frame = self._with_predictions(frame, "reference")
            columns.append(self.prediction_name)
            predictions.append(self.prediction_name)
            if predicts_labels(self.model):
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
            kind = column_kind(frame[c], categorical=c in categorical, sample="reference")
            values = column_values(frame[c], kind, sample="reference")
            profile = profile_column(values, kind, bins=self.bins)
            self.kinds_[c] = kind
            self.reference_counts_[c] = profile.counts
            if profile.edges is not None and profile.sorted_values is not None:
                self.bin_edges_[c] = profile.edges
                self._reference_values[c] = profile.sorted_values
        self.n_reference_ = len(frame)
        return self

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
            frame = self._with_predictions(frame, "current")

        rows: list[dict[str, Any]] = []
        bins: dict[str, BinCounts] = {}
        for c in self.columns_:
            profile = ColumnProfile(
                self.kinds_[c],
                self.reference_counts_[c],
                edges=self.bin_edges_.get(c),
                sorted_values=self._reference_values.get(c),
            )
            scores, bins[c] = compare_column(frame[c], profile, eps=self.eps)
            rows.append({"column": c, "role": self.roles_[c], **scores})
        table = flag_drift(
            pd.DataFrame(rows),
            rule=self.rule,
            correction=self.correction,
            psi_threshold=self.psi_threshold,
            p_value_threshold=self.p_value_threshold,
        )
        return DriftReport.with_bins(
            bins,
            columns=table,
            psi_threshold=float(self.psi_threshold),
            p_value_threshold=float(self.p_value_threshold),
            rule=self.rule,
            correction=self.correction,
            n_reference=int(self.n_reference_),
            n_current=len(frame),
            window_start=start,
            window_end=end,
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
        windows = check_windows(windows)
        return timeline_of(self, windows, n_jobs=n_jobs, show_progress=show_progress)


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
    return timeline_of(
        monitor, checked, n_jobs=n_jobs, show_progress=show_progress, reference=reference
    )
