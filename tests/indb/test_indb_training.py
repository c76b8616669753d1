"""Training helper, demo table, the %%sql magic and import lightness."""

from __future__ import annotations

import subprocess
import sys

import duckdb
import numpy as np
import pandas as pd
import pytest

from tests.indb.conftest import FEATURES
from workbench.core.errors import InputError, InputTypeError, UnknownNameError
from workbench.indb import (
    MODEL_TYPES,
    ModelStore,
    create_customers_table,
    make_customers,
    set_store,
    train_model,
)


def test_make_customers_is_seeded_and_realistic():
    a = make_customers(300, random_state=4)
    b = make_customers(300, random_state=4)
    pd.testing.assert_frame_equal(a, b)
    assert a.shape == (300, 13)
    assert set(a["contract"]) <= {"month-to-month", "one-year", "two-year"}
    assert 0.2 < a["churned"].mean() < 0.7
    with pytest.raises(InputError, match=r"n_rows must lie in \[1, 5e\+06\]"):
        make_customers(0)
    with pytest.raises(InputTypeError, match="n_rows must be an integer"):
        make_customers(2.5)


def test_create_customers_table():
    con = duckdb.connect()
    assert create_customers_table(con, "c", 100) == "c"
    assert con.execute("SELECT count(*) FROM c").fetchall() == [(100,)]
    with pytest.raises(InputError, match="plain identifier"):
        create_customers_table(con, "bad name", 10)
    with pytest.raises(InputTypeError, match="duckdb connection"):
        create_customers_table("db.duckdb", "c", 10)
    con.close()


@pytest.mark.parametrize("kind", list(MODEL_TYPES))
def test_train_model_kinds(customers, kind):
    res = train_model(customers, "churned", FEATURES, kind, random_state=0)
    assert res.task == "classification" and 0.6 < res.metrics["accuracy"] <= 1.0
    assert res.metrics["roc_auc"] > 0.65
    assert res.n_train + res.n_test == len(customers)
    assert list(res.X_sample.columns) == FEATURES
    assert "accuracy" in res.to_frame()["metric"].tolist()


def test_train_model_regression(customers):
    res = train_model(customers, "total_charges", ["tenure_months", "monthly_charges"], "tree")
    assert res.task == "regression" and res.metrics["r2"] > 0.8


def test_train_model_bad_inputs(customers):
    with pytest.raises(InputTypeError, match="frame must be a pandas DataFrame"):
        train_model(customers.to_numpy(), "churned", FEATURES)
    with pytest.raises(InputTypeError, match="features must be a list"):
        train_model(customers, "churned", "age")
    with pytest.raises(InputError, match="features is empty"):
        train_model(customers, "churned", [])
    with pytest.raises(InputError, match="also a feature"):
        train_model(customers, "churned", ["churned", "age"])
    with pytest.raises(InputError, match="lacks column"):
        train_model(customers, "churned", ["nope"])
    with pytest.raises(UnknownNameError, match="Unknown model type 'svm'"):
        train_model(customers, "churned", FEATURES, "svm")
    with pytest.raises(InputError, match="test_size must lie"):
        train_model(customers, "churned", FEATURES, test_size=1.5)
    with pytest.raises(InputError, match="n_jobs"):
        train_model(customers, "churned", FEATURES, n_jobs=0)
    holes = customers.copy()
    holes.loc[:3, "churned"] = np.nan
    with pytest.raises(InputError, match="4 NULL value"):
        train_model(holes, "churned", FEATURES)
    with pytest.raises(InputError, match="at least 20"):
        train_model(customers.iloc[:10], "churned", FEATURES)
    nan = customers.copy()
    nan.loc[:3, "age"] = np.nan
    with pytest.raises(InputError, match="model='boosting'"):
        train_model(nan, "churned", ["age", "contract"], "linear")
    assert train_model(nan, "churned", ["age", "contract"], "boosting").task == "classification"


@pytest.fixture()
def shell(monkeypatch):
    from IPython.core.interactiveshell import InteractiveShell

    import workbench.indb.session

    monkeypatch.setattr(workbench.indb.session, "_default", None)  # restored after the test
    sh = InteractiveShell.instance()
    yield sh
    InteractiveShell.clear_instance()  # leave no global shell to the tests that follow


def test_sql_magic(linear, shell):
    import workbench.indb

    workbench.indb.load_ipython_extension(shell)
    store = ModelStore()
    set_store(store)
    store.register("churn", linear.model, linear.X_sample)
    shell.user_ns.pop("scored", None)
    out = shell.run_cell_magic(
        "sql", "scored", "SELECT churn_predict(12, 80.0, 3, 2.0, 'month-to-month') AS y"
    )
    assert out["y"].tolist() == [
        linear.model.predict(
            pd.DataFrame([[12, 80.0, 3, 2.0, "month-to-month"]], columns=FEATURES)
        )[0]
    ]
    assert shell.user_ns["scored"] is out
    line = shell.run_line_magic("sql", "SELECT count(*) AS n FROM workbench_models")
    assert line["n"].tolist() == [1]
    with pytest.raises(InputError, match="optional variable name"):
        shell.run_cell_magic("sql", "not a name", "SELECT 1")
    with pytest.raises(InputError, match="takes 5 argument"):
        shell.run_cell_magic("sql", "", "SELECT churn_predict(1)")
    store.close()


def test_import_is_light():
    code = (
        "import sys, workbench.indb, workbench.indb.spec; "
        "heavy = [m for m in ('ipywidgets', 'onnxruntime', 'skl2onnx', 'duckdb', 'sklearn') "
        "if m in sys.modules]; print(heavy); "
        "assert callable(workbench.indb.load_ipython_extension)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
