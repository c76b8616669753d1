"""Forecast accuracy metrics for new items: WAPE, MASE, scaled pinball loss and coverage.

The MASE scale needs care for cold items: an item with no history has no naive forecast of its
own, and scaling by its own (hidden) future explodes for items that start near zero. Here the
scale of a new item is the mean absolute one-step change of the *known* items of its category in
the training data, a quantity available at forecast time.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from workbench.core.errors import InputError, InputTypeError
from workbench.core.params import FLOAT32_MAX
from workbench.core.validation import check_array, check_consistent_length, check_probability

__all__ = ["coverage", "mase", "pinball_loss", "wape"]


_TINY = float(np.finfo(np.float32).tiny)


def _pair(y_true: Any, y_pred: Any, pred_name: str = "y_pred") -> tuple[np.ndarray, np.ndarray]:
    # float32-sized values keep sums and differences of many rows inside the float64 range.
    yt = check_array(y_true, name="y_true", ndim=1, float32=True)
    yp = check_array(y_pred, name=pred_name, ndim=1, float32=True)
    check_consistent_length(**{"y_true": yt, pred_name: yp})
    return yt, yp


def _scale(scale: Any, n: int) -> np.ndarray:
    """A positive scale per observation: one number or an array of length ``n``."""
    if scale is None or isinstance(scale, bool):
        raise InputTypeError(f"scale must be a positive number or array, got {scale!r}.")
    try:
        sc = check_array(np.atleast_1d(np.asarray(scale, dtype=object)), name="scale", ndim=1)
    except OverflowError:  # an int beyond the float range
        raise InputError(f"scale must be at most {FLOAT32_MAX:.3g}.") from None
    if sc.size not in (1, n):
        raise InputError(f"scale has {sc.size} values for {n} observations; pass one or {n}.")
    if np.any(sc < _TINY) or np.any(sc > FLOAT32_MAX):
        raise InputError(
            f"scale must be finite and > 0 for every observation, between {_TINY:.3g} and "
            f"{FLOAT32_MAX:.3g} (got {float(sc.min()):.3g} to {float(sc.max()):.3g})."
        )
    return np.broadcast_to(sc, (n,))


def _finite(value: float, what: str) -> float:
    if not np.isfinite(value):
        raise InputError(
            f"{what} overflowed: the errors are too large for the values they are divided by. "
            "Rescale y_true and the forecasts (e.g. to thousands)."
        )
    return float(value)


def wape(y_true: Any, y_pred: Any) -> float:
    """Weighted absolute percentage error ``sum|y - yhat| / sum|y|``.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n,)

    Returns
    -------
    float

    Raises
    ------
    InputError
        On NaN, infinite or float32-overflowing values, mismatched lengths, when
        ``sum|y_true|`` is zero, or when the ratio overflows.
    """
    yt, yp = _pair(y_true, y_pred)
    denom = np.abs(yt).sum()
    if denom == 0:
        raise InputError("WAPE is undefined when every actual value is zero.")
    with np.errstate(over="ignore"):
        return _finite(np.abs(yt - yp).sum() / denom, "WAPE")


def mase(y_true: Any, y_pred: Any, scale: Any) -> float:
    """Mean absolute scaled error with an explicit scale per observation.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n,)
    scale : float or array-like of shape (n,)
        Positive scale of each observation (for new items: the mean absolute one-step change of
        the known items of the same category).

    Returns
    -------
    float
        ``mean(|y - yhat| / scale)``.

    Raises
    ------
    InputError
        On NaN, infinite or float32-overflowing values, mismatched lengths, or a scale that is
        not in [1.2e-38, 3.4e38] or has neither 1 nor ``n`` values.
    InputTypeError
        If ``scale`` is not numeric.
    """
    yt, yp = _pair(y_true, y_pred)
    sc = _scale(scale, yt.size)
    with np.errstate(over="ignore"):
        return _finite(np.mean(np.abs(yt - yp) / sc), "MASE")


def pinball_loss(y_true: Any, y_quantile: Any, quantile: float, scale: Any = 1.0) -> float:
    """Mean (scaled) pinball loss of a quantile forecast.

    Parameters
    ----------
    y_true, y_quantile : array-like of shape (n,)
    quantile : float
        The level of ``y_quantile``, in (0, 1).
    scale : float or array-like of shape (n,), default=1.0
        Divides each loss (the MASE scale gives the scaled pinball loss).

    Returns
    -------
    float

    Raises
    ------
    InputError
        As :func:`mase`, and for a ``quantile`` outside (0, 1).
    """
    q = check_probability(quantile, name="quantile")
    yt, yq = _pair(y_true, y_quantile, "y_quantile")
    sc = _scale(scale, yt.size)
    diff = yt - yq
    with np.errstate(over="ignore"):
        return _finite(np.mean(np.maximum(q * diff, (q - 1) * diff) / sc), "The pinball loss")


def coverage(y_true: Any, lower: Any, upper: Any) -> float:
    """Share of actual values inside ``[lower, upper]``.

    Parameters
    ----------
    y_true, lower, upper : array-like of shape (n,)

    Returns
    -------
    float

    Raises
    ------
    InputError
        If some ``lower`` exceeds its ``upper``, or on NaN, infinite or float32-overflowing
        values and mismatched lengths.
    """
    yt, lo = _pair(y_true, lower, "lower")
    _, hi = _pair(y_true, upper, "upper")
    if np.any(lo > hi):
        raise InputError("lower must not exceed upper; pass the bounds in order.")
    return float(np.mean((yt >= lo) & (yt <= hi)))
