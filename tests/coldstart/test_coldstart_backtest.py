"""Backtests by time origin and by item folds: metrics, leakage, bad input."""

from __future__ import annotations

import json

import joblib
import numpy as np
import pandas as pd
import pytest

from workbench.coldstart import ColdStartForecaster, backtest, make_launches
from workbench.core.errors import InputError, InputTypeError, UnknownNameError


@pytest.fixture(scope="module")
def small():
    return make_launches(n_items=220, n_periods=100, random_state=11)


@pytest.fixture(scope="module")
def origin_result(small):
    return backtest(
        small.history,
        small.attributes,
        horizon=13,
        n_folds=2,
        random_state=0,
        show_progress=False,
    )


def test_origin_backtest_table(origin_result):
    t = origin_result.to_frame()
    assert set(t["method"]) == {
        "ensemble",
        "global",
        "knn",
        "gbm",
        "bass",
        "profile",
        "category_mean",
        "seasonal_naive",
    }
    assert list(t["wape"]) == sorted(t["wape"])
    for col in ("wape", "bias", "mase", "spl", "coverage", "n_items", "wape_vs_category_mean"):
        assert col in t.columns
    cm = t.set_index("method").loc["category_mean"]
    assert cm["wape_vs_category_mean"] == pytest.approx(1.0)
    assert t.set_index("method").loc["ensemble", "wape_vs_category_mean"] < 0.9
    assert ((t["coverage"] > 0.6) & (t["coverage"] < 0.95)).all()
    assert origin_result.per_fold["fold"].nunique() == 2
    p = origin_result.predictions
    assert (p["age"] < 13).all() and (p["scale"] > 0).all()
    d = json.loads(origin_result.to_json())
    assert "predictions" not in d and d["scheme"] == "origin"
    assert origin_result.summary()["best method"] == t["method"].iloc[0]


def test_origin_backtest_metrics_match_predictions(origin_result):
    p = origin_result.predictions
    e = p[p["method"] == "ensemble"]
    wape = np.abs(e["actual"] - e["forecast"]).sum() / e["actual"].sum()
    row = origin_result.table.set_index("method").loc["ensemble"]
    assert row["wape"] == pytest.approx(wape)
    assert row["coverage"] == pytest.approx(
        np.mean((e["actual"] >= e["q0.1"]) & (e["actual"] <= e["q0.9"]))
    )


def test_origin_backtest_does_not_see_the_future(small):
    """Sales dated after an origin must not change that origin's forecasts."""
    kwargs = {
        "horizon": 8,
        "n_folds": 1,
        "methods": ["knn", "seasonal_naive"],
        "random_state": 0,
        "show_progress": False,
    }
    base = backtest(small.history, small.attributes, **kwargs)
    origin = pd.Timestamp(base.per_fold["fold"].iloc[0].split()[-1])
    new_ids = set(base.predictions["item_id"])
    h = small.history.copy()
    later_known = (h["date"] >= origin) & ~h["item_id"].isin(new_ids)
    h.loc[later_known, "quantity"] *= 50
    moved = backtest(h, small.attributes, **kwargs)
    pd.testing.assert_series_equal(base.predictions["forecast"], moved.predictions["forecast"])


def test_kfold_by_group(small):
    res = backtest(
        small.history,
        small.attributes,
        scheme="kfold",
        n_folds=3,
        group_col="brand",
        methods=["profile", "category_mean"],
        horizon=6,
        random_state=0,
        show_progress=False,
    )
    p = res.predictions
    brands = small.attributes.set_index("item_id")["brand"]
    per_fold = p.assign(brand=brands.loc[p["item_id"]].to_numpy()).groupby("brand")["fold"]
    assert (per_fold.nunique() == 1).all()  # a brand is never split over folds
    assert res.scheme == "kfold" and len(res.table) == 2


def test_backtest_plot(origin_result):
    import matplotlib

    matplotlib.use("Agg")
    assert origin_result.plot().get_ylabel().startswith("WAPE")


def test_backtest_honours_joblib_backend(small):
    kwargs = {
        "horizon": 6,
        "n_folds": 2,
        "methods": ["profile"],
        "random_state": 0,
        "show_progress": False,
    }
    a = backtest(small.history, small.attributes, n_jobs=1, **kwargs)
    with joblib.parallel_config(backend="threading"):
        b = backtest(small.history, small.attributes, n_jobs=2, **kwargs)
    pd.testing.assert_frame_equal(a.table, b.table)


@pytest.mark.parametrize(
    ("kwargs", "exc", "text"),
    [
        ({"methods": "knn"}, InputTypeError, "list of method names"),
        ({"methods": []}, InputError, "empty"),
        ({"methods": ["knn", "prophet"]}, UnknownNameError, "prophet"),
        ({"horizon": 0}, InputError, "horizon"),
        ({"scheme": "rolling"}, UnknownNameError, "rolling"),
        ({"n_folds": 0}, InputError, "n_folds"),
        ({"group_col": "brand"}, InputError, "applies to scheme='kfold'"),
        ({"scheme": "kfold", "step": 4}, InputError, "applies to scheme='origin'"),
        ({"scheme": "kfold", "group_col": "colour"}, InputError, "not an attribute"),
        ({"scheme": "kfold", "group_col": "category", "n_folds": 9}, InputError, "groups"),
        ({"horizon": 95}, InputError, "No fold"),
        ({"forecaster": "knn"}, InputTypeError, "ColdStartForecaster"),
        ({"step": -2}, InputError, "step"),
    ],
)
def test_backtest_bad_input(small, kwargs, exc, text):
    with pytest.raises(exc, match=text):
        backtest(small.history, small.attributes, show_progress=False, **kwargs)


def test_backtest_bad_frames(small):
    with pytest.raises(InputTypeError, match="DataFrame"):
        backtest(small.history.to_numpy(), small.attributes)
    with pytest.raises(InputError, match="item id column"):
        backtest(small.history, small.attributes.drop(columns="item_id"))
    with pytest.raises(InputError, match="negative"):
        backtest(small.history.assign(quantity=-1.0), small.attributes)


def test_backtest_uses_template_params(small):
    res = backtest(
        small.history,
        small.attributes,
        methods=["profile"],
        horizon=6,
        n_folds=1,
        forecaster=ColdStartForecaster(quantiles=(0.05, 0.5, 0.95)),
        show_progress=False,
    )
    assert "q0.05" in res.predictions.columns and res.interval_level == pytest.approx(0.9)


def test_backtest_keeps_the_interval_kind_of_its_forecaster(small):
    runs = {
        kind: backtest(
            small.history,
            small.attributes,
            methods=["knn"],
            horizon=13,
            n_folds=1,
            random_state=0,
            forecaster=ColdStartForecaster(interval=kind),
            show_progress=False,
        )
        for kind in ("equal_tails", "shortest")
    }
    eq, sh = (runs[k].to_frame().set_index("method").loc["knn"] for k in runs)
    assert sh["wape"] == pytest.approx(eq["wape"])  # same point forecasts
    assert 0.75 <= sh["coverage"] <= 0.9
    p_eq, p_sh = runs["equal_tails"].predictions, runs["shortest"].predictions
    # Shortest bands start lower (toward zero) for these right-skewed sales.
    assert (p_sh["q0.1"] <= p_eq["q0.1"] + 1e-9).mean() > 0.9
    assert not np.allclose(p_sh["q0.9"], p_eq["q0.9"])
    width = {k: (p["q0.9"] - p["q0.1"]).mean() for k, p in (("eq", p_eq), ("sh", p_sh))}
    assert width["sh"] < width["eq"]  # narrower even with the 0.025 coverage margin
