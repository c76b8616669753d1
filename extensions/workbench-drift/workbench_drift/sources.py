"""Reading monitored data from DuckDB: whole tables, time ranges and windows over a time column.

A deployed model usually logs its inputs and outputs with a timestamp; these functions cut that
log into windows (``time_bucket`` in SQL, so the database does the grouping) that
:class:`~workbench_drift.monitor.DriftMonitor` compares with a reference.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from workbench.core.errors import (
    InputError,
    InputTypeError,
    ResourceNotFoundError,
    UnknownNameError,
)

__all__ = ["Window", "read_table", "read_windows", "table_columns"]

_WINDOW = "__workbench_window"


@dataclasses.dataclass(frozen=True, eq=False)
class Window:
    """One time window of a monitored table.

    Attributes
    ----------
    start : pandas.Timestamp
        Inclusive start.
    end : pandas.Timestamp
        Exclusive end.
    data : pandas.DataFrame
        The rows whose time falls in ``[start, end)`` (may be empty).
    """

    start: pd.Timestamp
    end: pd.Timestamp
    data: pd.DataFrame

    @property
    def n_rows(self) -> int:
        """Number of rows in the window."""
        return len(self.data)

    def __repr__(self) -> str:
        return f"Window(start={self.start}, end={self.end}, n_rows={self.n_rows})"


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


@contextlib.contextmanager
def _connection(source: Any) -> Iterator[duckdb.DuckDBPyConnection]:
    """Yield a connection for ``source``; a path is opened read-only and closed afterwards."""
    if isinstance(source, duckdb.DuckDBPyConnection):
        yield source
        return
    if not isinstance(source, str | os.PathLike):
        raise InputTypeError(
            f"source must be a duckdb connection or the path of a DuckDB file, got "
            f"{type(source).__name__}."
        )
    path = Path(source).expanduser()
    if not path.is_file():
        raise ResourceNotFoundError(
            f"DuckDB file {str(path)!r} does not exist; check the path or pass a connection."
        )
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise InputError(f"{str(path)!r} could not be opened as a DuckDB database: {exc}") from None
    try:
        yield con
    finally:
        con.close()


def _split_table(table: Any) -> tuple[str | None, str]:
    if not isinstance(table, str) or not table.strip():
        raise InputTypeError(f"table must be a non-empty string, got {table!r}.")
    schema, dot, name = table.partition(".")
    return (schema, name) if dot else (None, table)


def table_columns(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    """Column names and SQL types of a table or view.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
    table : str
        ``"name"`` or ``"schema.name"``.

    Returns
    -------
    dict of str to str
        Column name → DuckDB type name, in table order.

    Raises
    ------
    UnknownNameError
        If no such table or view exists; the message lists the ones that do.
    """
    schema, name = _split_table(table)
    schema = schema or con.execute("SELECT current_schema()").fetchall()[0][0]
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ? AND table_catalog = current_database() "
        "ORDER BY ordinal_position",
        [schema, name],
    ).fetchall()
    if not rows:
        have = con.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_catalog = current_database() AND table_schema = ?",
            [schema],
        ).fetchall()
        raise UnknownNameError("table", table, [r[0] for r in have])
    return {str(c): str(t) for c, t in rows}


def _is_temporal(sql_type: str) -> bool:
    return sql_type.upper().startswith(("TIMESTAMP", "DATE"))


def _check_time_column(types: dict[str, str], time_column: Any, table: str) -> str:
    if not isinstance(time_column, str):
        raise InputTypeError(f"time_column must be a column name, got {time_column!r}.")
    if time_column not in types:
        raise UnknownNameError("column", time_column, types)
    if not _is_temporal(types[time_column]):
        temporal = [c for c, t in types.items() if _is_temporal(t)]
        hint = f" Temporal columns of {table}: {temporal}." if temporal else ""
        raise InputTypeError(
            f"time_column {time_column!r} has type {types[time_column]}, not DATE or TIMESTAMP; "
            f"cast it in a view first.{hint}"
        )
    return time_column


def _select_list(types: dict[str, str], columns: Sequence[str] | None) -> list[str]:
    if columns is None:
        return list(types)
    if isinstance(columns, str) or not isinstance(columns, Sequence):
        raise InputTypeError(f"columns must be a list of column names, got {columns!r}.")
    if not columns:
        raise InputError("columns is empty; name at least one column or pass None for all.")
    for c in columns:
        if c not in types:
            raise UnknownNameError("column", c, types)
    return list(dict.fromkeys(columns))


def _time_bound(value: Any, name: str) -> pd.Timestamp | None:
    if value is None:
        return None
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a date or timestamp, got {value!r}.") from None
    if ts is pd.NaT:
        raise InputError(f"{name} must be a date or timestamp, got {value!r}.")
    return ts.tz_convert(None) if ts.tzinfo is not None else ts


def _where(time_column: str, start: Any, end: Any) -> tuple[str, list[Any]]:
    lo = _time_bound(start, "start")
    hi = _time_bound(end, "end")
    if lo is not None and hi is not None and lo >= hi:
        raise InputError(f"start ({lo}) must come before end ({hi}).")
    col = f"CAST({_quote(time_column)} AS TIMESTAMP)"
    parts = [f"{_quote(time_column)} IS NOT NULL"]
    params: list[Any] = []
    if lo is not None:
        parts.append(f"{col} >= ?")
        params.append(lo.to_pydatetime())
    if hi is not None:
        parts.append(f"{col} < ?")
        params.append(hi.to_pydatetime())
    return " AND ".join(parts), params


def read_table(
    source: Any,
    table: str,
    *,
    columns: Sequence[str] | None = None,
    time_column: str | None = None,
    start: Any = None,
    end: Any = None,
) -> pd.DataFrame:
    """Read a table (optionally a time range of it) from DuckDB into pandas.

    Parameters
    ----------
    source : duckdb.DuckDBPyConnection or path-like
        An open connection, or a DuckDB file (opened read-only).
    table : str
        Table or view name, optionally ``"schema.name"``.
    columns : list of str, optional
        Columns to read; all by default.
    time_column : str, optional
        DATE or TIMESTAMP column that ``start``/``end`` filter on; rows are ordered by it.
    start, end : timestamp-like, optional
        Keep rows with ``start <= time < end``; needs ``time_column``.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    ResourceNotFoundError
        If ``source`` names a missing file.
    UnknownNameError
        If the table or a column does not exist.
    InputTypeError
        If the time column is not temporal or an argument has the wrong type.
    InputError
        If ``start``/``end`` are given without ``time_column`` or are not ordered.
    """
    with _connection(source) as con:
        types = table_columns(con, table)
        select = _select_list(types, columns)
        sql = f"SELECT {', '.join(map(_quote, select))} FROM {_qualified(table)}"
        params: list[Any] = []
        if time_column is not None:
            _check_time_column(types, time_column, table)
            where, params = _where(time_column, start, end)
            sql += f" WHERE {where} ORDER BY {_quote(time_column)}"
        elif start is not None or end is not None:
            raise InputError("start and end need time_column; name the table's time column.")
        return con.execute(sql, params).df()


def _qualified(table: str) -> str:
    schema, name = _split_table(table)
    return f"{_quote(schema)}.{_quote(name)}" if schema else _quote(name)


def _check_every(con: duckdb.DuckDBPyConnection, every: Any) -> str:
    if not isinstance(every, str):
        raise InputTypeError(f"every must be an interval string such as '1 week', got {every!r}.")
    try:
        seconds = con.execute("SELECT epoch(CAST(? AS INTERVAL))", [every]).fetchall()[0][0]
    except duckdb.Error:
        raise InputError(
            f"every={every!r} is not a DuckDB interval; write e.g. '1 day', '7 days', '1 month'."
        ) from None
    if seconds is None or seconds <= 0:
        raise InputError(f"every={every!r} must be a positive interval.")
    return every


def read_windows(
    source: Any,
    table: str,
    *,
    time_column: str,
    every: str = "1 week",
    columns: Sequence[str] | None = None,
    start: Any = None,
    end: Any = None,
    include_empty: bool = True,
) -> list[Window]:
    """Cut a table into consecutive time windows with DuckDB's ``time_bucket``.

    Weekly windows start on Mondays, daily ones at midnight, monthly ones on the first (DuckDB's
    default bucket origins). Time zones are dropped: times are compared as local timestamps.

    Parameters
    ----------
    source : duckdb.DuckDBPyConnection or path-like
        An open connection, or a DuckDB file (opened read-only).
    table : str
        Table or view name, optionally ``"schema.name"``.
    time_column : str
        DATE or TIMESTAMP column that defines the windows.
    every : str, default="1 week"
        Window length as a DuckDB interval ("1 day", "7 days", "1 month", "6 hours").
    columns : list of str, optional
        Columns to read (the time column is always added); all by default.
    start, end : timestamp-like, optional
        Only rows with ``start <= time < end``.
    include_empty : bool, default=True
        Keep windows without rows between the first and last non-empty window (a gap in the log
        is worth seeing).

    Returns
    -------
    list of Window
        In time order.

    Raises
    ------
    ResourceNotFoundError, UnknownNameError, InputTypeError
        As for :func:`read_table`.
    InputError
        If ``every`` is not a positive interval or no row falls in the range.
    """
    with _connection(source) as con:
        types = table_columns(con, table)
        _check_time_column(types, time_column, table)
        every = _check_every(con, every)
        select = _select_list(types, columns)
        if time_column not in select:
            select.append(time_column)
        where, params = _where(time_column, start, end)
        bucket = f"time_bucket(CAST(? AS INTERVAL), CAST({_quote(time_column)} AS TIMESTAMP))"
        sql = (
            f"SELECT {bucket} AS {_quote(_WINDOW)}, {', '.join(map(_quote, select))} "
            f"FROM {_qualified(table)} WHERE {where} ORDER BY {_quote(time_column)}"
        )
        frame = con.execute(sql, [every, *params]).df()
        if frame.empty:
            raise InputError(
                f"Table {table!r} has no rows with a {time_column!r} in the range asked for "
                f"(start={start}, end={end})."
            )
        first, last = frame[_WINDOW].min(), frame[_WINDOW].max()
        grid = con.execute(
            "SELECT range AS s, range + CAST(? AS INTERVAL) AS e FROM "
            "range(CAST(? AS TIMESTAMP), CAST(? AS TIMESTAMP) + CAST(? AS INTERVAL), "
            "CAST(? AS INTERVAL))",
            [every, first.to_pydatetime(), last.to_pydatetime(), every, every],
        ).fetchall()
    groups = {pd.Timestamp(k): g for k, g in frame.groupby(_WINDOW, sort=True)}
    empty = frame.iloc[:0].drop(columns=_WINDOW)
    windows = []
    for s, e in grid:
        key = pd.Timestamp(s)
        if key in groups:
            data = groups[key].drop(columns=_WINDOW).reset_index(drop=True)
        elif include_empty:
            data = empty.copy()
        else:
            continue
        windows.append(Window(start=key, end=pd.Timestamp(e), data=data))
    return windows
