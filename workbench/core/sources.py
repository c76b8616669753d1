"""Where a user's table comes from: turn what she holds into a DuckDB relation, lazily.

A DataFrame, numpy arrays, an Arrow table, a CSV/Parquet/JSON-lines file, a DuckDB relation, a
table name or a SQL query all become one :class:`duckdb.DuckDBPyRelation`. Nothing is read yet:
DuckDB scans a file only for the columns and rows that are asked for later, so previewing a
large Parquet file costs a few row groups, not the whole file in pandas.

:func:`read_upload` checks the bytes of an uploaded file (a CSV or Parquet file, not empty, not
larger than memory allows) and stores them in a private folder that only this process made.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from workbench.core.errors import InputError, InputTypeError, ResourceNotFoundError
from workbench.core.params import check_size
from workbench.core.paths import private_dir

__all__ = [
    "FILE_FORMATS",
    "Source",
    "available_memory",
    "check_unique_names",
    "duckdb_error",
    "open_source",
    "read_upload",
]

#: File suffixes read from a path, and the format each means.
FILE_FORMATS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
_QUERY_START = re.compile(
    r"^\s*(\(|select\b|with\b|from\b|values\b|table\b|pivot\b|unpivot\b)", re.I
)


class Source:
    """A user's table as a lazy DuckDB relation, with a description of where it came from.

    Attributes
    ----------
    relation : duckdb.DuckDBPyRelation
        Reads the data on demand.
    description : str
        Where the table came from ("Parquet file customers.parquet", "DataFrame", ...).
    kind : str
        ``"dataframe"``, ``"arrays"``, ``"arrow"``, ``"file"``, ``"relation"``, ``"table"``
        or ``"query"``.
    """

    def __init__(self, relation: Any, description: str, kind: str, *, head: Any = None) -> None:
        self.relation = relation
        self.description = description
        self.kind = kind
        self._head = head

    def preview(self, n: int = 5) -> Any:
        """The first ``n`` rows as a pandas DataFrame, reading as little as the source allows.

        For a Parquet file only the first row group is read (filtered by row number): a plain
        ``LIMIT`` lets every DuckDB thread start on its own row group, about 60 MB each.
        """
        rel = self._head(n) if self._head is not None else self.relation.limit(n)
        return rel.arrow().read_all().to_pandas()

    @property
    def columns(self) -> list[str]:
        """Column names, in order."""
        return list(self.relation.columns)

    def __repr__(self) -> str:
        return f"Source({self.description!r})"


def duckdb_error(exc: Exception, what: str) -> InputError:
    """A DuckDB error as an :class:`InputError` that names ``what`` and keeps DuckDB's reason.

    Parameters
    ----------
    exc : Exception
        The error DuckDB raised.
    what : str
        What was being read ("the SQL query", "file a.csv").

    Returns
    -------
    InputError
    """
    text = str(exc).strip()
    if "unicode" in text.lower() or "utf-8" in text.lower():
        return InputError(
            f"{what} holds text that is not valid UTF-8. Re-save it as UTF-8 (e.g. in pandas: "
            "pd.read_csv(path, encoding='latin-1').to_csv(new_path, index=False))."
        )
    first = text.splitlines()[0] if text else type(exc).__name__
    return InputError(f"DuckDB could not read {what}: {first}")


def check_unique_names(names: Sequence[Any], *, what: str = "The table") -> list[str]:
    """Column names as strings; duplicates (after ``str``) raise :class:`InputError`.

    Parameters
    ----------
    names : sequence
        Column names.
    what : str, default="The table"
        How the message names the table.

    Returns
    -------
    list of str
    """
    if isinstance(names, str | bytes) or not isinstance(names, Sequence):
        raise InputTypeError(f"Column names must be a list, got {type(names).__name__}.")
    as_text = [str(n) for n in names]
    dup = sorted(n for n, k in Counter(as_text).items() if k > 1)
    if dup:
        raise InputError(
            f"{what} has duplicate column names {dup}; give every column its own name "
            "(pandas: df.columns = [...], SQL: SELECT a AS a_left, ...)."
        )
    return as_text


def available_memory() -> int:
    """Bytes of memory the process can still use (physical pages available), or 4 GiB if unknown."""
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return 4 << 30


def _connection(con: Any) -> Any:
    import duckdb

    if con is None:
        return duckdb.connect()
    if not isinstance(con, duckdb.DuckDBPyConnection):
        raise InputTypeError(
            f"con must be a duckdb connection, got {type(con).__name__}; pass "
            "duckdb.connect(path) or a Workspace's .con."
        )
    return con


def _arrow_from_pandas(df: Any) -> Any:
    import pyarrow as pa

    names = check_unique_names(list(df.columns), what="The DataFrame")
    frame = df.set_axis(names, axis=1)
    try:
        return pa.Table.from_pandas(frame, preserve_index=False)
    except UnicodeEncodeError:
        raise InputError(
            "The DataFrame holds text that is not valid UTF-8 (undecodable characters); "
            "decode the column with the right encoding before passing it."
        ) from None
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        for name in names:
            try:
                pa.array(frame[name], from_pandas=True)
            except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
                kinds = sorted({type(v).__name__ for v in frame[name].dropna().head(1000)})
                raise InputError(
                    f"Column {name!r} mixes types ({', '.join(kinds)}); a column must hold "
                    f"one type. Convert it, e.g. df[{name!r}] = df[{name!r}].astype(str), or "
                    f"pd.to_numeric(df[{name!r}], errors='coerce') for numbers."
                ) from None
        raise


def _arrow_from_arrays(source: Any) -> Any:
    import pyarrow as pa

    if isinstance(source, tuple):
        if len(source) != 2:
            raise InputError(
                f"Pass arrays as X or as a pair (X, y); got a tuple of {len(source)} items."
            )
        X, y = (np.asarray(a) for a in source)
    else:
        X, y = np.asarray(source), None
    if X.ndim == 1:
        X = X.reshape(-1, 1)
    if X.ndim != 2:
        raise InputError(f"X must be 2-D (rows × columns), got {X.ndim} dimensions.")
    if X.dtype.kind not in "biuf":
        raise InputTypeError(
            f"X must hold numbers, got dtype {X.dtype}; pass a DataFrame for text columns."
        )
    cols = {f"x{i}": X[:, i] for i in range(X.shape[1])}
    if y is not None:
        if y.ndim != 1 or len(y) != len(X):
            raise InputError(
                f"y must be 1-D with one value per row of X ({len(X)}), got shape {y.shape}."
            )
        if y.dtype.kind not in "biufUO":
            raise InputTypeError(f"y must hold numbers or labels, got dtype {y.dtype}.")
        cols["target"] = y.astype(str) if y.dtype.kind in "UO" else y
    return pa.table(cols)


def _is_query(text: str) -> bool:
    return bool(_QUERY_START.match(text))


def _query(con: Any, text: str) -> Any:
    import duckdb

    try:
        statements = duckdb.extract_statements(text)
    except duckdb.Error as exc:
        raise duckdb_error(exc, "the SQL query") from None
    if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
        raise InputError(
            "A data source query must be one SELECT statement (it reads, never changes, the "
            f"database); got {len(statements)} statement(s). Run other SQL on the connection."
        )
    try:
        return con.sql(text)
    except duckdb.Error as exc:
        raise duckdb_error(exc, "the SQL query") from None


def _table(con: Any, name: str) -> Any:
    import duckdb

    try:
        return con.table(name)
    except duckdb.Error:
        known = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        known += [
            r[0]
            for r in con.execute(
                "SELECT view_name FROM duckdb_views() WHERE NOT internal"
            ).fetchall()
        ]
        raise ResourceNotFoundError(
            f"No table or file named {name!r}. Tables in this database: "
            f"{sorted(known) or 'none'}. Pass a file path, a table name or a SELECT query."
        ) from None


def _file(con: Any, path: Path) -> Source:
    import duckdb

    fmt = FILE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(
            f"{path.name!r} is not a file type the workbench reads; use CSV, Parquet or JSON "
            f"lines ({', '.join(sorted(FILE_FORMATS))})."
        )
    if not path.is_file():
        raise InputError(f"{str(path)!r} is not a regular file.")
    if path.stat().st_size == 0:
        raise InputError(f"File {path.name!r} is empty; it has no header and no rows.")
    what = f"file {path.name!r}"
    head = None
    try:
        if fmt == "csv":
            rows = con.read_csv(str(path), header=False).limit(1).fetchall()
            header = rows[0] if rows else ()
            check_unique_names([h for h in header if h is not None], what=f"File {path.name!r}")
            rel = con.read_csv(str(path))
        elif fmt == "parquet":
            rel = con.read_parquet(str(path))
            numbered = con.read_parquet(str(path), file_row_number=True)
            cols = ", ".join(f'"{c}"' for c in rel.columns)

            def head(n: int) -> Any:
                return numbered.filter(f"file_row_number < {int(n)}").project(cols)

        else:
            rel = con.read_json(str(path), format="newline_delimited")
        check_unique_names(rel.columns, what=f"File {path.name!r}")
    except duckdb.Error as exc:
        raise duckdb_error(exc, what) from None
    names = {"csv": "CSV", "parquet": "Parquet", "jsonl": "JSON-lines"}
    return Source(rel, f"{names[fmt]} file {path.name}", "file", head=head)


def open_source(source: Any, *, con: Any = None) -> Source:
    """Turn what the user holds into a lazy :class:`Source`.

    Parameters
    ----------
    source : DataFrame, ndarray, (X, y), pyarrow.Table, path, str or duckdb relation
        - a pandas DataFrame, a pyarrow Table or RecordBatch;
        - a 2-D numpy array (columns ``x0``, ``x1``, ...) or a pair ``(X, y)`` (adds ``target``);
        - a path to a CSV, Parquet or JSON-lines file (by suffix, see :data:`FILE_FORMATS`);
        - a DuckDB relation;
        - a string: a file path if such a file exists, a SELECT query if it starts like one
          (``SELECT``, ``WITH``, ``FROM``, ...), otherwise a table or view name on ``con``.
    con : duckdb.DuckDBPyConnection, optional
        Where tables and queries are looked up, and where in-memory data is registered. A
        private in-memory connection by default.

    Returns
    -------
    Source

    Raises
    ------
    InputTypeError
        If ``source`` is none of the above.
    InputError
        Duplicate column names, mixed-type columns, a query that is not one SELECT, a syntax
        error, an empty file, an unknown file type, or text that is not UTF-8.
    ResourceNotFoundError
        If a named table or file does not exist.
    """
    import duckdb
    import pandas as pd
    import pyarrow as pa

    con = _connection(con)
    if isinstance(source, duckdb.DuckDBPyRelation):
        check_unique_names(source.columns, what="The relation")
        return Source(source, "DuckDB relation", "relation")
    if isinstance(source, pd.DataFrame):
        return Source(con.from_arrow(_arrow_from_pandas(source)), "DataFrame", "dataframe")
    if isinstance(source, pa.RecordBatch):
        source = pa.Table.from_batches([source])
    if isinstance(source, pa.Table):
        check_unique_names(source.column_names, what="The Arrow table")
        return Source(con.from_arrow(source), "Arrow table", "arrow")
    if isinstance(source, np.ndarray | tuple):
        return Source(con.from_arrow(_arrow_from_arrays(source)), "numpy arrays", "arrays")
    if isinstance(source, os.PathLike):
        path = Path(source).expanduser()
        if not path.exists():
            raise ResourceNotFoundError(f"File {str(path)!r} does not exist; check the path.")
        return _file(con, path)
    if isinstance(source, str):
        text = source.strip()
        if not text:
            raise InputError("The data source is an empty string; pass a table, file or query.")
        path = Path(text).expanduser()
        looks_like_file = path.suffix.lower() in FILE_FORMATS or path.exists()
        # A name with a space is no table name: treat it as SQL, so a typo gets DuckDB's message.
        if _is_query(text) or (not looks_like_file and len(text.split()) > 1):
            return Source(_query(con, text), f"query {' '.join(text.split())[:60]}", "query")
        if looks_like_file:
            if not path.exists():
                raise ResourceNotFoundError(f"File {text!r} does not exist; check the path.")
            return _file(con, path)
        return Source(_table(con, text), f"table {text}", "table")
    raise InputTypeError(
        f"Cannot read data from a {type(source).__name__}. Pass a pandas DataFrame, numpy "
        "arrays, a pyarrow Table, a CSV/Parquet/JSON-lines path, a DuckDB relation, a table "
        "name or a SELECT query."
    )


def _size(n: int) -> str:
    return f"{n / 2**20:,.1f} MiB" if n >= 2**20 else f"{n:,} bytes"


def _upload_format(filename: str, content: bytes) -> str:
    suffix = Path(filename).suffix.lower()
    if content[:4] == b"PAR1":
        if content[-4:] != b"PAR1":
            raise InputError(f"{filename!r} is a truncated Parquet file; upload it again.")
        return ".parquet"
    if suffix in (".parquet", ".pq"):
        raise InputError(f"{filename!r} is named like Parquet but is not a Parquet file.")
    if suffix not in (".csv", ".tsv", ".txt"):
        raise InputError(
            f"{filename!r} is neither a CSV nor a Parquet file; upload a .csv or .parquet file."
        )
    head = content[:65536]
    if b"\x00" in head:
        raise InputError(f"{filename!r} is binary, not a CSV text file; upload a .csv file.")
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        cut = len(content) > len(head) and exc.start >= len(head) - 4
        if not cut:  # a multi-byte character cut at the 64 KiB edge is fine
            raise InputError(
                f"{filename!r} holds text that is not valid UTF-8; re-save it as UTF-8 CSV."
            ) from None
    return ".csv"


def read_upload(
    filename: str, content: bytes, *, max_bytes: int | None = None, folder: Any = None
) -> Path:
    """Check an uploaded file and store it where only this process can read it.

    Parameters
    ----------
    filename : str
        The name the browser sent (only its suffix is used, to tell CSV from Parquet).
    content : bytes
        The file's bytes.
    max_bytes : int, optional
        Largest upload accepted; default a quarter of the memory available now (a table
        needs a few times its file size once read).
    folder : path, optional
        Private folder to store it in (made with mode 0700); default a new one under the
        system's temporary folder.

    Returns
    -------
    pathlib.Path
        The stored file, with a ``.csv`` or ``.parquet`` suffix that matches its content.

    Raises
    ------
    InputError
        If the file is empty, too large, not CSV or Parquet, or not UTF-8 text.
    """
    if not isinstance(filename, str) or not isinstance(content, bytes | bytearray | memoryview):
        raise InputTypeError("read_upload needs a file name (str) and the file's bytes.")
    content = bytes(content)
    if not content:
        raise InputError(f"{filename!r} is empty (0 bytes); upload a file with a header and rows.")
    limit = (
        available_memory() // 4
        if max_bytes is None
        else check_size(max_bytes, name="max_bytes", high=2**50)
    )
    if len(content) > limit:
        raise InputError(
            f"{filename!r} is {_size(len(content))}, more than the {_size(limit)} this "
            "kernel can load safely. Put the file next to the notebook and pass its "
            "path instead: DuckDB then reads only the columns and rows needed."
        )
    suffix = _upload_format(filename, content)
    where = private_dir(
        folder if folder is not None else tempfile.mkdtemp(prefix="workbench-upload-")
    )
    stem = re.sub(r"[^A-Za-z0-9_.-]", "_", Path(filename).stem)[:80] or "upload"
    path = where / f"{stem}{suffix}"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(content)
    return path
