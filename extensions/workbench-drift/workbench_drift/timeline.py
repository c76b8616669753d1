"""Comparing many time windows with the reference in parallel, and the timeline of their reports.

Windows are compared with joblib through :func:`workbench.core.parallel.parallel_map`, so
``joblib.parallel_config(backend="dask")`` or ``"ray"`` spreads them over a cluster unchanged. The
comparing object only needs a ``compare`` method and two options (:class:`WindowComparer`), which
keeps this module free of the monitor class itself.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import pandas as pd

from workbench.core.errors import InputError, InputTypeError
from workbench.core.parallel import parallel_map
from workbench_drift.checks import check_parallel
from workbench_drift.report import COLUMN_FIELDS, DriftReport, DriftTimeline
from workbench_drift.sources import Window

__all__ = ["WindowComparer", "check_windows", "compare_window", "timeline_of"]


class WindowComparer(Protocol):
    """What :func:`timeline_of` needs from a fitted monitor.

    Attributes
    ----------
    min_rows : int
        Fewest rows a window needs to be compared.
    psi_threshold : float
        The alert threshold on the PSI, recorded in the timeline.
    """

    min_rows: int
    psi_threshold: float

    def compare(
        self, current: Any, *, window_start: Any = None, window_end: Any = None
    ) -> DriftReport:
        """Compare one sample with the reference (see ``DriftMonitor.compare``)."""
        ...


def check_windows(windows: Any) -> Sequence[Window]:
    """Check a non-empty list of :class:`~workbench_drift.sources.Window` objects.

    Parameters
    ----------
    windows : list of Window

    Returns
    -------
    list of Window
        ``windows`` itself.

    Raises
    ------
    InputTypeError
        If it is not a list, or holds something else than windows.
    InputError
        If it is empty.
    """
    if isinstance(windows, Window) or not isinstance(windows, Sequence):
        raise InputTypeError("windows must be a list of Window objects (see read_windows).")
    if not windows:
        raise InputError("windows is empty; pass at least one Window.")
    bad = [type(w).__name__ for w in windows if not isinstance(w, Window)]
    if bad:
        raise InputTypeError(f"windows must hold Window objects, found {bad[0]}.")
    return windows


def compare_window(monitor: WindowComparer, window: Window) -> DriftReport:
    """Compare one window's rows with the reference, recording the window's time range.

    Parameters
    ----------
    monitor : WindowComparer
        A fitted monitor.
    window : Window

    Returns
    -------
    DriftReport
    """
    return monitor.compare(window.data, window_start=window.start, window_end=window.end)


def timeline_of(
    monitor: WindowComparer,
    windows: Sequence[Window],
    *,
    n_jobs: int | None,
    show_progress: bool | None,
    reference: Sequence[Window] = (),
) -> DriftTimeline:
    """Compare every window with at least ``monitor.min_rows`` rows, in parallel.

    Parameters
    ----------
    monitor : WindowComparer
        A fitted monitor (picklable, for process-based joblib backends).
    windows : list of Window
        Checked windows, in time order (see :func:`check_windows`).
    n_jobs : int, optional
        Parallel workers; never more than the windows to compare.
    show_progress : bool, optional
        Force the progress bar on or off.
    reference : list of Window, default=()
        Windows that formed the reference sample, listed first with status "reference".

    Returns
    -------
    DriftTimeline
        Windows with too few rows are listed with status "too few rows" and never alert.
    """
    checked = [w for w in windows if w.n_rows >= monitor.min_rows]
    n_jobs, show_progress = check_parallel(n_jobs, show_progress, n_items=len(checked))
    reports = parallel_map(
        functools.partial(compare_window, monitor),
        checked,
        n_jobs=n_jobs,
        desc="drift windows",
        show_progress=show_progress,
    )
    ready = dict(zip(map(id, checked), reports, strict=True))
    rows = [_window_row(w, "reference", None) for w in reference]
    for w in windows:
        rep = ready.get(id(w))
        rows.append(_window_row(w, "checked" if rep else "too few rows", rep))
    ordered = [ready[id(w)] for w in windows if id(w) in ready]
    scores = (
        pd.concat(
            [r.columns.assign(window_start=r.window_start) for r in ordered], ignore_index=True
        )
        if ordered
        else pd.DataFrame(columns=["window_start", *COLUMN_FIELDS])
    )
    return DriftTimeline.with_reports(
        ordered,
        windows=pd.DataFrame(rows),
        scores=scores[["window_start", *COLUMN_FIELDS]],
        psi_threshold=float(monitor.psi_threshold),
        reference_start=reference[0].start if reference else None,
        reference_end=reference[-1].end if reference else None,
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
