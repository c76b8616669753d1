"""Boundary checks of the drift tool: what its public functions accept, and clear refusals.

The shared checks (numbers, sizes, seeds, dates, paths, estimators) live in :mod:`workbench.core`;
this module holds what only the drift tool needs on top of them: its bounds (bins, ``eps``), its
inputs (column names, dates, model outputs, parallel options) and opening a DuckDB file safely.
Every helper returns the cleaned value or raises a :class:`~workbench.core.errors.WorkbenchError`
subclass.
"""

from __future__ import annotations

import contextlib
import numbers
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from workbench.core.errors import (
    InputError,
    InputTypeError,
    IntegrityError,
    ModelError,
    ResourceNotFoundError,
)
from workbench.core.params import check_flag, check_number, check_size, check_timestamp
from workbench.core.paths import check_write_path
from workbench.core.validation import check_choice, check_estimator, check_fitted, check_n_jobs

__all__ = [
    "MAX_BINS",
    "MIN_EPS",
    "as_frame",
    "check_bins",
    "check_column",
    "check_eps",
    "check_model",
    "check_option",
    "check_parallel",
    "check_predictions",
    "check_time",
    "column_names",
    "duckdb_errors",
    "open_duckdb",
]

MAX_BINS = 1000
"""Most quantile bins a numeric column may get (more only measures sampling noise)."""

MIN_EPS = 1e-12
"""Smallest PSI floor ``eps``: below it ``ln(c / eps)`` stops meaning anything and overflows."""

_DUCKDB_MAGIC = b"DUCK"  # bytes 8-11 of every DuckDB database file


def check_bins(bins: Any) -> int:
    """Check a number of quantile bins: an integer in ``[2, MAX_BINS]``."""
    return check_size(
        bins, name="bins", low=2, high=MAX_BINS, hint="10 is the usual choice for the PSI."
    )


def check_eps(eps: Any) -> float:
    """Check the PSI floor for empty bins: a number in ``[MIN_EPS, 0.5)``."""
    return check_number(
        eps, name="eps", low=MIN_EPS, high=0.5, high_open=True, hint="1e-4 is the usual choice."
    )


def check_option(value: Any, choices: Iterable[str], *, kind: str) -> str:
    """Check a named option (a string among ``choices``), suggesting the closest one."""
    if not isinstance(value, str):
        raise InputTypeError(f"{kind} must be one of {sorted(choices)}, got {value!r}.")
    return check_choice(value, choices, kind=kind)


def check_parallel(
    n_jobs: Any, show_progress: Any, *, n_items: int | None = None
) -> tuple[int | None, bool | None]:
    """Check ``n_jobs`` and ``show_progress``; never ask for more workers than work items.

    Starting a process per requested worker costs seconds each, so ``n_jobs=123`` over three
    windows runs three workers.
    """
    n_jobs = check_n_jobs(n_jobs)
    show_progress = check_flag(show_progress, name="show_progress", optional=True)
    if n_jobs is not None and n_items is not None and n_jobs > 1:
        n_jobs = max(1, min(n_jobs, n_items))
    return n_jobs, show_progress


def check_time(value: Any, *, name: str) -> pd.Timestamp | None:
    """Check an optional date or time; ``None`` passes, time zones are dropped (local time).

    Numbers are refused (pandas would read ``123`` as nanoseconds after 1970), so are text that
    is no date, ``NaT`` and times outside pandas' range (years 1677 to 2262).
    """
    if value is None:
        return None
    ts = check_timestamp(value, name=name)
    return ts.tz_convert(None) if ts.tzinfo is not None else ts


def check_column(column: Any, *, name: str = "column") -> str:
    """Check a single column name (a string)."""
    if not isinstance(column, str):
        raise InputTypeError(f"{name} must be a column name (a string), got {column!r}.")
    return column


def column_names(value: Any, *, name: str) -> list[str]:
    """Check an optional list of column names; duplicates are dropped, order is kept.

    Parameters
    ----------
    value : None or sequence of str
    name : str
        Argument name used in the message.

    Returns
    -------
    list of str
        Empty for ``None``.
    """
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, Sequence | pd.Index | np.ndarray):
        raise InputTypeError(f"{name} must be a list of column names, got {value!r}.")
    bad = [v for v in value if not isinstance(v, str | numbers.Number) or isinstance(v, bool)]
    if bad:
        raise InputTypeError(f"{name} must hold column names (strings), found {bad[0]!r}.")
    return list(dict.fromkeys(str(v) for v in value))


def as_frame(data: Any, name: str) -> pd.DataFrame:
    """A non-empty DataFrame with unique string column names from a DataFrame or 2-D array."""
    if isinstance(data, pd.DataFrame):
        frame = data
    elif isinstance(data, np.ndarray):
        if data.ndim != 2:
            raise InputError(f"{name} must be 2-dimensional, got shape {data.shape}.")
        frame = pd.DataFrame(data, columns=[f"x{i}" for i in range(data.shape[1])])
    else:
        raise InputTypeError(
            f"{name} must be a pandas DataFrame (or a 2-D numpy array), got {type(data).__name__}."
        )
    if frame.empty:
        raise InputError(f"{name} is empty; it needs rows and columns.")
    if isinstance(frame.columns, pd.MultiIndex):
        raise InputError(
            f"{name} has multi-level column names; flatten them first, e.g. "
            "frame.columns = ['_'.join(map(str, c)) for c in frame.columns]."
        )
    if not all(isinstance(c, str) for c in frame.columns):
        frame = frame.rename(columns=str)
    if frame.columns.duplicated().any():
        dup = frame.columns[frame.columns.duplicated()].tolist()
        raise InputError(f"{name} has duplicated column names {dup}; rename them.")
    return frame


def check_predictions(values: Any, n_rows: int, *, model: Any, sample: str) -> np.ndarray:
    """Check what a model's ``predict``/``predict_proba`` gave: one value per row."""
    arr = np.asarray(values)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr.ravel()
    if arr.ndim != 1 or arr.shape[0] != n_rows:
        raise ModelError(
            f"model ({type(model).__name__}) returned predictions of shape {arr.shape} for the "
            f"{n_rows} rows of {sample}; the drift monitor needs one value per row. Wrap the "
            "model so that predict returns a 1-D array."
        )
    return arr


def _database_path(path: Any, name: str) -> Path:
    if isinstance(path, bytes) or not isinstance(path, str | os.PathLike):
        raise InputTypeError(
            f"{name} must be a duckdb connection or the path of a DuckDB file, got "
            f"{type(path).__name__}."
        )
    text = os.fspath(path)
    if not text.strip():
        raise InputError(f"{name} is empty; pass the path of a DuckDB file.")
    if "\x00" in text:
        raise InputError(f"{name} contains a NUL byte; pass a normal file path.")
    return Path(text).expanduser()


def _check_duckdb_file(path: Path, name: str) -> None:
    """Refuse an existing file that is not a DuckDB database (before DuckDB guesses its format)."""
    if path.is_dir():
        raise InputError(f"{name} {str(path)!r} is a folder; pass a DuckDB file inside it.")
    try:
        with open(path, "rb") as fh:
            head = fh.read(12)
    except OSError as exc:
        raise InputError(f"{name} {str(path)!r} cannot be read: {exc.strerror}.") from None
    if head[8:12] != _DUCKDB_MAGIC:
        raise IntegrityError(
            f"{name} {str(path)!r} is not a DuckDB database file (its header lacks DuckDB's "
            "signature); pass a file written by DuckDB, or another path."
        )


def open_duckdb(path: Any, *, read_only: bool, name: str = "source") -> duckdb.DuckDBPyConnection:
    """Open a DuckDB database file, or refuse it with a message naming the file.

    Parameters
    ----------
    path : str or os.PathLike
        The database file; with ``read_only=False`` it may not exist yet, and ``":memory:"``
        opens an in-memory database.
    read_only : bool
        Open an existing file without writing to it.
    name : str, default="source"
        Argument name used in messages.

    Returns
    -------
    duckdb.DuckDBPyConnection

    Raises
    ------
    InputTypeError
        If ``path`` is not a path.
    ResourceNotFoundError
        If a file to read, or the folder of a file to write, does not exist.
    InputError
        If it is a folder, or DuckDB cannot open it (in use by another process, no permission).
    IntegrityError
        If it exists but is not a DuckDB database file.
    """
    if isinstance(path, str) and path == ":memory:" and not read_only:
        return duckdb.connect(":memory:")
    p = _database_path(path, name)
    if read_only:
        if not p.exists():
            raise ResourceNotFoundError(
                f"DuckDB file {str(p)!r} does not exist; check the path or pass a connection."
            )
        _check_duckdb_file(p, name)
    else:
        check_write_path(p, name=name)
        if p.exists():
            _check_duckdb_file(p, name)
    try:
        return duckdb.connect(str(p), read_only=read_only)
    except duckdb.Error as exc:
        if "different configuration" in str(exc):
            hint = "it is already open in this process: pass that connection instead of the path."
        elif "lock" in str(exc).lower():
            hint = "another process holds it open for writing; close it there or copy the file."
        else:
            hint = "check the file and its permissions."
        raise InputError(f"DuckDB could not open {name} {str(p)!r} ({exc}); {hint}") from None


@contextlib.contextmanager
def duckdb_errors(what: str) -> Iterator[None]:
    """Turn a DuckDB error raised inside the block into an :class:`InputError` naming ``what``."""
    try:
        yield
    except duckdb.ConnectionException as exc:
        raise InputError(
            f"The DuckDB connection for {what} cannot be used ({exc}); open a new connection."
        ) from None
    except duckdb.Error as exc:
        raise InputError(f"DuckDB failed while reading {what}: {exc}") from None


def check_model(model: Any) -> Any:
    """Check a deployed model: a fitted scikit-learn style estimator with ``predict``.

    A duck-typed model that scikit-learn cannot inspect (no ``sklearn.base.BaseEstimator``) is
    accepted when it has ``fit`` and ``predict``: whether it is fitted shows when it predicts.

    Parameters
    ----------
    model : estimator

    Returns
    -------
    estimator
        ``model`` itself.

    Raises
    ------
    InputTypeError
        If it is no estimator instance or has no ``predict``.
    NotFittedError
        If it is a scikit-learn estimator that is not fitted.
    """
    check_estimator(model, methods=("predict",), name="model")
    # core's check_fitted refuses models scikit-learn cannot inspect; the drift monitor only
    # needs predict, so it lets them through (a failing predict becomes a ModelError).
    with contextlib.suppress(InputTypeError):
        check_fitted(model, name="model")
    return model
