"""Nowcasting young items: their first periods of sales blended with the cold-start prior.

:meth:`ColdStartForecaster.update <workbench.coldstart.ColdStartForecaster.update>` checks the
recent sales with :func:`check_recent_sales`, lines them up with the young items' table with
:func:`align_sales` and moves the prior forecast toward them with :func:`credibility_update`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from workbench.coldstart.inputs import LAUNCH_COL, Calendar, check_frame, check_gaps, check_history
from workbench.coldstart.models import ItemTable
from workbench.core.errors import InputError

__all__ = ["EarlySales", "align_sales", "check_recent_sales", "credibility_update"]


def check_recent_sales(
    recent_history: Any,
    new_item_attributes: Any,
    launch_date: Any,
    *,
    calendar: Calendar,
    id_col: str,
    date_col: str,
    target_col: str,
    missing: str,
) -> tuple[pd.DataFrame, pd.DataFrame, Any]:
    """Check the young items' recent sales and attributes; default their launch dates.

    Parameters
    ----------
    recent_history : pandas.DataFrame
        Long-format sales of the young items.
    new_item_attributes : pandas.DataFrame
        One attribute row per young item.
    launch_date : date-like, sequence, mapping or None
        As given to ``update``; None (with no ``launch_date`` column) means each item's first
        period of sales.
    calendar : Calendar
        The training calendar (recent dates must fall on it).
    id_col, date_col, target_col : str
        Column names.
    missing : {"raise", "zero"}
        Policy for periods missing inside an item's sales.

    Returns
    -------
    attributes : pandas.DataFrame
        The checked attribute frame.
    sales : pandas.DataFrame
        Columns ``item`` (id as str), ``t`` (period) and ``y`` (quantity).
    launch_date : date-like, sequence, mapping or None
        ``launch_date``, or a mapping item id → first date of sales when it was defaulted.

    Raises
    ------
    InputError
        For items of ``recent_history`` without attributes, gaps, dates off the calendar, or
        items with neither sales nor a launch date.
    """
    recent = check_history(
        recent_history,
        id_col=id_col,
        date_col=date_col,
        target_col=target_col,
        name="recent_history",
        missing=missing,
    )
    attrs = check_frame(new_item_attributes, name="new_item_attributes")
    if id_col not in attrs.columns:
        raise InputError(f"new_item_attributes lacks the item id column {id_col!r}.")
    ids = attrs[id_col].astype(str)
    extra = sorted(set(recent["item"]) - set(ids))
    if extra:
        raise InputError(
            f"recent_history has item(s) {extra[:3]} without a row in new_item_attributes."
        )
    sales = check_gaps(
        recent,
        calendar.index(pd.DatetimeIndex(recent["date"]), exact=True, name="recent_history dates"),
        missing=missing,
        name="recent_history",
    )
    if launch_date is None and LAUNCH_COL not in attrs.columns:
        first = sales.groupby("item")["t"].min()
        no_sales = sorted(set(ids) - set(first.index))
        if no_sales:
            raise InputError(
                f"item(s) {no_sales[:3]} have no recent sales and no launch date; pass "
                "launch_date or forecast them with predict()."
            )
        launch_date = {i: calendar.dates(np.array([first[i]]))[0] for i in ids}
    return attrs, sales, launch_date


@dataclasses.dataclass(frozen=True)
class EarlySales:
    """Observed sales of young items, lined up with their item table.

    Attributes
    ----------
    item : numpy.ndarray of int
        Position of each sales row's item in the table.
    age : numpy.ndarray of int
        Periods since the item's launch of each sales row.
    y : numpy.ndarray of float
        Quantity of each sales row.
    n_obs : numpy.ndarray of int
        Observed periods per item.
    last_age : numpy.ndarray of int
        Last observed age per item (-1 for an item without sales).
    """

    item: np.ndarray
    age: np.ndarray
    y: np.ndarray
    n_obs: np.ndarray
    last_age: np.ndarray


def align_sales(sales: pd.DataFrame, ids: pd.Series, new: ItemTable) -> EarlySales:
    """Line up sales rows with the young items' table.

    Parameters
    ----------
    sales : pandas.DataFrame
        Columns ``item``, ``t`` and ``y`` (from :func:`check_recent_sales`).
    ids : pandas.Series of str
        Item id of each row of ``new``.
    new : ItemTable
        The young items with their launch periods.

    Returns
    -------
    EarlySales

    Raises
    ------
    InputError
        For sales dated before an item's launch.
    """
    pos = pd.Series(np.arange(new.n), index=ids.to_numpy())
    n_obs = np.zeros(new.n, dtype=np.int64)
    last_age = np.full(new.n, -1, dtype=np.int64)
    item = pos.loc[sales["item"].to_numpy()].to_numpy()
    age = sales["t"].to_numpy() - new.launch[item]
    if (age < 0).any():
        bad = sales["item"].to_numpy()[age < 0][:3].tolist()
        raise InputError(f"recent_history has sales before the launch date of {bad}.")
    np.add.at(n_obs, item, 1)
    np.maximum.at(last_age, item, age)
    return EarlySales(item, age, sales["y"].to_numpy(), n_obs, last_age)


def credibility_update(
    prior: np.ndarray,
    sales: EarlySales,
    calibration: dict[str, Any],
    *,
    offset: float,
    horizon: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scale each item's prior forecast by its observed level ratio, trusted by credibility.

    After ``n`` observed periods the mean ratio of sales to prior gets the weight
    ``n / (n + k)``, with ``k`` measured on the items held out in ``fit``; the quantile bands
    narrow by ``spread`` as the level becomes known.

    Parameters
    ----------
    prior : numpy.ndarray of shape (n_items, n_ages)
        Cold-start forecasts from age 0 to at least ``last_age + horizon``.
    sales : EarlySales
        The observed sales.
    calibration : dict
        The method's calibration table (``k``, ``within_var``, ``between_var``).
    offset : float
        Small constant added to quantities before taking ratios.
    horizon : int
        Periods to forecast after each item's last observation.

    Returns
    -------
    ages : numpy.ndarray of shape (n_items, horizon)
        Ages of the forecast periods.
    forecast : numpy.ndarray of shape (n_items, horizon)
        Updated point forecasts, non-negative.
    spread : numpy.ndarray of shape (n_items,)
        Factor in (0, 1] on the log widths of the quantile bands.
    """
    d = offset
    n_items = len(sales.n_obs)
    n_obs = sales.n_obs
    ratio = (sales.y + d) / (np.maximum(prior[sales.item, sales.age], 0) + d)
    mean_ratio = np.ones(n_items)
    sums = np.bincount(sales.item, weights=ratio, minlength=n_items)
    mean_ratio[n_obs > 0] = sums[n_obs > 0] / n_obs[n_obs > 0]
    z = n_obs / (n_obs + calibration["k"])
    mult = 1.0 + z * (mean_ratio - 1.0)
    within, between = calibration["within_var"], calibration["between_var"]
    spread = np.sqrt((within + (1 - z) * between) / (within + between))
    ages = (sales.last_age + 1)[:, None] + np.arange(horizon)[None, :]
    prior_fut = np.take_along_axis(prior, ages, axis=1)
    forecast = np.maximum((prior_fut + d) * mult[:, None] - d, 0.0)
    return ages, forecast, spread
