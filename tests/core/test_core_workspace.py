"""The workspace: one DuckDB file for datasets and results; a failed write changes nothing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.core.errors import InputError, InputTypeError, ResourceNotFoundError
from workbench.core.workspace import (
    ENV_VAR,
    Workspace,
    check_table_name,
    get_workspace,
    set_workspace,
)


def _frame(n: int = 30) -> pd.DataFrame:
    return pd.DataFrame(
        {"row_id": np.arange(500, 500 + n), "x": np.linspace(0, 1, n), "y": np.arange(n) % 2}
    )


def _snapshot(ws: Workspace) -> dict:
    return {t: ws.sql(f'SELECT * FROM "{t}" ORDER BY ALL').fetchall() for t in ws.tables()}


def test_add_then_read_back_from_the_file(tmp_path):
    path = tmp_path / "work.duckdb"
    with Workspace(path) as ws:
        stored = ws.add("clients", _frame(), target="y")
        assert stored.id == "row_id" and ws.tables() == ["clients"]
        ws.save("scores", pd.DataFrame({"row_id": [500, 501], "score": [0.1, 0.9]}), tool="test")
    with Workspace(path, read_only=True) as again:
        assert again.tables() == ["clients", "scores"]
        table = again.table("clients", target="y")
        np.testing.assert_array_equal(table.ids, _frame().row_id)
        log = again.sql("SELECT name, tool, n_rows FROM workbench_results").fetchall()
        assert log == [("scores", "test", 2)]
        with pytest.raises(InputError, match="read-only"):
            again.save("more", _frame())


def test_a_result_object_is_saved_as_its_frame():
    class Result:
        def to_frame(self) -> pd.DataFrame:
            return pd.DataFrame({"a": [1, 2, 3]})

    ws = Workspace(":memory:")
    ws.save("res", Result())
    assert ws.sql("SELECT sum(a) FROM res").fetchall() == [(6,)]
    with pytest.raises(InputTypeError, match="Cannot save a int"):
        ws.save("bad", 3)


def test_failed_writes_leave_the_workspace_as_it_was():
    ws = Workspace(":memory:")
    ws.add("clients", _frame(), target="y")
    before = _snapshot(ws)
    log_before = ws.sql("SELECT count(*) FROM workbench_datasets").fetchall()
    bad = [
        lambda: ws.add("clients", _frame(5), target="y"),  # exists, no replace
        lambda: ws.add("other", _frame().assign(y=np.nan), target="y"),  # target NaN
        lambda: ws.add("workbench_models", _frame(), target="y"),  # reserved
        lambda: ws.add("bad name", _frame(), target="y"),
    ]
    for call in bad:
        with pytest.raises(InputError):
            call()
    assert _snapshot(ws) == before
    assert ws.sql("SELECT count(*) FROM workbench_datasets").fetchall() == log_before
    # A failure after the table was written (the bookkeeping row) rolls the table back too.
    real = ws.con

    class FailingLog:
        def __getattr__(self, name):
            return getattr(real, name)

        def execute(self, sql, *args):
            if sql.startswith("INSERT INTO workbench_results"):
                raise __import__("duckdb").IOException("disk full")
            return real.execute(sql, *args)

    ws.con = FailingLog()
    with pytest.raises(InputError, match="disk full"):
        ws.save("scores", pd.DataFrame({"a": [1]}))
    with pytest.raises(InputError, match="disk full"):
        ws.save("clients", pd.DataFrame({"a": [1]}))
    ws.con = real
    assert _snapshot(ws) == before
    ws.add("clients", _frame(5), target="y", replace=True)
    assert ws.sql("SELECT count(*) FROM clients").fetchall() == [(5,)]


def test_names_and_paths_are_checked(tmp_path):
    for name in ["1abc", "a-b", "", "x" * 64, "WORKBENCH_x"]:
        with pytest.raises(InputError):
            check_table_name(name)
    with pytest.raises(InputTypeError):
        check_table_name(None)
    with pytest.raises(InputError, match="is a folder"):
        Workspace(tmp_path)
    with pytest.raises(ResourceNotFoundError):
        Workspace(tmp_path / "none.duckdb", read_only=True)
    with pytest.raises(ResourceNotFoundError, match="has no table 'nope'"):
        Workspace(":memory:").table("nope")


def test_the_shared_workspace_follows_the_environment(tmp_path, monkeypatch):
    path = tmp_path / "shared.duckdb"
    monkeypatch.setenv(ENV_VAR, str(path))
    set_workspace(None)
    try:
        assert get_workspace(create=False) is None and not path.exists()
        ws = get_workspace()
        assert ws.path == str(path) and path.exists()
        assert get_workspace() is ws
        mine = Workspace(":memory:")
        assert set_workspace(mine) is get_workspace()
    finally:
        set_workspace(None)


def test_add_keeps_every_column_of_the_dataset():
    frame = _frame().assign(day=pd.date_range("2025-01-01", periods=30), note="free text")
    ws = Workspace(":memory:")
    stored = ws.add("log", frame, target="y")
    assert stored.columns == list(frame.columns)
    assert [r[0] for r in ws.sql("DESCRIBE log").fetchall()] == list(frame.columns)


def test_a_workspace_can_wrap_an_open_connection(tmp_path):
    import duckdb

    con = duckdb.connect(str(tmp_path / "store.duckdb"))
    ws = Workspace(con)
    assert ws.con is con and ws.path.endswith("store.duckdb")
    ws.save("t", pd.DataFrame({"a": [1]}))
    assert con.execute("SELECT a FROM t").fetchall() == [(1,)]
    assert Workspace(duckdb.connect()).path == ":memory:"
