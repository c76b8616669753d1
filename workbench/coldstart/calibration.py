"""Conformal quantile offsets and credibility constants of the cold-start forecaster.

During ``fit`` some known items are held out and forecast as if new. The log-ratios of their
actual sales to those forecasts, bucketed by age since launch, give the quantile offsets that
turn a point forecast into intervals; the spread of the ratios within and between items gives
the credibility weight with which :meth:`ColdStartForecaster.update` trusts early sales.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["AGE_BUCKETS", "calibration_table", "quantile_bands"]

AGE_BUCKETS = (0, 1, 2, 4, 8, 13, 26, 52)
"""Left edges (in periods since launch) of the age buckets that get their own interval widths."""

_MIN_BUCKET = 40


def calibration_table(
    item: np.ndarray,
    age: np.ndarray,
    y: np.ndarray,
    pred: np.ndarray,
    *,
    offset: float,
    quantiles: Sequence[float],
) -> dict[str, Any]:
    """Quantile offsets per age bucket and credibility constants from held-out forecasts.

    Parameters
    ----------
    item, age : numpy.ndarray of int
        Held-out item index and age since launch of each row.
    y, pred : numpy.ndarray of float
        Actual sales and their forecast.
    offset : float
        Small constant added before taking log-ratios.
    quantiles : sequence of float
        Quantile levels, ascending.

    Returns
    -------
    dict
        ``offsets`` (array of shape (n_buckets, n_quantiles)), ``k``, ``within_var``,
        ``between_var``.
    """
    d = offset
    r = np.log((y + d) / (np.maximum(pred, 0.0) + d))
    bucket = np.searchsorted(AGE_BUCKETS, age, side="right") - 1
    pooled = np.quantile(r, quantiles, method="inverted_cdf")
    offsets = np.tile(pooled, (len(AGE_BUCKETS), 1))
    for b in range(len(AGE_BUCKETS)):
        sel = bucket == b
        if sel.sum() >= _MIN_BUCKET:
            offsets[b] = np.quantile(r[sel], quantiles, method="inverted_cdf")
        elif b > 0:
            offsets[b] = offsets[b - 1]
    # Credibility (Buhlmann) constants: how fast observed sales should override the prior.
    ratio = (y + d) / (np.maximum(pred, 0.0) + d)
    early = age < 26
    means, within, counts = [], [], []
    for i in np.unique(item[early]):
        ri = ratio[early & (item == i)]
        means.append(ri.mean())
        counts.append(len(ri))
        if len(ri) >= 2:
            within.append(ri.var(ddof=1))
    within_var = float(np.mean(within)) if within else 1.0
    between = float(np.var(means, ddof=1)) if len(means) > 1 else 1.0
    between_var = max(between - within_var / max(float(np.mean(counts)), 1.0), 1e-4)
    return {
        "offsets": offsets,
        "k": within_var / between_var,
        "within_var": within_var,
        "between_var": between_var,
    }


def quantile_bands(
    offsets: np.ndarray, pred: np.ndarray, ages: np.ndarray, *, offset: float, spread: Any = 1.0
) -> np.ndarray:
    """Quantiles of shape ``pred.shape + (n_quantiles,)`` around point forecasts ``pred``.

    Parameters
    ----------
    offsets : numpy.ndarray of shape (n_buckets, n_quantiles)
        From :func:`calibration_table`.
    pred : numpy.ndarray
        Point forecasts.
    ages : numpy.ndarray of int
        Age since launch of each forecast (broadcast against ``pred``).
    offset : float
        The constant used in :func:`calibration_table`.
    spread : float or numpy.ndarray, default=1.0
        Scales the log offsets (below 1 once early sales are known).

    Returns
    -------
    numpy.ndarray
        Non-negative quantiles.
    """
    bucket = np.searchsorted(AGE_BUCKETS, ages, side="right") - 1
    off = offsets[bucket]  # (..., n_q)
    spread = np.asarray(spread, dtype=float)[..., None] if np.ndim(spread) else spread
    base = np.maximum(pred, 0.0)[..., None] + offset
    q = base * np.exp(off * spread) - offset
    return np.maximum(q, 0.0)
