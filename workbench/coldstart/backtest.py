"""Backtests that hold out whole items as "new" and score every method on them.

Two schemes:

* ``"origin"`` (default, leak-free): at each time origin the models see only sales dated before
  it, of items launched before it; the items launched in the following ``step`` periods are the
  new ones, scored over their first ``horizon`` periods.
* ``"kfold"``: items (or groups of items, ``group_col``) are split into folds; each fold is
  forecast from the full history of the others. The known items' later sales are then visible,
  so calendar effects leak; use it when launches are too few for time origins.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from workbench.coldstart.checks import (
    MAX_HORIZON,
    check_column_name,
    check_forecaster_params,
    check_horizon,
    check_methods,
)
from workbench.coldstart.forecaster import ColdStartForecaster
from workbench.coldstart.inputs import Calendar, check_frame, check_history
from workbench.coldstart.models import BASELINES, METHODS
from workbench.coldstart.results import BacktestResult, metrics_table, quantile_column
from workbench.core.errors import InputError, InputTypeError
from workbench.core.parallel import parallel_map
from workbench.core.params import check_flag, check_random_state, check_size
from workbench.core.validation import check_choice, check_n_jobs

__all__ = ["backtest"]

MAX_FOLDS = 100


def backtest(
    history: pd.DataFrame,
    attributes: pd.DataFrame,
    *,
    methods: Sequence[str] | None = None,
    horizon: int = 26,
    scheme: str = "origin",
    n_folds: int = 3,
    step: int | None = None,
    group_col: str | None = None,
    forecaster: ColdStartForecaster | None = None,
    random_state: int | None = None,
    n_jobs: int | None = None,
    show_progress: bool | None = None,
) -> BacktestResult:
    """Score cold-start methods on items held out as new.

    Parameters
    ----------
    history : pandas.DataFrame
        Long-format sales of all items (columns as the forecaster's ``id_col``, ``date_col``,
        ``target_col``); each item's first row is its launch.
    attributes : pandas.DataFrame
        One row per item.
    methods : sequence of str, optional
        Methods to score; default all of them, baselines included.
    horizon : int, default=26
        Periods scored per new item from its launch (at most 520).
    scheme : {"origin", "kfold"}, default="origin"
        Time-origin holdout (leak-free) or item folds (see the module notes).
    n_folds : int, default=3
        Number of origins or folds (at most 100).
    step : int, optional
        ``"origin"`` only: periods between origins; items launched within ``step`` periods
        after an origin are its new items (at most 520). Default:
        ``max(4, season_length // 4)``.
    group_col : str, optional
        ``"kfold"`` only: an attribute column whose groups are held out together (e.g. a brand).
        Levels of held-out groups are unseen in training and treated as missing values, and
        the forecaster's interval calibration holds out whole groups too (unless the template
        sets its own ``calibration_group``).
    forecaster : ColdStartForecaster, optional
        Template whose parameters (quantiles, category, column names, ...) are used; its
        ``method`` is ignored.
    random_state : int, optional
        Seeds fold assignment and models (overrides the template's).
    n_jobs : int, optional
        Folds run in parallel through :func:`workbench.core.parallel.parallel_map`.
    show_progress : bool, optional
        Show a progress bar over folds.

    Returns
    -------
    BacktestResult
        Metrics per method, sorted by WAPE, with the ratio to the ``category_mean`` baseline.

    Raises
    ------
    InputTypeError
        If an input has the wrong type (a frame that is not a DataFrame, a seed that is not an
        integer, ``methods`` given as one string).
    InputError
        On bad inputs, out-of-range sizes or seeds, unknown or repeated methods, or when no fold
        has both known and new items.
    """
    template = forecaster if forecaster is not None else ColdStartForecaster()
    if not isinstance(template, ColdStartForecaster):
        raise InputTypeError(
            f"forecaster must be a ColdStartForecaster, got {type(template).__name__}."
        )
    check_column_name(group_col, name="group_col", optional=True)
    params = template.get_params()
    # Held-out groups (a brand, a whole category) bring levels no training item has.
    params["handle_unknown"] = "ignore"
    if group_col is not None and params["calibration_group"] is None:
        # Calibrate the intervals the way the backtest holds out: by whole groups.
        params["calibration_group"] = group_col
    if random_state is not None:
        params["random_state"] = check_random_state(random_state)
    all_methods = [*METHODS, *BASELINES]
    check_forecaster_params(params, all_methods)
    chosen = list(all_methods) if methods is None else check_methods(methods, all_methods)
    h = check_horizon(horizon)
    check_choice(scheme, ["origin", "kfold"], kind="backtest scheme")
    check_size(n_folds, name="n_folds", high=MAX_FOLDS)
    check_n_jobs(n_jobs)
    check_flag(show_progress, name="show_progress", optional=True)
    id_col, date_col, target_col = params["id_col"], params["date_col"], params["target_col"]
    hist = check_history(
        history,
        id_col=id_col,
        date_col=date_col,
        target_col=target_col,
        missing=params["missing"],
    )
    attrs = check_frame(attributes, name="attributes")
    if id_col not in attrs.columns:
        raise InputError(f"attributes lacks the item id column {id_col!r}.")
    attrs = attrs.assign(**{id_col: attrs[id_col].astype(str)})
    calendar = Calendar.infer(pd.DatetimeIndex(hist["date"]), params["freq"])
    hist["t"] = calendar.index(pd.DatetimeIndex(hist["date"]))
    launch = hist.groupby("item")["t"].min()
    hist["age"] = hist["t"].to_numpy() - launch.loc[hist["item"].to_numpy()].to_numpy()
    attrs = attrs[attrs[id_col].isin(launch.index)]

    folds = []
    if scheme == "origin":
        if group_col is not None:
            raise InputError("group_col applies to scheme='kfold' only.")
        stp = (
            max(4, calendar.season_length // 4)
            if step is None
            else check_size(step, name="step", high=MAX_HORIZON)
        )
        t_start, t_end = int(hist["t"].min()), int(hist["t"].max())
        last = t_end - (h - 1) - (stp - 1)
        for k in range(n_folds):
            o = last - (n_folds - 1 - k) * stp
            if o <= t_start:
                continue  # no sales before this origin: nothing to learn from
            new_ids = launch.index[(launch >= o) & (launch < o + stp)]
            train = hist[(hist["t"] < o) & (hist["item"].map(launch) < o)]
            folds.append((f"origin {calendar.dates(np.array([o]))[0].date()}", train, new_ids))
    else:
        if step is not None:
            raise InputError("step applies to scheme='origin' only.")
        ids = np.asarray(launch.index)
        if group_col is not None:
            if group_col not in attrs.columns:
                raise InputError(f"group_col {group_col!r} is not an attribute column.")
            grp = attrs.set_index(id_col).loc[ids, group_col].astype(str).to_numpy()
        else:
            grp = ids
        uniq = np.unique(grp)
        if len(uniq) < n_folds:
            raise InputError(f"{len(uniq)} groups cannot make {n_folds} folds; lower n_folds.")
        rng = np.random.default_rng(params["random_state"])
        fold_of = dict(zip(uniq, rng.permutation(len(uniq)) % n_folds, strict=True))
        assign = np.array([fold_of[g] for g in grp])
        for k in range(n_folds):
            new_ids = ids[assign == k]
            train = hist[~hist["item"].isin(new_ids)]
            folds.append((f"fold {k + 1}", train, pd.Index(new_ids)))

    jobs = []
    for name, train, new_ids in folds:
        if train["item"].nunique() < 8 or len(new_ids) == 0:
            continue
        test = hist[hist["item"].isin(new_ids) & (hist["age"] < h)]
        test_attrs = attrs[attrs[id_col].isin(new_ids)]
        train_attrs = attrs[attrs[id_col].isin(train["item"].unique())]
        train_hist = pd.DataFrame(
            {id_col: train["item"], date_col: train["date"], target_col: train["y"]}
        )
        launch_dates = dict(
            zip(new_ids, calendar.dates(launch.loc[new_ids].to_numpy()), strict=True)
        )
        jobs.append(
            (name, train_hist, train_attrs, test_attrs, launch_dates, test[["item", "age", "y"]])
        )
    if not jobs:
        raise InputError(
            "No fold has at least 8 known items and one new item; use a longer history, fewer "
            "folds, a smaller horizon, or scheme='kfold'."
        )
    run = functools.partial(_run_fold, params=params, methods=chosen, horizon=h)
    parts = parallel_map(
        run, jobs, n_jobs=n_jobs, desc="backtest folds", show_progress=show_progress
    )
    preds = pd.concat(parts, ignore_index=True)
    quantiles = sorted(float(q) for q in params["quantiles"])
    table = metrics_table(preds, quantiles, ["method"])
    per_fold = metrics_table(preds, quantiles, ["fold", "method"])
    if "category_mean" in chosen:
        ref = float(table.loc[table["method"] == "category_mean", "wape"].iloc[0])
        table["wape_vs_category_mean"] = table["wape"] / ref
    table = table.sort_values("wape", kind="stable").reset_index(drop=True)
    return BacktestResult(
        table=table,
        per_fold=per_fold,
        predictions=preds,
        scheme=scheme,
        horizon=h,
        interval_level=round(quantiles[-1] - quantiles[0], 6),
    )


def _run_fold(
    job: tuple[Any, ...], *, params: dict[str, Any], methods: list[str], horizon: int
) -> pd.DataFrame:
    name, train_hist, train_attrs, test_attrs, launch_dates, test = job
    # Fitting every method at once shares one calibration split, as a single forecaster would.
    est = ColdStartForecaster(**{**params, "method": methods[0]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        est.fit(train_hist, train_attrs, methods=methods)
        forecasts = {m: est.predict(test_attrs, horizon, launch_dates, method=m) for m in methods}
    items = test["item"].to_numpy()
    rows = pd.MultiIndex.from_arrays([items, test["age"].to_numpy()])
    scale = est.mase_scale(test_attrs).loc[items].to_numpy()
    cols = [quantile_column(level) for level in est.quantiles_]
    out = []
    for m in methods:
        fc = forecasts[m].frame.set_index(["item_id", "age"]).loc[rows]
        frame = pd.DataFrame(
            {
                "fold": name,
                "method": m,
                "item_id": items,
                "age": test["age"].to_numpy(),
                "actual": test["y"].to_numpy(),
                "forecast": fc["forecast"].to_numpy(),
                "scale": scale,
            }
        )
        for col in cols:
            frame[col] = fc[col].to_numpy()
        out.append(frame)
    return pd.concat(out, ignore_index=True)
