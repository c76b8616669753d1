"""The cold-start models behind :class:`~workbench.coldstart.ColdStartForecaster`.

All methods share one multiplicative decomposition of the known items' sales,

    ``y[i, t] ~ level[i] * curve[c, age] * season[c, t mod season_length]``

fitted by alternating ratio-of-sums updates (the maximum-likelihood equations of a Poisson model
with those three factors). The methods differ in how they guess the level and the curve of an
item that has never sold:

* ``profile``: the category's mean level and mean launch curve;
* ``knn``: the normalized launch curves of the most similar known items (attribute distance),
  scaled by a gradient-boosting level model on the attributes;
* ``gbm``: one global gradient-boosting model (Poisson loss) on attributes, age since launch and
  seasonality, over every (item, period) row;
* ``bass``: a Bass diffusion curve with a repeat-purchase floor fitted to each category's launch
  curve, scaled by the level model;
* ``global``: one LightGBM model over all items with leave-one-out group aggregates and
  analogue-imputed levels, its loss chosen by an inner backtest
  (:mod:`workbench.coldstart.globalmodel`);
* ``ensemble``: a weighted mean of ``knn``, ``gbm`` and ``bass`` (weights set by the caller,
  equal by default; the forecaster uses inverse squared WAPE on its held-out items);
* baselines ``category_mean`` (flat mean of the category) and ``seasonal_naive`` (the category's
  mean sales one season before each forecast date).
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
from scipy.optimize import least_squares
from sklearn.ensemble import HistGradientBoostingRegressor

from workbench.coldstart.data import bass_increments
from workbench.coldstart.globalmodel import GlobalModel

__all__ = ["BASELINES", "ENSEMBLE_MEMBERS", "METHODS", "Engine", "ItemTable"]

METHODS = ("ensemble", "global", "knn", "gbm", "bass", "profile")
BASELINES = ("category_mean", "seasonal_naive")
ENSEMBLE_MEMBERS = ("knn", "gbm", "bass")
_EPS = 1e-9
GBM_MAX_ROWS = 40_000
GBM_LEARNING_RATE = 0.15


@dataclasses.dataclass
class ItemTable:
    """Encoded attributes of a set of items (known or new)."""

    ids: np.ndarray
    num: np.ndarray
    codes: np.ndarray
    group: np.ndarray
    dist: np.ndarray
    launch: np.ndarray
    cat_mask: np.ndarray

    @property
    def n(self) -> int:
        """Number of items."""
        return len(self.ids)

    def take(self, idx: np.ndarray) -> ItemTable:
        """The items at positions ``idx``."""
        return ItemTable(
            self.ids[idx],
            self.num[idx],
            self.codes[idx],
            self.group[idx],
            self.dist[idx],
            self.launch[idx],
            self.cat_mask,
        )

    def features(self) -> np.ndarray:
        """Numeric attributes and categorical codes (unseen levels as NaN) for tree models."""
        codes = self.codes.astype(float)
        codes[codes < 0] = np.nan
        return np.hstack([self.num, codes])


def _smooth_circular(x: np.ndarray, width: int) -> np.ndarray:
    if width <= 1 or x.shape[-1] < width:
        return x
    kernel = np.concatenate([np.arange(1, width // 2 + 2), np.arange(width // 2, 0, -1)])
    kernel = kernel / kernel.sum()
    half = len(kernel) // 2
    padded = np.concatenate([x[..., -half:], x, x[..., :half]], axis=-1)
    out = np.stack(
        [np.convolve(row, kernel, mode="valid") for row in padded.reshape(-1, padded.shape[-1])]
    )
    return out.reshape(x.shape)


def _smooth_tail(x: np.ndarray, start: int, width: int) -> np.ndarray:
    """Moving average over ages from ``start`` on (late ages rest on few items)."""
    out = x.copy()
    n = x.shape[-1]
    if n - start < width:
        return out
    half = width // 2
    for a in range(start, n):
        lo, hi = max(start, a - half), min(n, a + half + 1)
        out[:, a] = x[:, lo:hi].mean(axis=1)
    return out


class Engine:
    """Fits every requested method on one set of known items and predicts new ones.

    Parameters
    ----------
    methods : set of str
        Which methods to make available (ensemble members are added automatically).
    n_groups : int
        Number of category levels (``group`` codes run from 0 to ``n_groups - 1``; -1 is unseen).
    season_length : int
        Periods per seasonal cycle (1 disables seasonality).
    n_neighbors : int
        Analogues per new item in ``knn``.
    max_iter : int
        Boosting iterations of the global ``gbm`` model.
    random_state : int or None
    """

    def __init__(
        self,
        methods: set[str],
        *,
        n_groups: int,
        season_length: int,
        n_neighbors: int,
        max_iter: int,
        random_state: int | None,
    ) -> None:
        need = set(methods)
        if "ensemble" in need:
            need |= set(ENSEMBLE_MEMBERS)
        self.methods = need
        self.n_groups = n_groups
        self.season_length = season_length
        self.n_neighbors = n_neighbors
        self.max_iter = max_iter
        self.random_state = random_state
        self.ensemble_weights = dict.fromkeys(ENSEMBLE_MEMBERS, 1.0 / len(ENSEMBLE_MEMBERS))

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        items: ItemTable,
        item: np.ndarray,
        t: np.ndarray,
        y: np.ndarray,
        holdout_groups: np.ndarray | None = None,
    ) -> Engine:
        """Fit on rows ``(item index, period, quantity)`` of the known ``items``.

        ``holdout_groups`` (an int code per item) makes the ``global`` model's aggregates leave
        whole groups out instead of single items.
        """
        self.items_ = items
        sl = self.season_length
        age = t - items.launch[item]
        self.n_obs_ = np.bincount(item, minlength=items.n)
        self.max_age_ = int(min(age.max() + 1, max(2 * sl, 26)))
        a = np.minimum(age, self.max_age_ - 1)
        s = np.mod(t, sl)
        self._decompose(items, item, a, s, y)
        self.group_mean_ = self._per_group(items.group[item], y)
        self.t_min_, self.t_max_ = int(t.min()), int(t.max())
        if "seasonal_naive" in self.methods:
            self._fit_seasonal_table(items.group[item], t, y)
        if self.methods & {"knn", "bass"}:
            self._fit_level_model(items)
        self._fit_curves(item, a, s, y)
        if "gbm" in self.methods:
            self._fit_gbm(items, item, a, t, y)
        if "bass" in self.methods:
            self._fit_bass()
        if "global" in self.methods:
            self.global_ = GlobalModel(
                season_length=sl,
                n_neighbors=self.n_neighbors,
                max_iter=max(self.max_iter, 200),
                random_state=self.random_state,
            ).fit(items, item, t, y, holdout_groups)
        self.scale_ = self._mase_scale(items.group[item], item, y)
        return self

    def _per_group(self, g: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Mean of ``values`` per group, with the overall mean in the extra last slot."""
        sums = np.bincount(g, weights=values, minlength=self.n_groups)
        counts = np.bincount(g, minlength=self.n_groups)
        overall = values.mean() if len(values) else 0.0
        out = np.where(counts > 0, sums / np.maximum(counts, 1), overall)
        return np.append(out, overall)

    def _decompose(self, items, item, a, s, y) -> None:
        G, A, S = self.n_groups, self.max_age_, self.season_length
        g = items.group[item]
        level = np.ones(items.n)
        curve = np.ones((G + 1, A))
        season = np.ones((G + 1, S))
        ga = g * A + a
        gs = g * S + s
        for _ in range(6):
            den = np.bincount(item, weights=curve[g, a] * season[g, s], minlength=items.n)
            level = np.bincount(item, weights=y, minlength=items.n) / np.maximum(den, _EPS)
            base = level[item]
            num = np.bincount(ga, weights=y, minlength=G * A)
            den = np.bincount(ga, weights=base * season[g, s], minlength=G * A)
            cnt = np.bincount(ga, minlength=G * A)
            c = np.where(cnt > 0, num / np.maximum(den, _EPS), np.nan).reshape(G, A)
            tot_num = np.bincount(a, weights=y, minlength=A)
            tot_den = np.bincount(a, weights=base * season[g, s], minlength=A)
            overall = tot_num / np.maximum(tot_den, _EPS)
            c = np.where(np.isnan(c), overall[None, :], c)
            c = _smooth_tail(np.vstack([c, overall]), 6, 5)
            norm_to = min(A, max(S, 13))
            curve = c / np.maximum(c[:, :norm_to].mean(axis=1, keepdims=True), _EPS)
            if S > 1:
                num = np.bincount(gs, weights=y, minlength=G * S)
                den = np.bincount(gs, weights=base * curve[g, a], minlength=G * S)
                # Pseudo-counts pull sparsely seen weeks toward no seasonal effect.
                prior = np.maximum(den.reshape(G, S).mean(axis=1, keepdims=True) * 0.2, _EPS)
                sg = (num.reshape(G, S) + prior) / (den.reshape(G, S) + prior)
                sg = _smooth_circular(sg, 5)
                sg = sg / sg.mean(axis=1, keepdims=True)
                weights = np.bincount(g, minlength=G).astype(float)
                glob = (weights[:, None] * sg).sum(axis=0) / max(weights.sum(), 1.0)
                season = np.vstack([sg, glob / glob.mean()])
        den = np.bincount(item, weights=curve[g, a] * season[g, s], minlength=items.n)
        self.level_ = np.bincount(item, weights=y, minlength=items.n) / np.maximum(den, _EPS)
        self.curve_ = curve
        self.season_ = season
        self.profile_level_ = self._per_group(items.group, self.level_)

    def _fit_level_model(self, items: ItemTable) -> None:
        X = items.features()
        n = items.n
        model = HistGradientBoostingRegressor(
            loss="poisson",
            learning_rate=0.1,
            max_iter=100,
            max_leaf_nodes=15,
            min_samples_leaf=max(2, min(20, n // 10)),
            l2_regularization=1.0,
            categorical_features=items.cat_mask if items.cat_mask.any() else None,
            early_stopping=False,
            random_state=self.random_state,
        )
        # No sample weights: with them scikit-learn bins features by weighted percentiles, which
        # took seconds; young items' noisier levels are tolerated by the regularized trees.
        model.fit(X, self.level_)
        self.level_model_ = model

    def _fit_curves(self, item, a, s, y) -> None:
        n, A = self.items_.n, self.max_age_
        g = self.items_.group[item]
        denom = self.level_[item] * self.season_[g, s]
        ok = denom > _EPS
        flat = item[ok] * A + a[ok]
        sums = np.bincount(flat, weights=y[ok] / denom[ok], minlength=n * A)
        cnt = np.bincount(flat, minlength=n * A)
        z = np.where(cnt > 0, sums / np.maximum(cnt, 1), np.nan).reshape(n, A)
        self.item_curves_ = z
        self.has_curve_ = self.level_ > _EPS

    def _fit_gbm(self, items, item, a, t, y) -> None:
        if len(y) > GBM_MAX_ROWS:
            # A random subset of rows: the trees see enough (item, age) cells and fit faster.
            keep = np.random.default_rng(self.random_state).choice(
                len(y), GBM_MAX_ROWS, replace=False
            )
            item, a, t, y = item[keep], a[keep], t[keep], y[keep]
        X = self._gbm_features(items.features()[item], items.group[item], a, t)
        mask = np.concatenate([items.cat_mask, np.zeros(X.shape[1] - len(items.cat_mask), bool)])
        model = HistGradientBoostingRegressor(
            loss="poisson",
            learning_rate=GBM_LEARNING_RATE,
            max_iter=self.max_iter,
            max_leaf_nodes=31,
            min_samples_leaf=50,
            l2_regularization=1.0,
            categorical_features=mask if mask.any() else None,
            early_stopping=False,
            random_state=self.random_state,
        )
        model.fit(X, y)
        self.gbm_ = model

    def _gbm_features(self, attrs, group, a, t) -> np.ndarray:
        sl = self.season_length
        cols = [attrs, a[:, None].astype(float)]
        if sl > 1:
            ang = 2 * np.pi * np.mod(t, sl) / sl
            cols.append(
                np.column_stack([np.sin(ang), np.cos(ang), np.sin(2 * ang), np.cos(2 * ang)])
            )
            cols.append(self.season_[group, np.mod(t, sl)][:, None])
        return np.hstack(cols)

    def _fit_bass(self) -> None:
        A = self.max_age_
        ages = np.arange(A, dtype=float)
        self.bass_params_ = np.zeros((self.n_groups + 1, 4))
        for gi in range(self.n_groups + 1):
            target = self.curve_[gi]
            floor0 = max(float(np.median(target[-min(8, A) :])), 0.05)
            m0 = max(float(np.sum(np.clip(target - floor0, 0, None))), 0.5)
            x0 = np.log([floor0, m0, 0.03, 0.3])

            def resid(th: np.ndarray, target: np.ndarray = target) -> np.ndarray:
                c, m, p, q = np.exp(th)
                return c + m * bass_increments(ages, p, q) - target

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                fit = least_squares(
                    resid, x0, bounds=(np.log([1e-4, 1e-3, 1e-4, 1e-4]), np.log([50, 1e4, 1, 3]))
                )
            self.bass_params_[gi] = np.exp(fit.x)

    def _bass_curve(self, group: np.ndarray, ages: np.ndarray) -> np.ndarray:
        c, m, p, q = (self.bass_params_[group, k][:, None] for k in range(4))
        raw = c + m * bass_increments(ages[None, :].astype(float), p, q)
        norm_ages = np.arange(min(self.max_age_, max(self.season_length, 13)), dtype=float)
        norm = (c + m * bass_increments(norm_ages[None, :], p, q)).mean(axis=1, keepdims=True)
        return raw / np.maximum(norm, _EPS)

    def _fit_seasonal_table(self, g, t, y) -> None:
        T = self.t_max_ - self.t_min_ + 1
        flat = g * T + (t - self.t_min_)
        sums = np.bincount(flat, weights=y, minlength=self.n_groups * T)
        cnt = np.bincount(flat, minlength=self.n_groups * T)
        self.seasonal_table_ = np.where(cnt > 0, sums / np.maximum(cnt, 1), np.nan).reshape(
            self.n_groups, T
        )

    def _mase_scale(self, g, item, y) -> np.ndarray:
        """Mean absolute one-step change of known items per category (the MASE scale)."""
        same = item[1:] == item[:-1]
        diffs = np.abs(np.diff(y))[same]
        gg = g[1:][same]
        out = self._per_group(gg, diffs) if len(diffs) else np.ones(self.n_groups + 1)
        fallback = max(float(np.mean(np.abs(y))) if len(y) else 1.0, _EPS)
        return np.where(out > _EPS, out, fallback)

    # -------------------------------------------------------------- predict
    def predict(self, method: str, new: ItemTable, ages: np.ndarray) -> np.ndarray:
        """Point forecasts of shape ``(new.n, len(ages))`` for ages since each item's launch."""
        g = np.where(new.group >= 0, new.group, self.n_groups)
        t = new.launch[:, None] + ages[None, :]
        a = np.minimum(ages, self.max_age_ - 1)
        season = self.season_[g[:, None], np.mod(t, self.season_length)]
        if method == "ensemble":
            w = self.ensemble_weights
            return sum(w[m] * self.predict(m, new, ages) for m in ENSEMBLE_MEMBERS)
        if method == "category_mean":
            return np.repeat(self.group_mean_[g][:, None], len(ages), axis=1)
        if method == "seasonal_naive":
            return self._seasonal_naive(g, t)
        if method == "profile":
            return self.profile_level_[g][:, None] * self.curve_[g][:, a] * season
        if method == "global":
            return self.global_.predict(new, ages)
        if method == "gbm":
            n, h = t.shape
            X = self._gbm_features(
                np.repeat(new.features(), h, axis=0), np.repeat(g, h), np.tile(a, n), t.ravel()
            )
            return self.gbm_.predict(X).reshape(n, h)
        level = self.level_model_.predict(new.features())
        if method == "bass":
            return level[:, None] * self._bass_curve(g, ages) * season
        if method == "knn":
            return level[:, None] * self._knn_curve(new, g, a) * season
        raise KeyError(method)

    def neighbors(self, new: ItemTable, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Indices and distances of the ``k`` most similar known items (those that sold)."""
        cand = np.nonzero(self.has_curve_)[0]
        if len(cand) == 0:
            cand = np.arange(self.items_.n)
        known = self.items_.dist[cand]
        d2 = (
            (new.dist**2).sum(axis=1)[:, None]
            - 2 * new.dist @ known.T
            + (known**2).sum(axis=1)[None, :]
        )
        d = np.sqrt(np.maximum(d2, 0.0))
        k = min(k, len(cand))
        idx = np.argpartition(d, k - 1, axis=1)[:, :k]
        dd = np.take_along_axis(d, idx, axis=1)
        order = np.argsort(dd, axis=1, kind="stable")
        return cand[np.take_along_axis(idx, order, axis=1)], np.take_along_axis(dd, order, axis=1)

    def _knn_curve(self, new: ItemTable, g: np.ndarray, a: np.ndarray) -> np.ndarray:
        idx, d = self.neighbors(new, self.n_neighbors)
        w = 1.0 / (d + 0.25)
        z = self.item_curves_[idx][:, :, a]  # (n_new, k, h)
        have = ~np.isnan(z)
        num = np.einsum("nk,nkh->nh", w, np.where(have, z, 0.0))
        den = np.einsum("nk,nkh->nh", w, have.astype(float))
        # The category curve acts as one extra analogue, so sparse ages fall back to it.
        prior_w = w.mean(axis=1, keepdims=True)
        return (num + prior_w * self.curve_[g][:, a]) / (den + prior_w)

    def _seasonal_naive(self, g: np.ndarray, t: np.ndarray) -> np.ndarray:
        sl = self.season_length
        k = np.maximum(1, -((self.t_max_ - t) // sl))
        back = t - k * sl
        out = np.repeat(self.group_mean_[g][:, None], t.shape[1], axis=1)
        ok = (back >= self.t_min_) & (g[:, None] < self.n_groups)
        if ok.any():
            gi = np.broadcast_to(g[:, None], t.shape)[ok]
            vals = self.seasonal_table_[gi, back[ok] - self.t_min_]
            filled = out[ok]
            out[ok] = np.where(np.isnan(vals), filled, vals)
        return out
