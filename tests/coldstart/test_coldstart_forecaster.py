"""ColdStartForecaster: methods, intervals, update, analogues and every kind of bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from workbench.coldstart import ColdStartForecaster, make_launches
from workbench.coldstart.models import BASELINES, METHODS
from workbench.core.errors import (
    InputError,
    InputTypeError,
    NotFittedError,
    UnknownNameError,
    WorkbenchError,
)


def _actuals(launches, forecast):
    merged = launches.history.merge(forecast.frame, on=["item_id", "date"])
    assert len(merged) == len(forecast.frame)
    return merged


def test_predict_frame_shape_and_quantile_order(fitted, split):
    _, _, new, new_launch = split
    fc = fitted.predict(new, horizon=10, launch_date=new_launch)
    f = fc.to_frame()
    assert list(f.columns) == ["item_id", "date", "age", "forecast", "q0.1", "q0.5", "q0.9"]
    assert len(f) == 10 * len(new)
    assert (f["q0.1"] <= f["q0.5"]).all() and (f["q0.5"] <= f["q0.9"]).all()
    assert (f["q0.1"] >= 0).all() and (f["forecast"] >= 0).all()
    first = f.groupby("item_id")["date"].min()
    assert (first == new_launch.loc[first.index]).all()
    assert fc.interval_level == pytest.approx(0.8)
    assert fc.summary()["items"] == len(new)
    json.loads(fc.to_json())
    assert "Cold-start forecast" in fc._repr_html_()


@pytest.mark.parametrize("method", [*METHODS, *BASELINES])
def test_every_method_fits_and_predicts(split, method):
    train, known, new, new_launch = split
    model = ColdStartForecaster(method=method, random_state=0).fit(train, known)
    fc = model.predict(new.head(5), horizon=6, launch_date=new_launch)
    assert fc.method == method
    assert np.isfinite(fc.frame[["forecast", "q0.1", "q0.9"]].to_numpy()).all()


def test_attribute_methods_beat_category_mean_on_new_items(launches, split):
    train, known, new, new_launch = split
    scores = {}
    for method in ("ensemble", "category_mean"):
        model = ColdStartForecaster(method=method, random_state=0).fit(train, known)
        m = _actuals(launches, model.predict(new, horizon=26, launch_date=new_launch))
        scores[method] = np.abs(m["quantity"] - m["forecast"]).sum() / m["quantity"].sum()
    assert scores["ensemble"] < 0.85 * scores["category_mean"]


def test_intervals_are_calibrated_on_new_items(launches, fitted, split):
    _, _, new, new_launch = split
    m = _actuals(launches, fitted.predict(new, horizon=26, launch_date=new_launch))
    cov = np.mean((m["quantity"] >= m["q0.1"]) & (m["quantity"] <= m["q0.9"]))
    assert 0.7 <= cov <= 0.9


def test_launch_date_forms(fitted, split):
    _, _, new, new_launch = split
    sub = new.head(3)
    ids = sub["item_id"].tolist()
    by_map = fitted.predict(sub, 4, launch_date=new_launch.loc[ids].to_dict()).frame
    by_list = fitted.predict(sub, 4, launch_date=list(new_launch.loc[ids])).frame
    by_col = fitted.predict(sub.assign(launch_date=new_launch.loc[ids].to_numpy()), 4).frame
    pd.testing.assert_frame_equal(by_map, by_list)
    pd.testing.assert_frame_equal(by_map, by_col)
    one = fitted.predict(sub, 4, launch_date="2025-03-05").frame  # a Wednesday
    assert (one.groupby("item_id")["date"].min() == pd.Timestamp("2025-03-10")).all()


def test_update_uses_early_sales(launches, split):
    train, known, new, new_launch = split
    model = ColdStartForecaster(method="knn", random_state=0).fit(train, known)
    hist = launches.history
    ids = new["item_id"]
    young = hist[hist["item_id"].isin(ids)]
    young = young[young["date"] < young["item_id"].map(new_launch) + pd.Timedelta(weeks=6)]
    upd = model.update(young, new, horizon=13)
    cold = model.predict(new, horizon=19, launch_date=new_launch)
    cold_f = cold.frame[cold.frame["age"] >= 6]
    m_upd = hist.merge(upd.frame, on=["item_id", "date"])
    m_cold = hist.merge(cold_f, on=["item_id", "date"])
    assert (upd.frame["age"].min(), upd.frame["age"].max()) == (6, 18)
    assert len(m_upd) == len(m_cold) == 13 * len(new)

    def w(m):
        return np.abs(m["quantity"] - m["forecast"]).sum() / m["quantity"].sum()

    assert w(m_upd) < 0.9 * w(m_cold)
    width_upd = (upd.frame["q0.9"] - upd.frame["q0.1"]).sum() / upd.frame["forecast"].sum()
    width_cold = (cold_f["q0.9"] - cold_f["q0.1"]).sum() / cold_f["forecast"].sum()
    assert width_upd < width_cold
    assert model.calibration_["knn"]["k"] > 0


def test_update_bad_input(fitted, split, launches):
    _, _, new, _ = split
    young = launches.history[launches.history["item_id"].isin(new["item_id"])].head(20)
    with pytest.raises(InputError, match="without a row in new_item_attributes"):
        fitted.update(young, new[new["item_id"] != young["item_id"].iloc[0]], 4)
    with pytest.raises(InputError, match="no recent sales and no launch date"):
        fitted.update(young.iloc[:0].pipe(lambda d: young.head(1)), new, 4)
    neg = young.assign(quantity=-1.0)
    with pytest.raises(InputError, match="negative"):
        fitted.update(neg, new, 4)
    early = {i: "2030-01-07" for i in new["item_id"]}
    with pytest.raises(InputError, match="before the launch date"):
        fitted.update(young, new, 4, launch_date=early)
    with pytest.raises(InputError, match="horizon"):
        fitted.update(young, new, 0)


def test_analogues_are_similar_items(fitted, split):
    _, known, new, _ = split
    an = fitted.analogues(new.head(2), n_neighbors=4)
    nb = an.to_frame()
    assert len(nb) == 8 and (nb.groupby("new_item")["distance"].is_monotonic_increasing).all()
    cats = known.set_index("item_id")["category"]
    first = new.iloc[0]
    mine = nb[nb["new_item"] == first["item_id"]]
    assert (cats.loc[mine["item_id"]] == first["category"]).all()
    assert set(an.curves["item_id"]) == set(nb["item_id"])
    assert (an.curves["age"] >= 0).all()


def test_plots_return_axes(fitted, split):
    import matplotlib

    matplotlib.use("Agg")
    _, _, new, new_launch = split
    fc = fitted.predict(new.head(2), 8, launch_date=new_launch)
    assert fc.plot().get_title().endswith("ensemble")
    assert fc.plot(item_id=new["item_id"].iloc[1]) is not None
    assert fitted.analogues(new.head(1)).plot(max_age=10) is not None
    with pytest.raises(InputError, match="No forecast for item"):
        fc.plot(item_id="nope")
    with pytest.raises(InputError, match="No analogues for item"):
        fitted.analogues(new.head(1)).plot(new_item="nope")


def test_monthly_data_and_no_category():
    d = make_launches(n_items=60, n_periods=200, random_state=2, n_categories=2)
    h = d.history.assign(month=d.history["date"].dt.to_period("M").dt.to_timestamp())
    monthly = h.groupby(["item_id", "month"], as_index=False)["quantity"].sum()
    monthly = monthly.rename(columns={"month": "date"})
    model = ColdStartForecaster(method="bass", category=None, random_state=0)
    model.fit(monthly, d.attributes)
    assert model.calendar_.kind == "MS" and model.season_length_ == 12
    fc = model.predict(d.attributes.head(2).assign(item_id=["N1", "N2"]), 5, "2030-02-01")
    assert fc.frame["date"].dt.day.eq(1).all()
    assert fc.frame["date"].iloc[1] == pd.Timestamp("2030-03-01")


def test_unknown_levels_can_be_ignored(split):
    train, known, new, new_launch = split
    model = ColdStartForecaster(method="ensemble", handle_unknown="ignore", random_state=0)
    model.fit(train, known)
    odd = new.head(2).assign(category="garden", brand="zzz")
    fc = model.predict(odd, 5, launch_date=new_launch)
    assert np.isfinite(fc.frame["forecast"]).all() and (fc.frame["forecast"] > 0).all()


def test_missing_periods_can_be_filled_with_zero(split):
    train, known, _, _ = split
    holes = train.drop(index=train.index[5:8])
    with pytest.raises(InputError, match="gap"):
        ColdStartForecaster(method="profile").fit(holes, known)
    model = ColdStartForecaster(method="profile", missing="zero").fit(holes, known)
    assert model.engine_.items_.n == known["item_id"].isin(train["item_id"]).sum()


def test_get_set_params():
    m = ColdStartForecaster(method="knn", n_neighbors=3)
    assert m.get_params()["n_neighbors"] == 3
    assert m.set_params(n_neighbors=7).n_neighbors == 7
    with pytest.raises(UnknownNameError, match="n_neighbours"):
        m.set_params(n_neighbours=2)
    assert repr(m) == "ColdStartForecaster(method='knn')"


def test_predict_warns_for_items_with_history(fitted, split):
    _, known, _, _ = split
    with pytest.warns(UserWarning, match="already have history"):
        fitted.predict(known.head(2), 3, launch_date="2025-04-07")


def test_fit_warns_for_attribute_rows_without_history(split):
    train, known, new, _ = split
    with pytest.warns(UserWarning, match="no history and are ignored"):
        ColdStartForecaster(method="profile").fit(train, pd.concat([known, new]))


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("params", "exc", "text"),
    [
        ({"method": "arima"}, UnknownNameError, "arima"),
        ({"method": "ensembl"}, UnknownNameError, "Did you mean 'ensemble'"),
        ({"missing": "drop"}, UnknownNameError, "missing policy"),
        ({"handle_unknown": "x"}, UnknownNameError, "handle_unknown"),
        ({"n_neighbors": 0}, InputError, "n_neighbors"),
        ({"max_iter": 1.5}, InputTypeError, "max_iter"),
        ({"calibration_size": 1.2}, InputError, "calibration_size"),
        ({"quantiles": (0.9, 0.1)}, InputError, "ascending"),
        ({"quantiles": (0.1, 1.0)}, InputError, "quantile"),
        ({"quantiles": "0.5"}, InputTypeError, "quantiles"),
        ({"n_jobs": 0}, InputError, "n_jobs"),
        ({"random_state": 1.5}, InputTypeError, "random_state"),
        ({"category": 3}, InputTypeError, "category"),
        ({"category": "price"}, InputError, "numeric"),
        ({"category": "colour"}, InputError, "missing"),
        ({"freq": "QS"}, InputError, "not supported"),
        ({"freq": "2W"}, InputError, "multiple"),
        ({"freq": "bogus"}, InputError, "not a pandas frequency"),
    ],
)
def test_bad_parameters(split, params, exc, text):
    train, known, _, _ = split
    with pytest.raises(exc, match=text):
        ColdStartForecaster(**params).fit(train, known)


def _bad_history(train):
    wed = train.copy()
    wed.loc[wed.index[0], "date"] = pd.Timestamp("2024-01-03")
    return {
        "not a frame": (train.to_numpy(), InputTypeError, "DataFrame"),
        "empty": (train.iloc[:0], InputError, "empty"),
        "no quantity": (train.drop(columns="quantity"), InputError, "quantity"),
        "negative": (train.assign(quantity=train["quantity"] - 5), InputError, "negative"),
        "nan qty": (train.assign(quantity=np.nan), InputError, "NaN"),
        "text qty": (train.assign(quantity="a"), InputTypeError, "numeric"),
        "missing date": (train.assign(date=pd.NaT), InputError, "missing date"),
        "bad date": (train.assign(date="yesterday-ish"), InputError, "not dates"),
        "duplicate": (pd.concat([train, train.head(1)]), InputError, "duplicated"),
        "off grid": (wed, InputError, "not on one weekly grid"),
        "gap": (train.drop(index=train.index[3]), InputError, "gap"),
        "missing id": (train.assign(item_id=None), InputError, "missing item ids"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "not a frame",
        "empty",
        "no quantity",
        "negative",
        "nan qty",
        "text qty",
        "missing date",
        "bad date",
        "duplicate",
        "off grid",
        "gap",
        "missing id",
    ],
)
def test_fit_bad_history(split, case):
    train, known, _, _ = split
    data, exc, text = _bad_history(train)[case]
    with pytest.raises(exc, match=text):
        ColdStartForecaster(method="profile").fit(data, known)


def test_fit_bad_attributes(split):
    train, known, _, _ = split
    with pytest.raises(InputError, match="no attribute row"):
        ColdStartForecaster(method="profile").fit(train, known.iloc[1:])
    with pytest.raises(InputError, match="item id column"):
        ColdStartForecaster(method="profile").fit(train, known.drop(columns="item_id"))
    with pytest.raises(InputError, match="no attribute columns"):
        ColdStartForecaster(method="profile", category=None).fit(train, known[["item_id"]])
    with pytest.raises(InputError, match="more than once"):
        ColdStartForecaster(method="profile").fit(train, pd.concat([known, known.head(1)]))
    with pytest.raises(InputError, match="infinite"):
        ColdStartForecaster(method="profile").fit(train, known.assign(price=np.inf))
    few = known.head(5)
    with pytest.raises(InputError, match="at least 8 known items"):
        ColdStartForecaster(method="profile").fit(train[train["item_id"].isin(few["item_id"])], few)
    with pytest.raises(InputTypeError, match="DataFrame"):
        ColdStartForecaster(method="profile").fit(train, known.to_dict())


def test_predict_bad_input(fitted, split):
    _, _, new, new_launch = split
    ok = new.head(2)
    cases = [
        (lambda: fitted.predict(ok, 0, launch_date=new_launch), InputError, "horizon must be > 0"),
        (lambda: fitted.predict(ok, -3, launch_date=new_launch), InputError, "horizon"),
        (lambda: fitted.predict(ok, 2.5, launch_date=new_launch), InputTypeError, "horizon"),
        (lambda: fitted.predict(ok, True, launch_date=new_launch), InputTypeError, "horizon"),
        (
            lambda: fitted.predict(ok.assign(colour="red"), 3, launch_date=new_launch),
            InputError,
            "colour",
        ),
        (lambda: fitted.predict(ok.drop(columns="price"), 3, new_launch), InputError, "price"),
        (
            lambda: fitted.predict(ok.assign(category="garden"), 3, new_launch),
            InputError,
            "unseen in training",
        ),
        (lambda: fitted.predict(ok, 3), InputError, "launch_date"),
        (lambda: fitted.predict(ok, 3, launch_date=["2025-03-03"]), InputError, "one per item"),
        (lambda: fitted.predict(ok, 3, launch_date={"x": "2025-01-06"}), InputError, "no date"),
        (lambda: fitted.predict(ok, 3, launch_date="soon"), InputError, "not dates"),
        (lambda: fitted.predict(ok.to_numpy(), 3, "2025-03-03"), InputTypeError, "DataFrame"),
        (
            lambda: fitted.predict(pd.concat([ok, ok]), 3, "2025-03-03"),
            InputError,
            "more than once",
        ),
        (
            lambda: fitted.predict(ok.assign(price="cheap"), 3, "2025-03-03"),
            InputTypeError,
            "price",
        ),
        (lambda: fitted.analogues(ok, n_neighbors=0), InputError, "n_neighbors"),
        (lambda: fitted.analogues(ok.assign(colour=1)), InputError, "colour"),
    ]
    for call, exc, text in cases:
        with pytest.raises(exc, match=text):
            call()


def test_not_fitted():
    model = ColdStartForecaster()
    attrs = pd.DataFrame({"item_id": ["a"], "category": ["x"]})
    for call in (
        lambda: model.predict(attrs, 3, "2025-01-06"),
        lambda: model.update(attrs, attrs, 3),
        lambda: model.analogues(attrs),
    ):
        with pytest.raises(NotFittedError, match="fit"):
            call()
    assert issubclass(NotFittedError, WorkbenchError)


def test_ensemble_weights_follow_heldout_accuracy(fitted, split):
    _, _, new, new_launch = split
    w = fitted.ensemble_weights_
    assert set(w) == {"knn", "gbm", "bass"} and sum(w.values()) == pytest.approx(1.0)
    assert all(v > 0 for v in w.values())
    table = fitted._new_items(new.head(3), new_launch)
    ages = np.arange(5)
    eng = fitted.engine_
    combo = sum(w[m] * eng.predict(m, table, ages) for m in w)
    np.testing.assert_allclose(eng.predict("ensemble", table, ages), combo)


def test_calibration_by_group(split):
    train, known, new, new_launch = split
    model = ColdStartForecaster(method="knn", calibration_group="brand", random_state=0)
    fc = model.fit(train, known).predict(new.head(2), 4, launch_date=new_launch)
    assert (fc.frame["q0.9"] >= fc.frame["q0.1"]).all()
    with pytest.raises(InputError, match="not an attribute column"):
        ColdStartForecaster(method="knn", calibration_group="colour").fit(train, known)
    with pytest.raises(InputError, match="single level"):
        ColdStartForecaster(method="knn", calibration_group="shelf").fit(
            train, known.assign(shelf="A")
        )


def test_ensemble_is_never_worse_than_its_best_member_on_its_calibration_items(fitted):
    cal = fitted.calibration_
    best = min(cal[m]["wape"] for m in ("knn", "gbm", "bass"))
    assert cal["ensemble"]["wape"] <= best + 1e-12
