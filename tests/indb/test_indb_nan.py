"""NaN, NULL, infinity and overflow in SQL calls: one documented behaviour for every model type.

NULL in -> NULL out. NaN reaches the model only where scikit-learn accepts NaN for it and the ONNX
model matched scikit-learn on rows with NaN at registration (``nan_policy="pass"``); otherwise the
query fails with a message naming the column and the fix. Infinity and float32 overflow always
fail. Before this, a forest fed NaN in SQL gave other labels than scikit-learn on 12-40 % of rows
with no warning, and a linear model's NaN silently became NULL.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder

from tests.indb.conftest import FEATURES
from workbench.core.errors import InputError, ModelError
from workbench.indb import MODEL_TYPES, ModelStore, train_model

REG_FEATURES = ["tenure_months", "support_calls", "satisfaction", "contract"]
# Rows with NaN in one, several or all numeric columns.
NAN_ROWS = 6


def _nan_frame(X: pd.DataFrame, numeric: list[str]) -> pd.DataFrame:
    rows = X.iloc[:NAN_ROWS].reset_index(drop=True).astype({c: float for c in numeric})
    for i in range(NAN_ROWS):
        cols = numeric[i % len(numeric) :][: 1 + i // len(numeric)] if i < 4 else numeric
        rows.loc[i, cols] = np.nan
    return rows


def _sql_on(store: ModelStore, fname: str, frame: pd.DataFrame, *, nan: bool = True) -> pd.Series:
    """Call ``fname`` on the rows of ``frame``; NaN reaches SQL as NaN (``nan``) or as NULL.

    DuckDB reads a pandas NaN as NULL, so NaN is re-made in SQL with coalesce.
    """
    store.con.register("probe", frame)
    try:
        numeric = [c for c in frame.columns if pd.api.types.is_float_dtype(frame[c])]
        args = ", ".join(
            f"coalesce({c}, 'nan'::DOUBLE)" if nan and c in numeric else c for c in frame.columns
        )
        return store.sql(f"SELECT {fname}({args}) AS v FROM probe")["v"]
    finally:
        store.con.unregister("probe")


@pytest.mark.parametrize("task", ["classification", "regression"])
@pytest.mark.parametrize("kind", list(MODEL_TYPES))
def test_nan_semantics_of_every_model_type(customers, kind, task):
    target, feats = ("churned", FEATURES) if task == "classification" else (
        "monthly_charges", REG_FEATURES)
    trained = train_model(customers, target, feats, kind, random_state=0)
    store = ModelStore()
    info = store.register("m", trained.model, trained.X_sample, compile=False)
    numeric = [f for f in feats if f != "contract"]
    probe = _nan_frame(trained.X_sample[feats], numeric)
    fname = "m_proba" if task == "classification" else "m_predict"
    nan = info.parity["nan"]
    if kind == "boosting":
        # scikit-learn routes NaN in HistGradientBoosting and the ONNX model does the same
        assert info.nan_policy == "pass" and nan["sklearn_accepts_nan"]
        assert nan["label_mismatches"] == 0 and nan["max_abs_diff"] < 1e-4
        got = _sql_on(store, fname, probe).to_numpy(dtype=float)
        ref = (trained.model.predict_proba(probe)[:, 1] if task == "classification"
               else trained.model.predict(probe))
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5)
    else:
        assert info.nan_policy == "error"
        if kind == "linear":  # LogisticRegression and Ridge refuse NaN in scikit-learn
            assert nan["sklearn_accepts_nan"] is False
            assert "refuses NaN" in nan["reason"]
        else:  # trees accept NaN in scikit-learn, but the ONNX trees route it elsewhere
            assert nan["sklearn_accepts_nan"] is True
            assert "differs" in nan["reason"] and nan["max_abs_diff"] > 1e-4
        with pytest.raises(InputError, match=r"model 'm' v1 got NaN in argument '\w+'.*NULLIF"):
            _sql_on(store, fname, probe)
    # Whatever the policy: NULL -> NULL, infinity and float32 overflow -> a clear error.
    nulls = trained.X_sample[feats].iloc[:3].reset_index(drop=True).astype({"tenure_months": float})
    nulls.loc[0, "tenure_months"] = None
    nulls.loc[1, "contract"] = None
    got = _sql_on(store, fname, nulls, nan=False)
    assert got.isna().tolist() == [True, True, False]
    for bad in (np.inf, -np.inf, 1e308, -4e38):
        odd = nulls.iloc[2:].copy()
        odd["tenure_months"] = bad
        with pytest.raises(InputError, match=r"got -?inf|got -?[0-9.]+e\+3\d.*float32"):
            _sql_on(store, fname, odd)
    store.close()


def _forest_with_nan(customers):
    X = customers[FEATURES].astype({"tenure_months": float}).copy()
    X.loc[X.index[::5], "tenure_months"] = np.nan
    pre = ColumnTransformer([
        ("num", "passthrough", FEATURES[:4]),
        ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), ["contract"]),
    ])
    est = RandomForestClassifier(n_estimators=10, max_depth=6, random_state=0)
    return Pipeline([("prepare", pre), ("model", est)]).fit(X, customers["churned"]), X


def test_forest_trained_with_nan_refuses_nan_in_sql(customers):
    model, X = _forest_with_nan(customers)
    store = ModelStore()
    info = store.register("rf", model, X.iloc[:800], compile=False)  # X holds NaN: accepted
    assert info.nan_policy == "error" and info.parity["nan"]["sklearn_accepts_nan"]
    assert info.parity["nan"]["label_mismatches"] > 0
    with pytest.raises(InputError, match="got NaN in argument 'tenure_months'"):
        _sql_on(store, "rf_predict", X[X["tenure_months"].isna()].iloc[:5])
    # Requiring NaN support refuses the model at registration instead.
    with pytest.raises(ModelError, match=r"allow_nan=True, but ONNX differs.*not registered"):
        store.register("rf", model, X.iloc[:800], compile=False, allow_nan=True)
    assert store.list_models()["version"].tolist() == [1]
    store.close()


def test_allow_nan_false_and_an_imputing_pipeline(customers, boosting):
    store = ModelStore()
    info = store.register("hgb", boosting.model, boosting.X_sample, allow_nan=False)
    assert info.nan_policy == "error" and "allow_nan=False" in info.parity["nan"]["reason"]
    probe = _nan_frame(boosting.X_sample[FEATURES], FEATURES[:4])
    with pytest.raises(InputError, match="got NaN"):
        _sql_on(store, "hgb_proba", probe)
    # An imputer inside the Pipeline makes a linear model accept NaN, and ONNX agrees with it.
    num = customers[FEATURES[:4]]
    imputed = make_pipeline(SimpleImputer(), LogisticRegression(max_iter=500))
    imputed.fit(num, customers["churned"])
    info = store.register("imp", imputed, num, allow_nan=True, compile=False)
    assert info.nan_policy == "pass"
    got = _sql_on(store, "imp_proba", probe[FEATURES[:4]]).to_numpy(dtype=float)
    np.testing.assert_allclose(got, imputed.predict_proba(probe[FEATURES[:4]])[:, 1], atol=1e-5)
    store.close()


def test_nan_in_the_sample_of_a_model_that_refuses_nan(store, linear):
    X = linear.X_sample.astype({"tenure_months": float}).copy()
    X.loc[:4, "tenure_months"] = np.nan
    with pytest.raises(InputError, match="X holds NaN but scikit-learn refuses NaN"):
        store.register("churn", linear.model, X)
    X.loc[:, "tenure_months"] = np.nan
    with pytest.raises(InputError, match="Every row of X holds NaN"):
        store.register("churn", linear.model, X)
    for bad in (np.inf, 1e308):
        X = linear.X_sample.astype({"tenure_months": float}).copy()
        X.loc[3, "tenure_months"] = bad
        with pytest.raises(InputError, match=r"column 'tenure_months'.*(infinite|float32)"):
            store.register("churn", linear.model, X)
    assert store.list_models().empty
