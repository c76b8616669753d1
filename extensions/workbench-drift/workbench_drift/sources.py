"""Reading monitored data from DuckDB: whole tables, time ranges and windows over a time column.

A deployed model usually logs its inputs and outputs with a timestamp; these functions cut that
log into windows (``time_bucket`` in SQL, so the database does the grouping) that
:class:`~workbench_drift.monitor.DriftMonitor` compares with a reference.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator, Sequence
from typing import Any

import duckdb
import pandas as pd

from workbench.core.errors import InputError, InputTypeError, UnknownNameError
from workbench.core.params import check_flag
from workbench_drift.checks import (
    check_time,
    column_names,
    duckdb_errors,
    open_duckdb,
)

__all__ = ["MAX_WINDOWS", "Window", "read_table", "read_windows", "table_columns"]

MAX_WINDOWS = 10_000
"""Most windows :func:`read_windows` cuts a table into (empty ones included when kept).

Each window becomes a DataFrame and a drift report; beyond this a typo such as ``every='1 second'``
would hang the kernel or exhaust memory, so it is refused with a coarser ``every`` to use instead.
"""

_MAX_EVERY_SECONDS = 200 * 365.25 * 86400  # longer windows overflow DuckDB's time_bucket
_DAY = 86400.0
_COARSER = {  # suggestions for a coarser `every`, with their length in seconds
    "1 minute": 60.0,
    "1 hour": 3600.0,
    "1 day": _DAY,
    "1 week": 7 * _DAY,
    "1 month": 30 * _DAY,
    "1 year": 365.25 * _DAY,
}
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

    def __post_init__(self) -> None:
        start = check_time(self.start, name="Window start")
        end = check_time(self.end, name="Window end")
        if start is None or end is None:
            raise InputTypeError("A Window needs a start and an end date, got None.")
        if end <= start:
            raise InputError(f"Window end ({end}) must come after its start ({start}).")
        if not isinstance(self.data, pd.DataFrame):
            raise InputTypeError(
                f"Window data must be a pandas DataFrame, got {type(self.data).__name__}."
            )
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)

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
    con = open_duckdb(source, read_only=True, name="source")
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
    names = column_names(columns, name="columns")
    if not names:
        raise InputError("columns is empty; name at least one column or pass None for all.")
    for c in names:
        if c not in types:
            raise UnknownNameError("column", c, types)
    return names


def _where(time_column: str, start: Any, end: Any) -> tuple[str, list[Any]]:
    lo = check_time(start, name="start")
    hi = check_time(end, name="end")
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
    IntegrityError
        If ``source`` names a file that is not a DuckDB database.
    UnknownNameError
        If the table or a column does not exist.
    InputTypeError
        If the time column is not temporal or an argument has the wrong type.
    InputError
        If ``start``/``end`` are given without ``time_column`` or are not ordered.
    """
    with _connection(source) as con, duckdb_errors(f"table {table!r}"):
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


def _check_every(con: duckdb.DuckDBPyConnection, every: Any) -> tuple[str, float]:
    """Check a window length; return it with its length in seconds (a month counts 30 days)."""
    if not isinstance(every, str):
        raise InputTypeError(f"every must be an interval string such as '1 week', got {every!r}.")
    try:
        seconds = con.execute("SELECT epoch(CAST(? AS INTERVAL))", [every]).fetchall()[0][0]
    except duckdb.Error:
        raise InputError(
            f"every={every!r} is not a DuckDB interval; write e.g. '1 day', '7 days', '1 month'."
        ) from None
    if seconds is None or seconds <= 0:
        raise InputError(f"every={every!r} must be a positive interval such as '1 day'.")
    if seconds > _MAX_EVERY_SECONDS:
        raise InputError(f"every={every!r} is longer than 200 years; use e.g. '1 year'.")
    try:
        con.execute("SELECT time_bucket(CAST(? AS INTERVAL), TIMESTAMP '2000-01-01')", [every])
    except duckdb.Error as exc:
        raise InputError(
            f"every={every!r} cannot cut time into windows ({exc}); use months/years alone or "
            "days/hours/minutes alone, e.g. '1 month' or '30 days'."
        ) from None
    return every, float(seconds)


def _check_window_count(n: int, every: str, seconds: float, span: tuple[Any, Any]) -> None:
    if n <= MAX_WINDOWS:
        return
    total = (pd.Timestamp(span[1]) - pd.Timestamp(span[0])).total_seconds() + seconds
    coarser = [c for c, length in _COARSER.items() if length * MAX_WINDOWS >= total]
    hint = f" such as every={coarser[0]!r}" if coarser else ", or read a shorter range (start/end)"
    raise InputError(
        f"every={every!r} would cut the rows from {span[0]} to {span[1]} into about {n:,} "
        f"windows; at most MAX_WINDOWS={MAX_WINDOWS:,} are supported. Use a coarser every{hint}."
    )


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
        Window length as a DuckDB interval ("1 day", "7 days", "1 month", "6 hours"). At most
        :data:`MAX_WINDOWS` windows may result.
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
        If ``every`` is not a positive interval, would give more than :data:`MAX_WINDOWS`
        windows (the message suggests a coarser one), no row falls in the range, or DuckDB fails
        to read the table.
    IntegrityError
        If ``source`` names a file that is not a DuckDB database.
    """
    include_empty = check_flag(include_empty, name="include_empty")
    with _connection(source) as con, duckdb_errors(f"table {table!r}"):
        types = table_columns(con, table)
        _check_time_column(types, time_column, table)
        every, seconds = _check_every(con, every)
        select = _select_list(types, columns)
        if time_column not in select:
            select.append(time_column)
        where, params = _where(time_column, start, end)
        bucket = f"time_bucket(CAST(? AS INTERVAL), CAST({_quote(time_column)} AS TIMESTAMP))"
        source_sql = f"FROM {_qualified(table)} WHERE {where}"
        # Count the windows before reading any row: a too fine `every` is refused at once.
        first, last, n_full = con.execute(
            f"SELECT min(b), max(b), count(DISTINCT b) FROM (SELECT {bucket} AS b {source_sql})",
            [every, *params],
        ).fetchall()[0]
        if first is None:
            raise InputError(
                f"Table {table!r} has no rows with a {time_column!r} in the range asked for "
                f"(start={start}, end={end})."
            )
        span = (first, last)
        if include_empty:
            n = int((pd.Timestamp(last) - pd.Timestamp(first)).total_seconds() // seconds) + 1
            _check_window_count(n, every, seconds, span)
            grid = con.execute(
                "SELECT range AS s, range + CAST(? AS INTERVAL) AS e FROM "
                "range(CAST(? AS TIMESTAMP), CAST(? AS TIMESTAMP) + CAST(? AS INTERVAL), "
                "CAST(? AS INTERVAL))",
                [every, first, last, every, every],
            ).fetchall()
            _check_window_count(len(grid), every, seconds, span)  # months are not 30 days
        else:
            _check_window_count(int(n_full), every, seconds, span)
            grid = con.execute(
                f"SELECT DISTINCT b AS s, b + CAST(? AS INTERVAL) AS e "
                f"FROM (SELECT {bucket} AS b {source_sql}) ORDER BY s",
                [every, every, *params],
            ).fetchall()
        frame = con.execute(
            f"SELECT {bucket} AS {_quote(_WINDOW)}, {', '.join(map(_quote, select))} "
            f"{source_sql} ORDER BY {_quote(time_column)}",
            [every, *params],
        ).df()
    groups = {pd.Timestamp(k): g for k, g in frame.groupby(_WINDOW, sort=True)}
    empty = frame.iloc[:0].drop(columns=_WINDOW)
    windows = []
    for s, e in grid:
        key = pd.Timestamp(s)
        if key in groups:
            data = groups[key].drop(columns=_WINDOW).reset_index(drop=True)
        else:
            data = empty.copy()
        windows.append(Window(start=key, end=pd.Timestamp(e), data=data))
    return windows
