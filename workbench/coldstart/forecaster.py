"""The public cold-start forecaster: fit on known items, predict items that have never sold."""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from workbench.coldstart.calibration import AGE_BUCKETS, calibration_table, quantile_bands
from workbench.coldstart.checks import (
    MAX_NEIGHBORS,
    check_bounded,
    check_forecaster_params,
    check_horizon,
    check_methods,
    check_output,
)
from workbench.coldstart.inputs import (
    LAUNCH_COL,
    AttributeSchema,
    Calendar,
    check_frame,
    check_gaps,
    check_history,
    resolve_launch_dates,
)
from workbench.coldstart.models import BASELINES, ENSEMBLE_MEMBERS, METHODS, Engine, ItemTable
from workbench.coldstart.results import Analogues, Forecast, quantile_column
from workbench.core.errors import InputError, NotFittedError, UnknownNameError
from workbench.core.parallel import effective_n_jobs
from workbench.core.validation import check_choice

__all__ = ["AGE_BUCKETS", "ColdStartForecaster"]


class ColdStartForecaster:
    """Forecast sales of new products from their attributes and the launches of similar products.

    Parameters
    ----------
    method : {"ensemble", "knn", "gbm", "bass", "profile", "category_mean", "seasonal_naive"}, \
default="ensemble"
        How a new item's level and launch curve are guessed (see :mod:`workbench.coldstart.models`).
        The last two are the naive baselines.
    quantiles : sequence of float, default=(0.1, 0.5, 0.9)
        Quantile levels to forecast; the outermost pair is the prediction interval.
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
        What to do with missing periods inside an item's history: raise, or treat them as zero
        sales.
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
        Weights of the ensemble members, proportional to the inverse squared WAPE of each on
        the items held out for calibration (set when the ensemble is fitted).
    calibration_ : dict
        Per method: ``offsets`` (log-ratio quantiles per age bucket) and the update credibility
        constants ``k``, ``within_var``, ``between_var``.
    offset_ : float
        Small constant added before taking log-ratios of quantities.
    season_length_ : int
        Periods per seasonal cycle.

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

    # ----------------------------------------------------------------- params
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Constructor parameters (scikit-learn convention).

        Parameters
        ----------
        deep : bool, default=True
            Unused; there are no nested estimators.

        Returns
        -------
        dict
        """
        names = inspect.signature(type(self).__init__).parameters
        return {k: getattr(self, k) for k in names if k != "self"}

    def set_params(self, **params: Any) -> ColdStartForecaster:
        """Set constructor parameters; unknown names raise :class:`UnknownNameError`.

        Returns
        -------
        ColdStartForecaster
            ``self``.
        """
        valid = self.get_params()
        for k, v in params.items():
            if k not in valid:
                raise UnknownNameError("parameter", k, valid)
            setattr(self, k, v)
        return self

    def _check_params(self) -> list[float]:
        return check_forecaster_params(self.get_params(), [*METHODS, *BASELINES])

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
        self.quantiles_ = self._check_params()
        extra = [] if methods is None else check_methods(methods, [*METHODS, *BASELINES])
        methods = {self.method, *extra}
        self.__dict__.pop("ensemble_weights_", None)
        hist = check_history(
            history, id_col=self.id_col, date_col=self.date_col, target_col=self.target_col
        )
        attrs = check_frame(attributes, name="attributes")
        if self.id_col not in attrs.columns:
            raise InputError(f"attributes lacks the item id column {self.id_col!r}.")
        calendar = Calendar.infer(pd.DatetimeIndex(hist["date"]), self.freq)
        frame = check_gaps(
            hist,
            calendar.index(pd.DatetimeIndex(hist["date"])),
            missing=self.missing,
            name="history",
        )
        ids_attr = attrs[self.id_col].astype(str)
        missing_attr = sorted(set(frame["item"]) - set(ids_attr))
        if missing_attr:
            raise InputError(
                f"{len(missing_attr)} item(s) in history have no attribute row (e.g. "
                f"{missing_attr[:3]}); add them to attributes."
            )
        unused = ~ids_attr.isin(frame["item"].unique())
        if unused.any():
            warnings.warn(
                f"{int(unused.sum())} item(s) in attributes have no history and are ignored in "
                "fit; forecast them with predict().",
                UserWarning,
                stacklevel=3,
            )
            attrs = attrs[~unused.to_numpy()]
        schema = AttributeSchema.learn(attrs, self.id_col)
        schema.check(attrs, name="attributes", handle_unknown="error")
        if self.category is not None and self.category not in schema.categorical:
            where = "numeric" if self.category in schema.numeric else "missing"
            raise InputError(
                f"category={self.category!r} must be a categorical attribute column, but it is "
                f"{where} (categorical columns: {schema.categorical}). Pass category=None for "
                "one global launch curve."
            )
        if self.calibration_group is not None and self.calibration_group not in schema.columns:
            raise InputError(
                f"calibration_group={self.calibration_group!r} is not an attribute column; "
                f"choose one of {schema.columns}."
            )
        self.schema_ = schema
        self.calendar_ = calendar
        self.season_length_ = calendar.season_length
        attrs = attrs.assign(**{self.id_col: attrs[self.id_col].astype(str)}).set_index(self.id_col)
        codes, uniq = pd.factorize(frame["item"], sort=True)
        self.item_ids_ = np.asarray(uniq, dtype=object)
        n = len(uniq)
        if n < 8:
            raise InputError(f"fit needs at least 8 known items with history, got {n}.")
        t = frame["t"].to_numpy(np.int64)
        y = frame["y"].to_numpy(float)
        launch = np.full(n, np.iinfo(np.int64).max)
        np.minimum.at(launch, codes, t)
        items = self._encode(attrs.loc[self.item_ids_].reset_index(), launch)
        positive = y[y > 0]
        self.offset_ = float(0.1 * np.median(positive)) if len(positive) else 1e-6
        self._train = (codes, t, y)
        with self._threads():
            groups = None
            if self.calibration_group is not None:
                groups = attrs.loc[self.item_ids_, self.calibration_group].astype(str).to_numpy()
            self.calibration_ = self._calibrate(items, codes, t, y, methods, groups)
            self.engine_ = self._engine(methods).fit(items, codes, t, y)
        if hasattr(self, "ensemble_weights_"):
            self.engine_.ensemble_weights = self.ensemble_weights_
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

    def _encode(self, attrs: pd.DataFrame, launch: np.ndarray) -> ItemTable:
        schema = self.schema_
        codes = schema.codes(attrs)
        if self.category is not None:
            group = codes[:, schema.categorical.index(self.category)]
        else:
            group = np.zeros(len(attrs), dtype=np.int64)
        cat_mask = np.array(
            [False] * len(schema.numeric)
            + [len(schema.levels[c]) <= 250 for c in schema.categorical]
        )
        return ItemTable(
            ids=attrs[self.id_col].astype(str).to_numpy(dtype=object),
            num=schema.numeric_matrix(attrs),
            codes=codes,
            group=group,
            dist=schema.distance_matrix(attrs, self.category),
            launch=np.asarray(launch, dtype=np.int64),
            cat_mask=cat_mask,
        )

    def _calibrate(
        self,
        items: ItemTable,
        item: np.ndarray,
        t: np.ndarray,
        y: np.ndarray,
        methods: set[str],
        groups: np.ndarray | None = None,
    ) -> dict[str, dict[str, Any]]:
        """Hold out whole items, forecast them as new, and turn their errors into quantiles."""
        rng = np.random.default_rng(self.random_state)
        n = items.n
        n_cal = max(2, round(self.calibration_size * n))
        cal = np.zeros(n, bool)
        if groups is None:
            cal[rng.choice(n, n_cal, replace=False)] = True
        else:
            uniq = np.unique(groups)
            if len(uniq) < 2:
                raise InputError(
                    f"calibration_group={self.calibration_group!r} has a single level; it needs "
                    "at least two groups to hold one out."
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
        engine = self._engine(methods).fit(
            items.take(np.nonzero(~cal)[0]), remap[item[train_rows]], t[train_rows], y[train_rows]
        )
        cal_idx = np.nonzero(cal)[0]
        rows = cal[item]
        c_item = np.cumsum(cal)[item[rows]] - 1
        c_age = t[rows] - items.launch[item[rows]]
        c_y = y[rows]
        new = items.take(cal_idx)
        ages = np.arange(int(c_age.max()) + 1)
        out, wape = {}, {}
        table_args = {"offset": self.offset_, "quantiles": self.quantiles_}
        for m in sorted((engine.methods | methods) - {"ensemble"}):
            pred = engine.predict(m, new, ages)[c_item, c_age]
            out[m] = calibration_table(c_item, c_age, c_y, pred, **table_args)
            wape[m] = np.abs(c_y - pred).sum() / max(c_y.sum(), 1e-12)
        if "ensemble" in engine.methods:
            # Members that forecast the held-out items badly get little say.
            inv = {m: 1.0 / max(wape[m], 1e-6) ** 2 for m in ENSEMBLE_MEMBERS}
            total = sum(inv.values())
            self.ensemble_weights_ = {m: v / total for m, v in inv.items()}
            engine.ensemble_weights = self.ensemble_weights_
            pred = engine.predict("ensemble", new, ages)[c_item, c_age]
            out["ensemble"] = calibration_table(c_item, c_age, c_y, pred, **table_args)
        return out

    # ---------------------------------------------------------------- predict
    def _check_fitted(self) -> None:
        if not hasattr(self, "engine_"):
            raise NotFittedError(
                "This ColdStartForecaster is not fitted; call .fit(history, attributes) first."
            )

    def _new_items(
        self, attributes: Any, launch_date: Any, *, name: str = "new_item_attributes"
    ) -> ItemTable:
        attrs = check_frame(attributes, name=name)
        self.schema_.check(attrs, name=name, handle_unknown=self.handle_unknown)
        dates = resolve_launch_dates(attrs, launch_date, id_col=self.id_col)
        launch = self.calendar_.index(dates)
        known = attrs[self.id_col].astype(str).isin(set(self.item_ids_))
        if known.any():
            warnings.warn(
                f"{int(known.sum())} item(s) in {name} already have history in training (e.g. "
                f"{attrs.loc[known.to_numpy(), self.id_col].astype(str).tolist()[:3]}); they are "
                "forecast as new, ignoring that history. Use update() to use their sales.",
                UserWarning,
                stacklevel=3,
            )
        return self._encode(attrs.reset_index(drop=True), launch)

    def _intervals(self, method: str, pred: np.ndarray, ages: np.ndarray, spread: Any = 1.0):
        offsets = self.calibration_[method]["offsets"]
        return quantile_bands(offsets, pred, ages, offset=self.offset_, spread=spread)

    def _frame(
        self,
        ids: np.ndarray,
        launch: np.ndarray,
        ages: np.ndarray,
        mean: np.ndarray,
        q: np.ndarray,
    ) -> pd.DataFrame:
        n, h = mean.shape
        t = launch[:, None] + ages
        frame = pd.DataFrame(
            {
                "item_id": np.repeat(ids.astype(str), h),
                "date": self.calendar_.dates(t.ravel()),
                "age": ages.ravel() if ages.ndim == 2 else np.tile(ages, n),
                "forecast": np.maximum(mean, 0.0).ravel(),
            }
        )
        check_output(frame["forecast"].to_numpy(), what="forecast")
        for j, level in enumerate(self.quantiles_):
            frame[quantile_column(level)] = check_output(
                q[..., j].ravel(), what="forecast interval"
            )
        return frame

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
            1,000.
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
            On ``horizon`` outside [1, 1000], unknown or missing attribute columns, unseen
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
        return Forecast(
            self._frame(new.ids, new.launch, ages, mean, q), m, list(self.quantiles_), h
        )

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
        attrs = check_frame(new_item_attributes, name="new_item_attributes")
        self.schema_.check(attrs, name="new_item_attributes", handle_unknown=self.handle_unknown)
        new = self._encode(attrs.reset_index(drop=True), np.zeros(len(attrs), dtype=np.int64))
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
            Periods to forecast after each item's last observed period (at most 1,000).
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
        recent = check_history(
            recent_history,
            id_col=self.id_col,
            date_col=self.date_col,
            target_col=self.target_col,
            name="recent_history",
        )
        attrs = check_frame(new_item_attributes, name="new_item_attributes")
        if self.id_col not in attrs.columns:
            raise InputError(f"new_item_attributes lacks the item id column {self.id_col!r}.")
        ids = attrs[self.id_col].astype(str)
        extra = sorted(set(recent["item"]) - set(ids))
        if extra:
            raise InputError(
                f"recent_history has item(s) {extra[:3]} without a row in new_item_attributes."
            )
        frame = check_gaps(
            recent,
            self.calendar_.index(
                pd.DatetimeIndex(recent["date"]), exact=True, name="recent_history dates"
            ),
            missing=self.missing,
            name="recent_history",
        )
        first = frame.groupby("item")["t"].min()
        if launch_date is None and LAUNCH_COL not in attrs.columns:
            no_sales = sorted(set(ids) - set(first.index))
            if no_sales:
                raise InputError(
                    f"item(s) {no_sales[:3]} have no recent sales and no launch date; pass "
                    "launch_date or forecast them with predict()."
                )
            launch_date = {i: self.calendar_.dates(np.array([first[i]]))[0] for i in ids}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            new = self._new_items(attrs, launch_date)
        pos = pd.Series(np.arange(new.n), index=ids.to_numpy())
        n_obs = np.zeros(new.n, dtype=np.int64)
        last_age = np.full(new.n, -1, dtype=np.int64)
        obs_item = pos.loc[frame["item"].to_numpy()].to_numpy()
        obs_age = frame["t"].to_numpy() - new.launch[obs_item]
        if (obs_age < 0).any():
            bad = frame["item"].to_numpy()[obs_age < 0][:3].tolist()
            raise InputError(f"recent_history has sales before the launch date of {bad}.")
        np.add.at(n_obs, obs_item, 1)
        np.maximum.at(last_age, obs_item, obs_age)
        ages = np.arange(int(last_age.max()) + 1 + h)
        with self._threads():
            prior = self.engine_.predict(self.method, new, ages)
        d = self.offset_
        ratio = (frame["y"].to_numpy() + d) / (np.maximum(prior[obs_item, obs_age], 0) + d)
        mean_ratio = np.ones(new.n)
        sums = np.bincount(obs_item, weights=ratio, minlength=new.n)
        mean_ratio[n_obs > 0] = sums[n_obs > 0] / n_obs[n_obs > 0]
        cal = self.calibration_[self.method]
        z = n_obs / (n_obs + cal["k"])
        mult = 1.0 + z * (mean_ratio - 1.0)
        total = cal["within_var"] + cal["between_var"]
        spread = np.sqrt((cal["within_var"] + (1 - z) * cal["between_var"]) / total)
        fut = (last_age + 1)[:, None] + np.arange(h)[None, :]
        prior_fut = np.take_along_axis(prior, fut, axis=1)
        post = np.maximum((prior_fut + d) * mult[:, None] - d, 0.0)
        q = self._intervals(self.method, post, fut, spread[:, None])
        return Forecast(
            self._frame(new.ids, new.launch, fut, post, q), self.method, list(self.quantiles_), h
        )

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
            else check_bounded(n_neighbors, name="n_neighbors", integer=True, high=MAX_NEIGHBORS)
        )
        attrs = check_frame(new_item_attributes, name="new_item_attributes")
        self.schema_.check(attrs, name="new_item_attributes", handle_unknown=self.handle_unknown)
        new = self._encode(attrs.reset_index(drop=True), np.zeros(len(attrs), dtype=np.int64))
        idx, dist = self.engine_.neighbors(new, k)
        kk = idx.shape[1]
        neighbors = pd.DataFrame(
            {
                "new_item": np.repeat(new.ids.astype(str), kk),
                "rank": np.tile(np.arange(1, kk + 1), new.n),
                "item_id": self.item_ids_[idx.ravel()].astype(str),
                "distance": np.round(check_output(dist.ravel(), what="analogue distance"), 6),
            }
        )
        codes, t, y = self._train
        chosen = np.unique(idx)
        rows = np.isin(codes, chosen)
        launch = self.engine_.items_.launch
        curves = pd.DataFrame(
            {
                "item_id": self.item_ids_[codes[rows]].astype(str),
                "age": t[rows] - launch[codes[rows]],
                "quantity": y[rows],
            }
        )
        return Analogues(neighbors, curves)

    def __repr__(self) -> str:
        return f"ColdStartForecaster(method={self.method!r})"
