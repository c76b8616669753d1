"""Trees compiled to SQL: exact against scikit-learn (NaN, categories, every ensemble), budgets."""

from __future__ import annotations

import sqlite3

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier
from threadpoolctl import threadpool_limits

from workbench.core.errors import ModelError
from workbench.indb import compile_sql
from workbench.indb.sql_trees import MAX_TREE_DEPTH, float32_bound

from .helpers import fixed_timings

NUM = ["tenure_months", "monthly_charges", "support_calls", "satisfaction", "data_gb"]


def _arrow(frame: pd.DataFrame) -> pa.Table:
    """The frame as Arrow with NaN kept as NaN (DuckDB reads pandas NaN as NULL)."""
    cols = {}
    for c in frame.columns:
        v = frame[c]
        kind = v.dtype.kind if not isinstance(v.dtype, pd.CategoricalDtype) else "O"
        cols[c] = pa.array(v.to_numpy()) if kind == "f" else pa.array(v.astype(object))
    return pa.table(cols)


def _duck(expr: str, frame: pd.DataFrame) -> list:
    con = duckdb.connect()
    con.register("t", _arrow(frame))
    out = [r[0] for r in con.execute(f"SELECT {expr} FROM t").fetchall()]
    con.close()
    return out


def _floats(expr: str, frame: pd.DataFrame) -> np.ndarray:
    return np.asarray(_duck(expr, frame), dtype=np.float64)


@pytest.fixture(scope="module")
def data():
    from workbench.indb import make_customers

    df = make_customers(3000, random_state=3)
    X = df[NUM].astype(float)
    rng = np.random.default_rng(0)
    X_nan = X.mask(rng.random(X.shape) < 0.08)  # 8% NaN, some rows with several
    return X, X_nan, df["churned"], df["contract"], df["total_charges"]


def _fit(model, X, y):
    with threadpool_limits(1):
        return model.fit(X, y)


def _same_proba(model, X, expr, *, multi=False):
    with threadpool_limits(1):
        want = model.predict_proba(X)
    if multi:
        got = np.asarray([np.asarray(r, dtype=float) for r in _duck(expr, X)])
    else:
        got, want = _floats(expr, X), want[:, 1]
    # Same sums in the same order; only exp() may differ in the last bit between libraries.
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-14)


def _same_labels(model, X, expr):
    with threadpool_limits(1):
        want = model.predict(X)
    np.testing.assert_array_equal(np.asarray(_duck(expr, X), dtype=want.dtype), want)


@pytest.mark.parametrize("threshold", [0.1, -2.5, 1e-40, 3.0000001, 16777217.0, -0.0,
                                       3.4028234663852886e38, 3.5e38, -3.5e38, 1e-46])
def test_float32_bound_is_the_float32_comparison(threshold):
    rng = np.random.default_rng(1)
    b = float32_bound(threshold)
    base = np.float64(threshold)
    xs = [base, b, np.nextafter(b, np.inf), np.nextafter(b, -np.inf)]
    if np.isfinite(base) and base != 0:
        xs += list(base * (1 + rng.uniform(-1e-6, 1e-6, 2000)))
    xs = np.asarray([x for x in xs if np.isfinite(x)])
    with np.errstate(over="ignore"):  # scikit-learn's C code: float32 input, double threshold
        want = xs.astype(np.float32).astype(np.float64) <= np.float64(threshold)
    np.testing.assert_array_equal(xs <= b, want)
    assert float32_bound(np.inf) == np.inf


def test_hist_gradient_boosting_100_iterations_exact_with_nan(data):
    X, X_nan, y, _, _ = data
    model = _fit(HistGradientBoostingClassifier(max_iter=100, early_stopping=False,
                                                random_state=0), X_nan, y)
    assert model.n_iter_ == 100
    for frame in (X, X_nan):
        _same_proba(model, frame, compile_sql(model, output="proba"))
        _same_labels(model, frame, compile_sql(model))
    sql = compile_sql(model, output="proba")
    assert "(-CAST(" in sql and "list_sum(" in sql  # NaN-left splits test -x >= -t


def test_hist_gradient_boosting_multiclass_and_regressors(data):
    _, X_nan, _, contract, charges = data
    multi = _fit(HistGradientBoostingClassifier(max_iter=20, random_state=0), X_nan, contract)
    _same_proba(multi, X_nan, compile_sql(multi, output="proba_list"), multi=True)
    _same_labels(multi, X_nan, compile_sql(multi))
    for loss in ("squared_error", "absolute_error", "poisson"):
        reg = _fit(HistGradientBoostingRegressor(loss=loss, max_iter=30, random_state=0),
                   X_nan, charges)
        with threadpool_limits(1):
            want = reg.predict(X_nan)
        got = _floats(compile_sql(reg), X_nan)
        if loss == "poisson":  # exp() of the same raw score
            np.testing.assert_allclose(got, want, rtol=1e-15)
        else:  # the same double additions in the same order: bit for bit
            np.testing.assert_array_equal(got, want)


def test_hist_gradient_boosting_categorical_splits(data):
    X, _, y, _, _ = data
    rng = np.random.default_rng(2)
    frame = X.copy()
    frame["plan"] = rng.integers(0, 12, len(X)).astype(float)
    frame["region"] = pd.Categorical(rng.choice(["north", "south", "east", "it's"], len(X)))
    target = (y.to_numpy() ^ (frame["plan"].to_numpy() % 3 == 0)).astype(int)
    model = _fit(HistGradientBoostingClassifier(
        max_iter=40, categorical_features=["plan", "region"], random_state=0
    ), frame, target)
    assert any(p[0].nodes["is_categorical"].any() for p in model._predictors)
    probe = frame.copy()
    probe["region"] = probe["region"].astype(str)
    probe.loc[probe.index[:40], "plan"] = 99.0  # never seen: scikit-learn treats it as missing
    probe.loc[probe.index[40:80], "plan"] = np.nan
    probe.loc[probe.index[80:120], "region"] = "west"  # unknown text category
    probe.loc[probe.index[120:160], "monthly_charges"] = np.nan
    with threadpool_limits(1):
        want = model.predict_proba(probe)[:, 1]
        labels = model.predict(probe)
    np.testing.assert_allclose(_floats(compile_sql(model, output="proba"), probe), want,
                               rtol=0, atol=1e-14)
    np.testing.assert_array_equal(np.asarray(_duck(compile_sql(model), probe)), labels)


def test_gradient_boosting_binary_multiclass_exponential_and_regressor(data):
    X, _, y, contract, charges = data
    for model in (
        GradientBoostingClassifier(n_estimators=60, max_depth=3, random_state=0),
        GradientBoostingClassifier(loss="exponential", n_estimators=30, random_state=0),
        GradientBoostingClassifier(n_estimators=20, init="zero", random_state=0),
    ):
        _fit(model, X, y)
        _same_proba(model, X, compile_sql(model, output="proba"))
        _same_labels(model, X, compile_sql(model))
    multi = _fit(GradientBoostingClassifier(n_estimators=15, random_state=0), X, contract)
    _same_proba(multi, X, compile_sql(multi, output="proba_list"), multi=True)
    _same_labels(multi, X, compile_sql(multi))
    reg = _fit(GradientBoostingRegressor(n_estimators=50, subsample=0.8, random_state=0),
               X, charges)
    np.testing.assert_array_equal(_floats(compile_sql(reg), X), reg.predict(X))
    scaled = _fit(make_pipeline(StandardScaler(), GradientBoostingRegressor(
        n_estimators=20, random_state=0)), X, charges)
    np.testing.assert_array_equal(_floats(compile_sql(scaled), X), scaled.predict(X))
    odd = _fit(GradientBoostingRegressor(n_estimators=5, init=LinearRegression()), X, charges)
    with pytest.raises(ModelError, match=r"init=LinearRegression .*depends on the row"):
        compile_sql(odd)


def test_forests_and_trees_exact_with_nan(data):
    X, X_nan, y, contract, charges = data
    for cls in (RandomForestClassifier, ExtraTreesClassifier):
        forest = _fit(cls(n_estimators=12, max_depth=6, random_state=0), X_nan, y)
        for frame in (X, X_nan):
            _same_proba(forest, frame, compile_sql(forest, output="proba"))
            _same_labels(forest, frame, compile_sql(forest))
    multi = _fit(RandomForestClassifier(n_estimators=6, max_depth=5, random_state=0),
                 X_nan, contract)
    _same_proba(multi, X_nan, compile_sql(multi, output="proba_list"), multi=True)
    _same_labels(multi, X_nan, compile_sql(multi))
    tree = _fit(DecisionTreeClassifier(max_depth=6, random_state=0), X_nan, contract)
    _same_proba(tree, X_nan, compile_sql(tree, output="proba_list"), multi=True)
    _same_labels(tree, X_nan, compile_sql(tree))
    for cls in (RandomForestRegressor, ExtraTreesRegressor):
        reg = _fit(cls(n_estimators=8, max_depth=6, random_state=0), X_nan, charges)
        np.testing.assert_array_equal(_floats(compile_sql(reg), X_nan), reg.predict(X_nan))


def test_near_tied_forest_labels_follow_argmax():
    # Found by search: at a=1 the class means are 0.5 and 0.5 - 1 ulp after rounding, so
    # "P(1) > 0.5" says 0 where scikit-learn's argmax says 1; the SQL compares both means.
    X = pd.DataFrame({"a": [2.0, 1, 0, 0, 2, 0, 2, 0, 2, 0, 0, 1]})
    y = np.array([1, 0, 1, 0, 0, 1, 1, 0, 0, 1, 0, 1])
    w = np.array([4.0, 7, 2, 2, 6, 5, 9, 5, 9, 8, 6, 8])
    forest = RandomForestClassifier(n_estimators=4, max_depth=2, random_state=988)
    forest.fit(X, y, sample_weight=w)
    grid = pd.DataFrame({"a": [0.0, 1.0, 2.0]})
    p1 = forest.predict_proba(grid)[:, 1]
    assert forest.predict(grid)[1] == 1 and not p1[1] > 0.5
    _same_labels(forest, grid, compile_sql(forest))


def test_node_budget_names_both_numbers(data):
    X, _, y, _, _ = data
    model = _fit(HistGradientBoostingClassifier(max_iter=50, early_stopping=False,
                                                random_state=0), X, y)
    n = sum(len(p[0].nodes) for p in model._predictors)
    with pytest.raises(ModelError, match=rf"needs {n:,} SQL terms .*max_nodes=500"):
        compile_sql(model, max_nodes=500)
    forest = _fit(RandomForestClassifier(n_estimators=10, max_depth=4, random_state=0), X, y)
    nodes = sum(t.tree_.node_count for t in forest.estimators_)
    compile_sql(forest, output="proba", max_nodes=nodes)  # one class: fits exactly
    with pytest.raises(ModelError, match=rf"needs {2 * nodes:,} SQL terms"):
        compile_sql(forest, max_nodes=nodes)  # labels compare both classes' means


def test_portable_dialect_runs_in_sqlite(data):
    X, _, y, contract, _ = data
    con = sqlite3.connect(":memory:")
    X.to_sql("t", con, index=False)
    for model in (
        GradientBoostingClassifier(n_estimators=40, random_state=0),
        RandomForestClassifier(n_estimators=5, max_depth=5, random_state=0),
        HistGradientBoostingClassifier(max_iter=40, max_depth=5, random_state=0),
    ):  # SQLite's parser stops at about 20 nested CASE levels
        _fit(model, X, y)
        sql = compile_sql(model, output="proba", dialect="portable")
        assert "list_" not in sql
        got = np.asarray([r[0] for r in con.execute(f"SELECT {sql} FROM t")], dtype=float)
        np.testing.assert_allclose(got, model.predict_proba(X)[:, 1], rtol=0, atol=1e-14)
        labels = [r[0] for r in con.execute(f"SELECT {compile_sql(model, dialect='portable')}"
                                            " FROM t")]
        np.testing.assert_array_equal(labels, model.predict(X))
    multi = _fit(GradientBoostingClassifier(n_estimators=5, random_state=0), X, contract)
    with pytest.raises(ModelError, match="dialect='duckdb'"):
        compile_sql(multi, dialect="portable")
    con.close()


def test_nan_left_splits_are_plain_sql_that_nan_passes(data):
    # -x >= -t is x <= t for numbers; NaN, ordered above every number, passes it.
    _, X_nan, y, _, _ = data
    model = _fit(HistGradientBoostingClassifier(max_iter=10, random_state=0), X_nan, y)
    sql = compile_sql(model, output="proba")
    assert "isnan" not in sql and "(-CAST(" in sql
    con = duckdb.connect()
    assert con.execute("SELECT -CAST('nan' AS DOUBLE) >= 1e300, -1.5e0 >= -1.5e0, "
                       "-CAST('inf' AS DOUBLE) >= CAST('-inf' AS DOUBLE)").fetchall() == [
        (True, True, True)]
    con.close()
    only_nan = X_nan.copy()
    only_nan[:] = np.nan
    _same_proba(model, only_nan.iloc[:5], sql)


def test_too_deep_tree_is_refused():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.permutation(400).astype(float)})
    y = np.arange(400) % 2  # alternating labels along a: a chain of splits
    tree = _fit(DecisionTreeClassifier(random_state=0), X.sort_values("a"), y)
    assert tree.get_depth() > MAX_TREE_DEPTH
    with pytest.raises(ModelError, match=f"SQL trees stop at {MAX_TREE_DEPTH}"):
        compile_sql(tree, max_nodes=100_000)


# ---------------------------------------------------------------- backend choice
def test_backend_timing_alternates_between_the_backends(data):
    """The two backends are timed in turns, so a load change cannot favour the one timed first."""
    from workbench.indb import backend

    X, _, y, _, _ = data
    model = _fit(HistGradientBoostingClassifier(max_iter=5, random_state=0), X, y)
    real = duckdb.connect()
    timed = []

    class Spy:
        def __getattr__(self, name):
            return getattr(real, name)

        def execute(self, query, *args):
            if query.startswith("CREATE OR REPLACE TEMP TABLE __workbench_backend_out"):
                timed.append("udf" if "__workbench_backend_udf" in query else "sql")
            return real.execute(query, *args)

    real.execute("SET threads = 1")
    choice = backend.choose_backend(Spy(), model, X.iloc[:300], timing_rows=1000, repeats=3)
    assert timed == ["sql", "udf"] * 3
    assert set(choice.timings) == {"sql", "udf"}
    assert all(t["timed_rows"] == 1000 and t["per_row_us"] > 0 for t in choice.timings.values())
    # With two threads the timed rows fill two row groups, so the timing runs on both threads.
    real.execute("SET threads = 2")
    choice = backend.choose_backend(Spy(), model, X.iloc[:300], timing_rows=1000, repeats=1)
    assert {t["timed_rows"] for t in choice.timings.values()} == {2 * backend.ROW_GROUP_ROWS}


def test_row_group_rows_is_duckdbs_row_group_size():
    from workbench.indb.backend import ROW_GROUP_ROWS

    con = duckdb.connect()
    for n, groups in ((ROW_GROUP_ROWS, 1), (ROW_GROUP_ROWS + 1, 2)):
        con.execute(f"CREATE OR REPLACE TEMP TABLE t AS SELECT range AS x FROM range({n})")
        got = con.execute(
            "SELECT count(DISTINCT row_group_id) FROM pragma_storage_info('t')"
        ).fetchall()[0][0]
        assert got == groups


def test_backend_is_the_faster_one_for_the_query_size(data, monkeypatch):
    from workbench.indb import backend

    X, _, y, _, _ = data
    model = _fit(HistGradientBoostingClassifier(max_iter=20, random_state=0), X, y)
    con = duckdb.connect()
    monkeypatch.setattr(backend, "_timed", fixed_timings(sql=(0.5, 1.0), udf=(0.001, 3.0)))
    big = backend.choose_backend(con, model, X.iloc[:300], rows=1_000_000, timing_rows=1000)
    assert big.backend == "sql"
    assert big.timings["sql"]["projected_s"] == pytest.approx(1.5)
    assert big.timings["udf"]["projected_s"] == pytest.approx(3.001)
    assert "compiled SQL: faster on 1,000,000 rows" in big.reason and "0.5 s to plan" in big.reason
    small = backend.choose_backend(con, model, X.iloc[:300], rows=100_000, timing_rows=1000)
    assert small.backend == "udf" and small.reason.startswith("Arrow UDF (onnxruntime): faster")
    assert big.parity["label_mismatches"] == 0 and big.parity["max_abs_diff"] <= 1e-14
    assert set(big.sql) == {"predict", "proba"} and "CASE WHEN" in big.sql["proba"]
    assert list(big.to_frame()["backend"]) == ["sql", "udf"]
    assert big.to_dict()["backend"] == "sql" and "Backend: sql" in big._repr_html_()
    con.close()


def test_backend_measures_both_for_real(data):
    from workbench.indb.backend import choose_backend

    X, X_nan, y, contract, _ = data
    con = duckdb.connect()
    model = _fit(HistGradientBoostingClassifier(max_iter=10, random_state=0), X_nan, y)
    choice = choose_backend(con, model, X_nan.iloc[:400], timing_rows=5000, repeats=1)
    assert set(choice.timings) == {"sql", "udf"}
    assert choice.backend == min(choice.timings, key=lambda b: choice.timings[b]["projected_s"])
    assert choice.parity["nan_rows"] > 0  # the gate also ran rows with NaN
    multi = _fit(GradientBoostingClassifier(n_estimators=5, random_state=0), X, contract)
    choice = choose_backend(con, multi, X.iloc[:200], timing_rows=2000, repeats=1)
    assert set(choice.sql) == {"predict", "proba_list"} and choice.parity["rows"] == 200
    left = con.execute("SELECT count(*) FROM duckdb_functions() WHERE function_name LIKE "
                       "'__workbench_backend%'").fetchall()[0][0]
    tables = con.execute("SELECT count(*) FROM duckdb_tables()").fetchall()[0][0]
    assert left == 0 and tables == 0  # nothing left behind
    con.close()


def test_backend_gate_and_fallbacks(data, monkeypatch):
    from workbench.core.errors import InputError, InputTypeError
    from workbench.indb import backend, sql_compile
    from workbench.indb.backend import choose_backend

    X, _, y, _, _ = data
    con = duckdb.connect()
    model = _fit(GradientBoostingClassifier(n_estimators=10, random_state=0), X, y)
    real = sql_compile.compile_sql
    monkeypatch.setattr(sql_compile, "compile_sql",
                        lambda *a, **k: "0.5e0" if k.get("output") == "proba" else real(*a, **k))
    choice = choose_backend(con, model, X.iloc[:200], timing_rows=1000, repeats=1)
    assert choice.backend == "udf" and "failed the parity gate: proba differs" in choice.reason
    monkeypatch.setattr(sql_compile, "compile_sql", real)
    choice = choose_backend(con, model, X.iloc[:200], max_nodes=10, timing_rows=1000, repeats=1)
    assert choice.backend == "udf" and "does not compile to SQL" in choice.reason
    assert "max_nodes=10" in choice.reason

    def no_onnx(*a, **k):
        raise ModelError("skl2onnx cannot convert it")

    monkeypatch.setattr(backend, "_onnx_call", no_onnx)
    choice = choose_backend(con, model, X.iloc[:200], timing_rows=1000, repeats=1)
    assert choice.backend == "sql" and "not available (skl2onnx cannot convert it)" in choice.reason
    with pytest.raises(ModelError, match="Neither backend"):
        choose_backend(con, model, X.iloc[:200], max_nodes=10, timing_rows=1000)
    with pytest.raises(InputTypeError, match="DuckDB connection"):
        choose_backend("db", model, X)
    with pytest.raises(InputTypeError, match="OnnxRunner"):
        choose_backend(con, model, X, runner="session")
    with pytest.raises(InputError, match="rows"):
        choose_backend(con, model, X, rows=0)
    with pytest.raises(ModelError, match="Every row of X_sample holds NaN"):
        choose_backend(con, model, X.iloc[:5] * np.nan)
    con.close()


def test_guarded_sql_refuses_what_the_udf_refuses(data):
    from workbench.core.errors import InputError
    from workbench.indb import ModelStore
    from workbench.indb.backend import guarded_sql
    from workbench.indb.features import Feature

    _, X_nan, y, _, _ = data
    model = _fit(HistGradientBoostingClassifier(max_iter=10, random_state=0), X_nan, y)
    feats = [Feature(n, "numeric") for n in NUM]
    args = ", ".join(NUM)
    store = ModelStore()
    store.con.register("t", _arrow(X_nan.iloc[:300]))
    for policy, name in (("error", "strict"), ("pass", "lenient")):
        body = guarded_sql(compile_sql(model, output="proba"), feats, policy, "model 'm' v1")
        store.con.execute(f"CREATE MACRO {name}({args}) AS {body}")
    got = store.sql(f"SELECT lenient({args}) AS p FROM t")["p"].to_numpy(dtype=float)
    np.testing.assert_allclose(got, model.predict_proba(X_nan.iloc[:300])[:, 1], atol=1e-14)
    with pytest.raises(InputError, match="got NaN in argument 'tenure_months'"):
        store.sql(f"SELECT strict({args}) FROM t")
    with pytest.raises(InputError, match="infinite or too large value in argument 'data_gb'"):
        store.sql("SELECT lenient(1, 2, 3, 4, 1e39)")
    assert store.sql("SELECT strict(NULL, 2, 3, 4, 5) AS p")["p"].isna().all()
    store.close()
