"""Feature builders of the ``global`` cold-start model (see :mod:`workbench.coldstart.globalmodel`).

Recent levels, fold-held-out group aggregates, analogue levels, seasonal indices and a damped
market trend, all from sales dated before an origin.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "analogue_level",
    "fold_aggregates",
    "growth_rate",
    "recent_level",
    "season_index",
    "trend",
]

_EPS = 1e-9


def recent_level(
    n: int, item: np.ndarray, t: np.ndarray, y: np.ndarray, origin: int, recent: int
) -> np.ndarray:
    """Mean sales of each of ``n`` items in the ``recent`` periods before ``origin`` (NaN: none)."""
    sel = (t >= origin - recent) & (t < origin)
    s = np.bincount(item[sel], weights=y[sel], minlength=n)
    c = np.bincount(item[sel], minlength=n)
    return np.where(c > 0, s / np.maximum(c, 1), np.nan)


def fold_aggregates(codes: np.ndarray, level: np.ndarray, fold: np.ndarray | None) -> np.ndarray:
    """Mean level per categorical column, then overall, over the items of *other* folds.

    Parameters
    ----------
    codes : numpy.ndarray of int, shape (n_items, n_columns)
        Categorical codes (-1: unseen).
    level : numpy.ndarray of float
        Each item's recent level (NaN: none).
    fold : numpy.ndarray of int, optional
        Each item's fold; None leaves out the item itself only.

    Returns
    -------
    numpy.ndarray of shape (n_items, n_columns + 1)
    """
    holdout = fold
    ok = ~np.isnan(level)
    lv = np.where(ok, level, 0.0)
    n = len(level)
    hold = np.arange(n) if holdout is None else holdout
    n_hold = int(hold.max()) + 1 if n else 1
    cols = []
    for j in range(codes.shape[1]):
        c = np.where(codes[:, j] >= 0, codes[:, j], 0)
        L = int(c.max()) + 1 if n else 1
        s_lev = np.bincount(c, weights=lv * (codes[:, j] >= 0), minlength=L)
        n_lev = np.bincount(c, weights=ok * (codes[:, j] >= 0), minlength=L)
        key = c * n_hold + hold
        s_key = np.bincount(key, weights=lv * (codes[:, j] >= 0), minlength=L * n_hold)
        n_key = np.bincount(key, weights=ok * (codes[:, j] >= 0), minlength=L * n_hold)
        s, m = s_lev[c] - s_key[key], n_lev[c] - n_key[key]
        cols.append(np.where((m > 0) & (codes[:, j] >= 0), s / np.maximum(m, 1), np.nan))
    s_grp = np.bincount(hold, weights=lv, minlength=n_hold)
    n_grp = np.bincount(hold, weights=ok.astype(float), minlength=n_hold)
    m = ok.sum() - n_grp[hold]
    cols.append(np.where(m > 0, (lv.sum() - s_grp[hold]) / np.maximum(m, 1), np.nan))
    return np.column_stack(cols)


def analogue_level(
    dist_new: np.ndarray, dist_known: np.ndarray, level: np.ndarray, exclude: Any, k: int
) -> np.ndarray:
    """Mean recent level of the ``k`` nearest known items (attribute distance).

    ``exclude`` (a fold per item, used for both sides) skips known items of the query's fold.
    """
    ok = ~np.isnan(level)
    if not ok.any():
        return np.full(len(dist_new), np.nan)
    kn, lv = dist_known[ok], level[ok]
    k = min(k, kn.shape[0])
    kn2 = (kn**2).sum(1)
    out = np.full(len(dist_new), np.nan)
    # Blocks of rows keep the distance matrix small (10,000 items: 8 MB per block).
    for lo in range(0, len(dist_new), 100):
        q = dist_new[lo : lo + 100]
        d2 = (q**2).sum(1)[:, None] - 2 * q @ kn.T + kn2[None, :]
        if exclude is not None:
            d2[exclude[lo : lo + 100, None] == exclude[ok][None, :]] = np.inf
        idx = np.argpartition(d2, k - 1, axis=1)[:, :k]
        dd = np.take_along_axis(d2, idx, axis=1)
        vals = np.where(np.isfinite(dd), lv[idx], np.nan)
        cnt = np.isfinite(vals).sum(1)
        total = np.where(np.isfinite(vals), vals, 0.0).sum(1)
        out[lo : lo + 100] = np.where(cnt > 0, total / np.maximum(cnt, 1), np.nan)
    return out


def season_index(
    key: np.ndarray, item: np.ndarray, t: np.ndarray, y: np.ndarray, origin: int, sl: int
) -> np.ndarray:
    """Seasonal index per key (last row: all items) from the rows before ``origin``.

    Each row's share of its item's mean sales, pooled with the items' means as weights and
    shrunk toward the overall profile by three items' worth; the last index (-1) is overall.
    """
    n_keys = int(max(key.max(initial=-1), 0)) + 1
    out = np.ones((n_keys + 1, sl))
    sel = t < origin
    if sl == 1 or not sel.any():
        return out
    it, tt, yy = item[sel], t[sel], y[sel]
    mean = np.bincount(it, weights=yy) / np.maximum(np.bincount(it), 1)
    k = np.where(key[it] >= 0, key[it], n_keys)
    flat = k * sl + np.mod(tt, sl)
    num = np.bincount(flat, weights=yy, minlength=(n_keys + 1) * sl).reshape(-1, sl)
    den = np.bincount(flat, weights=mean[it], minlength=(n_keys + 1) * sl).reshape(-1, sl)
    # Weeks never seen (a history shorter than a season) get no seasonal effect, not zero.
    seen = den.sum(0) > 0
    overall = np.where(seen, num.sum(0) / np.maximum(den.sum(0), _EPS), 1.0)
    if seen.any():
        overall = np.where(seen, overall, overall[seen].mean())
    items_per_key = np.bincount(np.unique(k * len(mean) + it) // len(mean), minlength=n_keys + 1)
    w = (items_per_key / (items_per_key + 3.0))[:, None]
    prof = np.where(den > 0, num / np.maximum(den, _EPS), overall[None, :])
    prof = w * prof + (1 - w) * overall[None, :]
    prof[-1] = overall
    return prof / np.maximum(prof.mean(axis=1, keepdims=True), _EPS)


def growth_rate(item: np.ndarray, t: np.ndarray, y: np.ndarray, origin: int, recent: int) -> float:
    """Log growth per period of the items selling in both of the two windows before origin."""
    if origin - 2 * recent < int(t.min()):
        return 0.0
    now = (t >= origin - recent) & (t < origin)
    before = (t >= origin - 2 * recent) & (t < origin - recent)
    both = np.intersect1d(item[now], item[before])
    a = y[now & np.isin(item, both)].sum()
    b = y[before & np.isin(item, both)].sum()
    if a <= 0 or b <= 0:
        return 0.0
    return float(np.clip(np.log(a / b) / recent, -0.05, 0.05))


def trend(growth: float, step: np.ndarray, recent: int) -> np.ndarray:
    """Growth from the middle of the recent window to each step, within [0.5, 2]."""
    return np.clip(np.exp(growth * (step + (recent + 1) / 2)), 0.5, 2.0)
