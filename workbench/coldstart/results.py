"""Result objects of the cold-start tool: forecasts with quantiles, analogue items, backtests."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from workbench.coldstart.checks import check_output
from workbench.core.errors import InputError
from workbench.core.params import check_ax, check_number
from workbench.core.results import Result

__all__ = [
    "Analogues",
    "BacktestResult",
    "Forecast",
    "analogue_tables",
    "forecast_frame",
    "metrics_table",
    "quantile_column",
]


def quantile_column(q: float) -> str:
    """Name of the column that holds quantile ``q`` in forecast tables, e.g. ``"q0.1"``."""
    return f"q{q:g}"


def forecast_frame(
    ids: np.ndarray,
    dates: pd.DatetimeIndex,
    ages: np.ndarray,
    mean: np.ndarray,
    q: np.ndarray,
    quantiles: list[float],
) -> pd.DataFrame:
    """The table of a :class:`Forecast`: one row per item and forecast period.

    Parameters
    ----------
    ids : numpy.ndarray
        Item ids, one per row of ``mean``.
    dates : pandas.DatetimeIndex
        Date of every forecast, row-major over ``mean``.
    ages : numpy.ndarray of int
        Periods since launch: shape ``(horizon,)`` shared by every item, or ``mean.shape``.
    mean : numpy.ndarray of shape (n_items, horizon)
        Point forecasts (negative values are clipped to 0).
    q : numpy.ndarray of shape (n_items, horizon, n_quantiles)
        Quantile forecasts.
    quantiles : list of float
        Quantile levels, ascending.

    Returns
    -------
    pandas.DataFrame
        Columns ``item_id``, ``date``, ``age``, ``forecast`` and one per quantile.

    Raises
    ------
    InputError
        If a forecast overflowed to NaN or infinity.
    """
    n, h = mean.shape
    frame = pd.DataFrame(
        {
            "item_id": np.repeat(ids.astype(str), h),
            "date": dates,
            "age": ages.ravel() if ages.ndim == 2 else np.tile(ages, n),
            "forecast": np.maximum(mean, 0.0).ravel(),
        }
    )
    check_output(frame["forecast"].to_numpy(), what="forecast")
    for j, level in enumerate(quantiles):
        frame[quantile_column(level)] = check_output(q[..., j].ravel(), what="forecast interval")
    return frame


@dataclasses.dataclass(repr=False)
class Forecast(Result):
    """Forecasts of new items: a mean path and quantiles per item and period.

    Attributes
    ----------
    frame : pandas.DataFrame
        Columns ``item_id``, ``date``, ``age`` (periods since launch), ``forecast`` (the mean)
        and one ``q<level>`` column per quantile, e.g. ``q0.1``.
    method : str
        The method that produced it.
    quantiles : list of float
        Quantile levels, ascending.
    horizon : int
        Periods forecast per item.
    """

    frame: pd.DataFrame
    method: str
    quantiles: list[float]
    horizon: int

    @property
    def title(self) -> str:
        return f"Cold-start forecast ({self.method})"

    @property
    def interval_level(self) -> float:
        """Nominal coverage of the widest interval (e.g. 0.8 for quantiles 0.1 and 0.9)."""
        return round(self.quantiles[-1] - self.quantiles[0], 6) if len(self.quantiles) > 1 else 0.0

    def to_frame(self) -> pd.DataFrame:
        """The forecast table (one row per item and period)."""
        return self.frame.copy()

    def summary(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "items": int(self.frame["item_id"].nunique()),
            "horizon": self.horizon,
            "interval": f"{self.interval_level:.0%}",
        }

    def item(self, item_id: Any) -> pd.DataFrame:
        """The rows of one item; raises :class:`InputError` for an item not forecast."""
        rows = self.frame[self.frame["item_id"] == str(item_id)]
        if rows.empty:
            raise InputError(
                f"No forecast for item {item_id!r}; forecast items: "
                f"{self.frame['item_id'].unique()[:10].tolist()}."
            )
        return rows

    def plot(self, item_id: Any = None, ax: Any = None) -> Any:
        """Fan chart of one item (the first by default): mean line and quantile bands.

        Parameters
        ----------
        item_id : str, optional
        ax : matplotlib.axes.Axes, optional

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt

        if check_ax(ax) is None:
            _, ax = plt.subplots(figsize=(7, 3.5))
        key = self.frame["item_id"].iloc[0] if item_id is None else item_id
        rows = self.item(key)
        cols = [quantile_column(q) for q in self.quantiles]
        n = len(cols)
        for i in range(n // 2):
            lo, hi = cols[i], cols[n - 1 - i]
            level = self.quantiles[n - 1 - i] - self.quantiles[i]
            ax.fill_between(
                rows["date"],
                rows[lo],
                rows[hi],
                alpha=0.18 + 0.15 * i,
                color="tab:blue",
                label=f"{level:.0%} interval",
                linewidth=0,
            )
        ax.plot(rows["date"], rows["forecast"], color="tab:blue", label="forecast (mean)")
        ax.set_title(f"{key}: {self.method}")
        ax.set_ylabel("quantity")
        ax.legend(loc="upper right", fontsize=8)
        ax.tick_params(axis="x", labelrotation=30)
        return ax


@dataclasses.dataclass(repr=False)
class Analogues(Result):
    """The known items most similar to new ones, and their sales by age since launch.

    Attributes
    ----------
    neighbors : pandas.DataFrame
        Columns ``new_item``, ``rank``, ``item_id``, ``distance`` (attribute-space distance).
    curves : pandas.DataFrame
        Columns ``item_id``, ``age``, ``quantity``: the analogues' observed sales.
    """

    neighbors: pd.DataFrame
    curves: pd.DataFrame

    @property
    def title(self) -> str:
        return "Nearest analogue items"

    def to_frame(self) -> pd.DataFrame:
        """The neighbor table."""
        return self.neighbors.copy()

    def summary(self) -> dict[str, Any]:
        return {
            "new items": int(self.neighbors["new_item"].nunique()),
            "analogues each": int(self.neighbors.groupby("new_item").size().max()),
        }

    def plot(self, new_item: Any = None, ax: Any = None, max_age: int | None = None) -> Any:
        """Sales-by-age curves of one new item's analogues.

        Parameters
        ----------
        new_item : str, optional
            Defaults to the first new item.
        ax : matplotlib.axes.Axes, optional
        max_age : int, optional
            Last age shown (a non-negative integer).

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt

        if check_ax(ax) is None:
            _, ax = plt.subplots(figsize=(7, 3.5))
        if max_age is not None:
            max_age = check_number(max_age, name="max_age", low=0, integer=True)
        key = self.neighbors["new_item"].iloc[0] if new_item is None else str(new_item)
        rows = self.neighbors[self.neighbors["new_item"] == key]
        if rows.empty:
            raise InputError(f"No analogues for item {new_item!r}.")
        for _, r in rows.iterrows():
            c = self.curves[self.curves["item_id"] == r["item_id"]]
            if max_age is not None:
                c = c[c["age"] <= max_age]
            ax.plot(
                c["age"],
                c["quantity"],
                alpha=0.7,
                lw=1,
                label=f"{r['item_id']} (d={r['distance']:.2f})",
            )
        ax.set_title(f"Analogues of {key}")
        ax.set_xlabel("periods since launch")
        ax.set_ylabel("quantity")
        ax.legend(fontsize=7, ncol=2)
        return ax


def analogue_tables(
    new_ids: np.ndarray,
    neighbors: np.ndarray,
    distances: np.ndarray,
    known_ids: np.ndarray,
    item: np.ndarray,
    age: np.ndarray,
    quantity: np.ndarray,
) -> Analogues:
    """The :class:`Analogues` of new items from their nearest known items and the known sales.

    Parameters
    ----------
    new_ids : numpy.ndarray
        Ids of the new items.
    neighbors, distances : numpy.ndarray of shape (n_new, k)
        Positions (in ``known_ids``) and distances of each new item's analogues, nearest first.
    known_ids : numpy.ndarray
        Ids of the known items.
    item, age, quantity : numpy.ndarray
        The known sales rows: item position, periods since launch and quantity.

    Returns
    -------
    Analogues

    Raises
    ------
    InputError
        If a distance overflowed to NaN or infinity.
    """
    k = neighbors.shape[1]
    table = pd.DataFrame(
        {
            "new_item": np.repeat(new_ids.astype(str), k),
            "rank": np.tile(np.arange(1, k + 1), len(new_ids)),
            "item_id": known_ids[neighbors.ravel()].astype(str),
            "distance": np.round(check_output(distances.ravel(), what="analogue distance"), 6),
        }
    )
    rows = np.isin(item, np.unique(neighbors))
    curves = pd.DataFrame(
        {
            "item_id": known_ids[item[rows]].astype(str),
            "age": age[rows],
            "quantity": quantity[rows],
        }
    )
    return Analogues(table, curves)


@dataclasses.dataclass(repr=False)
class BacktestResult(Result):
    """Accuracy of each method on items held out as new.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per method: ``wape``, ``bias`` (sum of errors over sum of actuals), ``mase``,
        ``spl`` (scaled pinball loss averaged over the quantiles), ``coverage`` of the widest
        interval, ``wape_vs_category_mean`` (ratio to that baseline), ``n_items``.
    per_fold : pandas.DataFrame
        The same metrics per fold (time origin or item fold) and method.
    predictions : pandas.DataFrame
        Every held-out (item, period): ``fold``, ``method``, ``item_id``, ``age``, ``actual``,
        ``forecast`` and the quantile columns.
    scheme : str
        ``"origin"`` or ``"kfold"``.
    horizon : int
    interval_level : float
        Nominal coverage of the interval measured in ``coverage``.
    """

    table: pd.DataFrame
    per_fold: pd.DataFrame
    predictions: pd.DataFrame
    scheme: str
    horizon: int
    interval_level: float

    @property
    def title(self) -> str:
        return f"Cold-start backtest ({self.scheme}, horizon {self.horizon})"

    def to_frame(self) -> pd.DataFrame:
        """The per-method table."""
        return self.table.copy()

    def summary(self) -> dict[str, Any]:
        best = self.table.iloc[0]
        return {
            "best method": best["method"],
            "best WAPE": float(best["wape"]),
            "held-out items": int(best["n_items"]),
            "nominal interval": f"{self.interval_level:.0%}",
        }

    def to_dict(self) -> dict[str, Any]:
        """Table and per-fold metrics (the predictions are left out to keep JSON small)."""
        d = super().to_dict()
        d.pop("predictions", None)
        return d

    def plot(self, ax: Any = None) -> Any:
        """WAPE per method (bars) with interval coverage written on each bar.

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt

        if check_ax(ax) is None:
            _, ax = plt.subplots(figsize=(7, 3.5))
        t = self.table
        bars = ax.bar(t["method"], t["wape"], color="tab:blue")
        for bar, cov in zip(bars, t["coverage"], strict=True):
            ax.annotate(
                f"cov {cov:.0%}",
                (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                ha="center",
                va="bottom",
                fontsize=8,
            )
        ax.set_ylabel("WAPE (lower is better)")
        ax.set_title(self.title)
        ax.tick_params(axis="x", labelrotation=30)
        return ax


def metrics_table(predictions: pd.DataFrame, quantiles: list[float], by: list[str]) -> pd.DataFrame:
    """WAPE, bias, MASE, scaled pinball loss and coverage of ``predictions`` grouped by ``by``."""
    qcols = [quantile_column(q) for q in quantiles]
    rows = []
    for key, g in predictions.groupby(by, sort=False):
        y, f, sc = g["actual"].to_numpy(), g["forecast"].to_numpy(), g["scale"].to_numpy()
        tot = max(np.abs(y).sum(), 1e-12)
        spl = np.mean(
            [
                np.mean(np.maximum(q * (y - g[c]), (q - 1) * (y - g[c])) / sc)
                for q, c in zip(quantiles, qcols, strict=True)
            ]
        )
        lo, hi = g[qcols[0]].to_numpy(), g[qcols[-1]].to_numpy()
        keys = key if isinstance(key, tuple) else (key,)
        rows.append(
            {
                **dict(zip(by, keys, strict=True)),
                "wape": float(np.abs(y - f).sum() / tot),
                "bias": float((f - y).sum() / tot),
                "mase": float(np.mean(np.abs(y - f) / sc)),
                "spl": float(spl),
                "coverage": float(np.mean((y >= lo) & (y <= hi))),
                "n_items": int(g["item_id"].nunique()),
            }
        )
    return pd.DataFrame(rows)
