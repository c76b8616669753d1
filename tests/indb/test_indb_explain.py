"""Explanations: local accuracy against scikit-learn's margins, the SQL function, JSON, refusals."""

from __future__ import annotations

import json

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.ensemble import (
    ExtraTreesRegressor,
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, StandardScaler
from sklearn.svm import SVR
from sklearn.tree import DecisionTreeRegressor
from threadpoolctl import threadpool_limits

from workbench.core.errors import InputError, InputTypeError, ModelError
from workbench.indb.explain import Explainer, make_explainer, register_explain

NUM = ["tenure_months", "monthly_charges", "support_calls", "satisfaction"]
CAT = ["contract", "payment_method"]
LOCAL = 1e-9  # the goal is 1e-6; sums of a few hundred doubles stay far below it


@pytest.fixture(scope="module")
def data():
    from workbench.indb import make_customers

    df = make_customers(1500, random_state=5)
    X = df[NUM + CAT]
    Xn = df[NUM].astype(float)
    Xn_nan = Xn.mask(np.random.default_rng(0).random(Xn.shape) < 0.1)
    return X, Xn, Xn_nan, df["churned"], df["contract"], df["total_charges"]


def _fit(model, X, y):
    with threadpool_limits(1):
        return model.fit(X, y)


def _linear_pipe(final):
    pre = ColumnTransformer([("num", StandardScaler(), NUM),
                             ("cat", OneHotEncoder(handle_unknown="ignore"), CAT)])
    return Pipeline([("pre", pre), ("est", final)])


def test_linear_contributions_are_coef_times_centred_raw_value(data):
    X, _, _, y, contract, charges = data
    model = _fit(_linear_pipe(LogisticRegression(max_iter=1000)), X, y)
    ex = make_explainer(model, X, max_background=len(X)).explain(X)  # background = all of X
    np.testing.assert_allclose(ex.output, model.decision_function(X), rtol=0, atol=LOCAL)
    np.testing.assert_allclose(ex.base_value + ex.values.sum(axis=1), ex.output, atol=1e-12)
    scaler = model.named_steps["pre"].named_transformers_["num"]
    coef = model.named_steps["est"].coef_[0]
    j = NUM.index("monthly_charges")
    want = coef[j] / scaler.scale_[j] * (X["monthly_charges"] - X["monthly_charges"].mean())
    np.testing.assert_allclose(ex.values[:, NUM.index("monthly_charges")], want, atol=1e-12)
    # A text column: two rows' difference is the difference of their categories' coefficients.
    onehot = model.named_steps["pre"].named_transformers_["cat"]
    beta = dict(zip(onehot.categories_[0], coef[len(NUM):len(NUM) + 3], strict=True))
    k = len(NUM)
    rows = [int(np.flatnonzero(X["contract"] == c)[0]) for c in ("one-year", "two-year")]
    assert ex.values[rows[0], k] - ex.values[rows[1], k] == pytest.approx(
        beta["one-year"] - beta["two-year"], abs=1e-12)
    ridge = _fit(make_pipeline(MinMaxScaler(), Ridge()), X[NUM], charges)
    np.testing.assert_allclose(make_explainer(ridge, X[NUM]).explain(X[NUM]).output,
                               ridge.predict(X[NUM]), rtol=0, atol=1e-8)
    multi = _fit(_linear_pipe(LogisticRegression(max_iter=1000)), X, contract)
    ex = make_explainer(multi, X).explain(X)
    assert ex.values.shape == (len(X), 6, 3) and ex.classes == list(multi.classes_)
    np.testing.assert_allclose(ex.output, multi.decision_function(X), rtol=0, atol=LOCAL)


def test_tree_contributions_sum_to_the_margin(data):
    _, Xn, Xn_nan, y, contract, charges = data
    cases = [
        (HistGradientBoostingClassifier(max_iter=100, early_stopping=False, random_state=0),
         Xn_nan, y, "decision_function"),
        (HistGradientBoostingClassifier(max_iter=15, random_state=0), Xn_nan, contract,
         "decision_function"),
        (GradientBoostingClassifier(n_estimators=40, random_state=0), Xn, y,
         "decision_function"),
        (GradientBoostingClassifier(n_estimators=10, random_state=0), Xn, contract,
         "decision_function"),
        (RandomForestClassifier(n_estimators=8, max_depth=6, random_state=0), Xn_nan, y,
         "proba1"),
        (RandomForestClassifier(n_estimators=5, max_depth=5, random_state=0), Xn, contract,
         "predict_proba"),
        (ExtraTreesRegressor(n_estimators=6, max_depth=6, random_state=0), Xn, charges,
         "predict"),
        (DecisionTreeRegressor(max_depth=7, random_state=0), Xn_nan, charges, "predict"),
        (make_pipeline(StandardScaler(), RandomForestRegressor(n_estimators=4, max_depth=5,
                                                               random_state=0)),
         Xn, charges, "predict"),
    ]
    for model, X, target, method in cases:
        _fit(model, X, target)
        ex = make_explainer(model, X).explain(X)
        with threadpool_limits(1):
            want = (model.predict_proba(X)[:, 1] if method == "proba1"
                    else getattr(model, method)(X))
        scale = max(1.0, float(np.abs(want).max()))
        np.testing.assert_allclose(ex.output, want, rtol=0, atol=LOCAL * scale,
                                   err_msg=type(model).__name__)
    poisson = _fit(HistGradientBoostingRegressor(loss="poisson", max_iter=30), Xn, charges)
    out = make_explainer(poisson, Xn).explain(Xn).output
    np.testing.assert_allclose(np.exp(out), poisson.predict(Xn), rtol=1e-12)


def test_tree_values_match_shap_on_the_scikit_learn_model(data):
    import shap

    _, Xn, _, _, _, charges = data
    forest = _fit(RandomForestRegressor(n_estimators=5, max_depth=6, random_state=0),
                  Xn, charges)
    ours = make_explainer(forest, Xn).explain(Xn).values
    theirs = shap.TreeExplainer(forest).shap_values(Xn.to_numpy())
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-6)


def _arrow(frame):
    return pa.table({c: pa.array(frame[c].to_numpy()) if frame[c].dtype.kind == "f"
                     else pa.array(frame[c].astype(object)) for c in frame.columns})


def test_sql_function_returns_base_output_and_a_map(data):
    X, _, Xn_nan, y, contract, _ = data
    con = duckdb.connect()
    con.register("t", _arrow(X.iloc[:200]))
    con.register("n", _arrow(Xn_nan.iloc[:200]))
    linear = _fit(_linear_pipe(LogisticRegression(max_iter=1000)), X, y)
    register_explain(con, "churn", linear, X)
    rows = con.execute(f"SELECT churn_explain({', '.join(NUM + CAT)}) AS e FROM t").fetchall()
    got = np.asarray([r[0]["output"] for r in rows])
    np.testing.assert_allclose(got, linear.decision_function(X.iloc[:200]), atol=LOCAL)
    first = rows[0][0]
    assert list(first["contributions"]) == NUM + CAT
    assert first["base_value"] + sum(first["contributions"].values()) == pytest.approx(
        first["output"], abs=1e-12)
    top = con.execute(
        f"SELECT k.key FROM (SELECT unnest(map_entries(churn_explain({', '.join(NUM + CAT)})"
        ".contributions)) AS k FROM t LIMIT 6)").fetchall()
    assert [r[0] for r in top] == NUM + CAT
    hgb = _fit(HistGradientBoostingClassifier(max_iter=30, random_state=0), Xn_nan, contract)
    register_explain(con, "plan", hgb, Xn_nan)
    rows = con.execute(f"SELECT plan_explain({', '.join(NUM)}) AS e FROM n").fetchall()
    got = np.asarray([r[0]["output"] for r in rows])
    np.testing.assert_allclose(got, hgb.decision_function(Xn_nan.iloc[:200]), atol=LOCAL)
    null = con.execute(f"SELECT plan_explain(NULL, {', '.join(NUM[1:])}) FROM n LIMIT 1")
    assert null.fetchall() == [(None,)]
    with pytest.raises(InputError, match="exists already"):
        register_explain(con, "plan", hgb, Xn_nan)
    with pytest.raises(InputError, match="Model name"):
        make_explainer(hgb, Xn_nan).register(con, "Bad Name")
    with pytest.raises(InputTypeError, match="DuckDB connection"):
        register_explain("db.duckdb", "plan", hgb, Xn_nan)
    con.close()


def test_explainer_is_plain_json(data):
    _, Xn, _, y, _, _ = data
    X = Xn.copy()
    X.loc[X.index[::3], "satisfaction"] = np.nan  # NaN-only splits: infinite thresholds
    target = (X["satisfaction"].isna() | (y == 1)).astype(int)
    model = _fit(HistGradientBoostingClassifier(max_iter=20, random_state=0), X, target)
    spec = make_explainer(model, X).to_dict()
    assert any(t == "inf" for tree in spec["trees"] for t in tree["thresholds"])
    again = Explainer.from_dict(json.loads(json.dumps(spec, allow_nan=False)))
    np.testing.assert_allclose(again.explain(X).output, model.decision_function(X), atol=LOCAL)
    ex = again.explain(X.iloc[:3])
    frame = ex.to_frame()
    assert list(frame.columns) == ["row", "feature", "contribution"] and len(frame) == 12
    assert json.loads(json.dumps(ex.to_dict()))["margin"] == "raw score (log-odds)"
    assert "Contributions to the raw score (log-odds)" in ex._repr_html_()


def test_refusals(data):
    X, Xn, _, y, _, charges = data
    rng = np.random.default_rng(0)
    frame = Xn.assign(plan=rng.integers(0, 6, len(Xn)).astype(float))
    cat = _fit(HistGradientBoostingClassifier(max_iter=10, categorical_features=["plan"]),
               frame, (frame["plan"] > 2).astype(int))
    with pytest.raises(ModelError, match="categorical splits is not explained"):
        make_explainer(cat, frame)
    with pytest.raises(ModelError, match="PCA mixes or reshapes"):
        make_explainer(_fit(make_pipeline(PCA(2), Ridge()), Xn, charges), Xn)
    with pytest.raises(ModelError, match="SVR is not explained"):
        make_explainer(_fit(SVR(), Xn.iloc[:200], charges.iloc[:200]), Xn)
    model = _fit(_linear_pipe(LogisticRegression(max_iter=500)), X, y)
    with pytest.raises(InputTypeError, match="DataFrame"):
        make_explainer(model, X.to_numpy())
    with pytest.raises(InputError, match="max_background"):
        make_explainer(model, X, max_background=0)
    explainer = make_explainer(model, X)
    with pytest.raises(InputError, match=r"lacks the model's column\(s\) \['contract'\]"):
        explainer.explain(X.drop(columns="contract"))
    with pytest.raises(InputTypeError, match="DataFrame"):
        explainer.explain(X.to_numpy())
    with pytest.raises(InputTypeError, match=r"Explainer\.to_dict"):
        Explainer({"kind": "forest"})
    assert isinstance(pd.DataFrame(explainer.explain(X.iloc[:2]).to_dict()["values"]),
                      pd.DataFrame)


def test_function_parts_for_a_store_catalog(data):
    # A store names its functions itself (versions, aliases): function() gives the pieces.
    _, Xn, _, y, _, _ = data
    model = _fit(GradientBoostingClassifier(n_estimators=20, random_state=0), Xn, y)
    explainer = Explainer.from_dict(json.loads(json.dumps(make_explainer(model, Xn).to_dict())))
    udf, types, ret = explainer.function()
    assert types == ["DOUBLE"] * 4 and ret.startswith("STRUCT(base_value DOUBLE")
    con = duckdb.connect()
    con.register("n", _arrow(Xn.iloc[:50]))
    con.create_function("churn_v2_explain", udf, types, ret, type="arrow")
    rows = con.execute(f"SELECT churn_v2_explain({', '.join(NUM)}) AS e FROM n").fetchall()
    np.testing.assert_allclose([r[0]["output"] for r in rows],
                               model.decision_function(Xn.iloc[:50]), atol=LOCAL)
    con.close()
