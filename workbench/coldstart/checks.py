"""Boundary checks of the cold-start tool's scalar parameters: bounds, names, seeds and jobs.

The public functions call these once, before any work, so a typo such as ``horizon=10**7`` or
``random_state=-1`` gets a clear :class:`~workbench.core.errors.WorkbenchError` instead of a
hang, an overflow or a numpy traceback. The shared rules live in :mod:`workbench.core.params`
and :mod:`workbench.core.validation`; this module only fixes the bounds that fit forecasting.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

from workbench.core.errors import InputError, InputTypeError
from workbench.core.params import check_random_state, check_size, check_text
from workbench.core.validation import check_choice, check_n_jobs, check_probability

__all__ = [
    "MAX_HORIZON",
    "MAX_NEIGHBORS",
    "check_column_name",
    "check_forecaster_params",
    "check_horizon",
    "check_methods",
    "check_output",
]

MAX_HORIZON = 520
"""Most periods one forecast may span (10 years of weeks, 1.4 years of days)."""
MAX_NEIGHBORS = 1000
"""Most analogue items per new item."""
MAX_ITER = 5000
"""Most boosting iterations of the global gradient-boosting model (scikit-learn's default: 100)."""
MAX_QUANTILES = 99


def check_horizon(horizon: Any, *, name: str = "horizon") -> int:
    """Periods to forecast: an integer in ``[1, MAX_HORIZON]``.

    Parameters
    ----------
    horizon : int
    name : str, default="horizon"

    Returns
    -------
    int
    """
    if isinstance(horizon, bool) or not isinstance(horizon, numbers.Integral):
        raise InputTypeError(f"{name} must be a positive integer, got {horizon!r}.")
    if horizon <= 0:
        raise InputError(f"{name} must be > 0 periods, got {horizon}.")
    return check_size(
        horizon,
        name=name,
        high=MAX_HORIZON,
        hint="Forecast fewer periods; a cold-start forecast far beyond a year or two is a guess.",
    )


def check_methods(methods: Any, all_methods: Iterable[str], *, name: str = "methods") -> list[str]:
    """A non-empty list of distinct method names, each one of ``all_methods``."""
    if isinstance(methods, str):
        raise InputTypeError(f"{name} must be a list of method names, not one string.")
    if not isinstance(methods, Iterable):
        raise InputTypeError(
            f"{name} must be a list of method names such as ['knn', 'category_mean'], got "
            f"{type(methods).__name__}."
        )
    chosen = list(methods)
    if not chosen:
        raise InputError(f"{name} is empty; name at least one method.")
    options = list(all_methods)
    for m in chosen:
        check_choice(m, options, kind="method")
    if len(set(chosen)) < len(chosen):
        raise InputError(f"{name} lists a method twice ({chosen}); name each once.")
    return [str(m) for m in chosen]


def check_column_name(value: Any, *, name: str, optional: bool = False) -> str | None:
    """A column name (non-empty string), or None when ``optional``."""
    if value is None and optional:
        return None
    if not isinstance(value, str):
        what = "a column name or None" if optional else "a column name"
        raise InputTypeError(f"{name} must be {what}, got {value!r} ({type(value).__name__}).")
    return check_text(value, name=name)


def check_quantiles(quantiles: Any) -> list[float]:
    """Distinct ascending levels in (0, 1), at most ``MAX_QUANTILES`` of them."""
    if isinstance(quantiles, str | bytes) or not isinstance(quantiles, Iterable):
        raise InputTypeError("quantiles must be a sequence of levels such as (0.1, 0.5, 0.9).")
    levels = list(quantiles)
    if len(levels) > MAX_QUANTILES:
        raise InputError(f"quantiles lists {len(levels)} levels; pass at most {MAX_QUANTILES}.")
    qs = [check_probability(q, name="each quantile") for q in levels]
    if len(qs) == 0 or sorted(set(qs)) != qs:
        raise InputError(f"quantiles must be distinct and ascending, got {levels}.")
    return qs


def check_forecaster_params(params: dict[str, Any], methods: Iterable[str]) -> list[float]:
    """Check every constructor parameter of the forecaster; return the quantile levels.

    Parameters
    ----------
    params : dict
        ``ColdStartForecaster.get_params()``.
    methods : iterable of str
        The method names the forecaster knows.

    Returns
    -------
    list of float
        The quantile levels, ascending.
    """
    p = params
    check_choice(p["method"], methods, kind="method")
    check_choice(p["missing"], ["raise", "zero"], kind="missing policy")
    check_choice(p["interval"], ["equal_tails", "shortest"], kind="interval")
    check_choice(p["handle_unknown"], ["error", "ignore"], kind="handle_unknown policy")
    check_size(p["n_neighbors"], name="n_neighbors", high=MAX_NEIGHBORS)
    check_size(p["max_iter"], name="max_iter", high=MAX_ITER, hint="100-500 is plenty.")
    check_probability(p["calibration_size"], name="calibration_size")
    check_n_jobs(p["n_jobs"])
    check_random_state(p["random_state"])
    check_column_name(p["category"], name="category", optional=True)
    check_column_name(p["calibration_group"], name="calibration_group", optional=True)
    for col in ("id_col", "date_col", "target_col"):
        check_column_name(p[col], name=col)
    if len({p["id_col"], p["date_col"], p["target_col"]}) < 3:
        raise InputError(
            "id_col, date_col and target_col must name three different columns, got "
            f"{p['id_col']!r}, {p['date_col']!r}, {p['target_col']!r}."
        )
    return check_quantiles(p["quantiles"])


def check_output(values: np.ndarray, *, what: str) -> np.ndarray:
    """Refuse to return NaN or infinity: the inputs were finite, so the scale overflowed."""
    if not np.isfinite(values).all():
        raise InputError(
            f"The {what} overflowed to NaN or infinity: some inputs are so large (or so small) "
            "that their products leave the float range. Rescale them, e.g. quantities in "
            "thousands or prices in a currency unit."
        )
    return values
