"""The model store's audit log: one append-only, hash-chained row per change of a model's life.

Every register, drop, alias move, promotion (won or lost), rollback and route is a row of
``workbench_model_log``, written in the same transaction as the change itself, so a change and its
log row are committed together or not at all. A row holds when (UTC), which OS user
(:func:`getpass.getuser`), what (``action``), which model, alias and versions, the row count and a
fingerprint of the data involved, the metrics, and details (JSON).

Chain (scheme ``workbench.indb.log/1``)::

    row_sha256 = sha256(b"workbench.indb.log/1\\n" + prev_sha256 + b"\\n" + canonical_json(content))

``content`` is every other column (all but ``prev_sha256`` and ``row_sha256``), as stored (JSON
columns as their stored text, ``logged_at`` as ISO 8601 with microseconds, NULL as ``null``),
serialized like the model rows' hash (sorted keys, no spaces, ASCII). ``prev_sha256`` is the
previous row's ``row_sha256`` (64 zeros for row 1). The table ``workbench_model_log_head`` keeps
the last row's number and hash, updated in the same transaction, so deleting the newest rows is
detected too, not only an edit or a deletion in the middle. New rows always chain onto the head,
never onto whatever row is last, so damage stays detectable after later writes. Anyone who can
write the file can still rewrite the whole chain and its head consistently: keep
:meth:`ModelStore.log_head` somewhere else where that matters.

Data fingerprints: ``sha256`` of the scheme, the row count, the column names and the sum modulo
2**64 of one 64-bit hash per row, so row order does not matter. Rows in DuckDB (promotion, scheme
``workbench.indb.data/1``) are hashed by DuckDB's ``hash(col1, col2, ...)``; a DataFrame given to
``register`` (scheme ``workbench.indb.frame/1``) by ``pandas.util.hash_pandas_object(frame[cols],
index=False)``, which reads the frame where it is instead of copying it into DuckDB. Each is
stable for one version of its library (neither promises its hash across versions).
"""

from __future__ import annotations

import datetime as _dt
import functools
import getpass
import hashlib
import json
from typing import Any

import numpy as np
import pandas as pd

from workbench.core.errors import InputError, IntegrityError
from workbench.indb.database import ensure_tables

__all__ = [
    "ACTIONS",
    "HEAD_TABLE",
    "LOG_SCHEME",
    "LOG_TABLE",
    "append_entry",
    "data_fingerprint",
    "ensure_log_schema",
    "entry_digest",
    "frame_fingerprint",
    "log_frame",
    "log_frame_empty",
    "os_user",
    "read_head",
    "verify_log",
]

LOG_TABLE = "workbench_model_log"
HEAD_TABLE = "workbench_model_log_head"
LOG_SCHEME = "workbench.indb.log/1"
DATA_SCHEME = "workbench.indb.data/1"
FRAME_SCHEME = "workbench.indb.frame/1"
GENESIS = "0" * 64
#: What a log row can record.
ACTIONS = (
    "register", "drop", "alias", "alias_drop", "promote", "promote_rejected", "rollback",
    "route", "unroute",
)
_COLUMNS = (
    "seq", "logged_at", "os_user", "action", "name", "alias", "versions", "data_rows",
    "data_sha256", "metrics", "detail", "prev_sha256", "row_sha256",
)
_CONTENT = _COLUMNS[:-1]
_DDL = (
    f"""CREATE TABLE IF NOT EXISTS {LOG_TABLE} (
    seq BIGINT NOT NULL,
    logged_at TIMESTAMP NOT NULL,
    os_user VARCHAR NOT NULL,
    action VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    alias VARCHAR,
    versions VARCHAR NOT NULL,
    data_rows BIGINT,
    data_sha256 VARCHAR,
    metrics VARCHAR NOT NULL,
    detail VARCHAR NOT NULL,
    prev_sha256 VARCHAR NOT NULL,
    row_sha256 VARCHAR NOT NULL
)""",
    f"CREATE TABLE IF NOT EXISTS {HEAD_TABLE} (id INTEGER NOT NULL, seq BIGINT NOT NULL, "
    "row_sha256 VARCHAR NOT NULL)",
)


@functools.cache
def os_user() -> str:
    """The OS user running this process (``getpass.getuser``), or ``"unknown"``."""
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):  # no LOGNAME/USER and no passwd entry
        return "unknown"


def ensure_log_schema(con: Any, *, read_only: bool) -> bool:
    """Create the log tables (writers); return whether the log exists.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
    read_only : bool
        A reader creates nothing; a file without a log has an empty one.

    Returns
    -------
    bool
    """
    return ensure_tables(con, _DDL, [LOG_TABLE, HEAD_TABLE], read_only=read_only)


def _canonical(value: Any) -> Any:
    if isinstance(value, _dt.datetime):
        return value.isoformat(timespec="microseconds")
    if hasattr(value, "item"):
        return value.item()
    return value


def entry_digest(entry: dict[str, Any]) -> str:
    """The ``row_sha256`` of a log row (see the module docstring).

    Parameters
    ----------
    entry : dict
        Column name to stored value; ``prev_sha256`` included.

    Returns
    -------
    str
        Hex sha256.
    """
    content = {c: _canonical(entry.get(c)) for c in _CONTENT if c != "prev_sha256"}
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    blob = f"{LOG_SCHEME}\n{entry['prev_sha256']}\n{text}".encode("ascii")
    return hashlib.sha256(blob).hexdigest()


def read_head(con: Any) -> tuple[int, str]:
    """``(seq, row_sha256)`` of the newest log row, ``(0, 64 zeros)`` for an empty log."""
    rows = con.execute(f"SELECT seq, row_sha256 FROM {HEAD_TABLE} ORDER BY id").fetchall()
    if len(rows) > 1:
        raise IntegrityError(
            f"{HEAD_TABLE} holds {len(rows)} rows instead of one: the log's head was changed."
        )
    return (int(rows[0][0]), str(rows[0][1])) if rows else (0, GENESIS)


def append_entry(
    con: Any,
    action: str,
    name: str,
    *,
    alias: str | None = None,
    versions: dict[str, Any] | None = None,
    data: tuple[int, str] | None = None,
    metrics: dict[str, Any] | None = None,
    detail: dict[str, Any] | None = None,
    head: tuple[int, str] | None = None,
) -> tuple[int, str]:
    """Append one row to the log; call it inside the transaction of the change it records.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
    action : str
        One of :data:`ACTIONS`.
    name : str
        The model.
    alias : str, optional
        The alias moved, if any.
    versions : dict, optional
        Which versions (``{"version": 3}``, ``{"from": 1, "to": 2}``, ...).
    data : (int, str), optional
        Row count and fingerprint of the data (see :func:`data_fingerprint`).
    metrics, detail : dict, optional
        Metrics and other facts (reason, weights, key), stored as JSON.
    head : (int, str), optional
        The head this caller wrote last (what this function returned). When the stored head
        still equals it, the head is not read back first (one statement less); otherwise, or
        when None, it is read.

    Returns
    -------
    (int, str)
        The new row's number and hash: the new head.
    """
    if action not in ACTIONS:
        raise InputError(f"Unknown log action {action!r}; use one of {ACTIONS}.")
    fields: dict[str, Any] = {
        "logged_at": _dt.datetime.now(_dt.UTC).replace(tzinfo=None),
        "os_user": os_user(),
        "action": action,
        "name": name,
        "alias": alias,
        "versions": json.dumps(versions or {}, sort_keys=True, allow_nan=False),
        "data_rows": None if data is None else int(data[0]),
        "data_sha256": None if data is None else str(data[1]),
        "metrics": json.dumps(metrics or {}, sort_keys=True, allow_nan=False),
        "detail": json.dumps(detail or {}, sort_keys=True, allow_nan=False),
    }
    entry = _entry(fields, *head) if head is not None else None
    if entry is None or con.execute(
        f"UPDATE {HEAD_TABLE} SET seq = ?, row_sha256 = ? WHERE id = 1 AND seq = ? "
        "AND row_sha256 = ?",
        [entry["seq"], entry["row_sha256"], *head],
    ).fetchall()[0][0] != 1:
        # The head gives the previous hash; the largest stored number keeps numbers unique
        # even when the head row was deleted (the chain then shows the break).
        head_seq, prev, last = con.execute(
            f"SELECT h.seq, h.row_sha256, (SELECT coalesce(max(seq), 0) FROM {LOG_TABLE}) "
            f"FROM (SELECT 1) AS one LEFT JOIN {HEAD_TABLE} AS h ON h.id = 1"
        ).fetchall()[0]
        entry = _entry(fields, max(int(head_seq or 0), int(last)),
                       prev if isinstance(prev, str) else GENESIS)
        con.execute(f"DELETE FROM {HEAD_TABLE}")
        con.execute(f"INSERT INTO {HEAD_TABLE} VALUES (1, ?, ?)",
                    [entry["seq"], entry["row_sha256"]])
    con.execute(
        f"INSERT INTO {LOG_TABLE} ({', '.join(_COLUMNS)}) VALUES "
        f"({', '.join('?' * len(_COLUMNS))})",
        [entry[c] for c in _COLUMNS],
    )
    return int(entry["seq"]), str(entry["row_sha256"])


def _entry(fields: dict[str, Any], seq: int, prev: str) -> dict[str, Any]:
    entry = {"seq": int(seq) + 1, **fields, "prev_sha256": prev}
    entry["row_sha256"] = entry_digest(entry)
    return entry


def _rows(con: Any) -> list[dict[str, Any]]:
    cur = con.execute(f"SELECT {', '.join(_COLUMNS)} FROM {LOG_TABLE} ORDER BY seq")
    return [dict(zip(_COLUMNS, r, strict=True)) for r in cur.fetchall()]


def verify_log(con: Any) -> list[str]:
    """Walk the chain; return what is wrong with it (an empty list for an intact log).

    Each problem names the row: ``"row 4 was edited (...)"``, ``"row 3 was deleted"``,
    ``"rows after 7 were deleted"``.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection

    Returns
    -------
    list of str
    """
    try:
        head_seq, head_hash = read_head(con)
    except IntegrityError as exc:
        return [str(exc)]
    problems: list[str] = []
    expected_seq, prev = 1, GENESIS
    for row in _rows(con):
        seq = int(row["seq"])
        if seq < expected_seq:
            problems.append(f"row {seq} appears more than once (a row was copied in)")
            continue
        if seq > expected_seq:
            gone = f"row {expected_seq}" if seq == expected_seq + 1 else (
                f"rows {expected_seq}-{seq - 1}")
            problems.append(f"{gone} {'was' if seq == expected_seq + 1 else 'were'} deleted")
        elif row["prev_sha256"] != prev:
            problems.append(
                f"row {seq - 1} or row {seq} was changed (row {seq}'s prev_sha256 is not the "
                f"hash of row {seq - 1})"
            )
        if entry_digest(row) != row["row_sha256"]:
            problems.append(
                f"row {seq} was edited (its content does not match its row_sha256)"
            )
        expected_seq, prev = seq + 1, row["row_sha256"]
    last = expected_seq - 1
    if head_seq > last:
        problems.append(
            f"row {last + 1} was deleted" if head_seq == last + 1
            else f"rows {last + 1}-{head_seq} were deleted"
        )
    elif head_seq < last or (last and head_hash != prev):
        problems.append(f"the log's head ({HEAD_TABLE}) does not match row {last}")
    return problems


def log_frame(con: Any, name: str | None = None) -> pd.DataFrame:
    """The log as a table, oldest first; JSON columns parsed (``None`` where not JSON).

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
    name : str, optional
        Only the rows of this model.

    Returns
    -------
    pandas.DataFrame
        Columns seq, logged_at, os_user, action, name, alias, versions, data_rows, data_sha256,
        metrics, detail, row_sha256.
    """
    cols = [c for c in _COLUMNS if c != "prev_sha256"]
    rows = [r for r in _rows(con) if name is None or r["name"] == name]
    for r in rows:
        for c in ("versions", "metrics", "detail"):
            try:
                r[c] = json.loads(r[c])
            except (TypeError, ValueError):
                r[c] = None
    if not rows:
        return log_frame_empty()
    frame = pd.DataFrame(rows, columns=list(_COLUMNS))[cols]
    return frame.astype({"seq": "int64", "data_rows": "Int64"})


def log_frame_empty() -> pd.DataFrame:
    """An empty log table (a reader of a file without a log)."""
    return pd.DataFrame(columns=[c for c in _COLUMNS if c != "prev_sha256"])


def frame_fingerprint(frame: pd.DataFrame, columns: list[str]) -> tuple[int, str]:
    """Row count and fingerprint of ``columns`` of a DataFrame (scheme in the module doc).

    Parameters
    ----------
    frame : pandas.DataFrame
    columns : list of str

    Returns
    -------
    (int, str)
        Rows and hex sha256.
    """
    rows = pd.util.hash_pandas_object(frame[list(columns)], index=False).to_numpy()
    total = int(rows.sum(dtype=np.uint64))  # wraps modulo 2**64
    text = f"{FRAME_SCHEME}\n{len(frame)}\n{json.dumps(list(columns))}\n{total}"
    return len(frame), hashlib.sha256(text.encode("utf-8")).hexdigest()


def data_fingerprint(relation: Any, columns: list[str]) -> tuple[int, str]:
    """Row count and fingerprint of ``columns`` of a DuckDB relation (scheme in the module doc).

    Parameters
    ----------
    relation : duckdb.DuckDBPyRelation
    columns : list of str
        Column names (quoted here).

    Returns
    -------
    (int, str)
        Rows and hex sha256.
    """
    cols = ", ".join('"' + c.replace('"', '""') + '"' for c in columns)
    n, total = relation.aggregate(
        f"count(*), coalesce(sum(hash({cols})::HUGEINT), 0) % 18446744073709551616"
    ).fetchall()[0]
    text = f"{DATA_SCHEME}\n{int(n)}\n{json.dumps(list(columns))}\n{int(total)}"
    return int(n), hashlib.sha256(text.encode("utf-8")).hexdigest()
