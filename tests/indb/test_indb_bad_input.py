"""Bad input at every public name of ``workbench.indb``: a WorkbenchError naming the problem and
the fix, never a numpy/scikit-learn/DuckDB traceback (seeds 'x' and -1 used to reach numpy, and
1e308 overflowed float32 inside ONNX)."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from tests.indb.conftest import FEATURES
from workbench.core.errors import InputError, InputTypeError, WorkbenchError
from workbench.indb import (
    Feature,
    ModelStore,
    connect,
    create_customers_table,
    load_ipython_extension,
    make_customers,
    set_store,
    train_model,
)
from workbench.indb.magic import sql_magic

BAD_SEEDS = [("x", InputTypeError), (-1, InputError), (2**32, InputError), (True, InputTypeError),
             (1.5, InputTypeError)]


@pytest.fixture(scope="module")
def small():
    return make_customers(200, random_state=0)


@pytest.mark.parametrize(("seed", "error"), BAD_SEEDS)
def test_bad_seeds_everywhere(small, linear, seed, error):
    match = r"random_state must (be None or an integer|lie in \[0, 2\*\*32 - 1\])"
    with pytest.raises(error, match=match):
        make_customers(10, random_state=seed)
    with pytest.raises(error, match=match):
        create_customers_table(duckdb.connect(), "c", 10, random_state=seed)
    with pytest.raises(error, match=match):
        train_model(small, "churned", FEATURES, "forest", random_state=seed)
    with ModelStore() as store, pytest.raises(error, match=match):
        store.register("m", linear.model, linear.X_sample, random_state=seed)


def test_make_customers_and_table_arguments(tmp_path):
    with pytest.raises(InputError, match=r"n_rows must lie in \[1, 5e\+06\].*chunks"):
        make_customers(10**9)
    with pytest.raises(InputTypeError, match="n_rows must be an integer"):
        make_customers("many")
    con = duckdb.connect()
    with pytest.raises(InputError, match="reserved for the store"):
        create_customers_table(con, "workbench_models", 10)
    with pytest.raises(InputError, match="plain identifier"):
        create_customers_table(con, "bad name", 10)
    with pytest.raises(InputTypeError, match="Table name must be a string"):
        create_customers_table(con, 7, 10)
    with pytest.raises(InputTypeError, match="duckdb connection or a ModelStore"):
        create_customers_table("db.duckdb", "c", 10)
    with ModelStore() as store:  # a store is accepted for its connection
        assert create_customers_table(store, "c", 10) == "c"
    path = tmp_path / "r.duckdb"
    duckdb.connect(str(path)).close()
    ro = duckdb.connect(str(path), read_only=True)
    with pytest.raises(InputError, match=r"Cannot create table 'c' \(the connection is read-only"):
        create_customers_table(ro, "c", 10)
    ro.close()


def _with(frame, col, value, rows=slice(0, 3)):
    out = frame.copy()
    out[col] = out[col].astype(object if isinstance(value, str) or value is None else float)
    out.loc[out.index[rows], col] = value
    return out


def test_train_model_numbers_and_columns(small):
    for model in ("linear", "boosting"):
        for bad, what in ((np.inf, "infinite"), (1e308, "overflow float32"),
                          (-4e38, "overflow float32")):
            with pytest.raises(InputError, match=f"frame column 'age'.*{what}"):
                train_model(_with(small, "age", bad), "churned", ["age", "contract"], model)
    with pytest.raises(InputError, match="model='boosting'"):
        train_model(_with(small, "age", np.nan), "churned", ["age"], "tree")
    with pytest.raises(InputError, match=r"target 'total_charges'.*(infinite|float32)"):
        train_model(_with(small, "total_charges", 1e308), "total_charges", ["age"], "linear")
    for bad in (np.nan, 0.0, 1.0, np.inf):
        with pytest.raises(InputError, match="test_size"):
            train_model(small, "churned", FEATURES, test_size=bad)
    with pytest.raises(InputError, match=r"leaves .* training .* test rows"):
        train_model(small.iloc[:20], "churned", FEATURES, test_size=0.9)
    with pytest.raises(InputTypeError, match="target must be a column name"):
        train_model(small, 3, FEATURES)
    with pytest.raises(InputTypeError, match="features must be column names"):
        train_model(small, "churned", ["age", 3])
    with pytest.raises(InputError, match="names a column twice"):
        train_model(small, "churned", ["age", "age"])
    with pytest.raises(InputError, match="1 class"):
        train_model(small.assign(churned=1), "churned", ["age"])
    ids = small.assign(name=[f"c{i}" for i in range(len(small))])
    with pytest.raises(InputError, match="200 distinct values; classification takes at most"):
        train_model(ids, "name", ["age"])
    with pytest.raises(InputTypeError, match="Feature 'day' has dtype datetime64"):
        train_model(small.assign(day=pd.Timestamp("2024-01-01")), "churned", ["day"])
    with pytest.raises(InputError, match="frame column 'contract' has 3 missing text value"):
        train_model(_with(small, "contract", None), "churned", ["contract"])
    with pytest.raises(InputTypeError, match="mixes text with int"):
        train_model(small.assign(contract=["a", 1] * 100), "churned", ["contract"])


def test_train_model_accepts_what_it_documents(small, store):
    # 0.0/1.0 targets become integer labels, so the model registers.
    res = train_model(small.assign(churned=small["churned"].astype(float)), "churned", ["age"])
    assert res.task == "classification" and store.register("f", res.model, res.X_sample)
    # Nullable integer columns with NA are NaN for boosting.
    holes = small.assign(age=pd.array([None, *small["age"][1:]], dtype="Int64"))
    assert train_model(holes, "churned", ["age", "contract"], "boosting").task == "classification"
    # A float target with few, non-integer values is regressed.
    halves = small.assign(score=small["support_calls"] + 0.5)
    assert train_model(halves, "score", ["age"], "tree").task == "regression"


def test_register_arguments(store, linear):
    X, m = linear.X_sample, linear.model
    for kw, err, match in [
        ({"tolerance": float("nan")}, InputError, "tolerance must be a finite number"),
        ({"tolerance": float("inf")}, InputError, "tolerance must be a finite number"),
        ({"tolerance": 0.0}, InputError, r"tolerance must lie in \(0, 1\)"),
        ({"parity_rows": 10**9}, InputError, r"parity_rows must lie in \[1, 100000\]"),
        ({"parity_rows": 0}, InputError, "parity_rows must lie in"),
        ({"max_nodes": 10**9}, InputError, r"max_nodes must lie in \[1, 100000\]"),
        ({"metrics": {"a": float("nan")}}, InputError, r"metrics\['a'\] must be a finite"),
        ({"metrics": {"a": "x"}}, InputTypeError, r"metrics\['a'\] must be a number"),
        ({"metrics": {1: 2.0}}, InputTypeError, "metrics names must be strings"),
        ({"allow_nan": "yes"}, InputTypeError, "allow_nan must be True, False or None"),
        ({"compile": "no"}, InputTypeError, "compile must be True or False"),
        ({"y": [np.nan] * len(X)}, InputError, "y contains missing labels"),
        ({"y": (["a", 1] * len(X))[: len(X)]}, InputError, "mixes label types"),
        ({"y": ["a"] * len(X)}, InputError, "y holds string labels but the model's classes"),
        ({"y": [0, 1]}, InputError, "different numbers of rows"),
    ]:
        with pytest.raises(err, match=match):
            store.register("m", m, X, **kw)
    with pytest.raises(InputTypeError, match="estimator instance"):
        store.register("m", "model", X)
    assert store.list_models().empty


def test_version_and_query_arguments(store, linear):
    store.register("churn", linear.model, linear.X_sample)
    for bad, err in ((0, InputError), (-1, InputError), (1.5, InputTypeError),
                     (True, InputTypeError), ("1", InputTypeError)):
        for call in (store.describe, store.drop, lambda n, v: store.to_sql(n, version=v)):
            with pytest.raises(err, match="version must"):
                call("churn", bad)
    with pytest.raises(InputTypeError, match="params must be a list, tuple or dict"):
        store.sql("SELECT ?", "x")
    with pytest.raises(InputTypeError, match="params must be"):
        store.sql("SELECT ?", 5)
    assert store.sql("SELECT ?::INTEGER AS a", [3])["a"].tolist() == [3]


def test_store_constructor_and_helpers(tmp_path):
    with pytest.raises(InputError, match=r"onnx_threads must lie in \[1, 64\]"):
        ModelStore(onnx_threads=1000)
    with pytest.raises(InputTypeError, match="read_only must be True or False"):
        ModelStore(read_only="yes")
    with pytest.raises(InputTypeError, match="database must be a file path"):
        ModelStore(b"models.duckdb")
    with pytest.raises(InputError, match="database is empty"):
        ModelStore("  ")
    with pytest.raises(InputTypeError, match="Expected a ModelStore"):
        set_store("memory")
    with pytest.raises(InputTypeError, match="ipython must be an IPython shell"):
        load_ipython_extension(None)
    with pytest.raises(InputError, match="cannot be opened read-only"):
        connect(read_only=True)
    for data, err in (({"name": "a", "kind": "bogus"}, InputError), (None, InputTypeError),
                      ({"name": 3, "kind": "numeric"}, InputTypeError),
                      ({"name": "a b", "kind": "numeric"}, InputError),
                      ({"name": "a", "kind": "numeric", "sql_type": "VARCHAR"}, InputError)):
        with pytest.raises(err):
            Feature.from_dict(data)
    assert Feature.from_dict({"name": "a", "kind": "string"}).sql_type == "VARCHAR"


def test_sql_magic_arguments(monkeypatch):
    import workbench.indb.session

    monkeypatch.setattr(workbench.indb.session, "_default", None)
    with pytest.raises(InputError, match="optional variable name"):
        sql_magic("class", "SELECT 1")
    with pytest.raises(InputTypeError, match="takes text"):
        sql_magic(3)
    with pytest.raises(InputError, match="query is empty"):
        sql_magic("", "   ")
    with pytest.raises(InputError, match="SQL failed"):
        sql_magic("SELEC 1")
    ns: dict = {}
    assert sql_magic("out", "SELECT 1 AS a", namespace=ns)["a"].tolist() == [1]
    assert ns["out"]["a"].tolist() == [1]
    workbench.indb.session.get_store().close()


def test_every_error_is_a_workbench_error():
    """The classes raised above are the workbench's own (panels catch WorkbenchError)."""
    from workbench.indb.database import StoreLockedError

    assert issubclass(StoreLockedError, WorkbenchError) and issubclass(StoreLockedError, InputError)
