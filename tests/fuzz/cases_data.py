"""Fuzz cases of the core data layer: ``workbench.core.sources``, ``tables`` and ``workspace``.

Three case groups (one per module, each with its ``CASES`` and ``CONSTANTS``), because the
coverage test matches every group against one module's ``__all__``.
"""

from __future__ import annotations

import functools
import io
import types

import duckdb
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from tests.fuzz.harness import Case
from workbench.core import sources, tables, workspace


@functools.cache
def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 60
    return pd.DataFrame(
        {
            "row_id": np.arange(100, 100 + n),
            "x": rng.normal(size=n),
            "kind": rng.choice(["a", "b", "c"], n),
            "y": np.arange(n) % 2,
        }
    )


@functools.cache
def _csv_bytes() -> bytes:
    return _frame().to_csv(index=False).encode()


@functools.cache
def _parquet_bytes() -> bytes:
    buf = io.BytesIO()
    _frame().to_parquet(buf, index=False)
    return buf.getvalue()


@functools.cache
def _table() -> tables.UserTable:
    return tables.load_table(_frame(), target="y")


def _fitted() -> LogisticRegression:
    t = _table()
    return LogisticRegression().fit(t.X, t.y)


def _load(**kw):
    t = tables.load_table(**kw)
    return {"n": t.n_rows, "X": t.X, "names": t.feature_names_out}


def _open(**kw):
    src = sources.open_source(**kw)
    return src.relation.limit(3).arrow().read_all().num_rows


def _upload(**kw):
    path = sources.read_upload(**kw)
    return tables.load_table(path).n_rows


def _workspace_round_trip(name, source, target, frame, tool):
    ws = workspace.Workspace(":memory:")
    stored = ws.add(name, source, target=target)
    ws.save(f"{name}_result", frame, tool=tool)
    return [stored.n_rows, ws.table(name, target=target).n_rows, ws.tables()]


def _shared_workspace(path):
    try:
        return repr(workspace.set_workspace(path)), repr(workspace.get_workspace())
    finally:
        workspace.set_workspace(None)


SOURCES = types.SimpleNamespace(
    CONSTANTS={"sources.FILE_FORMATS", "sources.available_memory"},
    CASES=[
        Case("sources.open_source", _open, lambda: {"source": _frame(), "con": duckdb.connect()},
             ("sources.open_source", "sources.Source")),
        Case("sources.read_upload.csv", _upload,
             lambda: {"filename": "t.csv", "content": _csv_bytes(), "max_bytes": 10**6},
             ("sources.read_upload",)),
        Case("sources.read_upload.parquet", _upload,
             lambda: {"filename": "t.parquet", "content": _parquet_bytes()},
             ("sources.read_upload",), params=("filename", "content")),
        Case("sources.check_unique_names", sources.check_unique_names,
             lambda: {"names": ["a", "b"], "what": "The table"}, ("sources.check_unique_names",)),
        Case("sources.duckdb_error", lambda **kw: str(sources.duckdb_error(**kw)),
             lambda: {"exc": duckdb.ParserException("syntax error"), "what": "the query"},
             ("sources.duckdb_error",)),
    ],
)

TABLES = types.SimpleNamespace(
    CONSTANTS={"tables.MAX_CLASSES", "tables.TASKS"},
    CASES=[
        Case("tables.load_table", _load,
             lambda: {"source": _frame(), "target": "y", "features": ["x", "kind"],
                      "id": "row_id", "categorical": ["kind"], "task": "classification",
                      "min_rows": 2, "max_rows": 50, "random_state": 0},
             ("tables.load_table", "tables.UserTable"), max_examples=60),
        Case("tables.check_model_for", lambda **kw: type(tables.check_model_for(**kw)).__name__,
             lambda: {"model": _fitted(), "table": _table(), "kind": "classifier",
                      "methods": ("predict_proba",)},
             ("tables.check_model_for",)),
    ],
)

WORKSPACE = types.SimpleNamespace(
    CONSTANTS={"workspace.DEFAULT_PATH", "workspace.ENV_VAR"},
    CASES=[
        Case("workspace.Workspace", _workspace_round_trip,
             lambda: {"name": "clients", "source": _frame(), "target": "y",
                      "frame": _frame().head(5), "tool": "fuzz"},
             ("workspace.Workspace",), max_examples=40),
        Case("workspace.check_table_name", workspace.check_table_name,
             lambda: {"name": "valuation_values"}, ("workspace.check_table_name",)),
        Case("workspace.set_workspace", _shared_workspace, lambda: {"path": ":memory:"},
             ("workspace.set_workspace", "workspace.get_workspace")),
    ],
)
