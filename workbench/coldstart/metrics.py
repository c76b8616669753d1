"""Forecast accuracy metrics for new items: WAPE, MASE, scaled pinball loss and coverage.

The MASE scale needs care for cold items: an item with no history has no naive forecast of its
own, and scaling by its own (hidden) future explodes for items that start near zero. Here the
scale of a new item is the mean absolute one-step change of the *known* items of its category in
the training data, a quantity available at forecast time.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from workbench.core.errors import InputError
from workbench.core.validation import check_array, check_consistent_length, check_probability

__all__ = ["coverage", "mase", "pinball_loss", "wape"]


def _pair(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    yt = check_array(y_true, name="y_true", ndim=1)
    yp = check_array(y_pred, name="y_pred", ndim=1)
    check_consistent_length(y_true=yt, y_pred=yp)
    return yt, yp


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
        On NaN, mismatched lengths, or when ``sum|y_true|`` is zero.
    """
    yt, yp = _pair(y_true, y_pred)
    denom = np.abs(yt).sum()
    if denom == 0:
        raise InputError("WAPE is undefined when every actual value is zero.")
    return float(np.abs(yt - yp).sum() / denom)


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
        On NaN, mismatched lengths or a non-positive scale.
    """
    yt, yp = _pair(y_true, y_pred)
    sc = np.broadcast_to(np.asarray(scale, dtype=float), yt.shape)
    if not np.all(np.isfinite(sc)) or np.any(sc <= 0):
        raise InputError("scale must be finite and > 0 for every observation.")
    return float(np.mean(np.abs(yt - yp) / sc))


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
    """
    q = check_probability(quantile, name="quantile")
    yt, yq = _pair(y_true, y_quantile)
    sc = np.broadcast_to(np.asarray(scale, dtype=float), yt.shape)
    if not np.all(np.isfinite(sc)) or np.any(sc <= 0):
        raise InputError("scale must be finite and > 0 for every observation.")
    diff = yt - yq
    return float(np.mean(np.maximum(q * diff, (q - 1) * diff) / sc))


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
        If some ``lower`` exceeds its ``upper``.
    """
    yt, lo = _pair(y_true, lower)
    _, hi = _pair(y_true, upper)
    if np.any(lo > hi):
        raise InputError("lower must not exceed upper; pass the bounds in order.")
    return float(np.mean((yt >= lo) & (yt <= hi)))
