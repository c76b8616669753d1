"""Running user SQL on a store's connection: the store's own tables are protected, errors are clear.

``ModelStore.sql`` (and so the ``%%sql`` magic and the panel's query box) runs any statement
except one that changes a ``workbench_*`` table: models change only through ``register`` and
``drop``, which keep the rows, their hashes and the SQL functions consistent. Statements other
than SELECT/EXPLAIN run inside one transaction; a fingerprint of every ``workbench_*`` table (its
columns, row count and a hash of every row) is taken before and after, and a query that changed
one is rolled back and refused. Checking the effect instead of parsing the SQL catches every
spelling (quoted names, ``main.`` prefixes, ALTER, COPY, CREATE OR REPLACE).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pandas as pd

from workbench.core.errors import (
    InputError,
    InputTypeError,
    ModelError,
    UnknownNameError,
    WorkbenchError,
)
from workbench.indb.database import damaged_file_error, is_damage

__all__ = ["explain_sql_error", "protected_tables", "run_query"]

_READ_ONLY_TYPES = {"SELECT", "EXPLAIN"}
_UDF_ERROR = re.compile(r"while executing the UDF: (\w+): (.*)", re.S)


def protected_tables(con: Any, database: str) -> list[str]:
    """Names of the ``workbench_*`` tables in the store's database."""
    rows = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = ? AND schema_name = 'main' "
        "AND lower(table_name) LIKE 'workbench\\_%' ESCAPE '\\' ORDER BY table_name",
        [database],
    ).fetchall()
    return [r[0] for r in rows]


def _fingerprint(con: Any, database: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for table in protected_tables(con, database):
        cols = con.execute(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = ? "
            "AND schema_name = 'main' AND table_name = ? ORDER BY column_index",
            [database, table],
        ).fetchall()
        ident = '"' + table.replace('"', '""') + '"'
        db = '"' + database.replace('"', '""') + '"'
        count, digest = con.execute(
            f"SELECT count(*), sum(hash(t)) FROM {db}.main.{ident} AS t"
        ).fetchall()[0]
        out[table] = (tuple(cols), int(count), digest)
    return out


def _statement_types(con: Any, query: str) -> list[str]:
    return [str(s.type).rsplit(".", 1)[-1] for s in con.extract_statements(query)]


def explain_sql_error(
    exc: Exception, signature_of: Callable[[str], str | None], functions: list[str], path: str
) -> WorkbenchError:
    """A workbench error for a failed query: wrong model-function calls name the signature.

    Parameters
    ----------
    exc : Exception
        DuckDB's error.
    signature_of : callable
        Model function name -> ``"name(arg TYPE, ...)"``, or None for other functions.
    functions : list of str
        The model functions that exist (listed for an unknown ``*_predict``/``*_proba``).
    path : str
        The database file, for damage messages.

    Returns
    -------
    WorkbenchError
    """
    msg = str(exc).strip()
    raised = _UDF_ERROR.search(msg)
    if raised:
        kind = ModelError if raised.group(1) in ("ModelError", "IntegrityError") else InputError
        return kind(raised.group(2).strip())
    called = re.search(r"argument types '(\w+)\(([^']*)\)'", msg)
    if called and signature_of(called.group(1)) is not None:
        fname = called.group(1)
        sig = signature_of(fname)
        n_args = 0 if sig.endswith("()") else sig.count(",") + 1
        got = called.group(2) or "no arguments"
        return InputError(
            f"{fname} was called with ({got}) but takes {n_args} argument(s): {sig}. Pass the "
            "columns in this order (numbers as DOUBLE, text as VARCHAR)."
        )
    macro = re.search(r"Macro (\w+)\(\) does not support the supplied arguments", msg)
    sig = signature_of(macro.group(1)) if macro else None
    if macro and sig is not None:
        n_args = 0 if sig.endswith("()") else sig.count(",") + 1
        return InputError(
            f"{macro.group(1)} was called with arguments it does not take; it takes {n_args} "
            f"argument(s): {sig}. Pass the columns in this order (numbers as DOUBLE, text as "
            "VARCHAR)."
        )
    guard = re.match(r"Invalid Input Error: (model '\w+' v\d+ got .*)", msg, re.S)
    if guard:
        return InputError(guard.group(1).strip())
    missing = re.search(r"Function with name (\w+) does not exist", msg)
    if missing and re.search(r"_(predict|proba)$", missing.group(1)):
        return UnknownNameError("model function", missing.group(1), functions)
    if "read-only mode" in msg:
        return InputError(
            "This store is open read-only (a reader), so statements cannot change the "
            "database; open it with indb.connect(path) in the one process that writes."
        )
    if is_damage(exc):
        return damaged_file_error(path, exc, None)
    return InputError(f"SQL failed: {msg.splitlines()[0] if msg else type(exc).__name__}")


def run_query(
    con: Any,
    query: Any,
    params: Any,
    *,
    database: str,
    explain: Callable[[Exception], WorkbenchError],
) -> pd.DataFrame:
    """Run user SQL, refusing changes to ``workbench_*`` tables (see the module docstring).

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
    query : str
        One or more SQL statements; the last one's result is returned.
    params : sequence, dict or None
        Prepared-statement parameters.
    database : str
        The store's database name (``current_database()`` when it opened).
    explain : callable
        Turns a DuckDB error into a workbench error.

    Returns
    -------
    pandas.DataFrame
        The result (empty for statements that return nothing).

    Raises
    ------
    InputTypeError
        If ``query`` is not a string or ``params`` not a sequence or dict.
    InputError
        Empty SQL, transaction statements, a change to a ``workbench_*`` table, or DuckDB's
        refusal (through ``explain``).
    """
    import duckdb

    if not isinstance(query, str):
        raise InputTypeError(f"query must be a string of SQL, got {type(query).__name__}.")
    if not query.strip():
        raise InputError("query is empty; write an SQL statement.")
    if params is not None and (
        isinstance(params, str | bytes) or not isinstance(params, list | tuple | dict)
    ):
        raise InputTypeError(
            f"params must be a list, tuple or dict of values, got {type(params).__name__}."
        )
    args = (query,) if params is None else (query, params)
    try:
        kinds = _statement_types(con, query)
        if set(kinds) <= _READ_ONLY_TYPES:
            rel = con.execute(*args)
            return pd.DataFrame() if rel.description is None else rel.df()
    except duckdb.Error as exc:
        raise explain(exc) from None
    if "TRANSACTION" in kinds:
        raise InputError(
            "store.sql runs each call as one transaction, so BEGIN, COMMIT and ROLLBACK are not "
            "accepted; leave them out (or use store.con directly)."
        )
    try:
        before = _fingerprint(con, database)
        con.execute("BEGIN TRANSACTION")
    except duckdb.Error as exc:
        raise explain(exc) from None
    try:
        rel = con.execute(*args)
        frame = pd.DataFrame() if rel.description is None else rel.df()
        after = _fingerprint(con, database)
    except duckdb.Error as exc:
        con.execute("ROLLBACK")
        raise explain(exc) from None
    except BaseException:
        con.execute("ROLLBACK")
        raise
    if after != before:
        con.execute("ROLLBACK")
        changed = sorted(t for t in before.keys() | after.keys() if before.get(t) != after.get(t))
        raise InputError(
            f"The query changes the store's own table(s) {', '.join(changed)}; it was rolled "
            "back, nothing changed. Change models with store.register() and store.drop(); "
            "tables named workbench_* are reserved for the workbench."
        )
    con.execute("COMMIT")
    return frame
