"""The ``global`` method: fold-held-out aggregates, main effects, sibling ratios, loss choice."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

from workbench.coldstart import ColdStartForecaster, make_launches
from workbench.coldstart.calibration import (
    SHORTEST_MARGIN,
    SIZE_BINS,
    calibration_table,
    ensemble_weights,
    shortest_pair,
)
from workbench.coldstart.globalfeatures import fold_aggregates
from workbench.coldstart.globalmodel import LOSSES, GlobalModel
from workbench.coldstart.siblings import (
    effects_predict,
    main_effects,
    sibling_features,
    sibling_layout,
)
from workbench.core.errors import InputError, WorkbenchError


@pytest.fixture(scope="module")
def catalogue():
    """A categorical-only catalogue: 12 groups x 4 cells, level = group size x cell share."""
    rng = np.random.default_rng(0)
    g_size = rng.lognormal(3, 1, 12)
    share = np.array([1.0, 0.5, 0.2, 0.05])
    rows, attrs = [], []
    dates = pd.date_range("2020-01-01", periods=36, freq="MS")
    for g in range(12):
        for c in range(4):
            iid = f"g{g}c{c}"
            attrs.append({"item_id": iid, "line": f"L{g}", "cell": f"C{c}", "top": f"T{g % 3}"})
            lam = g_size[g] * share[c] * (1 + 0.01 * np.arange(36))
            rows.append(pd.DataFrame({"item_id": iid, "date": dates, "quantity": rng.poisson(lam)}))
    return pd.concat(rows, ignore_index=True), pd.DataFrame(attrs)


def test_main_effects_recover_a_product_structure():
    rng = np.random.default_rng(1)
    a, b = rng.lognormal(0, 1, 20), np.array([1.0, 0.3, 3.0])
    codes = np.array([[i, j] for i in range(20) for j in range(3)] * 50)  # little shrinkage
    level = a[codes[:, 0]] * b[codes[:, 1]]
    scale, theta = main_effects(codes, level)
    np.testing.assert_allclose(effects_predict(codes, scale, theta), level, rtol=0.05)
    # An unseen level counts as factor 1: the forecast is the rest of the product.
    unseen = np.array([[-1, 2]])
    assert effects_predict(unseen, scale, theta)[0] == pytest.approx(scale * theta[1][2])


def test_sibling_ratio_estimates_a_held_out_variant():
    share = np.array([1.0, 0.5, 0.1])
    codes = np.array([[g, c] for g in range(10) for c in range(3)])
    level = (1.0 + codes[:, 0]) * share[codes[:, 1]]
    layout = sibling_layout(codes)
    assert layout.group_col == 0 and layout.n_cells == 3
    hidden = level.copy()
    hidden[0] = np.nan  # group 0, cell 0 is the new variant
    est = sibling_features(layout, codes, hidden, codes[:1])
    assert est[0, 0] == pytest.approx(level[0])
    np.testing.assert_allclose(est[0, 2:], level[1:3])  # its known siblings' levels


def test_fold_aggregates_do_not_see_the_item_itself():
    codes = np.array([[0], [0], [0], [1], [1]])
    level = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    fold = np.array([0, 1, 2, 0, 1])
    agg = fold_aggregates(codes, level, fold)
    level2 = level.copy()
    level2[0] = 1000.0
    agg2 = fold_aggregates(codes, level2, fold)
    assert agg[0, 0] == pytest.approx(2.5) and agg2[0, 0] == agg[0, 0]
    assert agg2[1, 0] != agg[1, 0]  # the others do see it


@pytest.fixture(scope="module")
def fitted_global(catalogue):
    hist, attrs = catalogue
    known = attrs[~attrs["item_id"].isin(["g0c1", "g5c2"])]
    train = hist[hist["item_id"].isin(known["item_id"])]
    model = ColdStartForecaster(method="global", category="top", random_state=0)
    return model.fit(train, known), attrs


def test_global_forecasts_a_new_variant_from_its_siblings(fitted_global, catalogue):
    model, attrs = fitted_global
    hist, _ = catalogue
    g = model.engine_.global_
    assert g.loss_ in LOSSES and set(g.oof_wape_) == set(LOSSES)
    assert 0.8 <= g.damping_ <= 1.2  # a new variant is only debiased, never damped hard
    new = attrs[attrs["item_id"].isin(["g0c1", "g5c2"])]
    fc = model.predict(new, horizon=12, launch_date="2023-01-01")
    f = fc.frame
    assert (f["q0.1"] <= f["forecast"]).all() and (f["forecast"] <= f["q0.9"]).all()
    actual = hist[hist["item_id"].isin(new["item_id"]) & (hist["date"] >= "2023-01-01")]
    got = f.groupby("item_id")["forecast"].mean()
    want = actual.groupby("item_id")["quantity"].mean()
    # Within 35% of the truth: a global category mean would be off by 2-20x for these.
    np.testing.assert_allclose(got.loc[want.index], want, rtol=0.35)
    assert set(model.calibration_["global"]) >= {"offsets", "k", "wape"}


def test_global_new_line_is_damped_and_refuses_an_all_unseen_catalogue(catalogue):
    hist, attrs = catalogue
    known = attrs[attrs["line"] != "L3"]
    model = ColdStartForecaster(
        method="global",
        category="top",
        calibration_group="line",
        handle_unknown="ignore",
        random_state=0,
    ).fit(hist[hist["item_id"].isin(known["item_id"])], known)
    g = model.engine_.global_
    assert 0.2 <= g.damping_ <= 1.2
    new = attrs[attrs["line"] == "L3"]
    fc = model.predict(new, horizon=6, launch_date="2023-01-01")
    assert np.isfinite(fc.frame["forecast"]).all() and (fc.frame["forecast"] >= 0).all()
    blank = new.assign(line="L99", cell="C9", top="T9")
    with pytest.raises(InputError, match=r"unseen in training.*Map at least one attribute"):
        model.predict(blank, horizon=6, launch_date="2023-01-01")


def test_global_falls_back_to_hist_gradient_boosting(catalogue, monkeypatch):
    hist, attrs = catalogue
    monkeypatch.setitem(sys.modules, "lightgbm", None)  # import lightgbm now raises
    model = ColdStartForecaster(method="global", category="top", random_state=0)
    model.fit(hist, attrs)
    g = model.engine_.global_
    if g.loss_ != "base":
        from sklearn.ensemble import HistGradientBoostingRegressor

        assert isinstance(g.model_, HistGradientBoostingRegressor)
    for loss in ("tweedie", "poisson", "l2"):
        m = GlobalModel(season_length=12, loss=loss, random_state=0)
        m.fit(model.engine_.items_, *model._train)
        assert type(m.model_).__name__ == "HistGradientBoostingRegressor"
        out = m.predict(model.engine_.items_, np.arange(3))
        assert out.shape == (48, 3) and np.isfinite(out).all() and (out >= 0).all()


def test_ensemble_weights_never_worse_than_the_best_member():
    rng = np.random.default_rng(0)
    y = rng.gamma(2.0, 10.0, 500)
    preds = {
        "a": y * rng.lognormal(0, 0.3, 500),
        "b": y * 1.5,
        "c": rng.permutation(y),
    }
    w = ensemble_weights(preds, y)
    assert sum(w.values()) == pytest.approx(1.0) and min(w.values()) >= 0
    combo = sum(w[m] * preds[m] for m in preds)
    best = min(np.abs(y - p).sum() for p in preds.values())
    assert np.abs(y - combo).sum() <= best + 1e-9
    # A member that is exactly right takes all the weight.
    assert ensemble_weights({"x": y * 2, "y": y}, y) == {"x": 0.0, "y": 1.0}


def test_nan_quantities_follow_missing(catalogue):
    hist, attrs = catalogue
    holed = hist.astype({"quantity": float})
    holed.loc[holed.index[::50], "quantity"] = np.nan
    with pytest.raises(InputError, match="missing='zero'") as err:
        ColdStartForecaster(method="profile", category="top").fit(holed, attrs)
    assert isinstance(err.value, WorkbenchError)
    model = ColdStartForecaster(method="profile", category="top", missing="zero")
    model.fit(holed, attrs)
    zeroed = ColdStartForecaster(method="profile", category="top")
    zeroed.fit(holed.fillna({"quantity": 0.0}), attrs)
    np.testing.assert_allclose(model.engine_.level_, zeroed.engine_.level_)


def test_real_launches_still_work_with_global():
    data = make_launches(n_items=150, n_periods=80, random_state=2)
    known, new = data.split_by_launch("2025-03-03")
    hist = data.history[data.history["item_id"].isin(known["item_id"])]
    model = ColdStartForecaster(method="global", random_state=0).fit(hist, known)
    assert model.engine_.global_.use_age_  # launches inside the history give ages
    fc = model.predict(new.head(3), horizon=10, launch_date="2025-03-03")
    assert fc.frame.shape == (30, 7) and np.isfinite(fc.frame["forecast"]).all()


def test_shortest_pair_is_shorter_than_equal_tails_and_keeps_its_coverage():
    rng = np.random.default_rng(1)
    r = rng.normal(0.0, 1.5, 4000)  # log-ratios: right-skewed errors in the original scale
    qs = [0.05, 0.1, 0.5, 0.9, 0.95]
    got = shortest_pair(r, qs)
    equal = np.quantile(r, qs, method="inverted_cdf")
    assert got[2] == equal[2]  # the median is left alone
    assert np.all(np.diff(got) >= 0)  # nested: outer pairs contain inner ones
    for i, j in ((1, 3), (0, 4)):
        cov = np.mean((r >= got[i]) & (r <= got[j]))
        assert cov >= qs[j] - qs[i] + SHORTEST_MARGIN - 1e-3
        # Shorter in the original scale, reached by moving toward the lower tail.
        assert np.exp(got[j]) - np.exp(got[i]) < 0.8 * (np.exp(equal[j]) - np.exp(equal[i]))
        assert got[i] < equal[i]
    # Tight errors: exp is nearly linear, so the shortest interval is the central one.
    tight = rng.normal(0.0, 0.01, 4000)
    lo, _, hi = shortest_pair(tight, [0.1, 0.5, 0.9])
    central = np.quantile(tight, [0.0875, 0.9125])
    np.testing.assert_allclose([lo, hi], central, atol=0.002)


def test_interval_shortest_calibrates_global_on_its_own_backtest(catalogue):
    hist, attrs = catalogue
    known = attrs[attrs["line"] != "L3"]
    train = hist[hist["item_id"].isin(known["item_id"])]
    kw = {"method": "global", "category": "top", "calibration_group": "line", "random_state": 0}
    short = ColdStartForecaster(**kw, interval="shortest", handle_unknown="ignore").fit(
        train, known
    )
    equal = ColdStartForecaster(**kw, handle_unknown="ignore").fit(train, known)
    oof = short.engine_.global_.oof_
    args = {"offset": short.offset_, "quantiles": short.quantiles_, "size_bins": SIZE_BINS}
    rows = (oof["item"], oof["age"], oof["y"], oof["pred"])
    want = calibration_table(*rows, **args, shortest=True)["offsets"]
    np.testing.assert_array_equal(short.calibration_["global"]["offsets"], want)
    np.testing.assert_array_equal(
        equal.calibration_["global"]["offsets"], calibration_table(*rows, **args)["offsets"]
    )
    # Same point forecasts; the shortest 80% bands are narrower in total on the new line.
    new = attrs[attrs["line"] == "L3"]
    a = short.predict(new, horizon=6, launch_date="2023-01-01").frame
    b = equal.predict(new, horizon=6, launch_date="2023-01-01").frame
    np.testing.assert_allclose(a["forecast"], b["forecast"])
    assert (a["q0.9"] - a["q0.1"]).sum() < (b["q0.9"] - b["q0.1"]).sum()
