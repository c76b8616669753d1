"""Opening the DuckDB database of a model store: writers, readers, locks and damaged files.

DuckDB lets one process open a file for writing, or any number of processes open it read-only
while none writes; the lock is taken when the file is opened. Its own errors for a held lock, a
damaged block or a truncated file are turned here into workbench errors that name the file, the
process holding the lock where DuckDB says so, and what can still be recovered.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from workbench.core.errors import (
    InputError,
    InputTypeError,
    IntegrityError,
    ResourceNotFoundError,
    WorkbenchError,
)

__all__ = [
    "StoreLockedError",
    "damaged_file_error",
    "database_path",
    "ensure_tables",
    "is_damage",
    "is_read_only",
    "open_database",
    "track_open",
]

_DAMAGE = re.compile(
    r"Corrupt database file|Could not read enough bytes|checksum|not a valid DuckDB database"
    r"|Serialization Error|INTERNAL Error|Failed to read|truncated",
    re.IGNORECASE,
)
_LOCK = re.compile(r"Conflicting lock is held in (.*?) \(PID (\d+)\)")


class StoreLockedError(InputError):
    """Another process holds the DuckDB file: it is open for writing there, or read-only there
    while this process asked to write."""


def is_damage(exc: BaseException) -> bool:
    """Whether a DuckDB error says the file itself is damaged (checksum, short read, header).

    Parameters
    ----------
    exc : Exception

    Returns
    -------
    bool
    """
    return bool(_DAMAGE.search(str(exc)))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def damaged_file_error(
    path: str, exc: BaseException, readable: list[str] | None, *, opened: bool = True
) -> IntegrityError:
    """The error for a database file DuckDB cannot read back.

    Parameters
    ----------
    path : str
        The file.
    exc : Exception
        DuckDB's error.
    readable : list of str or None
        ``"name v<k>"`` of the models whose metadata could still be read, or None when not even
        that could be read.
    opened : bool, default=True
        Whether DuckDB opened the file at all.

    Returns
    -------
    IntegrityError
    """
    if not opened:
        what = "DuckDB cannot open it, so none of its tables or models can be read from it"
    elif readable is None:
        what = (
            "DuckDB cannot read its model table, so no model can be recovered from it through "
            "DuckDB"
        )
    elif readable:
        what = (
            f"the model list is still readable ({', '.join(readable)}) but their ONNX bytes "
            "are not, so none of them can be loaded; re-register these models from their "
            "training code"
        )
    else:
        what = "it holds no readable models"
    return IntegrityError(
        f"The DuckDB file {path!r} is damaged ({_first_line(exc)}): {what}. Restore a backup "
        "copy of the file; other tables in it may still be readable with "
        "duckdb.connect(path, read_only=True)."
    )


def _open_error(path: str, exc: BaseException, read_only: bool) -> WorkbenchError:
    msg = str(exc)
    lock = _LOCK.search(msg)
    if lock or "Could not set lock" in msg:
        holder = f"{lock.group(1)} (PID {lock.group(2)})" if lock else "another process"
        mode = "read it" if read_only else "write to it"
        return StoreLockedError(
            f"Cannot {mode}: {path!r} is locked by {holder}. DuckDB allows one process that "
            "writes, or any number of readers while none writes. Close the store in that "
            "process (store.close()), or, to only read, open every process with "
            "indb.connect(path, read_only=True)."
        )
    if "different configuration" in msg:
        return InputError(
            f"This process already has {path!r} open with another read_only setting; use that "
            "store (indb.get_store()) or close it before opening the file again."
        )
    if is_damage(exc):
        return damaged_file_error(path, exc, None, opened=False)
    return InputError(f"Cannot open DuckDB database {path!r}: {_first_line(exc)}")


def open_database(database: Any, *, read_only: bool = False) -> Any:
    """Open a DuckDB file (or ``":memory:"``) with clear errors.

    Parameters
    ----------
    database : str or os.PathLike
        A database file (created if missing, unless ``read_only``) or ``":memory:"``.
    read_only : bool, default=False
        Open as a reader: no writes, and other reader processes may open the file at once.

    Returns
    -------
    duckdb.DuckDBPyConnection

    Raises
    ------
    InputTypeError
        If ``database`` is not a path.
    InputError
        For ``":memory:"`` with ``read_only``, a folder, or an unreadable file.
    ResourceNotFoundError
        If ``read_only`` and the file does not exist.
    StoreLockedError
        If another process holds the file.
    IntegrityError
        If the file is not a DuckDB database or is damaged.
    """
    import duckdb

    if isinstance(database, bytes) or not isinstance(database, str | os.PathLike):
        raise InputTypeError(
            "database must be a file path, ':memory:' or a duckdb connection, got "
            f"{type(database).__name__}."
        )
    text = os.fspath(database)
    if not str(text).strip() or "\x00" in str(text):
        raise InputError("database is empty or holds a NUL byte; pass a file path or ':memory:'.")
    if text == ":memory:":
        if read_only:
            raise InputError(
                "An in-memory database cannot be opened read-only (there is nothing to read); "
                "pass the path of a database file."
            )
        return duckdb.connect(":memory:")
    path = Path(text).expanduser()
    if path.is_dir():
        raise InputError(f"{str(path)!r} is a folder; pass a database file inside it.")
    if read_only and not path.exists():
        raise ResourceNotFoundError(
            f"{str(path)!r} does not exist, so it cannot be opened read-only; check the path "
            "or create it with a writer (read_only=False)."
        )
    try:
        return duckdb.connect(str(path), read_only=bool(read_only))
    except duckdb.Error as exc:
        raise _open_error(str(path), exc, read_only) from None


def is_read_only(con: Any) -> bool:
    """Whether the connection's current database is attached read-only."""
    rows = con.execute(
        "SELECT readonly FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchall()
    return bool(rows and rows[0][0])


def database_path(con: Any) -> str:
    """The file behind the connection's current database, or ``":memory:"``."""
    rows = con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchall()
    return str(rows[0][0]) if rows and rows[0][0] else ":memory:"


# duckdb 2.0 prints "nanobind: leaked ..." at exit for connections still open with Python UDFs.
_OPEN: weakref.WeakSet[Any] = weakref.WeakSet()


def track_open(store: Any) -> None:
    """Close ``store`` (anything with ``close()``) at interpreter exit if it is still open."""
    _OPEN.add(store)


@atexit.register
def _close_open_stores() -> None:
    for store in list(_OPEN):
        with contextlib.suppress(Exception):
            store.close()


def ensure_tables(con: Any, ddl: Sequence[str], tables: Sequence[str], *, read_only: bool) -> bool:
    """Create the store's own tables (writers); return whether they all exist.

    A reader creates nothing: it only checks that every table in ``tables`` is there.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
    ddl : sequence of str
        ``CREATE TABLE IF NOT EXISTS`` statements, run by a writer.
    tables : sequence of str
        The tables those statements make.
    read_only : bool

    Returns
    -------
    bool
    """
    if not read_only:
        for statement in ddl:
            con.execute(statement)
        return True
    marks = ", ".join("?" * len(tables))
    rows = con.execute(
        f"SELECT count(*) FROM duckdb_tables() WHERE table_name IN ({marks}) "
        "AND database_name = current_database() AND schema_name = 'main'",
        list(tables),
    ).fetchall()
    return int(rows[0][0]) == len(tables)
