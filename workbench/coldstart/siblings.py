"""Hierarchy features of the ``global`` model: main effects and what sibling variants sell.

:func:`main_effects` fits ``level ~ scale * prod_j theta_j[code_j]`` over the categorical
attributes, the base of any item with at least one known level (a new line gets its parent's
and its cell's factors).

A *group* is the level of the most specific categorical attribute (the one with the most
levels, e.g. a drug group or a product line); a *cell* is the combination of the other
categorical attributes that vary inside groups (e.g. concession x type, a size or a colour). A
new variant of a known group gets, from each known sibling cell, the estimate ``sibling level x
typical ratio of its cell to that sibling's cell``, the ratio being the median log-ratio over
the other groups where both cells are known; the estimates are pooled with inverse-variance
weights. Everything is computed from the items of other folds in training, from all known
items when predicting, so the features mean the same in both.
"""

from __future__ import annotations

import dataclasses

import numpy as np

__all__ = [
    "MAX_CELLS",
    "SiblingLayout",
    "effects_predict",
    "main_effects",
    "sibling_features",
    "sibling_layout",
]

MAX_CELLS = 16
"""Most cells per group that get their own sibling feature column."""
_EPS = 1e-9


@dataclasses.dataclass(frozen=True)
class SiblingLayout:
    """Which column holds the groups and how the other columns form cells.

    Attributes
    ----------
    group_col : int
        Index of the group column among the categorical codes.
    cell_cols : tuple of int
        The columns that vary within groups.
    cells : dict of tuple to int
        Cell code of each combination of ``cell_cols`` codes seen in training.
    """

    group_col: int
    cell_cols: tuple[int, ...]
    cells: dict[tuple[int, ...], int]

    @property
    def n_cells(self) -> int:
        """Number of cells."""
        return len(self.cells)

    def encode(self, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Group and cell code of each row (-1 where unseen)."""
        group = codes[:, self.group_col]
        keys = [tuple(int(v) for v in row) for row in codes[:, list(self.cell_cols)]]
        cell = np.array([self.cells.get(k, -1) for k in keys], dtype=np.int64)
        return group, cell


def sibling_layout(codes: np.ndarray) -> SiblingLayout | None:
    """The group column and cells of known items, or None when there is no such structure.

    Parameters
    ----------
    codes : numpy.ndarray of int, shape (n_items, n_columns)

    Returns
    -------
    SiblingLayout or None
        None with fewer than two categorical columns, no column varying inside groups, or
        more than :data:`MAX_CELLS` cells.
    """
    if codes.shape[1] < 2 or len(codes) == 0:
        return None
    n_levels = [len(np.unique(codes[:, j])) for j in range(codes.shape[1])]
    g = int(np.argmax(n_levels))
    varying = []
    for k in range(codes.shape[1]):
        if k == g:
            continue
        pairs = np.unique(codes[:, [g, k]], axis=0)
        if len(pairs) > len(np.unique(codes[:, g])):
            varying.append(k)
    if not varying:
        return None
    combos = np.unique(codes[:, varying], axis=0)
    if not 2 <= len(combos) <= MAX_CELLS:
        return None
    cells = {tuple(int(v) for v in row): i for i, row in enumerate(combos)}
    return SiblingLayout(g, tuple(varying), cells)


def _pivot(group, cell, level, n_groups, n_cells) -> np.ndarray:
    ok = ~np.isnan(level) & (group >= 0) & (cell >= 0)
    flat = group[ok] * n_cells + cell[ok]
    s = np.bincount(flat, weights=level[ok], minlength=n_groups * n_cells)
    c = np.bincount(flat, minlength=n_groups * n_cells)
    return np.where(c > 0, s / np.maximum(c, 1), np.nan).reshape(n_groups, n_cells)


def _ratios(pivot: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Median log-ratio of cell a to cell b over groups with both, and its variance."""
    logp = np.log(np.where(pivot > 0, pivot, np.nan))
    C = pivot.shape[1]
    med = np.full((C, C), np.nan)
    var = np.full((C, C), np.nan)
    for a in range(C):
        for b in range(C):
            d = logp[:, a] - logp[:, b]
            d = d[np.isfinite(d)]
            if a != b and len(d) >= 3:
                med[a, b] = np.median(d)
                var[a, b] = np.var(d) + 0.05
    return med, var


def sibling_features(
    layout: SiblingLayout,
    known_codes: np.ndarray,
    level: np.ndarray,
    query_codes: np.ndarray,
    *,
    known_fold: np.ndarray | None = None,
    query_fold: np.ndarray | None = None,
) -> np.ndarray:
    """Per query item: the pooled sibling estimate, then the sibling level of every cell.

    Parameters
    ----------
    layout : SiblingLayout
    known_codes : numpy.ndarray of int
        Codes of the known items.
    level : numpy.ndarray of float
        Recent level of each known item (NaN: none).
    query_codes : numpy.ndarray of int
        Codes of the items to describe.
    known_fold, query_fold : numpy.ndarray of int, optional
        With folds, a query item sees only the known items of the other folds.

    Returns
    -------
    numpy.ndarray of shape (n_query, 1 + n_cells)
        The pooled estimate and the sibling levels (NaN where unknown).
    """
    C = layout.n_cells
    kg, kc = layout.encode(known_codes)
    qg, qc = layout.encode(query_codes)
    G = int(max(kg.max(initial=0), qg.max(initial=0))) + 1
    out = np.full((len(query_codes), 1 + C), np.nan)
    folds = [None] if known_fold is None else np.unique(query_fold)
    for f in folds:
        lv = level if f is None else np.where(known_fold == f, np.nan, level)
        rows = np.arange(len(query_codes)) if f is None else np.nonzero(query_fold == f)[0]
        pivot = _pivot(kg, kc, lv, G, C)
        med, var = _ratios(pivot)
        g = qg[rows]
        ok = g >= 0
        sib = np.full((len(rows), C), np.nan)
        sib[ok] = pivot[g[ok]]
        out[rows, 1:] = sib
        c = qc[rows]
        has = ok & (c >= 0)
        logs = np.log(np.where(sib > 0, sib, np.nan))
        est = logs + np.where(has[:, None], med[np.maximum(c, 0)], np.nan)
        w = np.where(np.isfinite(est), 1.0 / np.where(has[:, None], var[np.maximum(c, 0)], 1), 0)
        num = np.nansum(np.where(w > 0, est * w, 0.0), axis=1)
        den = w.sum(axis=1)
        out[rows, 0] = np.where(den > 0, np.exp(num / np.maximum(den, _EPS)), np.nan)
    return out


def main_effects(
    codes: np.ndarray, level: np.ndarray, *, n_iter: int = 15
) -> tuple[float, list[np.ndarray]]:
    """Multiplicative main effects ``level ~ scale * prod_j theta_j[code_j]``.

    Backfitted by Poisson ratios of sums (big items weigh most, as in WAPE). Each factor is
    shrunk toward 1 by one pseudo-item worth of its current fit, so levels with one or two items
    do not swing to extremes. Items with a NaN level are ignored, negative (unseen) codes count
    as factor 1.

    Parameters
    ----------
    codes : numpy.ndarray of int, shape (n_items, n_columns)
        Categorical codes (-1: unseen).
    level : numpy.ndarray of float
        Each item's recent level.
    n_iter : int, default=15
        Backfitting sweeps.

    Returns
    -------
    scale : float
    theta : list of numpy.ndarray
        One factor array per column.
    """
    ok = ~np.isnan(level)
    c, r = codes[ok], level[ok]
    sizes = [int(max(codes[:, j].max(initial=0), 0)) + 1 for j in range(codes.shape[1])]
    theta = [np.ones(L) for L in sizes]
    scale = max(float(r.mean()), _EPS) if len(r) else 1.0
    for _ in range(n_iter if len(r) else 0):
        for j, L in enumerate(sizes):
            others = [*theta[:j], np.ones(L), *theta[j + 1 :]]
            fit = effects_predict(c, scale, others)
            seen = c[:, j] >= 0
            num = np.bincount(c[seen, j], weights=r[seen], minlength=L)
            den = np.bincount(c[seen, j], weights=fit[seen], minlength=L)
            cnt = np.bincount(c[seen, j], minlength=L)
            prior = den / np.maximum(cnt, 1)
            theta[j] = np.where(cnt > 0, (num + prior) / np.maximum(den + prior, _EPS), 1.0)
        fit = effects_predict(c, scale, theta)
        scale *= float(r.sum() / max(fit.sum(), _EPS))
    return scale, theta


def effects_predict(codes: np.ndarray, scale: float, theta: list[np.ndarray]) -> np.ndarray:
    """``scale`` times the product of each item's main effects (unseen codes: factor 1).

    Parameters
    ----------
    codes : numpy.ndarray of int, shape (n_items, n_columns)
    scale : float
    theta : list of numpy.ndarray
        From :func:`main_effects`.

    Returns
    -------
    numpy.ndarray
    """
    out = np.full(len(codes), float(scale))
    for j, th in enumerate(theta):
        cj = codes[:, j]
        ok = (cj >= 0) & (cj < len(th))
        out = out * np.where(ok, th[np.clip(cj, 0, len(th) - 1)], 1.0)
    return out
