"""Results of the drift tool: one window's :class:`DriftReport` and a :class:`DriftTimeline`."""

from __future__ import annotations

import dataclasses
import html
from typing import Any

import numpy as np
import pandas as pd

from workbench.core.errors import InputError, UnknownNameError
from workbench.core.params import check_ax, check_size
from workbench.core.results import Result
from workbench_drift.checks import check_column, check_time, column_names

__all__ = ["COLUMN_FIELDS", "BinCounts", "DriftReport", "DriftTimeline"]

COLUMN_FIELDS = [
    "column",
    "role",
    "type",
    "test",
    "psi",
    "statistic",
    "p_value",
    "p_adjusted",
    "drifted",
    "n_reference",
    "n_current",
    "missing_current",
]
"""Columns of :attr:`DriftReport.columns`, one row per monitored column."""

BinCounts = tuple[list[str], np.ndarray, np.ndarray]
"""What the PSI of one column compared: bin labels, reference counts, current counts."""

_DRIFT_COLOR = "#c0392b"
_OK_COLOR = "#5b8db8"


def _plt():
    import matplotlib.pyplot as plt

    return plt


def _new_axes(ax: Any, figsize: tuple[float, float]) -> Any:
    if check_ax(ax) is not None:
        return ax
    _, ax = _plt().subplots(figsize=figsize)
    return ax


@dataclasses.dataclass(eq=False, repr=False)
class DriftReport(Result):
    """Drift of every monitored column between the reference sample and one current sample.

    Attributes
    ----------
    columns : pandas.DataFrame
        One row per column with :data:`COLUMN_FIELDS`: ``role`` ("feature" or "prediction"),
        ``type`` ("numeric" or "categorical"), ``test`` ("ks", "chi2" or "missing" when the current
        sample has no value), ``psi``, the test ``statistic``, its ``p_value``, the multiple-testing
        adjusted ``p_adjusted``, the ``drifted`` flag, the sample sizes and the share of missing
        values in the current sample.
    psi_threshold : float
        PSI at or above which a column counts as shifted.
    p_value_threshold : float
        Adjusted p-value below which a test counts as significant.
    rule : str
        How PSI and test combine into ``drifted`` ("psi", "test", "both" or "either").
    correction : str
        Multiple-testing correction of the p-values ("bonferroni" or "none").
    n_reference, n_current : int
        Rows in the reference and current samples.
    window_start, window_end : pandas.Timestamp or None
        The time window of the current sample, when it came from one.
    """

    columns: pd.DataFrame
    psi_threshold: float
    p_value_threshold: float
    rule: str
    correction: str
    n_reference: int
    n_current: int
    window_start: pd.Timestamp | None = None
    window_end: pd.Timestamp | None = None
    _bins: dict[str, BinCounts] = dataclasses.field(default_factory=dict)

    @classmethod
    def with_bins(cls, bins: dict[str, BinCounts], **fields: Any) -> DriftReport:
        """Build a report that keeps each column's binned counts for :meth:`bins` and plots.

        Parameters
        ----------
        bins : dict of str to BinCounts
            Per monitored column: bin labels, reference counts and current counts.
        **fields
            The report's public fields (:attr:`columns`, the thresholds, sizes and window).

        Returns
        -------
        DriftReport
        """
        return cls(**fields, _bins=dict(bins))

    @property
    def drifted_columns(self) -> list[str]:
        """Names of the columns flagged as drifted, highest PSI first."""
        drifted = self.columns[self.columns["drifted"]]
        return drifted.sort_values("psi", ascending=False, na_position="first")["column"].tolist()

    @property
    def alert(self) -> bool:
        """Whether any monitored column drifted (the alert to raise for this window)."""
        return bool(self.columns["drifted"].any())

    @property
    def prediction_drift(self) -> bool:
        """Whether a prediction column drifted."""
        pred = self.columns[self.columns["role"] == "prediction"]
        return bool(pred["drifted"].any())

    @property
    def title(self) -> str:
        """Heading with the window, when there is one."""
        if self.window_start is None:
            return "Drift report"
        return f"Drift report, window from {_fmt_time(self.window_start)}"

    def to_frame(self) -> pd.DataFrame:
        """One row per monitored column (a copy of :attr:`columns`)."""
        return self.columns.copy()

    def summary(self) -> dict[str, Any]:
        """Alert flag, drifted columns, largest PSI and sample sizes."""
        psi = self.columns["psi"].to_numpy(dtype=float)
        drifted = self.drifted_columns
        names = ", ".join(drifted[:4]) + (
            f" (+{len(drifted) - 4} more)" if len(drifted) > 4 else ""
        )
        return {
            "alert": self.alert,
            "drifted": names or "none",
            "max PSI": round(float(np.nanmax(psi)), 4) if np.isfinite(psi).any() else None,
            "rows": f"{self.n_current} current vs {self.n_reference} reference",
        }

    def _repr_html_(self, max_rows: int = 40) -> str:
        # Readable numbers: PSI and statistics to 3 decimals, tiny p-values as "< 1e-4".
        view = self.columns.copy()
        for col in ("psi", "statistic", "missing_current"):
            view[col] = view[col].astype(float).round(3)
        for col in ("p_value", "p_adjusted"):
            view[col] = [
                "" if pd.isna(p) else ("< 1e-4" if p < 1e-4 else f"{p:.4f}") for p in view[col]
            ]
        items = "".join(
            f"<li><b>{html.escape(str(k))}</b>: {html.escape(str(v))}</li>"
            for k, v in self.summary().items()
        )
        table = view.to_html(max_rows=max_rows, index=False)
        return (
            f"<div class='workbench-result'><h4 style='margin:4px 0'>{html.escape(self.title)}"
            f"</h4><ul style='margin:2px 0'>{items}</ul>{table}</div>"
        )

    def bins(self, column: str) -> pd.DataFrame:
        """Reference and current proportions per bin of one column (what the PSI compares).

        Parameters
        ----------
        column : str
            A monitored column.

        Returns
        -------
        pandas.DataFrame
            Columns ``bin``, ``reference`` and ``current`` (proportions summing to one).
        """
        if check_column(column) not in self._bins:
            raise UnknownNameError("column", column, self._bins)
        labels, ref, cur = self._bins[column]
        ref = np.asarray(ref, dtype=float)
        cur = np.asarray(cur, dtype=float)
        return pd.DataFrame(
            {
                "bin": labels,
                "reference": ref / ref.sum() if ref.sum() else ref,
                "current": cur / cur.sum() if cur.sum() else cur,
            }
        )

    def plot(self, ax: Any = None) -> Any:
        """Bar chart of the PSI per column with the threshold; drifted columns in red.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Where to draw; a new figure is made when omitted.

        Returns
        -------
        matplotlib.axes.Axes
        """
        frame = self.columns.assign(psi=self.columns["psi"].astype(float).fillna(0.0))
        frame = frame.sort_values("psi")
        ax = _new_axes(ax, (6.0, 0.3 * len(frame) + 1.2))
        colors = [_DRIFT_COLOR if d else _OK_COLOR for d in frame["drifted"]]
        labels = [
            f"{c} (prediction)" if r == "prediction" else c
            for c, r in zip(frame["column"], frame["role"], strict=True)
        ]
        ax.barh(labels, frame["psi"], color=colors)
        ax.axvline(self.psi_threshold, color="k", linestyle="--", linewidth=1)
        ax.set_xlabel(f"PSI (dashed: alert threshold {self.psi_threshold:g}; red: drifted)")
        ax.set_title(self.title)
        return ax

    def plot_distribution(self, column: str, ax: Any = None) -> Any:
        """Reference and current proportions per bin of one column, side by side.

        Parameters
        ----------
        column : str
            A monitored column.
        ax : matplotlib.axes.Axes, optional
            Where to draw; a new figure is made when omitted.

        Returns
        -------
        matplotlib.axes.Axes
        """
        frame = self.bins(column)
        ax = _new_axes(ax, (6.0, 3.0))
        x = np.arange(len(frame))
        ax.bar(x - 0.2, frame["reference"], width=0.4, label="reference", color="#999999")
        ax.bar(x + 0.2, frame["current"], width=0.4, label="current", color=_DRIFT_COLOR)
        ax.set_xticks(x, frame["bin"], rotation=45, ha="right", fontsize=8)
        ax.set_ylabel("share of rows")
        row = self.columns.set_index("column").loc[column]
        ax.set_title(f"{column}: PSI {float(row['psi']):.3f}, {row['test']} p={row['p_value']:.2g}")
        ax.legend()
        return ax


@dataclasses.dataclass(eq=False, repr=False)
class DriftTimeline(Result):
    """Drift of every column in a sequence of time windows against one reference.

    Attributes
    ----------
    windows : pandas.DataFrame
        One row per window: ``window_start``, ``window_end``, ``n_rows``, ``status`` ("checked",
        "too few rows" or "reference"), ``n_drifted``, ``max_psi``, ``drifted_columns`` (comma
        separated) and ``alert``.
    scores : pandas.DataFrame
        Long table: one row per checked window and column with ``window_start`` and the
        :data:`COLUMN_FIELDS` of that window's report.
    psi_threshold : float
        The alert threshold on the PSI.
    reference_start, reference_end : pandas.Timestamp or None
        Time range of the reference sample, when it came from windows.
    """

    windows: pd.DataFrame
    scores: pd.DataFrame
    psi_threshold: float
    reference_start: pd.Timestamp | None = None
    reference_end: pd.Timestamp | None = None
    _reports: list[DriftReport] = dataclasses.field(default_factory=list)

    @classmethod
    def with_reports(cls, reports: list[DriftReport], **fields: Any) -> DriftTimeline:
        """Build a timeline that keeps the report of every checked window.

        Parameters
        ----------
        reports : list of DriftReport
            One per checked window, in time order (served by :attr:`reports` and :meth:`report`).
        **fields
            The timeline's public fields (:attr:`windows`, :attr:`scores`, the threshold and the
            reference range).

        Returns
        -------
        DriftTimeline
        """
        return cls(**fields, _reports=list(reports))

    @property
    def reports(self) -> list[DriftReport]:
        """The :class:`DriftReport` of every checked window, in time order."""
        return list(self._reports)

    @property
    def alerts(self) -> pd.DataFrame:
        """The windows that raised an alert."""
        return self.windows[self.windows["alert"]].reset_index(drop=True)

    @property
    def first_alert(self) -> pd.Timestamp | None:
        """Start of the first window that raised an alert, or ``None``."""
        alerts = self.alerts
        return None if alerts.empty else alerts["window_start"].iloc[0]

    @property
    def title(self) -> str:
        """Heading of the notebook view."""
        return "Drift timeline"

    def report(self, window_start: Any = -1) -> DriftReport:
        """The report of one checked window.

        Parameters
        ----------
        window_start : int or timestamp-like, default=-1
            Position in :attr:`reports` (``-1`` is the latest) or the window's start time.

        Returns
        -------
        DriftReport
        """
        if not self._reports:
            raise InputError("No window was checked; every window had too few rows.")
        if isinstance(window_start, int | np.integer) and not isinstance(window_start, bool):
            n = len(self._reports)
            if not -n <= window_start < n:
                raise InputError(f"Window index {window_start} is out of range for {n} reports.")
            return self._reports[int(window_start)]
        ts = check_time(window_start, name="window_start")
        if ts is None:
            raise InputError("window_start is None; pass an index such as -1 or a date.")
        for rep in self._reports:
            if rep.window_start is not None and pd.Timestamp(rep.window_start) == ts:
                return rep
        starts = [_fmt_time(r.window_start) for r in self._reports]
        raise UnknownNameError("window", str(window_start), starts)

    def psi_matrix(self) -> pd.DataFrame:
        """PSI with one row per checked window and one column per monitored column."""
        if self.scores.empty:
            return pd.DataFrame()
        matrix = self.scores.pivot(index="window_start", columns="column", values="psi")
        return matrix[list(dict.fromkeys(self.scores["column"]))]

    def to_frame(self) -> pd.DataFrame:
        """One row per window (a copy of :attr:`windows`)."""
        return self.windows.copy()

    def summary(self) -> dict[str, Any]:
        """Windows checked, windows alerted and the first alert."""
        checked = int((self.windows["status"] == "checked").sum())
        return {
            "windows checked": checked,
            "alerts": int(self.windows["alert"].sum()),
            "first alert": _fmt_time(self.first_alert) if self.first_alert is not None else "none",
        }

    def plot(self, ax: Any = None, columns: list[str] | None = None, top: int = 6) -> Any:
        """PSI over time for the most drifting columns, with the threshold and alert windows.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Where to draw; a new figure is made when omitted.
        columns : list of str, optional
            Columns to draw; default: prediction columns plus the ``top`` features by peak PSI.
        top : int, default=6
            Number of feature columns drawn when ``columns`` is omitted.

        Returns
        -------
        matplotlib.axes.Axes
        """
        top = check_size(top, name="top", low=0, high=1000)
        matrix = self.psi_matrix()
        if columns is None:
            if matrix.empty:
                columns = []
            else:
                roles = self.scores.drop_duplicates("column").set_index("column")["role"]
                preds = [c for c in matrix.columns if roles[c] == "prediction"]
                peaks = matrix.drop(columns=preds).max().sort_values(ascending=False)
                columns = preds + peaks.index[:top].tolist()
        else:
            columns = column_names(columns, name="columns")
            unknown = [c for c in columns if c not in matrix.columns]
            if unknown:
                raise UnknownNameError("column", unknown[0], matrix.columns)
        ax = _new_axes(ax, (8.0, 3.5))
        predictions = set(self.scores.loc[self.scores["role"] == "prediction", "column"])
        # Each window's PSI is drawn at the middle of the window, inside its alert shading.
        spans = self.windows.set_index("window_start")["window_end"]
        starts = pd.DatetimeIndex(matrix.index)
        mids = starts + (pd.DatetimeIndex(spans.reindex(starts)) - starts) / 2
        for col in columns:
            style = "-o" if col in predictions else "-"
            ax.plot(mids, matrix[col].to_numpy(), style, label=col, markersize=3)
        ax.axhline(self.psi_threshold, color="k", linestyle="--", linewidth=1, label="threshold")
        for _, row in self.alerts.iterrows():
            ax.axvspan(row["window_start"], row["window_end"], color=_DRIFT_COLOR, alpha=0.12)
        ax.set_ylabel("PSI")
        ax.set_title("PSI per window (shaded: alert)")
        ax.legend(fontsize=7, loc="upper left")
        ax.figure.autofmt_xdate()
        return ax


def _fmt_time(value: Any) -> str:
    if value is None:
        return "none"
    ts = pd.Timestamp(value)
    if ts == ts.normalize():
        return ts.strftime("%Y-%m-%d")
    return ts.isoformat()
