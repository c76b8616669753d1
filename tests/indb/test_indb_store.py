"""The model store: registering, calling from SQL, versions, reopening, integrity, rollback."""

from __future__ import annotations

import hashlib

import duckdb
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, SplineTransformer, StandardScaler

from tests.indb.conftest import FEATURES
from tests.indb.helpers import Tripwire
from workbench.core.errors import (
    InputError,
    InputTypeError,
    IntegrityError,
    ModelError,
    NotFittedError,
    UnknownNameError,
)
from workbench.indb import TABLE, ModelStore

ARGS = ", ".join(FEATURES)


def _count(store):
    return store.con.execute(f"SELECT count(*) FROM {TABLE}").fetchall()[0][0]


def _functions(store, prefix):
    rows = store.con.execute(
        "SELECT DISTINCT function_name FROM duckdb_functions() WHERE function_name LIKE ?",
        [prefix + "%"],
    ).fetchall()
    return sorted(r[0] for r in rows)


def test_sql_function_matches_sklearn(store, linear, customers):
    info = store.register("churn", linear.model, linear.X_sample, y=None, metrics=linear.metrics)
    assert info.version == 1 and info.task == "classification"
    assert info.parity["max_abs_diff"] < 1e-4 and info.parity["label_mismatches"] == 0
    assert (
        info.sha256
        == hashlib.sha256(
            store.con.execute(f"SELECT onnx FROM {TABLE}").fetchall()[0][0]
        ).hexdigest()
    )
    assert info.metrics["accuracy"] == linear.metrics["accuracy"]
    got = store.sql(
        f"SELECT churn_predict({ARGS}) AS y, churn_proba({ARGS}) AS p FROM customers "
        "ORDER BY customer_id"
    )
    ref_p = linear.model.predict_proba(customers[FEATURES])[:, 1]
    np.testing.assert_allclose(got["p"].to_numpy(), ref_p, atol=1e-5)
    assert (got["y"].to_numpy() == linear.model.predict(customers[FEATURES])).mean() > 0.999
    assert set(info.functions) == {
        "churn_predict",
        "churn_proba",
        "churn_v1_predict",
        "churn_v1_proba",
        "churn_explain",
        "churn_v1_explain",
    }
    assert info.signature().startswith("churn_predict(tenure_months DOUBLE")
    assert "contract VARCHAR" in info.signature()


def test_versions_list_describe_drop(store, linear, boosting):
    store.register("churn", linear.model, linear.X_sample)
    info2 = store.register("churn", boosting.model, boosting.X_sample)
    assert info2.version == 2
    listing = store.list_models()
    assert listing[["name", "version"]].values.tolist() == [["churn", 1], ["churn", 2]]
    assert listing["compiled_sql"].tolist() == [True, False]
    q = (
        f"SELECT churn_proba({ARGS}) a, churn_v2_proba({ARGS}) b, churn_v1_proba({ARGS}) c "
        "FROM customers LIMIT 200"
    )
    got = store.sql(q)
    np.testing.assert_array_equal(got["a"], got["b"])
    assert not np.allclose(got["a"], got["c"])
    assert store.describe("churn").version == 2
    assert store.describe("churn", 1).estimator.endswith("LogisticRegression)")
    assert store.drop("churn", version=2) == 1
    got = store.sql(q.replace(", churn_v2_proba(" + ARGS + ") b", ""))
    np.testing.assert_array_equal(got["a"], got["c"])
    assert "churn_v2_proba" not in _functions(store, "churn")
    assert store.drop("churn") == 1
    assert _functions(store, "churn") == [] and _count(store) == 0


def test_reopen_recreates_functions(tmp_path, linear, customers):
    path = tmp_path / "models.duckdb"
    with ModelStore(path) as s:
        s.register("churn", linear.model, linear.X_sample)
        s.con.register("df", customers)
        s.con.execute("CREATE TABLE customers AS SELECT * FROM df")
        s.con.execute(f"CREATE VIEW scored AS SELECT churn_proba({ARGS}) AS p FROM customers")
        before = s.sql("SELECT p FROM scored")
    with ModelStore(path) as s:
        after = s.sql("SELECT p FROM scored")
        assert s.describe("churn").functions[0] == "churn_predict"
    pd.testing.assert_frame_equal(before, after)


def test_tampered_bytes_refused_on_reopen(tmp_path, linear):
    path = tmp_path / "models.duckdb"
    with ModelStore(path) as s:
        s.register("churn", linear.model, linear.X_sample)
        s.register("other", linear.model, linear.X_sample)
    con = duckdb.connect(str(path))
    blob = con.execute(f"SELECT onnx FROM {TABLE} WHERE name = 'churn'").fetchall()[0][0]
    tampered = bytearray(blob)
    tampered[len(tampered) // 2] ^= 0xFF
    con.execute(f"UPDATE {TABLE} SET onnx = ? WHERE name = 'churn'", [bytes(tampered)])
    con.close()
    with pytest.raises(IntegrityError, match="churn v1 is corrupted: sha256"):
        ModelStore(path)
    with ModelStore(path, on_corrupt="skip") as s:
        assert s.corrupt_ == ["churn v1"]
        assert _functions(s, "churn") == []
        assert "other_predict" in _functions(s, "other")
        assert s.list_models().set_index("name").loc["churn", "corrupt"]
        assert s.drop("churn") == 1
        assert s.corrupt_ == []


def test_failed_register_rolls_back(store, linear, boosting):
    store.register("churn", linear.model, linear.X_sample)
    before = store.sql(f"SELECT churn_proba({ARGS}) p FROM customers LIMIT 50")
    funcs = _functions(store, "churn")
    real = store.con

    # 1. A failure inside the transaction, after the row is inserted and the functions were
    #    re-pointed: everything is rolled back, new version functions are removed again.
    def fail():
        raise RuntimeError("simulated failure before COMMIT")

    store.con = Tripwire(real, "COMMIT", "before", fail)
    with pytest.raises(RuntimeError, match="simulated failure"):
        store.register("churn", boosting.model, boosting.X_sample)
    store.con = real
    assert _count(store) == 1
    assert _functions(store, "churn") == funcs
    pd.testing.assert_frame_equal(
        before, store.sql(f"SELECT churn_proba({ARGS}) p FROM customers LIMIT 50")
    )

    # 2. A real database error inside the transaction: the version number is taken meanwhile
    #    (primary-key violation on INSERT) -> ROLLBACK, a clear ModelError, nothing changed.
    def take_version_2():
        real.execute(
            f"INSERT INTO {TABLE} SELECT * REPLACE (2 AS version) FROM {TABLE} WHERE version = 1"
        )

    store.con = Tripwire(real, "INSERT", "before", take_version_2)
    with pytest.raises(ModelError, match=r"(?i)rolled back, nothing changed.*constraint"):
        store.register("churn", boosting.model, boosting.X_sample)
    store.con = real
    assert _count(store) == 1
    assert store.describe("churn").estimator.endswith("LogisticRegression)")
    assert _functions(store, "churn") == funcs
    pd.testing.assert_frame_equal(
        before, store.sql(f"SELECT churn_proba({ARGS}) p FROM customers LIMIT 50")
    )
    assert store.register("churn", boosting.model, boosting.X_sample).version == 2
    assert "churn_v2_proba" in _functions(store, "churn")


def test_name_clash_with_existing_function(store, linear):
    store.con.execute("CREATE MACRO churn_proba(a) AS a + 1")
    with pytest.raises(ModelError, match="'churn_proba' already exists"):
        store.register("churn", linear.model, linear.X_sample)
    assert _count(store) == 0
    assert "churn_predict" not in _functions(store, "churn")


def test_unconvertible_model_names_the_step(store, customers):
    X = customers[["tenure_months", "monthly_charges"]]
    y = customers["churned"]
    spline = make_pipeline(SplineTransformer(), LogisticRegression()).fit(X, y)
    with pytest.raises(ModelError, match=r"splinetransformer \(SplineTransformer\).*to_sql"):
        store.register("spline", spline, X)
    func = make_pipeline(FunctionTransformer(np.log1p), LogisticRegression()).fit(X, y)
    with pytest.raises(ModelError, match="FunctionTransformer"):
        store.register("logs", func, X)
    assert _count(store) == 0


def test_parity_failure_refuses(store, linear):
    with pytest.raises(ModelError, match=r"parity check failed.*not registered"):
        store.register("churn", linear.model, linear.X_sample, tolerance=1e-12)
    assert _count(store) == 0


def test_wrong_arguments_in_sql(store, linear):
    store.register("churn", linear.model, linear.X_sample)
    with pytest.raises(InputError, match=r"takes 5 argument\(s\): churn_predict\(tenure_months"):
        store.sql("SELECT churn_predict(1, 2)")
    with pytest.raises(InputError, match="churn_proba was called with"):
        store.sql("SELECT churn_proba(contract, 1.0, 2.0, 3.0, contract) FROM customers")
    with pytest.raises(UnknownNameError, match="model function 'nope_predict'"):
        store.sql("SELECT nope_predict(1)")
    with pytest.raises(InputError, match="SQL failed"):
        store.sql("SELEC 1")
    with pytest.raises(InputTypeError, match="query must be a string"):
        store.sql(42)
    with pytest.raises(InputError, match="query is empty"):
        store.sql("  ")


def test_null_and_nan_handling(store, linear, boosting):
    store.register("lin", linear.model, linear.X_sample)
    store.register("hgb", boosting.model, boosting.X_sample)
    rows = (
        "(VALUES (NULL, 50.0, 1, 3.0, 'one-year'), (12, 50.0, 1, 3.0, NULL), "
        "(12, 50.0, 1, 3.0, 'one-year')) "
        f"t({ARGS})"
    )
    got = store.sql(
        f"SELECT lin_predict({ARGS}) lp, lin_proba({ARGS}) lq, hgb_proba({ARGS}) hq FROM {rows}"
    )
    assert got["lp"].isna().tolist() == [True, True, False]  # NULL in -> NULL out
    assert got["lq"].isna().tolist() == [True, True, False]
    assert got["hq"].isna().tolist() == [True, True, False]
    nan = "(VALUES ('nan'::DOUBLE, 50.0, 1, 3.0, 'one-year')) " + f"t({ARGS})"
    # HistGradientBoosting handles NaN itself, checked at registration: same answer as sklearn
    hq = store.sql(f"SELECT hgb_proba({ARGS}) hq FROM {nan}")["hq"][0]
    frame = pd.DataFrame([[np.nan, 50.0, 1, 3.0, "one-year"]], columns=FEATURES)
    assert abs(hq - boosting.model.predict_proba(frame)[0, 1]) < 1e-5
    # scikit-learn refuses NaN for LogisticRegression: so does the SQL function, clearly
    with pytest.raises(InputError, match=r"model 'lin' v1 got NaN in argument 'tenure_months'"):
        store.sql(f"SELECT lin_proba({ARGS}) FROM {nan}")
    # ... and the documented fix works: NaN -> NULL -> NULL
    fixed = store.sql(
        f"SELECT lin_proba(NULLIF(tenure_months, 'nan'::DOUBLE), monthly_charges, "
        f"support_calls, satisfaction, contract) p FROM {nan}"
    )
    assert fixed["p"].isna().tolist() == [True]


def test_multiclass_string_labels_and_regression(store, customers):
    from workbench.indb import train_model

    multi = train_model(customers, "contract", ["tenure_months", "monthly_charges"], "tree")
    info = store.register("plan", multi.model, multi.X_sample)
    assert info.classes == ["month-to-month", "one-year", "two-year"]
    got = store.sql(
        "SELECT plan_predict(tenure_months, monthly_charges) y, "
        "plan_proba(tenure_months, monthly_charges) p FROM customers"
    )
    np.testing.assert_array_equal(got["y"], multi.model.predict(customers[multi.features]))
    np.testing.assert_allclose(
        np.stack(got["p"]), multi.model.predict_proba(customers[multi.features]), atol=1e-6
    )
    reg = train_model(customers, "monthly_charges", ["tenure_months", "contract"], "forest")
    info = store.register(
        "charges", reg.model, reg.X_sample, y=customers["monthly_charges"].iloc[: len(reg.X_sample)]
    )
    assert info.task == "regression" and info.functions == [
        "charges_predict", "charges_explain", "charges_v1_explain", "charges_v1_predict"]
    assert "score_on_X" in info.metrics
    got = store.sql("SELECT charges_predict(tenure_months, contract) v FROM customers")
    np.testing.assert_allclose(got["v"], reg.model.predict(customers[reg.features]), rtol=1e-5)


def test_udf_runs_from_duckdb_threads(store, linear):
    store.register("churn", linear.model, linear.X_sample, backend="udf")
    store.con.execute("CREATE TABLE big AS SELECT * FROM customers, range(40)")
    n = store.con.execute("SELECT count(*) FROM big").fetchall()[0][0]
    store.sql(f"SELECT sum(churn_proba({ARGS})) FROM big")
    stats = store.function_stats().set_index("name").loc["churn"]
    assert stats["rows"] == n and stats["batches"] >= n // 2048
    assert stats["threads"] >= 1


def test_to_sql_of_store(store, linear, boosting, customers):
    store.register("churn", linear.model, linear.X_sample)
    expr = store.to_sql("churn", output="proba")
    got = store.sql(f"SELECT {expr} AS p FROM customers ORDER BY customer_id")["p"]
    np.testing.assert_allclose(
        got, linear.model.predict_proba(customers[FEATURES])[:, 1], atol=1e-12
    )
    store.register("hgb", boosting.model, boosting.X_sample)
    with pytest.raises(ModelError, match=r"no compiled SQL.*HistGradientBoosting.*hgb_predict"):
        store.to_sql("hgb")
    with pytest.raises(UnknownNameError, match="output"):
        store.to_sql("churn", output="logit")


def test_bad_register_inputs(store, linear, customers):
    X = linear.X_sample
    with pytest.raises(InputTypeError, match="Model name must be a string"):
        store.register(3, linear.model, X)
    with pytest.raises(InputError, match="not valid"):
        store.register("Churn Model", linear.model, X)
    with pytest.raises(InputError, match="version suffix"):
        store.register("churn_v2", linear.model, X)
    with pytest.raises(NotFittedError, match="not fitted"):
        store.register("m", LogisticRegression(), X)
    with pytest.raises(InputTypeError, match="no predict method"):
        store.register("m", StandardScaler().fit(customers[["age"]]), customers[["age"]])
    with pytest.raises(InputTypeError, match="X must be a pandas DataFrame"):
        store.register("m", linear.model, X.to_numpy())
    with pytest.raises(InputError, match="X has no rows"):
        store.register("m", linear.model, X.iloc[:0])
    with pytest.raises(InputError, match="lacks column"):
        store.register("m", linear.model, X.drop(columns="contract"))
    with pytest.raises(InputError, match="tolerance must lie"):
        store.register("m", linear.model, X, tolerance=2.0)
    with pytest.raises(InputError, match="different numbers of rows"):
        store.register("m", linear.model, X, y=[0, 1])
    with pytest.raises(InputTypeError, match="metrics must be a dict"):
        store.register("m", linear.model, X, metrics=[1])
    dates = pd.DataFrame({"d": pd.date_range("2020-01-01", periods=30), "y": [0, 1] * 15})
    lr = LogisticRegression().fit(pd.DataFrame({"d": np.arange(30.0)}), dates["y"])
    with pytest.raises(InputTypeError, match="dtype datetime64"):
        store.register("m", lr, dates[["d"]])
    text = pd.DataFrame({"d": ["a", "b"] * 15})
    with pytest.raises(InputError, match="start the Pipeline with a ColumnTransformer"):
        store.register("m", lr, text)
    assert _count(store) == 0


def test_unknown_names_and_store_arguments(store, linear):
    store.register("churn", linear.model, linear.X_sample)
    with pytest.raises(UnknownNameError, match=r"Unknown model 'nope'.*churn"):
        store.describe("nope")
    with pytest.raises(UnknownNameError, match="version of model 'churn'"):
        store.describe("churn", 7)
    with pytest.raises(InputTypeError, match="version must be an integer"):
        store.drop("churn", "1")
    with pytest.raises(UnknownNameError):
        store.to_sql("nope")
    with pytest.raises(InputTypeError, match="database must be"):
        ModelStore(3.5)
    with pytest.raises(UnknownNameError, match="on_corrupt policy"):
        ModelStore(on_corrupt="ignore")
    with pytest.raises(InputError, match=r"onnx_threads must lie in \[1, 64\]"):
        ModelStore(onnx_threads=0)


def test_default_store_helpers(monkeypatch):
    import workbench.indb.session
    from workbench.indb import connect, get_store, set_store

    monkeypatch.setattr(workbench.indb.session, "_default", None)

    s = connect()
    assert get_store() is s
    with pytest.raises(InputTypeError, match="Expected a ModelStore"):
        set_store("memory")
    s.close()
