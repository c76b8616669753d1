"""Fuzz cases of ``workbench.coldstart``: one valid call per public name, on 120 items."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from tests.fuzz.harness import Case
from workbench import coldstart as cs

# The method names ColdStartForecaster(method=...) accepts: nothing to call with input.
CONSTANTS = {"coldstart.BASELINES", "coldstart.METHODS"}
ORIGIN = "2024-10-01"


@functools.cache
def _launches():
    return cs.make_launches(n_items=120, n_periods=60, random_state=3)


@functools.cache
def _split():
    d = _launches()
    lau = d.launch_dates
    known = lau.index[lau < ORIGIN]
    new = lau.index[lau >= ORIGIN]
    hist = d.history
    train = hist[hist["item_id"].isin(known) & (hist["date"] < ORIGIN)].reset_index(drop=True)
    attrs = d.attributes.set_index("item_id")
    return train, attrs.loc[known].reset_index(), attrs.loc[new].reset_index(), lau.loc[new]


@functools.cache
def _fitted():
    train, known, _, _ = _split()
    return cs.ColdStartForecaster(method="knn", random_state=0).fit(train, known)


@functools.cache
def _fitted_global():
    train, known, _, _ = _split()
    return cs.ColdStartForecaster(method="global", max_iter=20, random_state=0).fit(train, known)


@functools.cache
def _forecast():
    return _fitted().predict(_split()[2], horizon=8, launch_date=_split()[3])


def _recent():
    """The new items' first four weeks of sales."""
    hist = _launches().history
    new = hist[hist["item_id"].isin(_split()[2]["item_id"])]
    return new[new["date"] < pd.Timestamp(ORIGIN) + pd.Timedelta(weeks=4)].reset_index(drop=True)


def _fit(**kw):
    train, known, _, _ = _split()
    history = kw.pop("history", train)
    attributes = kw.pop("attributes", known)
    return cs.ColdStartForecaster(**kw).fit(history, attributes).get_params()


CASES = [
    Case("coldstart.make_launches", lambda **kw: cs.make_launches(**kw).history,
         lambda: {"n_items": 20, "n_periods": 30, "start": "2024-01-01", "n_categories": 2,
                  "n_brands": 2, "item_noise": 0.3, "dispersion": 8.0, "random_state": 0},
         ("coldstart.make_launches", "coldstart.LaunchData")),
    Case("coldstart.ColdStartForecaster.fit", _fit,
         lambda: {"method": "knn", "quantiles": (0.1, 0.5, 0.9), "n_neighbors": 10,
                  "random_state": 0, "history": _split()[0], "attributes": _split()[1]},
         ("coldstart.ColdStartForecaster",), max_examples=40),
    # The global model (LightGBM; loss and trees chosen out of fold) with a whole-group
    # calibration, shortest intervals and NaN quantities counted as zero: bad horizons, groups,
    # interval kinds, missing policies.
    Case("coldstart.ColdStartForecaster.fit[global]", _fit,
         lambda: {"method": "global", "calibration_group": "brand", "missing": "zero",
                  "handle_unknown": "ignore", "max_iter": 20, "random_state": 0,
                  "interval": "shortest", "history": _split()[0], "attributes": _split()[1]},
         ("coldstart.ColdStartForecaster",), max_examples=10),
    Case("coldstart.ColdStartForecaster.predict[global]",
         lambda **kw: _fitted_global().predict(**kw).to_frame(),
         lambda: {"new_item_attributes": _split()[2], "horizon": 8, "launch_date": _split()[3]},
         ("coldstart.ColdStartForecaster", "coldstart.Forecast"), max_examples=20),
    Case("coldstart.ColdStartForecaster.predict",
         lambda **kw: _fitted().predict(**kw).to_frame(),
         lambda: {"new_item_attributes": _split()[2], "horizon": 8, "launch_date": _split()[3]},
         ("coldstart.ColdStartForecaster", "coldstart.Forecast"), max_examples=40),
    Case("coldstart.ColdStartForecaster.analogues",
         lambda **kw: _fitted().analogues(**kw).to_dict(),
         lambda: {"new_item_attributes": _split()[2].iloc[:2], "n_neighbors": 3},
         ("coldstart.Analogues",)),
    Case("coldstart.ColdStartForecaster.update",
         lambda **kw: _fitted().update(**kw).to_frame(),
         lambda: {"recent_history": _recent(), "new_item_attributes": _split()[2],
                  "horizon": 8, "launch_date": _split()[3]}, ("coldstart.ColdStartForecaster",)),
    Case("coldstart.Forecast.item", lambda item_id: _forecast().item(item_id),
         lambda: {"item_id": _forecast().frame["item_id"].iloc[0]}, ("coldstart.Forecast",)),
    Case("coldstart.LaunchData.split_by_launch",
         lambda date: [f.shape for f in _launches().split_by_launch(date)],
         lambda: {"date": ORIGIN}, ("coldstart.LaunchData",)),
    Case("coldstart.backtest", lambda **kw: cs.backtest(**kw).to_frame(),
         lambda: {"history": _launches().history, "attributes": _launches().attributes,
                  "methods": ["knn"], "horizon": 8, "scheme": "origin", "n_folds": 1,
                  "random_state": 0, "n_jobs": 1, "show_progress": False},
         ("coldstart.backtest", "coldstart.BacktestResult"), max_examples=25),
    Case("coldstart.wape", cs.wape,
         lambda: {"y_true": np.arange(1.0, 6.0), "y_pred": np.arange(2.0, 7.0)},
         ("coldstart.wape",)),
    Case("coldstart.mase", cs.mase,
         lambda: {"y_true": np.arange(1.0, 6.0), "y_pred": np.arange(2.0, 7.0), "scale": 2.0},
         ("coldstart.mase",)),
    Case("coldstart.coverage", cs.coverage,
         lambda: {"y_true": np.arange(5.0), "lower": np.zeros(5), "upper": np.full(5, 3.0)},
         ("coldstart.coverage",)),
    Case("coldstart.pinball_loss", cs.pinball_loss,
         lambda: {"y_true": np.arange(5.0), "y_quantile": np.ones(5), "quantile": 0.9,
                  "scale": 1.0}, ("coldstart.pinball_loss",)),
]
