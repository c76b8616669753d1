"""The ``global`` cold-start method: one boosted model over all items, chosen by an inner backtest.

The model learns what a product sells in its first periods from what *other* products sold just
before: every training row is an item's sales in the last ``H`` periods of the history (an inner
origin ``T' = T_end - H``), and its features use only sales dated before ``T'``:

* launch age (periods since the item's launch) and the step since the origin (the calendar
  enters through the base's seasonal index, not as a tree feature);
* the item's attributes;
* hierarchy and group aggregates: for every categorical attribute, the mean recent level of the
  *other* items that share the item's level, and their overall mean. "Other" means the items of
  the other folds (5 folds of items; with ``holdout_groups`` whole groups are folded together,
  as when a whole new product line is forecast): a plain leave-one-out mean leaks the item's
  own level, since within a level it falls as the item's sales rise;
* the analogue-imputed level: the mean recent level of the ``k`` most similar known items of
  the other folds in attribute space.

The most specific available aggregate is the *base*: the trees learn a multiplicative correction
of it (LightGBM ``init_score``; for the scikit-learn fallback the target is divided by it).
Three losses are tried (LightGBM tweedie and poisson on sales, l2 on ``log1p`` sales) on item
(or group) folds of the training rows, and the one with the lowest out-of-fold WAPE is refit on
all rows (each loss with its out-of-fold best number of trees, 10 to ``max_iter``: many trees
memorise items). The same out-of-fold forecasts give a multiplier: for whole new lines the one
with the lowest WAPE in [0.2, 1.2] (a "damped group prior"), for new variants the one in
[0.8, 1.2] with the lowest WAPE + |bias| / 2; and the conformal log-ratio residuals from which
the forecaster's intervals are calibrated per launch-age bucket and forecast size.
LightGBM is pinned to one thread (two threads were 100x slower on a busy 2-core machine);
without LightGBM, scikit-learn's HistGradientBoostingRegressor (poisson; l2 on log1p) is used.
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor

from workbench.coldstart.globalfeatures import (
    analogue_level,
    fold_aggregates,
    growth_rate,
    recent_level,
    season_index,
    trend,
)
from workbench.coldstart.siblings import (
    effects_predict,
    main_effects,
    sibling_features,
    sibling_layout,
)

__all__ = ["LOSSES", "GlobalModel", "lightgbm_available"]

LOSSES = ("base", "tweedie", "poisson", "l2")
"""Candidates of the global model: the base alone (no trees), or trees with a loss (``l2`` is on
``log1p`` sales)."""
_EPS = 1e-9
_MAX_ROWS = 40_000
_N_FOLDS = 5
_ITERS = (10, 25, 50, 100)
_MAX_LEVELS = 16
_MIN_LAUNCHES = 20
_DAMPING = np.round(np.arange(0.2, 1.2001, 0.05), 2)


def lightgbm_available() -> bool:
    """Whether LightGBM can be imported (else the scikit-learn fallback is used).

    Returns
    -------
    bool
    """
    try:
        importlib.import_module("lightgbm")
    except ImportError:
        return False
    return True


def _wape(y: np.ndarray, pred: np.ndarray) -> float:
    return float(np.abs(y - pred).sum() / max(float(np.abs(y).sum()), _EPS))


class GlobalModel:
    """One global boosted model with leave-one-out group aggregates (see the module notes).

    Parameters
    ----------
    season_length : int
        Periods per seasonal cycle.
    n_neighbors : int
        Analogues whose recent level is imputed as a feature.
    max_iter : int
        Boosting iterations.
    random_state : int or None
        Seeds the folds, the row subsample and the trees.
    loss : {"auto", "tweedie", "poisson", "l2"}, default="auto"
        ``"auto"`` picks the loss with the lowest out-of-fold WAPE.
    """

    def __init__(
        self,
        *,
        season_length: int,
        n_neighbors: int = 10,
        max_iter: int = 200,
        random_state: int | None = None,
        loss: str = "auto",
    ) -> None:
        self.season_length = max(int(season_length), 1)
        self.n_neighbors = n_neighbors
        self.max_iter = max_iter
        self.random_state = random_state
        self.loss = loss

    # ------------------------------------------------------------- features
    def _windows(self, t: np.ndarray) -> tuple[int, int, int]:
        t_min, t_end = int(t.min()), int(t.max()) + 1
        span = t_end - t_min
        horizon = max(1, min(2 * self.season_length, span // 2))
        origin = t_end - horizon
        recent = max(1, min(self.season_length, origin - t_min))
        return origin, horizon, recent

    def _new_aggregates(self, codes: np.ndarray) -> np.ndarray:
        cols = []
        for j, table in enumerate(self.level_means_):
            c = codes[:, j]
            ok = (c >= 0) & (c < len(table))
            cols.append(np.where(ok, table[np.clip(c, 0, len(table) - 1)], np.nan))
        cols.append(np.full(len(codes), self.overall_level_))
        return np.column_stack(cols)

    def _season_key(self, codes: np.ndarray, group: np.ndarray) -> np.ndarray:
        """Seasonal profile of each item: its sibling cell, else its category (-1: overall)."""
        if self.layout_ is not None:
            return self.layout_.encode(codes)[1]
        return np.asarray(group, dtype=np.int64)

    def _combine(self, sibling: np.ndarray, effects: np.ndarray) -> np.ndarray:
        """The sibling estimate where there is one, within 10x of the main effects, floored.

        A sibling at the end of its life (or a day old) can sell next to nothing; a base near
        zero makes the trees learn 600x corrections that they then apply to normal items.
        """
        eff = np.maximum(effects, self.floor_)
        sib = np.where(np.isfinite(sibling), np.clip(sibling, eff / 10, eff * 10), eff)
        return np.maximum(sib, self.floor_)

    @staticmethod
    def _seen(codes: np.ndarray, has_level: np.ndarray) -> np.ndarray:
        """Which codes belong to a level with at least one item that has a level."""
        out = np.zeros(codes.shape, bool)
        for j in range(codes.shape[1]):
            out[:, j] = np.isin(codes[:, j], np.unique(codes[has_level, j]))
        return out

    def _siblings(self, known_codes, level, query_codes, fold=None) -> np.ndarray:
        if self.layout_ is None:
            return np.full((len(query_codes), 1), np.nan)
        return sibling_features(
            self.layout_, known_codes, level, query_codes, known_fold=fold, query_fold=fold
        )

    def _design(self, attrs, agg, analog, extra, age, step, t) -> np.ndarray:
        # No calendar column: inside the inner window the season position is a function of the
        # step, so trees learn a correction per (step, week) pair that the forecast window
        # never shows again (forecasts 100x off on weekly launches). The base carries the
        # seasonal index instead.
        del t
        return np.column_stack(
            [attrs, np.log1p(agg), np.log1p(analog)[:, None], extra, age, step]
        ).astype(float)

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        items: Any,
        item: np.ndarray,
        t: np.ndarray,
        y: np.ndarray,
        holdout_groups: np.ndarray | None = None,
    ) -> GlobalModel:
        """Fit on rows ``(item index, period, quantity)`` of the known ``items``.

        Parameters
        ----------
        items : ItemTable
            The known items (a :class:`~workbench.coldstart.models.ItemTable`).
        item, t, y : numpy.ndarray
            Sales rows.
        holdout_groups : numpy.ndarray of int, optional
            Group code of each item: aggregates leave the whole group out (new product lines).

        Returns
        -------
        GlobalModel
            ``self``.
        """
        rng = np.random.default_rng(self.random_state)
        n = items.n
        origin, _, recent = self._windows(t)
        self.origin_offset_ = int(t.max()) + 1 - origin
        level = recent_level(n, item, t, y, origin, recent)
        # Folds of items (of whole groups with holdout_groups): an item's aggregates use only
        # the other folds. A leave-one-out mean would leak: within a level it falls as the
        # item's own sales rise, and the trees learn that.
        unit = np.arange(n) if holdout_groups is None else holdout_groups
        fold_of_item = (rng.permutation(int(unit.max()) + 1) % _N_FOLDS)[unit]
        agg = fold_aggregates(items.codes, level, fold_of_item)
        # More levels per column = more specific; the base prefers the most specific one.
        n_levels = [len(np.unique(items.codes[:, j])) for j in range(items.codes.shape[1])]
        self.order_ = list(np.argsort(n_levels, kind="stable")[::-1])
        finite = level[~np.isnan(level)]
        self.overall_level_ = float(finite.mean()) if len(finite) else float(y.mean())
        self.floor_ = max(0.01 * self.overall_level_, _EPS)
        analog = analogue_level(items.dist, items.dist, level, fold_of_item, self.n_neighbors)
        effects = np.zeros(n)
        for f in range(_N_FOLDS):
            sel = fold_of_item == f
            lv = np.where(sel, np.nan, level)
            scale, theta = main_effects(items.codes, lv)
            codes_f = np.where(self._seen(items.codes, ~np.isnan(lv)), items.codes, -1)
            effects[sel] = effects_predict(codes_f[sel], scale, theta)
        rows = np.nonzero(t >= origin)[0]
        # With real launches in the inner window, learn from them only: new items are forecast
        # from launch, and mature items' rows would teach the wrong shape.
        fresh = items.launch[item[rows]] >= origin
        self.launch_mode_ = len(np.unique(item[rows][fresh])) >= _MIN_LAUNCHES
        if self.launch_mode_:
            rows = rows[fresh]
        if len(rows) > _MAX_ROWS:
            rows = np.sort(rng.choice(rows, _MAX_ROWS, replace=False))
        it, tt, yy = item[rows], t[rows], y[rows]
        age = (tt - items.launch[it]).astype(float)
        # Items already selling in the first period have an unknown (censored) launch: no age.
        age[items.launch[it] <= int(t.min())] = np.nan
        # Trees route a value never seen in training arbitrarily: with no known age, use none.
        self.use_age_ = bool(np.isfinite(age).any())
        if not self.use_age_:
            age[:] = 0.0  # a constant: no split (an all-NaN column breaks scikit-learn's binning)
        self.layout_ = sibling_layout(items.codes)
        sib = self._siblings(items.codes, level, items.codes, fold_of_item)
        base = self._combine(sib[:, 0], np.maximum(effects, self.floor_))
        extra = np.column_stack([np.log(base), np.log1p(sib)])[it]
        self.min_rows_ = max(20, 5 * (int(t.max()) + 1 - origin))
        # Launch ramps, not a market trend, drive mature items' growth: no trend with launches.
        self.growth_ = 0.0 if self.launch_mode_ else growth_rate(item, t, y, origin, recent)
        key = self._season_key(items.codes, items.group)
        season = season_index(key, item, t, y, origin, self.season_length)
        base = base[it] * trend(self.growth_, tt - origin, recent)
        base = np.maximum(base * season[key[it], np.mod(tt, self.season_length)], self.floor_)
        # Categorical attributes with many levels name the item's group: trees memorise them.
        n_num = items.num.shape[1]
        self.attr_cols_ = list(range(n_num)) + [
            n_num + j for j, L in enumerate(n_levels) if L <= _MAX_LEVELS
        ]
        X = self._design(
            items.features()[it][:, self.attr_cols_],
            agg[it],
            analog[it],
            extra,
            age,
            (tt - origin).astype(float),
            tt,
        )
        self.cat_idx_ = [k for k, c in enumerate(self.attr_cols_) if items.cat_mask[c]]
        fold = fold_of_item[it]
        losses = LOSSES if self.loss == "auto" else (self.loss,)
        oof, n_best = {}, {}
        iters = [k for k in _ITERS if k < self.max_iter] + [self.max_iter]
        for loss in losses:
            pred = {k: np.zeros(len(yy)) for k in iters}
            for f in range(_N_FOLDS):
                tr, te = fold != f, fold == f
                if te.sum() == 0:
                    continue
                model = self._train(loss, X[tr], yy[tr], base[tr]) if tr.sum() >= 10 else None
                for k in iters:
                    pred[k][te] = self._predict_raw(loss, model, X[te], base[te], k)
            # Each loss keeps its best number of trees (out of fold): many trees overfit.
            scores = {k: _wape(yy, p) for k, p in pred.items()}
            k_best = min(scores, key=scores.get)
            oof[loss], n_best[loss] = pred[k_best], k_best
        self.oof_wape_ = {m: _wape(yy, p) for m, p in oof.items()}
        self.loss_ = min(self.oof_wape_, key=self.oof_wape_.get)
        self.n_iter_ = n_best[self.loss_]
        best = oof[self.loss_]
        # A whole new line is damped toward zero (WAPE only); a new variant's multiplier also
        # weighs the bias, so that a log-scale (l2) fit does not forecast systematically low.
        scores = [_wape(yy, c * best) for c in _DAMPING]
        if holdout_groups is None:
            total = max(float(yy.sum()), _EPS)
            scores = [
                w + 0.5 * abs(float((c * best).sum()) / total - 1)
                for w, c in zip(scores, _DAMPING, strict=True)
            ]
            scores = [
                sc if 0.8 <= c <= 1.25 else np.inf for sc, c in zip(scores, _DAMPING, strict=True)
            ]
        self.damping_ = float(_DAMPING[int(np.argmin(scores))])
        self.oof_ = {"item": it, "age": tt - origin, "y": yy, "pred": self.damping_ * best}
        self.model_ = self._train(self.loss_, X, yy, base, self.n_iter_)
        # Prediction-time aggregates: every known item's level just before the end of history.
        t_end = int(t.max()) + 1
        self.level_ = recent_level(n, item, t, y, t_end, recent)
        self.level_means_ = []
        ok = ~np.isnan(self.level_)
        for j in range(items.codes.shape[1]):
            c = items.codes[:, j]
            sel = ok & (c >= 0)
            L = int(c.max()) + 1 if len(c) else 1
            s = np.bincount(c[sel], weights=self.level_[sel], minlength=L)
            m = np.bincount(c[sel], minlength=L)
            self.level_means_.append(np.where(m > 0, s / np.maximum(m, 1), np.nan))
        if ok.any():
            self.overall_level_ = float(self.level_[ok].mean())
        self.scale_, self.theta_ = main_effects(items.codes, self.level_)
        self.seen_codes_ = [np.unique(items.codes[ok, j]) for j in range(items.codes.shape[1])]
        self.t_end_ = t_end
        self.recent_ = recent
        self.growth_end_ = 0.0 if self.launch_mode_ else growth_rate(item, t, y, t_end, recent)
        self.season_ = season_index(key, item, t, y, t_end, self.season_length)
        self.items_ = items
        return self

    def _train(
        self, loss: str, X: np.ndarray, y: np.ndarray, base: np.ndarray, n_iter: int | None = None
    ) -> Any:
        if loss == "base":
            return None
        if lightgbm_available():
            lgb = importlib.import_module("lightgbm")
            model = lgb.LGBMRegressor(
                objective="regression" if loss == "l2" else loss,
                n_estimators=n_iter or self.max_iter,
                learning_rate=0.03,
                num_leaves=7,
                min_child_samples=self.min_rows_,
                reg_lambda=1.0,
                subsample=0.8,
                subsample_freq=1,
                colsample_bytree=0.5,
                n_jobs=1,
                random_state=self.random_state,
                deterministic=True,
                force_row_wise=True,
                verbose=-1,
            )
            target = np.log1p(y) if loss == "l2" else y
            init = np.log1p(base) if loss == "l2" else np.log(base)
            model.fit(X, target, init_score=init, categorical_feature=self.cat_idx_ or "auto")
            return model
        mask = np.zeros(X.shape[1], bool)
        mask[self.cat_idx_] = True
        model = HistGradientBoostingRegressor(
            loss="squared_error" if loss == "l2" else "poisson",
            learning_rate=0.05,
            max_iter=n_iter or self.max_iter,
            max_leaf_nodes=7,
            min_samples_leaf=self.min_rows_,
            l2_regularization=1.0,
            categorical_features=mask if mask.any() else None,
            early_stopping=False,
            random_state=self.random_state,
        )
        if loss == "l2":
            model.fit(X, np.log1p(y) - np.log1p(base))
        else:
            # Poisson deviance of y at mean base*g equals base-weighted deviance of y/base at g.
            model.fit(X, y / base, sample_weight=base / base.mean())
        return model

    def _predict_raw(
        self, loss: str, model: Any, X: np.ndarray, base: np.ndarray, n_iter: int | None = None
    ) -> np.ndarray:
        if model is None:
            return base
        if isinstance(model, HistGradientBoostingRegressor):
            out = model.predict(X)
            if n_iter is not None and n_iter < model.n_iter_:
                out = next(p for i, p in enumerate(model.staged_predict(X)) if i == n_iter - 1)
            if loss == "l2":
                return np.maximum(np.expm1(out + np.log1p(base)), 0.0)
            return out * base
        raw = model.predict(X, raw_score=True, num_iteration=n_iter)
        if loss == "l2":
            return np.maximum(np.expm1(raw + np.log1p(base)), 0.0)
        return np.exp(np.clip(raw + np.log(base), -700, 700))

    # -------------------------------------------------------------- predict
    def predict(self, new: Any, ages: np.ndarray) -> np.ndarray:
        """Point forecasts of shape ``(new.n, len(ages))`` for ages since each item's launch."""
        n, h = new.n, len(ages)
        agg = self._new_aggregates(new.codes)
        analog = analogue_level(new.dist, self.items_.dist, self.level_, None, self.n_neighbors)
        t = (new.launch[:, None] + ages[None, :]).ravel()
        step = np.maximum(t - self.t_end_, 0).astype(float)
        codes = new.codes.copy()
        for j, seen in enumerate(self.seen_codes_):
            codes[~np.isin(codes[:, j], seen), j] = -1
        base = np.maximum(effects_predict(codes, self.scale_, self.theta_), self.floor_)
        sib = self._siblings(self.items_.codes, self.level_, codes)
        base = self._combine(sib[:, 0], base)
        extra = np.column_stack([np.log(base), np.log1p(sib)])
        base = np.repeat(base, h) * trend(self.growth_end_, step, self.recent_)
        key = np.repeat(self._season_key(codes, new.group), h)
        base = np.maximum(base * self.season_[key, np.mod(t, self.season_length)], self.floor_)
        X = self._design(
            np.repeat(new.features()[:, self.attr_cols_], h, axis=0),
            np.repeat(agg, h, axis=0),
            np.repeat(analog, h),
            np.repeat(extra, h, axis=0),
            np.tile(ages, n).astype(float) if self.use_age_ else np.zeros(n * h),
            step,
            t,
        )
        pred = self._predict_raw(self.loss_, self.model_, X, base)
        return (self.damping_ * pred).reshape(n, h)
