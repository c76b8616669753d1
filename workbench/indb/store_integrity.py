"""Stored model rows: the table's schema, one sha256 over each whole row, and the checks a row must
pass before a model is loaded from it.

Row hash (column ``row_sha256``, scheme ``workbench.indb.row/1``)::

    sha256(b"workbench.indb.row/1\\n" + canonical_json(metadata) + b"\\n" + onnx_bytes)

``metadata`` is every column except ``onnx`` and ``row_sha256``, as stored: text columns (the JSON
ones included) are hashed as their stored text, byte for byte; ``version`` as an integer;
``created_at`` as ISO 8601 (``2024-05-01T12:00:00``); NULL as ``null``, except in the columns
added later (``backend``, ``backend_reason``, ``explainer``), which are in ``metadata`` only where
not NULL, so a row written before them keeps its hash and clearing one of them breaks the hash.
``canonical_json`` is
``json.dumps(metadata, sort_keys=True, separators=(",", ":"), ensure_ascii=True)``, so the same row
always gives the same bytes, and a change to any field or to the ONNX bytes changes the hash.

Rows written before row hashes existed (``row_sha256`` NULL, "legacy" rows) keep the old rule for
their bytes (``sha256`` of the ONNX bytes) and are loaded only when their metadata passes the same
field checks and agrees with the ONNX graph (input names and types, number of outputs, class
labels). Their metadata is not covered by a hash and their NaN behaviour was never checked, so
their SQL functions refuse NaN; re-register such a model to give it a row hash and a NaN check.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import json
import re
from typing import Any

from workbench.core.errors import InputError, IntegrityError
from workbench.indb.database import damaged_file_error, is_damage
from workbench.indb.features import NUMERIC, STRING, Feature
from workbench.indb.legacy import check_against_graph

__all__ = [
    "COLUMNS",
    "OPTIONAL",
    "ROW_SCHEME",
    "TABLE",
    "StoredModel",
    "ensure_schema",
    "read_rows",
    "row_digest",
    "select_rows",
    "verify_row",
    "verify_rows",
]

TABLE = "workbench_models"
ROW_SCHEME = "workbench.indb.row/1"
COLUMNS = (
    "name",
    "version",
    "created_at",
    "task",
    "estimator",
    "features",
    "input_mode",
    "classes",
    "onnx",
    "sha256",
    "library_versions",
    "metrics",
    "parity",
    "sql_predict",
    "sql_proba",
    "sql_note",
    "backend",
    "backend_reason",
    "explainer",
    "row_sha256",
)
#: Columns added after row hashes: hashed only where not NULL (older rows keep their hash).
OPTIONAL = ("backend", "backend_reason", "explainer")
_METADATA = tuple(c for c in COLUMNS if c not in ("onnx", "row_sha256", *OPTIONAL))
_DDL = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    name VARCHAR NOT NULL,
    version INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    task VARCHAR NOT NULL,
    estimator VARCHAR NOT NULL,
    features VARCHAR NOT NULL,
    input_mode VARCHAR NOT NULL,
    classes VARCHAR,
    onnx BLOB NOT NULL,
    sha256 VARCHAR NOT NULL,
    library_versions VARCHAR NOT NULL,
    metrics VARCHAR NOT NULL,
    parity VARCHAR NOT NULL,
    sql_predict VARCHAR,
    sql_proba VARCHAR,
    sql_note VARCHAR,
    backend VARCHAR,
    backend_reason VARCHAR,
    explainer VARCHAR,
    row_sha256 VARCHAR,
    PRIMARY KEY (name, version)
)
"""
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def ensure_schema(con: Any, *, read_only: bool, path: str = ":memory:") -> tuple[str, ...]:
    """Create or upgrade the model table; return the columns it has.

    A writer creates the table, and adds ``row_sha256`` (old rows keep NULL there: legacy rows)
    and the :data:`OPTIONAL` columns (NULL: no backend recorded, no explainer) to a table made by
    an older version. A reader changes nothing: a missing table means no models, a missing column
    means NULL in every row.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
    read_only : bool
    path : str, default=":memory:"
        The database file, named in errors.

    Returns
    -------
    tuple of str
        Columns of :data:`TABLE` present now (empty when there is no table).

    Raises
    ------
    IntegrityError
        If the file is damaged.
    """
    import duckdb

    try:
        if not read_only:
            con.execute(_DDL)
        rows = con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = ? "
            "AND database_name = current_database() AND schema_name = 'main'",
            [TABLE],
        ).fetchall()
        have = tuple(r[0] for r in rows)
        for column in ("row_sha256", *OPTIONAL):
            if have and column not in have and not read_only:
                con.execute(f"ALTER TABLE {TABLE} ADD COLUMN {column} VARCHAR")
                have = (*have, column)
    except duckdb.Error as exc:
        if is_damage(exc):
            raise damaged_file_error(path, exc, None) from None
        raise InputError(f"Cannot prepare the model table in {path!r}: {exc}") from None
    return have


def select_rows(
    con: Any, have: tuple[str, ...], name: str | None = None, *, blobs: bool = True
) -> list[dict[str, Any]]:
    """Stored rows as dicts, oldest first (``row_sha256`` is None where the table lacks it).

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
    have : tuple of str
        Columns present (see :func:`ensure_schema`); empty means no table and no rows.
    name : str, optional
        Only the versions of this model.
    blobs : bool, default=True
        Read the ONNX bytes too (``onnx`` is None otherwise).

    Returns
    -------
    list of dict
    """
    if not have:
        return []
    exprs = [
        c if c in have and (blobs or c != "onnx") else f"NULL AS {c}" for c in COLUMNS
    ]
    where, params = ("WHERE name = ?", [name]) if name is not None else ("", [])
    cur = con.execute(
        f"SELECT {', '.join(exprs)} FROM {TABLE} {where} ORDER BY name, version", params
    )
    return [dict(zip(COLUMNS, r, strict=True)) for r in cur.fetchall()]


def _canonical(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        raise IntegrityError(f"Unexpected boolean {value!r} in a model row.")
    if isinstance(value, int):
        return int(value)
    if isinstance(value, _dt.datetime):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars from pandas
        return _canonical(value.item())
    raise IntegrityError(f"Unexpected {type(value).__name__} value in a model row.")


def row_digest(row: dict[str, Any]) -> str:
    """The row hash of scheme :data:`ROW_SCHEME` (see the module docstring).

    Parameters
    ----------
    row : dict
        Column name to stored value; ``onnx`` holds the bytes.

    Returns
    -------
    str
        Hex sha256.
    """
    meta = {c: _canonical(row.get(c)) for c in _METADATA}
    meta.update({c: _canonical(row[c]) for c in OPTIONAL if row.get(c) is not None})
    text = json.dumps(meta, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    h = hashlib.sha256()
    h.update(ROW_SCHEME.encode("ascii") + b"\n")
    h.update(text.encode("ascii") + b"\n")
    h.update(bytes(row["onnx"]))
    return h.hexdigest()


@dataclasses.dataclass(frozen=True)
class StoredModel:
    """One verified model row, with its JSON fields parsed.

    Attributes
    ----------
    name, version, created_at, task, estimator, input_mode, sha256, row_sha256, sql_predict,
    sql_proba, sql_note :
        The stored columns.
    backend : {"sql", "udf"}
        What runs the SQL functions: the compiled SQL (as macros) or the Arrow UDF ("udf" for
        rows without a recorded backend).
    backend_reason : str
        Why (empty for rows without one).
    explainer : str or None
        The explainer as JSON (:meth:`workbench.indb.Explainer.to_dict`), or None.
    features : list of Feature
    classes : list or None
    onnx : bytes
    library_versions, metrics, parity : dict
    """

    name: str
    version: int
    created_at: _dt.datetime
    task: str
    estimator: str
    features: list[Feature]
    input_mode: str
    classes: list[Any] | None
    onnx: bytes
    sha256: str
    row_sha256: str | None
    library_versions: dict[str, Any]
    metrics: dict[str, Any]
    parity: dict[str, Any]
    sql_predict: str | None
    sql_proba: str | None
    sql_note: str | None
    backend: str = "udf"
    backend_reason: str = ""
    explainer: str | None = None

    @property
    def label(self) -> str:
        """``"name v<version>"``, as in messages and :attr:`ModelStore.corrupt_`."""
        return f"{self.name} v{self.version}"

    @property
    def legacy(self) -> bool:
        """Whether the row predates row hashes (see the module docstring)."""
        return self.row_sha256 is None

    @property
    def column_mode(self) -> bool:
        """One ONNX input per column (True) or one float32 matrix (False)."""
        return self.input_mode == "columns"

    @property
    def nan_policy(self) -> str:
        """``"pass"`` (NaN reaches the model, checked at registration) or ``"error"``."""
        if self.legacy:
            return "error"
        return str(self.parity.get("nan", {}).get("policy", "error"))


def _json(row: dict[str, Any], column: str, kind: type) -> Any:
    text = row[column]
    if not isinstance(text, str):
        raise IntegrityError(f"its {column} field is not text")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise IntegrityError(f"its {column} field is not valid JSON ({exc.msg})") from None
    if not isinstance(value, kind):
        raise IntegrityError(f"its {column} field is not a JSON {kind.__name__}")
    return value


def _features(row: dict[str, Any]) -> list[Feature]:
    raw = _json(row, "features", list)
    feats = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise IntegrityError("its features field holds an entry without a name")
        if not _IDENT.match(item["name"]) or item.get("kind") not in (NUMERIC, STRING):
            raise IntegrityError(f"its features field has an invalid entry {item!r}")
        feat = Feature(item["name"], item["kind"])
        if item.get("sql_type", feat.sql_type) != feat.sql_type:
            raise IntegrityError(f"its features field has a wrong SQL type in {item!r}")
        feats.append(feat)
    names = [f.name for f in feats]
    if not feats or len(set(names)) != len(names):
        raise IntegrityError("its features field is empty or names a column twice")
    return feats


def _classes(row: dict[str, Any]) -> list[Any] | None:
    if row["task"] == "regression":
        if row["classes"] is not None:
            raise IntegrityError("it is a regressor but has class labels")
        return None
    classes = _json(row, "classes", list)
    ints = all(isinstance(c, int) and not isinstance(c, bool) for c in classes)
    strs = all(isinstance(c, str) for c in classes)
    if len(classes) < 2 or not (ints or strs) or len(set(classes)) != len(classes):
        raise IntegrityError(
            "its classes field is not a list of at least two distinct integers or strings"
        )
    return classes


def _parse(row: dict[str, Any]) -> StoredModel:
    name, version = row["name"], row["version"]
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise IntegrityError(f"its name {name!r} is not a valid model name")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise IntegrityError(f"its version {version!r} is not a positive integer")
    if row["task"] not in ("classification", "regression"):
        raise IntegrityError(
            f"its task {row['task']!r} is neither 'classification' nor 'regression'"
        )
    if row["input_mode"] not in ("columns", "matrix"):
        raise IntegrityError(f"its input_mode {row['input_mode']!r} is unknown")
    feats = _features(row)
    if row["input_mode"] == "matrix" and any(f.kind != NUMERIC for f in feats):
        raise IntegrityError("it takes text columns but stores a single numeric matrix input")
    if not isinstance(row["created_at"], _dt.datetime):
        raise IntegrityError("its created_at field is not a timestamp")
    for col in ("estimator", "sql_note", "sql_predict", "sql_proba", *OPTIONAL):
        if row.get(col) is not None and not isinstance(row[col], str):
            raise IntegrityError(f"its {col} field is not text")
    backend = row.get("backend") or "udf"
    compiled = row["sql_predict"] and (row["task"] == "regression" or row["sql_proba"])
    if backend not in ("sql", "udf") or (backend == "sql" and not compiled):
        raise IntegrityError(f"its backend {backend!r} is unknown or has no compiled SQL")
    if row.get("explainer") is not None:
        spec = _json(row, "explainer", dict)
        if spec.get("kind") not in ("linear", "trees"):
            raise IntegrityError("its explainer field is not an explainer")
    return StoredModel(
        name=name,
        version=int(version),
        created_at=row["created_at"],
        task=row["task"],
        estimator=str(row["estimator"]),
        features=feats,
        input_mode=row["input_mode"],
        classes=_classes(row),
        onnx=bytes(row["onnx"]),
        sha256=row["sha256"],
        row_sha256=row["row_sha256"],
        library_versions=_json(row, "library_versions", dict),
        metrics=_json(row, "metrics", dict),
        parity=_json(row, "parity", dict),
        sql_predict=row["sql_predict"],
        sql_proba=row["sql_proba"],
        sql_note=row["sql_note"],
        backend=backend,
        backend_reason=row.get("backend_reason") or "",
        explainer=row.get("explainer"),
    )


def verify_row(row: dict[str, Any]) -> StoredModel:
    """Check a raw row (hashes, then every field) and parse it.

    Parameters
    ----------
    row : dict
        As returned by :func:`select_rows`.

    Returns
    -------
    StoredModel

    Raises
    ------
    IntegrityError
        With the reason (``"sha256 of its ONNX bytes is ..."``, ``"its classes field is not
        valid JSON ..."``, ``"its metadata does not match its row hash ..."``), to be reported
        with the row's name and version.
    """
    blob = row["onnx"]
    if not isinstance(blob, bytes | bytearray | memoryview) or not bytes(blob):
        raise IntegrityError("its ONNX bytes are missing")
    recorded = row["sha256"]
    digest = hashlib.sha256(bytes(blob)).hexdigest()
    if not isinstance(recorded, str) or digest != recorded:
        shown = recorded[:16] if isinstance(recorded, str) else repr(recorded)
        raise IntegrityError(
            f"sha256 of its ONNX bytes is {digest[:16]}..., recorded {shown}..."
        )
    model = _parse(row)
    if model.row_sha256 is None:
        check_against_graph(model)
        return model
    if not isinstance(model.row_sha256, str) or not _HEX64.match(model.row_sha256):
        raise IntegrityError("its row_sha256 field is not a sha256 hex digest")
    if row_digest(row) != model.row_sha256:
        raise IntegrityError(
            "its metadata does not match its row hash (row_sha256): a field was changed after "
            "registration"
        )
    return model


def verify_rows(rows: list[dict[str, Any]]) -> tuple[list[StoredModel], dict[str, str]]:
    """Check every row: the models that pass, and ``"name v<k>"`` -> reason for the others."""
    good, bad = [], {}
    for row in rows:
        try:
            good.append(verify_row(row))
        except IntegrityError as exc:
            bad[f"{row['name']} v{row['version']}"] = str(exc)
    return good, bad


def read_rows(
    con: Any, have: tuple[str, ...], path: str, name: str | None = None, *, blobs: bool = True
) -> list[dict[str, Any]]:
    """:func:`select_rows`, with a damaged file reported as what can still be read.

    Raises
    ------
    IntegrityError
        If DuckDB cannot read the table back (checksum, short read); the message names the
        file and lists the models whose metadata is still readable.
    """
    import duckdb

    try:
        return select_rows(con, have, name, blobs=blobs)
    except duckdb.Error as exc:
        if not is_damage(exc):
            raise InputError(f"Cannot read {TABLE}: {exc}") from None
        readable = None
        try:
            meta = select_rows(con, have, blobs=False)
            readable = [f"{r['name']} v{r['version']}" for r in meta]
        except duckdb.Error:
            pass
        raise damaged_file_error(path, exc, readable) from None
