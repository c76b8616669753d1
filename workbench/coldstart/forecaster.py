"""The public cold-start forecaster: fit on known items, predict items that have never sold."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from threadpoolctl import threadpool_limits

from workbench.coldstart.calibration import AGE_BUCKETS, fit_calibrated, quantile_bands
from workbench.coldstart.checks import (
    MAX_NEIGHBORS,
    check_forecaster_params,
    check_horizon,
    check_methods,
)
from workbench.coldstart.items import known_items, new_items
from workbench.coldstart.models import BASELINES, METHODS, Engine, ItemTable
from workbench.coldstart.nowcast import align_sales, check_recent_sales, credibility_update
from workbench.coldstart.results import Analogues, Forecast, analogue_tables, forecast_frame
from workbench.core.errors import NotFittedError, UnknownNameError
from workbench.core.parallel import effective_n_jobs
from workbench.core.params import check_size
from workbench.core.validation import check_choice

__all__ = ["AGE_BUCKETS", "ColdStartForecaster"]


class ColdStartForecaster(BaseEstimator):
    """Forecast sales of new products from their attributes and the launches of similar products.

    Parameters
    ----------
    method : {"ensemble", "global", "knn", "gbm", "bass", "profile", "category_mean", \
"seasonal_naive"}, default="ensemble"
        How a new item's level and launch curve are guessed (see :mod:`workbench.coldstart.models`).
        The last two are the naive baselines.
    quantiles : sequence of float, default=(0.1, 0.5, 0.9)
        Quantile levels to forecast; the outermost pair is the prediction interval.
    interval : {"equal_tails", "shortest"}, default="equal_tails"
        Each outer pair of quantiles from the conformal quantiles of the errors at its levels,
        or the shortest interval of the pair's coverage (+0.025) per calibration cell: for
        skewed sales it starts near zero, and its ends fill the pair's columns.
    category : str or None, default="category"
        Categorical attribute whose levels get their own launch curve and seasonality
        (``None``: one global curve).
    n_neighbors : int, default=10
        Analogue items per new item (``knn``; at most 1,000).
    max_iter : int, default=100
        Boosting iterations of the global gradient-boosting model (``gbm``; at most 5,000).
    freq : str, optional
        ``"D"``, ``"W"`` (any weekday), ``"MS"`` or ``"ME"``; inferred from the dates when omitted.
    missing : {"raise", "zero"}, default="raise"
        What to do with missing periods inside an item's history and with NaN quantities:
        raise, or treat them as zero sales.
    handle_unknown : {"error", "ignore"}, default="error"
        Categorical levels unseen in training raise, or are treated as missing values.
    calibration_size : float, default=0.25
        Share of the known items held out (as if new) during ``fit`` to calibrate the quantiles
        conformally and to learn how much to trust early sales in :meth:`update`.
    calibration_group : str, optional
        An attribute column whose groups are held out together during that calibration (e.g. a
        product line), so the intervals reflect forecasting a whole new group; by default
        single items are held out.
    id_col, date_col, target_col : str
        Column names of the item id, the period date and the quantity.
    random_state : int or None, default=None
        Seeds the calibration split and the gradient-boosting models (``0 <= seed < 2**32``).
    n_jobs : int, optional
        Threads of the gradient-boosting models; ``None`` means 1 unless a
        ``joblib.parallel_config(n_jobs=...)`` is active, ``-1`` means all cores.

    Attributes
    ----------
    schema_ : AttributeSchema
        Attribute columns, their kinds and levels seen in training.
    calendar_ : Calendar
        The period grid of the training history.
    item_ids_ : numpy.ndarray
        Known items.
    engine_ : Engine
        The fitted models (trained on every known item).
    ensemble_weights_ : dict
        Convex weights of the ensemble members with the lowest WAPE on the items held out for
        calibration, so never worse there than the best member (set when the ensemble is
        fitted).
    calibration_ : dict
        Per method: ``offsets`` (log-ratio quantiles per age bucket), the update credibility
        constants ``k``, ``within_var``, ``between_var`` and the held-out ``wape``. The
        ``global`` method's come from its own inner backtest (the last periods of the history,
        forecast from what came before).
    offset_ : float
        Small constant added before taking log-ratios of quantities.
    season_length_ : int
        Periods per seasonal cycle.
    quantiles_ : list of float
        The checked quantile levels, ascending.
    fitted_methods_ : list of str
        Methods :meth:`predict` accepts as ``method`` (``method`` and those passed to ``fit``).

    Notes
    -----
    A scikit-learn estimator (:class:`~sklearn.base.BaseEstimator`): the constructor stores its
    arguments unchanged, :meth:`fit` checks them, and ``get_params``, ``set_params`` and
    :func:`sklearn.base.clone` work as usual.

    Examples
    --------
    >>> from workbench.coldstart import ColdStartForecaster, make_launches
    >>> data = make_launches(n_items=120, random_state=0)
    >>> known, new = data.split_by_launch("2025-06-01")
    >>> hist = data.history[data.history["item_id"].isin(known["item_id"])]
    >>> model = ColdStartForecaster(method="knn", random_state=0).fit(hist, known)
    >>> fc = model.predict(new.head(2), horizon=8, launch_date="2025-06-02")
    >>> fc.frame.shape
    (16, 7)
    """

    def __init__(
        self,
        method: str = "ensemble",
        *,
        quantiles: Sequence[float] = (0.1, 0.5, 0.9),
        interval: str = "equal_tails",
        category: str | None = "category",
        n_neighbors: int = 10,
        max_iter: int = 100,
        freq: str | None = None,
        missing: str = "raise",
        handle_unknown: str = "error",
        calibration_size: float = 0.25,
        calibration_group: str | None = None,
        id_col: str = "item_id",
        date_col: str = "date",
        target_col: str = "quantity",
        random_state: int | None = None,
        n_jobs: int | None = None,
    ) -> None:
        self.method = method
        self.quantiles = quantiles
        self.interval = interval
        self.category = category
        self.n_neighbors = n_neighbors
        self.max_iter = max_iter
        self.freq = freq
        self.missing = missing
        self.handle_unknown = handle_unknown
        self.calibration_size = calibration_size
        self.calibration_group = calibration_group
        self.id_col = id_col
        self.date_col = date_col
        self.target_col = target_col
        self.random_state = random_state
        self.n_jobs = n_jobs

    def set_params(self, **params: Any) -> ColdStartForecaster:
        """Set constructor parameters (scikit-learn convention).

        Unlike scikit-learn's, an unknown name raises :class:`UnknownNameError` (a
        :class:`~workbench.core.errors.WorkbenchError`) that lists the valid ones; values are
        checked in :meth:`fit`.

        Parameters
        ----------
        **params
            Parameter names and their new values.

        Returns
        -------
        ColdStartForecaster
            ``self``.

        Raises
        ------
        UnknownNameError
            For a name that is not a constructor parameter.
        """
        valid = self.get_params(deep=False)
        for k in params:
            if k not in valid:
                raise UnknownNameError("parameter", k, valid)
        return super().set_params(**params)

    # -------------------------------------------------------------------- fit
    def fit(
        self,
        history: pd.DataFrame,
        attributes: pd.DataFrame,
        *,
        methods: Iterable[str] | None = None,
    ) -> ColdStartForecaster:
        """Learn launch curves, levels and seasonality from the known items.

        Parameters
        ----------
        history : pandas.DataFrame
            Long-format sales: one row per item and period with columns ``id_col``, ``date_col``
            and ``target_col``. An item's first row is taken as its launch.
        attributes : pandas.DataFrame
            One row per item with ``id_col`` and the attribute columns (numeric and
            categorical); items without history are ignored with a warning.
        methods : iterable of str, optional
            Fit these methods too, on the same calibration split, so that
            ``predict(..., method=m)`` can compare them (as :func:`backtest` does).

        Returns
        -------
        ColdStartForecaster
            ``self``, fitted.

        Raises
        ------
        InputTypeError
            If an input is not a DataFrame, a column has the wrong type (numbers as dates,
            text mixed into a numeric column), or a parameter has the wrong type.
        InputError
            On missing columns, missing dates or gaps (``missing="raise"``), negative, NaN or
            float32-overflowing quantities, duplicated rows, items without attributes, too few
            items, or a parameter out of its range.
        """
        self.quantiles_ = check_forecaster_params(self.get_params(), [*METHODS, *BASELINES])
        extra = [] if methods is None else check_methods(methods, [*METHODS, *BASELINES])
        methods = {self.method, *extra}
        self.__dict__.pop("ensemble_weights_", None)
        known = known_items(
            history,
            attributes,
            id_col=self.id_col,
            date_col=self.date_col,
            target_col=self.target_col,
            freq=self.freq,
            missing=self.missing,
            category=self.category,
            calibration_group=self.calibration_group,
            stacklevel=2,
        )
        self.schema_ = known.schema
        self.calendar_ = known.calendar
        self.season_length_ = known.calendar.season_length
        self.item_ids_ = known.ids
        positive = known.y[known.y > 0]
        self.offset_ = float(0.1 * np.median(positive)) if len(positive) else 1e-6
        self._train = (known.item, known.t, known.y)
        with self._threads():
            self.engine_, self.calibration_, weights = fit_calibrated(
                known,
                methods,
                make_engine=self._engine,
                calibration_size=self.calibration_size,
                random_state=self.random_state,
                offset=self.offset_,
                quantiles=self.quantiles_,
                group_name=self.calibration_group,
                shortest=self.interval == "shortest",
            )
        if weights is not None:
            self.ensemble_weights_ = weights
        self.fitted_methods_ = sorted(self.engine_.methods | methods)
        return self

    def _threads(self) -> threadpool_limits:
        # Small OpenMP regions on a busy machine spin for milliseconds each: use what n_jobs says.
        return threadpool_limits(limits=effective_n_jobs(self.n_jobs), user_api="openmp")

    def _engine(self, methods: set[str]) -> Engine:
        n_groups = len(self.schema_.levels[self.category]) if self.category else 1
        return Engine(
            methods,
            n_groups=n_groups,
            season_length=self.season_length_,
            n_neighbors=self.n_neighbors,
            max_iter=self.max_iter,
            random_state=self.random_state,
        )

    # ---------------------------------------------------------------- predict
    def _check_fitted(self) -> None:
        if not hasattr(self, "engine_"):
            raise NotFittedError(
                "This ColdStartForecaster is not fitted; call .fit(history, attributes) first."
            )

    def _new_items(self, attributes: Any, launch_date: Any, *, dated: bool = True) -> ItemTable:
        return new_items(
            attributes,
            launch_date,
            schema=self.schema_,
            calendar=self.calendar_,
            known_ids=self.item_ids_,
            id_col=self.id_col,
            category=self.category,
            handle_unknown=self.handle_unknown,
            dated=dated,
            stacklevel=3,
        )

    def _intervals(
        self, method: str, pred: np.ndarray, ages: np.ndarray, spread: Any = 1.0
    ) -> np.ndarray:
        table = self.calibration_[method]
        return quantile_bands(
            table["offsets"],
            pred,
            ages,
            offset=self.offset_,
            spread=spread,
            size_edges=table.get("size_edges"),
        )

    def _frame(
        self, new: ItemTable, ages: np.ndarray, mean: np.ndarray, q: np.ndarray
    ) -> pd.DataFrame:
        dates = self.calendar_.dates((new.launch[:, None] + ages).ravel())
        return forecast_frame(new.ids, dates, ages, mean, q, self.quantiles_)

    def predict(
        self,
        new_item_attributes: pd.DataFrame,
        horizon: int,
        launch_date: Any = None,
        *,
        method: str | None = None,
    ) -> Forecast:
        """Forecast items with no sales history from their attributes.

        Parameters
        ----------
        new_item_attributes : pandas.DataFrame
            One row per new item: ``id_col`` and exactly the attribute columns seen in ``fit``
            (plus, optionally, a ``launch_date`` column).
        horizon : int
            Periods to forecast from each item's launch (the launch period is age 0); at most
            520.
        launch_date : date-like, sequence or mapping, optional
            One launch date for all items, one per row, or a mapping item id → date; when
            omitted, the ``launch_date`` column is used. Dates between periods move to the next
            period.
        method : str, optional
            One of ``fitted_methods_``; defaults to ``self.method``.

        Returns
        -------
        Forecast

        Raises
        ------
        NotFittedError
            Before ``fit``.
        InputTypeError
            On a launch date given as a number, text in a numeric attribute.
        InputError
            On ``horizon`` outside [1, 520], unknown or missing attribute columns, unseen
            categorical levels (with ``handle_unknown="error"``), duplicated items, missing
            launch dates, or attribute values beyond the float32 range.

        Warns
        -----
        UserWarning
            When a "new" item already has history in training.
        """
        self._check_fitted()
        m = self.method
        if method is not None:
            m = check_choice(method, self.fitted_methods_, kind="fitted method")
        h = check_horizon(horizon)
        new = self._new_items(new_item_attributes, launch_date)
        ages = np.arange(h)
        with self._threads():
            mean = self.engine_.predict(m, new, ages)
        q = self._intervals(m, mean, ages)
        return Forecast(self._frame(new, ages, mean, q), m, list(self.quantiles_), h)

    def mase_scale(self, new_item_attributes: pd.DataFrame) -> pd.Series:
        """The MASE scale of each new item, known before it sells.

        It is the mean absolute one-step change of the known items of the item's category (of
        all known items for a category unseen in training); see :func:`mase`.

        Parameters
        ----------
        new_item_attributes : pandas.DataFrame
            One row per new item (as in :meth:`predict`; no launch date needed).

        Returns
        -------
        pandas.Series
            Positive scales indexed by item id (as str).
        """
        self._check_fitted()
        new = self._new_items(new_item_attributes, None, dated=False)
        g = np.where(new.group >= 0, new.group, self.engine_.n_groups)
        return pd.Series(self.engine_.scale_[g], index=new.ids.astype(str), name="scale")

    def update(
        self,
        recent_history: pd.DataFrame,
        new_item_attributes: pd.DataFrame,
        horizon: int,
        launch_date: Any = None,
    ) -> Forecast:
        """Forecast young items from their first periods of sales blended with the cold prior.

        The cold-start forecast is the prior. Each item's observed sales over its prior forecast
        give a level ratio, trusted with the credibility weight ``n / (n + k)`` after ``n``
        observed periods, where ``k`` (the ratio of within-item to between-item variance of
        that ratio) was measured on the items held out in ``fit``. The quantile bands narrow
        as the level becomes known. The fitted model itself is not changed.

        Parameters
        ----------
        recent_history : pandas.DataFrame
            Long-format sales of the young items (same columns as in ``fit``).
        new_item_attributes : pandas.DataFrame
            One attribute row per young item.
        horizon : int
            Periods to forecast after each item's last observed period (at most 520).
        launch_date : date-like, sequence or mapping, optional
            Launch dates; by default each item's first date in ``recent_history``.

        Returns
        -------
        Forecast
            Rows start at the period after each item's last observation.

        Raises
        ------
        InputError
            As :meth:`predict`, and for items of ``recent_history`` without attributes, sales
            dated before the launch, gaps, or negative quantities.
        """
        self._check_fitted()
        h = check_horizon(horizon)
        attrs, sales, launch_date = check_recent_sales(
            recent_history,
            new_item_attributes,
            launch_date,
            calendar=self.calendar_,
            id_col=self.id_col,
            date_col=self.date_col,
            target_col=self.target_col,
            missing=self.missing,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            new = self._new_items(attrs, launch_date)
        early = align_sales(sales, attrs[self.id_col].astype(str), new)
        ages = np.arange(int(early.last_age.max()) + 1 + h)
        with self._threads():
            prior = self.engine_.predict(self.method, new, ages)
        fut, post, spread = credibility_update(
            prior, early, self.calibration_[self.method], offset=self.offset_, horizon=h
        )
        q = self._intervals(self.method, post, fut, spread[:, None])
        return Forecast(self._frame(new, fut, post, q), self.method, list(self.quantiles_), h)

    def analogues(
        self, new_item_attributes: pd.DataFrame, n_neighbors: int | None = None
    ) -> Analogues:
        """The known items closest to each new item in attribute space, with their sales curves.

        Parameters
        ----------
        new_item_attributes : pandas.DataFrame
            One row per new item (as in :meth:`predict`; no launch date needed).
        n_neighbors : int, optional
            How many analogues (at most 1,000); defaults to ``self.n_neighbors``.

        Returns
        -------
        Analogues

        Raises
        ------
        InputError
            As :meth:`predict`, and for ``n_neighbors`` outside [1, 1000].
        """
        self._check_fitted()
        k = (
            self.n_neighbors
            if n_neighbors is None
            else check_size(n_neighbors, name="n_neighbors", high=MAX_NEIGHBORS)
        )
        new = self._new_items(new_item_attributes, None, dated=False)
        idx, dist = self.engine_.neighbors(new, k)
        item, t, y = self._train
        age = t - self.engine_.items_.launch[item]
        return analogue_tables(new.ids, idx, dist, self.item_ids_, item, age, y)

    def __repr__(self) -> str:
        return f"ColdStartForecaster(method={self.method!r})"
