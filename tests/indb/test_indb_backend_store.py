"""The store's backend choice and explain functions (issue 19): what register picks and reports,
how the catalog serves it (compiled-SQL macros or Arrow UDFs), ``<name>_explain`` through SQL,
reopening, tampering, and stores written before these columns existed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier

from workbench.core.errors import InputError, IntegrityError, ModelError, UnknownNameError
from workbench.indb import ModelStore
from workbench.indb.store_integrity import TABLE, row_digest

from .conftest import FEATURES
from .helpers import fixed_timings

ARGS = ", ".join(FEATURES)
NUMERIC = ["tenure_months", "monthly_charges", "support_calls", "satisfaction"]
NUM_ARGS = ", ".join(NUMERIC)


@pytest.fixture()
def sql_faster(monkeypatch):
    from workbench.indb import backend

    monkeypatch.setattr(backend, "_timed", fixed_timings(sql=(0.001, 0.01), udf=(0.001, 1.0)))


@pytest.fixture()
def udf_faster(monkeypatch):
    from workbench.indb import backend

    monkeypatch.setattr(backend, "_timed", fixed_timings(sql=(0.5, 3.0), udf=(0.001, 1.0)))


@pytest.fixture(scope="module")
def hgb(customers):
    X = customers[NUMERIC].astype(float)
    X = X.mask(np.random.default_rng(0).random(X.shape) < 0.05)  # NaN in 5 % of the values
    model = HistGradientBoostingClassifier(max_iter=15, max_depth=4, random_state=0)
    return model.fit(X, customers["churned"]), X


def _logit(p):
    p = np.asarray(p, dtype=np.float64)
    return np.log(p) - np.log1p(-p)


def _explained(store, fname, args):
    got = store.sql(f"SELECT {fname}({args}) AS e FROM customers ORDER BY customer_id")["e"]
    base = np.array([e["base_value"] for e in got])
    output = np.array([e["output"] for e in got])
    total = np.array([sum(e["contributions"].values()) for e in got])
    return base, output, total, got


def test_store_picks_reports_and_serves_the_backend(store, linear, customers, sql_faster):
    info = store.register("churn", linear.model, linear.X_sample)
    assert info.backend == "sql" and info.explain
    assert info.backend_reason.startswith("compiled SQL: faster on 1,000,000 rows")
    assert "µs/row" in info.backend_reason and "against Arrow UDF" in info.backend_reason
    assert info.parity["backend"]["parity"]["label_mismatches"] == 0
    assert info.summary()["backend"] == "sql"
    assert {store.catalog.kind_of(f) for f in ("churn_predict", "churn_proba")} == {"macro"}
    assert store.catalog.kind_of("churn_explain") == "explain"
    listed = store.list_models().iloc[0]
    assert listed["backend"] == "sql" and bool(listed["explain"])
    got = store.sql(f"SELECT churn_predict({ARGS}) y, churn_proba({ARGS}) p FROM customers "
                    "ORDER BY customer_id")
    X = customers[FEATURES]
    np.testing.assert_allclose(got["p"], linear.model.predict_proba(X)[:, 1], atol=1e-12)
    np.testing.assert_array_equal(got["y"], linear.model.predict(X))
    assert str(got["y"].dtype) == "int64"  # cast to the UDF's BIGINT
    assert store.function_stats()["rows"].sum() == 0  # onnxruntime never ran


def test_udf_when_it_is_faster_or_asked_for(store, linear, udf_faster):
    info = store.register("churn", linear.model, linear.X_sample)
    assert info.backend == "udf" and info.backend_reason.startswith("Arrow UDF (onnxruntime)")
    assert store.catalog.kind_of("churn_proba") == "udf"
    asked = store.register("churn", linear.model, linear.X_sample, backend="udf")
    assert asked.backend == "udf" and "requested (backend='udf')" in asked.backend_reason
    assert "backend" not in asked.parity  # not measured


def test_backend_sql_requires_the_compiled_sql(store, customers):
    X = customers[NUMERIC].astype(float)
    forest = RandomForestClassifier(n_estimators=20, max_depth=8, random_state=0).fit(
        X, customers["churned"])
    with pytest.raises(ModelError, match="backend='sql' needs the model compiled to SQL"):
        store.register("forest", forest, X, backend="sql", max_nodes=50)
    assert store.list_models().empty and store.catalog.names() == []
    with pytest.raises(UnknownNameError, match="backend"):
        store.register("forest", forest, X, backend="onnx")
    with pytest.raises(InputError, match="compile=True"):
        store.register("forest", forest, X, backend="sql", compile=False)
    info = store.register("forest", forest, X, max_nodes=50)  # auto: the UDF, and why
    assert info.backend == "udf" and "compiled SQL is not available" in info.backend_reason


def test_switching_backend_between_versions_repoints_the_latest(store, linear, customers,
                                                                 monkeypatch):
    from workbench.indb import backend

    monkeypatch.setattr(backend, "_timed", fixed_timings(sql=(0.5, 3.0), udf=(0.001, 1.0)))
    store.register("churn", linear.model, linear.X_sample)  # v1: UDF
    monkeypatch.setattr(backend, "_timed", fixed_timings(sql=(0.001, 0.01), udf=(0.001, 1.0)))
    store.register("churn", linear.model, linear.X_sample)  # v2: macro
    assert store.catalog.kind_of("churn_v1_proba") == "udf"
    assert store.catalog.kind_of("churn_proba") == "macro"
    q = (f"SELECT churn_proba({ARGS}) p, churn_v1_proba({ARGS}) p1, churn_v2_proba({ARGS}) p2 "
         "FROM customers ORDER BY customer_id")
    got = store.sql(q)
    np.testing.assert_array_equal(got["p"], got["p2"])
    np.testing.assert_allclose(got["p1"], got["p2"], atol=1e-5)  # ONNX float32 against SQL
    store.set_alias("churn", "champion", 1)
    store.set_alias("churn", "champion", 2)  # UDF -> macro under the alias name
    assert store.catalog.kind_of("churn_champion_proba") == "macro"
    store.drop_alias("churn", "champion")
    store.drop("churn", version=2)  # the latest goes back to the UDF of v1
    assert store.catalog.kind_of("churn_proba") == "udf"
    np.testing.assert_array_equal(store.sql(f"SELECT churn_proba({ARGS}) p FROM customers "
                                            "ORDER BY customer_id")["p"], got["p1"])


def test_guarded_macro_refuses_what_the_udf_refuses(store, linear, sql_faster):
    store.register("churn", linear.model, linear.X_sample)
    with pytest.raises(InputError, match="got NaN in argument 'tenure_months'"):
        store.sql("SELECT churn_proba('nan'::DOUBLE, 1.0, 1.0, 1.0, 'one-year')")
    with pytest.raises(InputError, match="infinite or too large value"):
        store.sql("SELECT churn_proba(1e300, 1.0, 1.0, 1.0, 'one-year')")
    with pytest.raises(InputError, match=r"takes 5 argument\(s\): churn_proba\(tenure_months"):
        store.sql("SELECT churn_proba(1.0, 2.0)")
    got = store.sql("SELECT churn_proba(NULL, 1.0, 1.0, 1.0, 'one-year') p")["p"]
    assert got.isna().all()


def test_explain_sums_to_the_margin_through_sql(store, linear, customers, hgb, sql_faster):
    store.register("churn", linear.model, linear.X_sample)
    base, output, total, got = _explained(store, "churn_explain", ARGS)
    np.testing.assert_allclose(base + total, output, rtol=0, atol=1e-9)  # local accuracy
    p = linear.model.predict_proba(customers[FEATURES])[:, 1]
    np.testing.assert_allclose(output, _logit(p), rtol=0, atol=1e-9)  # the model's margin
    assert list(got[0]["contributions"]) == FEATURES
    model, X = hgb
    import pyarrow as pa

    # Arrow keeps NaN as NaN (DuckDB reads a pandas NaN as NULL)
    store.con.register("hgb_rows", pa.table({
        **{c: pa.array(X[c].to_numpy()) for c in NUMERIC},
        "customer_id": pa.array(customers["customer_id"].to_numpy())}))
    info = store.register("trees", model, X)
    assert info.explain and "trees_explain" in info.functions
    rows = store.sql(f"SELECT trees_explain({NUM_ARGS}) e, trees_proba({NUM_ARGS}) p "
                     "FROM hgb_rows ORDER BY customer_id")
    e = rows["e"]
    out = np.array([r["output"] for r in e])
    summed = np.array([r["base_value"] + sum(r["contributions"].values()) for r in e])
    np.testing.assert_allclose(summed, out, rtol=0, atol=1e-9)
    np.testing.assert_allclose(out, _logit(model.predict_proba(X)[:, 1]), rtol=0, atol=1e-9)
    np.testing.assert_allclose(rows["p"], model.predict_proba(X)[:, 1], atol=1e-6)


def test_alias_explain_follows_the_alias(store, linear, boosting, sql_faster):
    store.register("churn", linear.model, linear.X_sample)
    store.register("churn", boosting.model, boosting.X_sample)
    store.set_alias("churn", "champion", 1)
    q = (f"SELECT churn_champion_explain({ARGS}).output a, churn_v1_explain({ARGS}).output b, "
         f"churn_v2_explain({ARGS}).output c FROM customers ORDER BY customer_id")
    got = store.sql(q)
    np.testing.assert_array_equal(got["a"], got["b"])
    store.set_alias("churn", "champion", 2)
    np.testing.assert_array_equal(store.sql(q)["a"], got["c"])
    assert not np.allclose(got["b"], got["c"])


def test_reopened_file_has_the_same_functions(tmp_path, linear, customers, hgb, sql_faster):
    path = tmp_path / "s.duckdb"
    model, X = hgb
    with ModelStore(path) as s:
        s.register("churn", linear.model, linear.X_sample)
        s.register("trees", model, X, backend="udf")
        s.set_alias("churn", "champion", 1)
        kinds = {f: s.catalog.kind_of(f) for f in s.catalog.names()}
        s.con.register("c", customers)
        before = s.sql(f"SELECT churn_champion_proba({ARGS}) p, churn_explain({ARGS}).output o, "
                       f"trees_explain({NUM_ARGS}).output t FROM c ORDER BY customer_id")
    with ModelStore(path) as s:
        assert {f: s.catalog.kind_of(f) for f in s.catalog.names()} == kinds
        assert kinds["churn_proba"] == "macro" and kinds["trees_proba"] == "udf"
        assert s.describe("churn").backend == "sql" and s.describe("trees").backend == "udf"
        s.con.register("c", customers)
        after = s.sql(f"SELECT churn_champion_proba({ARGS}) p, churn_explain({ARGS}).output o, "
                      f"trees_explain({NUM_ARGS}).output t FROM c ORDER BY customer_id")
        pd.testing.assert_frame_equal(before, after)
    with ModelStore(path, read_only=True) as r:  # a reader creates the same functions
        assert r.catalog.kind_of("churn_proba") == "macro"
        assert r.catalog.kind_of("trees_explain") == "explain"


@pytest.mark.parametrize("change", [
    "explainer = replace(explainer, '\"linear\"', '\"trees\"')",
    "explainer = NULL",
    "backend = 'udf'",
    "backend_reason = 'edited'",
])
def test_tampered_backend_or_explainer_is_detected(tmp_path, linear, sql_faster, change):
    path = tmp_path / "t.duckdb"
    with ModelStore(path) as s:
        s.register("churn", linear.model, linear.X_sample)
        s.con.execute(f"UPDATE {TABLE} SET {change}")
    with pytest.raises(IntegrityError, match="churn v1 is corrupted"):
        ModelStore(path)
    with ModelStore(path, on_corrupt="skip") as s:
        assert s.corrupt_ == ["churn v1"] and "row hash" in s.corrupt_reasons_["churn v1"]
        assert s.catalog.names() == []


def test_store_written_before_the_new_columns_opens(tmp_path, linear, customers):
    path = tmp_path / "old.duckdb"
    with ModelStore(path) as s:
        s.register("churn", linear.model, linear.X_sample)
        row = dict(zip(
            [d[0] for d in s.con.execute(f"SELECT * FROM {TABLE}").description],
            s.con.execute(f"SELECT * FROM {TABLE}").fetchall()[0], strict=True))
        old = {k: v for k, v in row.items() if k not in ("backend", "backend_reason", "explainer")}
        s.con.execute(f"UPDATE {TABLE} SET row_sha256 = ?", [row_digest(old)])
        for col in ("backend", "backend_reason", "explainer"):
            s.con.execute(f"ALTER TABLE {TABLE} DROP COLUMN {col}")
    with ModelStore(path, read_only=True) as r:  # a reader reads NULL for the missing columns
        info = r.describe("churn")
        assert info.backend == "udf" and not info.explain and info.row_sha256 == row_digest(old)
        assert r.catalog.kind_of("churn_proba") == "udf"
        assert "churn_explain" not in r.catalog.names()
    with ModelStore(path) as s:  # a writer adds the columns; the old row keeps its hash
        cols = [d[0] for d in s.con.execute(f"SELECT * FROM {TABLE} LIMIT 0").description]
        assert {"backend", "backend_reason", "explainer"} <= set(cols)
        assert s.corrupt_ == [] and s.describe("churn").backend == "udf"
        s.con.register("c", customers)
        p = s.sql(f"SELECT churn_proba({ARGS}) p FROM c ORDER BY customer_id")["p"]
        np.testing.assert_allclose(p, linear.model.predict_proba(customers[FEATURES])[:, 1],
                                   atol=1e-5)


def test_backend_sql_without_its_compiled_sql_is_refused_even_with_a_good_hash(tmp_path, linear,
                                                                              sql_faster):
    path = tmp_path / "h.duckdb"
    with ModelStore(path) as s:
        s.register("churn", linear.model, linear.X_sample)
        cur = s.con.execute(f"SELECT * FROM {TABLE}")
        row = dict(zip([d[0] for d in cur.description], cur.fetchall()[0], strict=True))
        row["sql_proba"] = None  # hashed again, as a writer that skipped the check would
        s.con.execute(f"UPDATE {TABLE} SET sql_proba = NULL, row_sha256 = ?", [row_digest(row)])
    with pytest.raises(IntegrityError, match="backend 'sql' is unknown or has no compiled SQL"):
        ModelStore(path)
