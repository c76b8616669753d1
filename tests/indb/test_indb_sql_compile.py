"""Compiling scikit-learn models to plain SQL: parity in DuckDB and SQLite, and refusals."""

from __future__ import annotations

import sqlite3

import duckdb
import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import Lasso, LinearRegression, LogisticRegression, Ridge
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import (
    MaxAbsScaler,
    MinMaxScaler,
    OneHotEncoder,
    QuantileTransformer,
    StandardScaler,
)
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from workbench.core.errors import (
    InputError,
    InputTypeError,
    ModelError,
    NotFittedError,
    UnknownNameError,
)
from workbench.indb import compile_sql
from workbench.indb.sql_compile import quote_identifier, sql_literal

NUM = ["tenure_months", "monthly_charges", "support_calls", "satisfaction"]
CAT = ["contract", "payment_method"]


def _duck(expr: str, frame: pd.DataFrame) -> np.ndarray:
    con = duckdb.connect()
    con.register("t", frame)
    out = [r[0] for r in con.execute(f"SELECT {expr} FROM t").fetchall()]
    con.close()
    return np.asarray(out)


def _pipe(est, scaler=None, drop=None):
    pre = ColumnTransformer(
        [
            ("num", scaler or StandardScaler(), NUM),
            ("cat", OneHotEncoder(handle_unknown="ignore", drop=drop), CAT),
        ]
    )
    return Pipeline([("pre", pre), ("est", est)])


@pytest.fixture(scope="module")
def data():
    from workbench.indb import make_customers

    df = make_customers(2000, random_state=1)
    return df[NUM + CAT], df["churned"], df


@pytest.mark.parametrize(
    "est, scaler, drop",
    [
        (LinearRegression(), None, None),
        (Ridge(alpha=3.0), MinMaxScaler(), "first"),
        (Lasso(alpha=0.01), MaxAbsScaler(), None),
    ],
)
def test_linear_regressors_exact(data, est, scaler, drop):
    X, _, df = data
    model = _pipe(est, scaler, drop).fit(X, df["total_charges"])
    got = _duck(compile_sql(model), X).astype(float)
    np.testing.assert_allclose(got, model.predict(X), rtol=1e-12, atol=1e-9)


def test_logistic_binary_predict_and_proba(data):
    X, y, _ = data
    model = _pipe(LogisticRegression(max_iter=500)).fit(X, y)
    proba = _duck(compile_sql(model, output="proba"), X).astype(float)
    np.testing.assert_allclose(proba, model.predict_proba(X)[:, 1], atol=1e-12)
    np.testing.assert_array_equal(_duck(compile_sql(model), X), model.predict(X))


def test_logistic_multiclass_labels(data):
    X, _, df = data
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(
        X[NUM], df["contract"]
    )
    np.testing.assert_array_equal(_duck(compile_sql(model), X[NUM]), model.predict(X[NUM]))
    lists = _duck(compile_sql(model, output="proba_list"), X[NUM])  # DuckDB DOUBLE[]
    got = np.asarray([np.asarray(r, float) for r in lists])
    np.testing.assert_allclose(got, model.predict_proba(X[NUM]), atol=1e-14)
    with pytest.raises(ModelError, match="multiclass model are a list"):
        compile_sql(model, output="proba")
    with pytest.raises(ModelError, match="needs dialect='duckdb'"):
        compile_sql(model, output="proba_list", dialect="portable")
    binary = make_pipeline(StandardScaler(), LogisticRegression()).fit(X[NUM], df["churned"])
    with pytest.raises(ModelError, match="3 or more classes"):
        compile_sql(binary, output="proba_list")


def test_trees_and_small_forest_exact(data):
    X, y, df = data
    tree = _pipe(DecisionTreeClassifier(max_depth=7, random_state=0)).fit(X, y)
    np.testing.assert_array_equal(_duck(compile_sql(tree), X), tree.predict(X))
    np.testing.assert_array_equal(
        _duck(compile_sql(tree, output="proba"), X).astype(float), tree.predict_proba(X)[:, 1]
    )
    forest = _pipe(RandomForestClassifier(n_estimators=8, max_depth=5, random_state=0)).fit(X, y)
    p = _duck(compile_sql(forest, output="proba"), X).astype(float)
    np.testing.assert_allclose(p, forest.predict_proba(X)[:, 1], atol=1e-12)
    np.testing.assert_array_equal(_duck(compile_sql(forest), X), forest.predict(X))
    reg = DecisionTreeRegressor(max_depth=6, random_state=0).fit(X[NUM], df["total_charges"])
    np.testing.assert_array_equal(_duck(compile_sql(reg), X).astype(float), reg.predict(X[NUM]))
    rf = RandomForestRegressor(n_estimators=5, max_depth=4, random_state=0).fit(X[NUM], y)
    np.testing.assert_allclose(_duck(compile_sql(rf), X).astype(float), rf.predict(X[NUM]))
    multi = DecisionTreeClassifier(max_depth=4, random_state=0).fit(X[NUM], df["contract"])
    np.testing.assert_array_equal(_duck(compile_sql(multi), X), multi.predict(X[NUM]))


def test_same_sql_runs_in_sqlite(data):
    X, y, _ = data
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X[NUM], y)
    con = sqlite3.connect(":memory:")
    X.to_sql("t", con, index=False)
    got = [r[0] for r in con.execute(f"SELECT {compile_sql(model, output='proba')} FROM t")]
    np.testing.assert_allclose(got, model.predict_proba(X[NUM])[:, 1], atol=1e-12)
    ints = ["tenure_months", "support_calls"]
    tree = DecisionTreeClassifier(max_depth=5, random_state=0).fit(X[ints], y)
    sql = compile_sql(tree, dialect="portable")
    assert sql == compile_sql(tree)  # one tree: no DuckDB list functions in either dialect
    got = [r[0] for r in con.execute(f"SELECT {sql} FROM t")]
    np.testing.assert_array_equal(got, tree.predict(X[ints]))
    con.close()


def test_null_input_gives_null(data):
    X, y, _ = data
    model = _pipe(LogisticRegression(max_iter=500)).fit(X, y)
    frame = X.iloc[:3].copy()
    frame.loc[frame.index[0], "contract"] = None
    frame.loc[frame.index[1], "tenure_months"] = None
    got = _duck(compile_sql(model, output="proba"), frame)
    assert got[0] is None and got[1] is None and got[2] is not None


def test_unsupported_and_bad_arguments(data):
    X, y, _ = data
    with pytest.raises(ModelError, match="SVC is not compiled"):
        compile_sql(SVC().fit(X[NUM].iloc[:300], y.iloc[:300]))
    with pytest.raises(ModelError, match="QuantileTransformer is not compiled"):
        compile_sql(make_pipeline(QuantileTransformer(n_quantiles=50), Ridge()).fit(X[NUM], y))
    big = RandomForestClassifier(n_estimators=30, max_depth=8, random_state=0).fit(X[NUM], y)
    with pytest.raises(ModelError, match="max_nodes=2000"):
        compile_sql(big, max_nodes=2000)
    with pytest.raises(UnknownNameError, match="Unknown dialect 'sqlite'"):
        compile_sql(Ridge().fit(X[NUM], y), dialect="sqlite")
    with pytest.raises(ModelError, match="regressor: it has no probabilities"):
        compile_sql(Ridge().fit(X[NUM], y), output="proba")
    with pytest.raises(UnknownNameError, match="Unknown output 'logit'"):
        compile_sql(Ridge().fit(X[NUM], y), output="logit")
    with pytest.raises(InputError, match=r"max_nodes must lie in \[1, 100000\]"):
        compile_sql(Ridge().fit(X[NUM], y), max_nodes=0)
    with pytest.raises(InputError, match=r"max_nodes must lie in .*cannot be planned"):
        compile_sql(Ridge().fit(X[NUM], y), max_nodes=10**9)
    with pytest.raises(InputTypeError, match="max_nodes must be an integer"):
        compile_sql(Ridge().fit(X[NUM], y), max_nodes="many")
    with pytest.raises(InputTypeError, match="features must be a list"):
        compile_sql(Ridge().fit(X[NUM], y), "tenure_months")
    with pytest.raises(InputTypeError, match="features must hold strings"):
        compile_sql(Ridge().fit(X[NUM], y), [1, 2, 3, 4])
    with pytest.raises(InputError, match="names a column twice"):
        compile_sql(Ridge().fit(X[NUM], y), [NUM[0]] * 4)
    with pytest.raises(InputTypeError, match="estimator instance"):
        compile_sql(Ridge)
    with pytest.raises(InputTypeError, match="estimator instance"):
        compile_sql("not a model")
    with pytest.raises(NotFittedError, match="not fitted"):
        compile_sql(Ridge())
    with pytest.raises(InputError, match="fitted without column names"):
        compile_sql(Ridge().fit(X[NUM].to_numpy(), y))
    with pytest.raises(InputError, match="features has 2 names but the model reads 4"):
        compile_sql(Ridge().fit(X[NUM], y), ["a", "b"])
    np.testing.assert_allclose(
        _duck(compile_sql(Ridge().fit(X[NUM].to_numpy(), y), NUM), X).astype(float),
        Ridge().fit(X[NUM].to_numpy(), y).predict(X[NUM].to_numpy()),
    )


def test_literals_and_identifiers():
    assert sql_literal("it's") == "'it''s'"
    assert sql_literal(np.int64(3)) == "3"
    assert sql_literal(-0.5) == "(-0.5e0)"
    assert quote_identifier('a"b') == '"a""b"'
    with pytest.raises(ModelError, match="Boolean class labels"):
        sql_literal(True)
    with pytest.raises(ModelError, match="non-finite"):
        sql_literal(float("inf"))
