"""One workspace: a DuckDB file that panels and code share, for datasets and results.

Datasets are loaded into it once (:meth:`Workspace.add`); the tools' results are written back
as tables (:meth:`Workspace.save`); the in-database tool keeps its model store in the same file
(pass :attr:`Workspace.con` to it). Tools never import each other: they meet in these tables.

Every write is one transaction: a write that fails leaves the file as it was. Two small
bookkeeping tables, ``workbench_datasets`` and ``workbench_results``, say where each table came
from; names starting ``workbench_`` are reserved for the workbench.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import Any

from workbench.core.errors import InputError, InputTypeError, ResourceNotFoundError
from workbench.core.params import check_flag
from workbench.core.tables import UserTable, load_table

__all__ = [
    "DEFAULT_PATH",
    "ENV_VAR",
    "Workspace",
    "check_table_name",
    "get_workspace",
    "set_workspace",
]

#: The workspace file, in the working folder, when nothing else is said.
DEFAULT_PATH = "workbench.duckdb"
#: Environment variable naming another workspace file (or ``:memory:``).
ENV_VAR = "WORKBENCH_WORKSPACE"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_RESERVED = "workbench_"
_LOG_TABLES = {
    "workbench_datasets": "name VARCHAR, source VARCHAR, n_rows BIGINT, n_source_rows BIGINT, "
    "target VARCHAR, created_at TIMESTAMP",
    "workbench_results": "name VARCHAR, tool VARCHAR, n_rows BIGINT, created_at TIMESTAMP",
}


def check_table_name(name: Any) -> str:
    """Check a table name to create: a plain identifier, not in the reserved ``workbench_`` space.

    The workspace and the in-database model store (which lives in the same file) share this rule.

    Parameters
    ----------
    name : str

    Returns
    -------
    str

    Raises
    ------
    InputTypeError, InputError
    """
    if not isinstance(name, str):
        raise InputTypeError(f"Table name must be a string, got {type(name).__name__}.")
    if not _NAME.match(name):
        raise InputError(
            f"{name!r} is not a usable table name: it must be a plain identifier of 1-63 ASCII "
            "letters, digits and '_', not starting with a digit (e.g. 'customers')."
        )
    if name.lower().startswith(_RESERVED):
        raise InputError(
            f"Table name {name!r} starts with {_RESERVED!r}, which is reserved for the store's "
            "and the workspace's own tables; choose another name."
        )
    return name


def _frame_of(data: Any) -> Any:
    import pandas as pd
    import pyarrow as pa

    if isinstance(data, UserTable):
        return data.data
    if isinstance(data, pa.Table | pd.DataFrame):
        return data
    to_frame = getattr(data, "to_frame", None)
    if callable(to_frame):
        frame = to_frame()
        if isinstance(frame, pd.DataFrame):
            return frame
    raise InputTypeError(
        f"Cannot save a {type(data).__name__}: pass a DataFrame, an Arrow table, a UserTable or "
        "a result with .to_frame()."
    )


class Workspace:
    """A DuckDB file shared by the panels and code: datasets in, results out.

    Parameters
    ----------
    path : str, path or duckdb connection, optional
        The DuckDB file (created when missing), or ``":memory:"``, or an open connection to use
        as it is (e.g. a model store's ``.con``). Default: the environment variable
        ``WORKBENCH_WORKSPACE``, else ``workbench.duckdb`` in the working folder.
    read_only : bool, default=False
        Open an existing file for reading only (other processes may read it at the same time).

    Attributes
    ----------
    con : duckdb.DuckDBPyConnection
        The connection; pass it to ``load_table(..., con=)`` or the in-database model store.
    path : str
        The file, or ``":memory:"``.
    """

    def __init__(self, path: Any = None, *, read_only: bool = False) -> None:
        import duckdb

        if isinstance(path, duckdb.DuckDBPyConnection):
            self._adopt(path, read_only)
            return
        if path is None:
            path = os.environ.get(ENV_VAR) or DEFAULT_PATH
        if not isinstance(path, str | os.PathLike):
            raise InputTypeError(
                f"path must be a file path or ':memory:', got {type(path).__name__}."
            )
        self.read_only = bool(check_flag(read_only, name="read_only"))
        self.path = str(path) if str(path) == ":memory:" else str(Path(path).expanduser())
        if self.path != ":memory:" and Path(self.path).is_dir():
            raise InputError(f"{self.path!r} is a folder; pass a file such as 'workbench.duckdb'.")
        if self.read_only and (self.path == ":memory:" or not Path(self.path).exists()):
            raise ResourceNotFoundError(f"No workspace file {self.path!r} to open read-only.")
        try:
            self.con = duckdb.connect(self.path, read_only=self.read_only)
        except duckdb.Error as exc:
            raise InputError(
                f"Cannot open workspace {self.path!r}: {str(exc).splitlines()[0]}. Another "
                "process may hold it for writing: close it there, or open this one read_only=True."
            ) from None
        if not self.read_only:
            for table, columns in _LOG_TABLES.items():
                self.con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({columns})")

    def _adopt(self, con: Any, read_only: bool) -> None:
        import duckdb

        self.con = con
        row = con.execute(
            "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
        ).fetchall()
        self.path = (row[0][0] if row else None) or ":memory:"
        self.read_only = bool(check_flag(read_only, name="read_only"))
        if not self.read_only:
            try:
                for table, columns in _LOG_TABLES.items():
                    self.con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({columns})")
            except duckdb.Error as exc:
                if "read-only" not in str(exc).lower():
                    raise
                self.read_only = True

    def tables(self) -> list[str]:
        """Tables and views a user can load, sorted (the workbench's own tables left out)."""
        rows = self.con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
            "UNION SELECT view_name FROM duckdb_views() "
            "WHERE NOT internal AND database_name = current_database()"
        ).fetchall()
        return sorted(r[0] for r in rows if not r[0].lower().startswith(_RESERVED))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self.tables()

    def _check_writable(self) -> None:
        if self.read_only:
            raise InputError(
                f"Workspace {self.path!r} is open read-only; open it with read_only=False to write."
            )

    def _write(self, name: str, data: Any, replace: bool, log: str, row: tuple) -> None:
        import duckdb

        self._check_writable()
        check_table_name(name)
        if not check_flag(replace, name="replace") and name in self:
            raise InputError(
                f"Workspace table {name!r} exists; pass replace=True or choose another name."
            )
        view = f"__workbench_incoming_{id(data)}"
        self.con.begin()
        try:
            self.con.register(view, data)
            self.con.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM "{view}"')
            self.con.execute(f"DELETE FROM {log} WHERE name = ?", [name])
            marks = ", ".join("?" * (len(row) + 2))
            now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
            self.con.execute(f"INSERT INTO {log} VALUES ({marks})", [name, *row, now])
            self.con.commit()
        except duckdb.Error as exc:
            self.con.rollback()
            raise InputError(
                f"Could not write table {name!r}: {str(exc).splitlines()[0]}"
            ) from None
        except BaseException:
            self.con.rollback()
            raise
        finally:
            self.con.unregister(view)

    def add(self, name: str, source: Any, *, replace: bool = False, **roles: Any) -> UserTable:
        """Load a dataset into the workspace once, validated, as table ``name``.

        Parameters
        ----------
        name : str
            The table to create.
        source : DataFrame, arrays, Arrow table, path, relation, table name or query
            Anything :func:`~workbench.core.tables.load_table` reads.
        replace : bool, default=False
            Overwrite an existing table of that name.
        **roles
            Passed to :func:`~workbench.core.tables.load_table` (``target``, ``features``,
            ``id``, ``max_rows``, ...).

        Returns
        -------
        UserTable
            The table as stored: every column of the source, with the roles given.
        """
        self._check_writable()
        check_table_name(name)
        table = load_table(source, con=self.con, keep_all=True, **roles)
        self._write(
            name,
            table.data,
            replace,
            "workbench_datasets",
            (table.source, table.n_rows, table.n_source_rows, table.target),
        )
        return table

    def table(self, name: str, **roles: Any) -> UserTable:
        """Read workspace table ``name`` with column roles (see :func:`load_table`)."""
        check_table_name(name)
        if name not in self:
            raise ResourceNotFoundError(
                f"The workspace has no table {name!r}; it has {self.tables() or 'none'}."
            )
        return load_table(name, con=self.con, **roles)

    def save(self, name: str, data: Any, *, tool: str = "", replace: bool = True) -> str:
        """Write a result (or any table) as workspace table ``name``, in one transaction.

        Parameters
        ----------
        name : str
        data : DataFrame, pyarrow.Table, UserTable or object with ``to_frame()``
            A tool's result object is saved as its ``to_frame()``.
        tool : str, default=""
            Which tool made it (recorded in ``workbench_results``).
        replace : bool, default=True
            Overwrite a table of that name.

        Returns
        -------
        str
            The table name.
        """
        frame = _frame_of(data)
        self._write(name, frame, replace, "workbench_results", (str(tool), len(frame)))
        return name

    def sql(self, query: str) -> Any:
        """Run SQL on the workspace and return the DuckDB relation (or ``None``)."""
        if not isinstance(query, str):
            raise InputTypeError("query must be SQL text (str).")
        return self.con.sql(query)

    def close(self) -> None:
        """Close the connection."""
        self.con.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Workspace({self.path!r})"


_default: Workspace | None = None


def get_workspace(*, create: bool = True) -> Workspace | None:
    """The workspace the panels share: the one set, else ``workbench.duckdb`` here.

    Parameters
    ----------
    create : bool, default=True
        Open (and create) the default file if no workspace is open yet. With ``False``, the
        default file is opened only if it already exists; ``None`` otherwise.

    Returns
    -------
    Workspace or None
    """
    global _default
    if _default is None:
        path = os.environ.get(ENV_VAR) or DEFAULT_PATH
        if not create and path != ":memory:" and not Path(path).exists():
            return None
        _default = Workspace(path)
    return _default


def set_workspace(workspace: Workspace | str | os.PathLike[str] | None) -> Workspace | None:
    """Make ``workspace`` (or a new one at that path) the one the panels share.

    Parameters
    ----------
    workspace : Workspace, path or None
        ``None`` forgets the shared workspace (it is not closed); the next
        :func:`get_workspace` opens the default again.

    Returns
    -------
    Workspace or None
    """
    global _default
    if workspace is None or isinstance(workspace, Workspace):
        _default = workspace
    else:
        _default = Workspace(workspace)
    return _default
