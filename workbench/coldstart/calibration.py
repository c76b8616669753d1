"""Conformal quantile offsets and credibility constants of the cold-start forecaster.

During ``fit`` some known items are held out and forecast as if new
(:func:`holdout_calibration`). The log-ratios of their actual sales to those forecasts, bucketed
by age since launch, give the quantile offsets that turn a point forecast into intervals
(:func:`quantile_bands`); the spread of the ratios within and between items gives
the credibility weight with which :meth:`ColdStartForecaster.update` trusts early sales.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from workbench.coldstart.models import ENSEMBLE_MEMBERS, Engine, ItemTable
from workbench.core.errors import InputError

__all__ = [
    "AGE_BUCKETS",
    "SHORTEST_MARGIN",
    "SIZE_BINS",
    "Calibration",
    "calibration_table",
    "ensemble_weights",
    "fit_calibrated",
    "holdout_calibration",
    "quantile_bands",
    "shortest_pair",
]

AGE_BUCKETS = (0, 1, 2, 4, 8, 13, 26, 52)
"""Left edges (in periods since launch) of the age buckets that get their own interval widths."""

_MIN_BUCKET = 40
SIZE_BINS = 5
"""Forecast-size bins of the ``global`` method's conformal offsets within each age bucket."""
SHORTEST_MARGIN = 0.025
"""Coverage added to the shortest intervals of :func:`shortest_pair` (``interval="shortest"``)."""


def calibration_table(
    item: np.ndarray,
    age: np.ndarray,
    y: np.ndarray,
    pred: np.ndarray,
    *,
    offset: float,
    quantiles: Sequence[float],
    size_bins: int = 1,
    shortest: bool = False,
) -> dict[str, Any]:
    """Quantile offsets per age bucket and credibility constants from held-out forecasts.

    With ``size_bins > 1`` the offsets are also split by the size of the forecast (bins at
    its quantiles; Mondrian conformal): big items' log-ratios spread less than small ones', so
    one pooled width is too wide for the items that make most of the volume. Each age bucket
    keeps its coverage, as each of its size cells does.

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
    size_bins : int, default=1
        Bins of forecast size with their own offsets.
    shortest : bool, default=False
        Replace each pair of outer quantiles (levels ``q`` and ``1 - q``, coverage ``c``) by the
        shortest interval of the same coverage in the original scale, per cell (see
        :func:`shortest_pair`): for right-skewed errors it starts near zero and ends at about
        the ``c`` quantile, instead of leaving ``(1 - c) / 2`` below and above.

    Returns
    -------
    dict
        ``offsets`` (array of shape (n_buckets, n_quantiles), or (n_buckets, size_bins,
        n_quantiles) with ``size_edges``), ``k``, ``within_var``, ``between_var``.
    """
    d = offset
    r = np.log((y + d) / (np.maximum(pred, 0.0) + d))
    bucket = np.searchsorted(AGE_BUCKETS, age, side="right") - 1

    def cell(values: np.ndarray) -> np.ndarray:
        if shortest:
            return shortest_pair(values, quantiles)
        return np.quantile(values, quantiles, method="inverted_cdf")

    offsets = np.tile(cell(r), (len(AGE_BUCKETS), 1))
    for b in range(len(AGE_BUCKETS)):
        sel = bucket == b
        if sel.sum() >= _MIN_BUCKET:
            offsets[b] = cell(r[sel])
        elif b > 0:
            offsets[b] = offsets[b - 1]
    extra: dict[str, Any] = {}
    if size_bins > 1:
        edges = np.quantile(pred, np.linspace(0, 1, size_bins + 1)[1:-1])
        size = np.searchsorted(edges, pred, side="right")
        cells = np.repeat(offsets[:, None, :], size_bins, axis=1)
        for b in range(len(AGE_BUCKETS)):
            for k in range(size_bins):
                sel = (bucket == b) & (size == k)
                if sel.sum() >= _MIN_BUCKET:
                    cells[b, k] = cell(r[sel])
                elif b > 0:
                    cells[b, k] = cells[b - 1, k]
        offsets, extra = cells, {"size_edges": edges}
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
        **extra,
        "k": within_var / between_var,
        "within_var": within_var,
        "between_var": between_var,
    }


def shortest_pair(
    r: np.ndarray, quantiles: Sequence[float], margin: float = SHORTEST_MARGIN
) -> np.ndarray:
    """Log-ratio offsets whose outer pairs are the shortest intervals of their coverage.

    For the pair of levels ``(q_i, q_j)`` (``j`` = the mirror index of ``i``, coverage ``c =
    q_j - q_i + margin``, at most 1) the lower level ``a`` is chosen in ``[0, 1 - c]`` (steps of
    0.01, plus ``q_i``) to minimise ``exp(Q(a + c)) - exp(Q(a))``, the width in the original
    scale per unit of ``forecast + offset`` (the same factor for every row of a cell). Outer
    pairs are then widened, never narrowed, so that every pair contains the pairs inside it.
    A middle level (the median) keeps its plain quantile.

    Parameters
    ----------
    r : numpy.ndarray
        Log-ratios of actual to forecast.
    quantiles : sequence of float
        Quantile levels, ascending.
    margin : float, default=SHORTEST_MARGIN
        Coverage added to each pair: a shortest interval leaves all its misses in one tail, so
        a shift of that tail between the calibration rows and new items moves coverage by the
        whole shift, not half of it.

    Returns
    -------
    numpy.ndarray of shape (len(quantiles),)
    """
    qs = np.asarray(quantiles, dtype=float)
    out = np.quantile(r, qs, method="inverted_cdf")
    n = len(qs)
    for i in range(n // 2):
        j = n - 1 - i
        c = min(qs[j] - qs[i] + margin, 1.0)
        if c <= margin:
            continue
        lows = np.unique(np.r_[np.arange(101) / 100, qs[i]])
        lows = lows[lows + c <= 1 + 1e-12]
        lo = np.quantile(r, lows, method="inverted_cdf")
        hi = np.quantile(r, np.minimum(lows + c, 1.0), method="inverted_cdf")
        k = int(np.argmin(np.exp(hi) - np.exp(lo)))
        out[i], out[j] = lo[k], hi[k]
    # Nested pairs: an outer end may only move outward (coverage can only grow).
    half = n // 2
    out[:half] = np.minimum.accumulate(out[:half][::-1])[::-1]
    out[n - half :] = np.maximum.accumulate(out[n - half :])
    return out


def quantile_bands(
    offsets: np.ndarray,
    pred: np.ndarray,
    ages: np.ndarray,
    *,
    offset: float,
    spread: Any = 1.0,
    size_edges: np.ndarray | None = None,
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
    size_edges : numpy.ndarray, optional
        Forecast-size bin edges when ``offsets`` has a size axis.

    Returns
    -------
    numpy.ndarray
        Non-negative quantiles.
    """
    bucket = np.searchsorted(AGE_BUCKETS, ages, side="right") - 1
    if offsets.ndim == 3:
        size = np.searchsorted(np.asarray(size_edges), np.maximum(pred, 0.0), side="right")
        off = offsets[np.broadcast_to(bucket, np.shape(pred)), size]
    else:
        off = offsets[bucket]  # (..., n_q)
    spread = np.asarray(spread, dtype=float)[..., None] if np.ndim(spread) else spread
    base = np.maximum(pred, 0.0)[..., None] + offset
    q = base * np.exp(off * spread) - offset
    return np.maximum(q, 0.0)


@dataclasses.dataclass(frozen=True)
class Calibration:
    """What the held-out items taught: per-method calibration tables and ensemble weights.

    Attributes
    ----------
    tables : dict of str to dict
        Per method, the output of :func:`calibration_table` and its held-out ``wape``.
    ensemble_weights : dict of str to float or None
        Convex weights of the ensemble members with the lowest WAPE on the held-out items
        (:func:`ensemble_weights`; None when the ensemble was not fitted).
    """

    tables: dict[str, dict[str, Any]]
    ensemble_weights: dict[str, float] | None


def ensemble_weights(preds: dict[str, np.ndarray], y: np.ndarray) -> dict[str, float]:
    """Convex weights of the members with the lowest WAPE on held-out rows.

    A grid over the simplex in steps of 0.05 that contains every single member, so the
    weighted forecast is never worse on these rows than the best member alone (ties keep the
    first best combination found, members in the order given).

    Parameters
    ----------
    preds : dict of str to numpy.ndarray
        Each member's forecasts of the held-out rows.
    y : numpy.ndarray
        The actual values of those rows.

    Returns
    -------
    dict of str to float
        Non-negative weights summing to 1.
    """
    names = list(preds)
    P = np.column_stack([preds[m] for m in names])
    steps = 20
    grid = [
        c for c in itertools.product(range(steps + 1), repeat=len(names) - 1) if sum(c) <= steps
    ]
    W = np.array([[*c, steps - sum(c)] for c in grid], dtype=float) / steps
    err = np.abs(P @ W.T - y[:, None]).sum(axis=0)
    best = W[int(np.argmin(err))]
    return {m: float(w) for m, w in zip(names, best, strict=True)}


def holdout_calibration(
    items: ItemTable,
    item: np.ndarray,
    t: np.ndarray,
    y: np.ndarray,
    *,
    methods: set[str],
    make_engine: Callable[[set[str]], Engine],
    calibration_size: float,
    random_state: int | None,
    offset: float,
    quantiles: Sequence[float],
    groups: np.ndarray | None = None,
    group_name: str | None = None,
    shortest: bool = False,
) -> Calibration:
    """Hold out whole items, forecast them as new, and turn their errors into quantiles.

    Parameters
    ----------
    items : ItemTable
        The known items.
    item, t, y : numpy.ndarray
        Sales rows: item position, period and quantity.
    methods : set of str
        Methods to calibrate (with the members of the ensemble when it is one of them).
    make_engine : callable
        Builds an unfitted :class:`~workbench.coldstart.models.Engine` for a set of methods.
    calibration_size : float
        Share of the items held out, in (0, 1).
    random_state : int or None
        Seeds the choice of held-out items (or groups).
    offset : float
        Small constant added before taking log-ratios.
    quantiles : sequence of float
        Quantile levels, ascending.
    groups : numpy.ndarray of str, optional
        Group of each item; whole groups are held out together.
    group_name : str, optional
        The attribute column ``groups`` comes from (for the messages).
    shortest : bool, default=False
        Shortest intervals of the nominal coverage (see :func:`calibration_table`).

    Returns
    -------
    Calibration

    Raises
    ------
    InputError
        If ``groups`` has a single level or too few items would be left to train on.
    """
    rng = np.random.default_rng(random_state)
    n = items.n
    n_cal = max(2, round(calibration_size * n))
    cal = np.zeros(n, bool)
    if groups is None:
        cal[rng.choice(n, n_cal, replace=False)] = True
    else:
        uniq = np.unique(groups)
        if len(uniq) < 2:
            raise InputError(
                f"calibration_group={group_name!r} has a single level; it needs at least two "
                "groups to hold one out."
            )
        for grp in rng.permutation(uniq):
            if cal.sum() >= n_cal:
                break
            cal[groups == grp] = True
    if n - cal.sum() < 6:
        raise InputError(
            f"{n} known items are too few to hold out {int(cal.sum())} for calibration; pass "
            "more items or a smaller calibration_size."
        )
    train_rows = ~cal[item]
    remap = np.cumsum(~cal) - 1
    engine = make_engine(methods).fit(
        items.take(np.nonzero(~cal)[0]), remap[item[train_rows]], t[train_rows], y[train_rows]
    )
    rows = cal[item]
    c_item = np.cumsum(cal)[item[rows]] - 1
    c_age = t[rows] - items.launch[item[rows]]
    c_y = y[rows]
    new = items.take(np.nonzero(cal)[0])
    ages = np.arange(int(c_age.max()) + 1)
    tables, wape = {}, {}
    table_args = {"offset": offset, "quantiles": quantiles, "shortest": shortest}
    for m in sorted((engine.methods | methods) - {"ensemble"}):
        pred = engine.predict(m, new, ages)[c_item, c_age]
        tables[m] = calibration_table(c_item, c_age, c_y, pred, **table_args)
        wape[m] = np.abs(c_y - pred).sum() / max(c_y.sum(), 1e-12)
    weights = None
    if "ensemble" in engine.methods:
        preds = {m: engine.predict(m, new, ages)[c_item, c_age] for m in ENSEMBLE_MEMBERS}
        weights = ensemble_weights(preds, c_y)
        engine.ensemble_weights = weights
        pred = engine.predict("ensemble", new, ages)[c_item, c_age]
        tables["ensemble"] = calibration_table(c_item, c_age, c_y, pred, **table_args)
        wape["ensemble"] = np.abs(c_y - pred).sum() / max(c_y.sum(), 1e-12)
    for m, table in tables.items():
        table["wape"] = float(wape[m])
    return Calibration(tables=tables, ensemble_weights=weights)


def fit_calibrated(
    known: Any,
    methods: set[str],
    *,
    make_engine: Callable[[set[str]], Engine],
    calibration_size: float,
    random_state: int | None,
    offset: float,
    quantiles: Sequence[float],
    group_name: str | None,
    shortest: bool = False,
) -> tuple[Engine, dict[str, dict[str, Any]], dict[str, float] | None]:
    """Calibrate on held-out items, then fit the engine on every known item.

    The ``global`` method is calibrated on its own inner backtest (its out-of-fold forecasts
    of the last periods of the history), the others by :func:`holdout_calibration`.

    Parameters
    ----------
    known : KnownItems
        The checked known items (:func:`workbench.coldstart.items.known_items`).
    methods : set of str
        Methods to fit.
    make_engine, calibration_size, random_state, offset, quantiles, group_name
        As in :func:`holdout_calibration`.
    shortest : bool, default=False
        Shortest intervals of the nominal coverage (see :func:`calibration_table`).

    Returns
    -------
    engine : Engine
        Fitted on every known item.
    tables : dict
        Per method, the output of :func:`calibration_table` and its held-out ``wape``.
    weights : dict or None
        Ensemble weights (None when the ensemble was not fitted).
    """
    holdout = None
    if known.groups is not None:
        holdout = np.unique(known.groups, return_inverse=True)[1].astype(np.int64)
    cal_methods = methods - {"global"}
    tables: dict[str, dict[str, Any]] = {}
    weights = None
    if cal_methods:
        cal = holdout_calibration(
            known.items,
            known.item,
            known.t,
            known.y,
            methods=cal_methods,
            make_engine=make_engine,
            calibration_size=calibration_size,
            random_state=random_state,
            offset=offset,
            quantiles=quantiles,
            groups=known.groups,
            group_name=group_name,
            shortest=shortest,
        )
        tables, weights = dict(cal.tables), cal.ensemble_weights
    engine = make_engine(methods).fit(known.items, known.item, known.t, known.y, holdout)
    if weights is not None:
        engine.ensemble_weights = weights
    if "global" in engine.methods:
        oof = engine.global_.oof_
        tables["global"] = calibration_table(
            oof["item"],
            oof["age"],
            oof["y"],
            oof["pred"],
            offset=offset,
            quantiles=quantiles,
            size_bins=SIZE_BINS,
            shortest=shortest,
        )
        tables["global"]["wape"] = engine.global_.oof_wape_[engine.global_.loss_]
    return engine, tables, weights
