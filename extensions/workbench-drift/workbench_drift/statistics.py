"""Per-column drift statistics: population stability index, Kolmogorov–Smirnov and chi-square.

The functions here work on one column at a time (1-D samples) and are what
:class:`~workbench_drift.monitor.DriftMonitor` applies to every column of a table.

The PSI bins a numeric column at the deciles of the *reference* sample, so every reference bin
holds about the same share and the index measures how the current sample redistributes over them;
a categorical column uses its categories as bins. Empty bins are floored at ``eps`` so the
logarithm stays finite.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from workbench.core.errors import InputError, InputTypeError
from workbench.core.params import check_flag
from workbench.core.validation import check_array
from workbench_drift.checks import check_bins, check_eps

__all__ = [
    "DEFAULT_EPS",
    "bin_counts",
    "categorical_proportions",
    "chi_square_from_counts",
    "chi_square_test",
    "ks_test",
    "ks_test_sorted",
    "numeric_bin_edges",
    "population_stability_index",
    "psi_from_proportions",
    "sorted_bin_counts",
]

DEFAULT_EPS = 1e-4
"""Floor for empty-bin proportions in the PSI (a common choice; it caps one bin's term near 0.9)."""


def _numeric_sample(values: Any, name: str) -> np.ndarray:
    """A 1-D float array without NaN; errors name the argument."""
    if values is None:
        raise InputTypeError(f"{name} is None; pass a 1-D array-like of numbers.")
    if isinstance(values, pd.DataFrame):
        raise InputError(f"{name} is a DataFrame; pass one column (a Series or 1-D array).")
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputTypeError(
            f"{name} must be numeric; for text or category values use the categorical test."
        ) from None
    if arr.ndim != 1:
        raise InputError(f"{name} must be 1-dimensional, got shape {arr.shape}.")
    if np.isinf(arr).any():
        raise InputError(f"{name} contains infinite values; clip or drop them first.")
    arr = arr[~np.isnan(arr)]
    if arr.size == 0:
        raise InputError(f"{name} has no non-missing values; pass at least one value.")
    return arr


def _categorical_sample(values: Any, name: str) -> np.ndarray:
    """A 1-D array of strings without missing values."""
    if values is None:
        raise InputTypeError(f"{name} is None; pass a 1-D array-like of categories.")
    if isinstance(values, pd.DataFrame):
        raise InputError(f"{name} is a DataFrame; pass one column (a Series or 1-D array).")
    arr = np.asarray(values, dtype=object)
    if arr.ndim != 1:
        raise InputError(f"{name} must be 1-dimensional, got shape {arr.shape}.")
    series = pd.Series(arr)
    series = series[~series.isna()].astype(str)
    if series.empty:
        raise InputError(f"{name} has no non-missing values; pass at least one value.")
    return series.to_numpy()


def numeric_bin_edges(reference: Any, bins: int = 10) -> np.ndarray:
    """Inner bin edges at the quantiles of a reference sample.

    Parameters
    ----------
    reference : array-like of shape (n_samples,)
        Numeric reference values; NaN values are ignored.
    bins : int, default=10
        Number of quantile bins wanted, 2 to :data:`~workbench_drift.checks.MAX_BINS`. Repeated
        values can merge bins, so fewer may result.

    Returns
    -------
    numpy.ndarray
        Sorted unique inner edges; bin ``i`` holds values ``edges[i-1] < x <= edges[i]`` and the
        outer bins are open-ended, so values outside the reference range still land in a bin.
    """
    bins = check_bins(bins)
    ref = _numeric_sample(reference, "reference")
    # Edges are observed values (the inverted-CDF quantile, in integer arithmetic so that n * i /
    # bins never rounds up), hence repeated values never straddle an edge.
    ordered = np.sort(ref)
    n = ordered.size
    ranks = (n * np.arange(1, bins) + bins - 1) // bins - 1
    return np.unique(ordered[np.clip(ranks, 0, n - 1)])


def bin_counts(values: Any, edges: np.ndarray) -> np.ndarray:
    """Counts of ``values`` in the bins defined by :func:`numeric_bin_edges`.

    Parameters
    ----------
    values : array-like of shape (n_samples,)
        Numeric values; NaN values are ignored.
    edges : numpy.ndarray
        Inner edges from :func:`numeric_bin_edges`.

    Returns
    -------
    numpy.ndarray of int of shape (len(edges) + 1,)
    """
    arr = _numeric_sample(values, "values")
    edges = check_array(edges, name="edges", ndim=1, min_samples=0)
    if np.any(np.diff(edges) <= 0):
        raise InputError("edges must be strictly increasing; take them from numeric_bin_edges().")
    idx = np.searchsorted(edges, arr, side="left")
    return np.bincount(idx, minlength=len(edges) + 1)


def categorical_proportions(
    reference: Any, current: Any
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Category counts of two samples over the union of their categories.

    Parameters
    ----------
    reference, current : array-like of shape (n_samples,)
        Category values (compared as strings); missing values are ignored.

    Returns
    -------
    categories : list of str
        Reference categories in order of frequency, then categories seen only in ``current``.
    reference_counts, current_counts : numpy.ndarray of int
    """
    ref = pd.Series(_categorical_sample(reference, "reference"))
    cur = pd.Series(_categorical_sample(current, "current"))
    ref_counts = ref.value_counts(sort=False)
    cur_counts = cur.value_counts(sort=False)
    order = sorted(ref_counts.index, key=lambda c: (-ref_counts[c], c))
    order += sorted(c for c in cur_counts.index if c not in ref_counts.index)
    r = ref_counts.reindex(order, fill_value=0).to_numpy(dtype=np.int64)
    c = cur_counts.reindex(order, fill_value=0).to_numpy(dtype=np.int64)
    return list(order), r, c


def psi_from_proportions(reference: Any, current: Any, *, eps: float = DEFAULT_EPS) -> float:
    """Population stability index of two binned distributions.

    ``PSI = sum((c - r) * ln(c / r))`` with both proportions floored at ``eps``. Rules of thumb:
    below 0.1 stable, 0.1–0.2 a moderate shift, above 0.2 a significant shift.

    Parameters
    ----------
    reference, current : array-like of shape (n_bins,)
        Counts or proportions per bin (each is normalized to sum to one).
    eps : float, default=1e-4
        Floor for empty bins, in ``[1e-12, 0.5)``.

    Returns
    -------
    float
        Non-negative; 0 means identical distributions.
    """
    eps = check_eps(eps)
    r = check_array(reference, name="reference", ndim=1)
    c = check_array(current, name="current", ndim=1)
    if r.shape != c.shape:
        raise InputError(
            f"reference and current proportions need the same 1-D shape, got {r.shape} and "
            f"{c.shape}."
        )
    if (r < 0).any() or (c < 0).any() or r.max() <= 0 or c.max() <= 0:
        raise InputError("Bin counts must be non-negative and not all zero.")
    r, c = r / r.max(), c / c.max()  # sums of counts near 1e308 would overflow to inf
    r = np.maximum(r / r.sum(), eps)
    c = np.maximum(c / c.sum(), eps)
    return float(np.sum((c - r) * np.log(c / r)))


def population_stability_index(
    reference: Any,
    current: Any,
    *,
    categorical: bool = False,
    bins: int = 10,
    eps: float = DEFAULT_EPS,
) -> float:
    """Population stability index (PSI) between a reference and a current sample.

    Parameters
    ----------
    reference, current : array-like of shape (n_samples,)
        The two samples of one column; missing values are ignored.
    categorical : bool, default=False
        Treat values as categories (bins are the categories) instead of numbers (bins are the
        reference's quantiles).
    bins : int, default=10
        Number of quantile bins for numeric columns.
    eps : float, default=1e-4
        Floor for empty bins, in ``[1e-12, 0.5)``.

    Returns
    -------
    float

    Raises
    ------
    InputTypeError
        If a numeric sample holds text.
    InputError
        If a sample is empty, not 1-D or holds infinity, or ``bins``/``eps`` are out of range.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> round(population_stability_index(rng.normal(size=5000), rng.normal(1, 1, 5000)), 1)
    1.0
    """
    if check_flag(categorical, name="categorical"):
        _, r, c = categorical_proportions(reference, current)
        return psi_from_proportions(r, c, eps=eps)
    edges = numeric_bin_edges(reference, bins)
    return psi_from_proportions(bin_counts(reference, edges), bin_counts(current, edges), eps=eps)


def ks_test(reference: Any, current: Any) -> tuple[float, float]:
    """Two-sample Kolmogorov–Smirnov test for a numeric column.

    Parameters
    ----------
    reference, current : array-like of shape (n_samples,)
        Numeric samples; missing values are ignored.

    Returns
    -------
    statistic : float
        Largest distance between the two empirical CDFs, in [0, 1].
    p_value : float
        Probability of a distance at least this large if both samples came from one distribution.
    """
    ref = _numeric_sample(reference, "reference")
    cur = _numeric_sample(current, "current")
    return ks_test_sorted(np.sort(ref), np.sort(cur))


_EXACT_MAX_N = 10_000  # scipy's ks_2samp computes exact p-values up to this sample size


def _ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    """Largest gap between the empirical CDFs of two sorted samples.

    Between two consecutive points of the smaller sample ``s`` its CDF is flat and the other
    CDF only rises, so the gap is largest at a point of ``s`` (right limits) or just below one
    (left limits): evaluating both at the points of ``s`` alone gives ks_2samp's statistic.
    """
    s, o = (a, b) if a.size <= b.size else (b, a)
    gap_right = (
        np.searchsorted(s, s, side="right") / s.size - np.searchsorted(o, s, side="right") / o.size
    )
    gap_left = (
        np.searchsorted(s, s, side="left") / s.size - np.searchsorted(o, s, side="left") / o.size
    )
    return float(max(np.abs(gap_right).max(), np.abs(gap_left).max()))


def ks_test_sorted(reference: np.ndarray, current: np.ndarray) -> tuple[float, float]:
    """:func:`ks_test` on two already sorted, NaN-free float arrays (no validation).

    Up to 10,000 values per sample this is ``scipy.stats.ks_2samp`` (exact p-values). Above, the
    same statistic is evaluated at the points of the smaller sample only (several times faster
    on large windows), and the p-value is ks_2samp's asymptotic one,
    ``kstwo.sf(D, round(n * m / (n + m)))``.
    """
    n1, n2 = reference.size, current.size
    if max(n1, n2) <= _EXACT_MAX_N:
        with warnings.catch_warnings():
            # scipy falls back from exact to asymptotic with a RuntimeWarning; both are fine here
            warnings.simplefilter("ignore", RuntimeWarning)
            res = stats.ks_2samp(reference, current)
        return float(res.statistic), float(res.pvalue)
    d = _ks_statistic(reference, current)
    big, small = max(n1, n2), min(n1, n2)
    en = big * small / (big + small)
    return d, float(np.clip(stats.kstwo.sf(d, np.round(en)), 0.0, 1.0))


def sorted_bin_counts(sorted_values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """:func:`bin_counts` for an already sorted, NaN-free float array (no validation)."""
    below = np.searchsorted(sorted_values, edges, side="right")
    return np.diff(np.concatenate([[0], below, [sorted_values.size]]))


def chi_square_test(reference: Any, current: Any) -> tuple[float, float]:
    """Chi-square test of homogeneity for a categorical column.

    Builds the 2 × k table of category counts (reference, current) over the union of categories
    and tests whether both rows share one distribution.

    Parameters
    ----------
    reference, current : array-like of shape (n_samples,)
        Category values; missing values are ignored.

    Returns
    -------
    statistic : float
        Pearson's chi-square statistic (0 when only one category occurs).
    p_value : float
    """
    _, r, c = categorical_proportions(reference, current)
    return chi_square_from_counts(r, c)


def chi_square_from_counts(
    reference_counts: np.ndarray, current_counts: np.ndarray
) -> tuple[float, float]:
    """Chi-square homogeneity test from two aligned count vectors (see :func:`chi_square_test`)."""
    table = np.vstack([reference_counts, current_counts]).astype(np.float64)
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return 0.0, 1.0
    res = stats.chi2_contingency(table, correction=False)
    return float(res.statistic), float(res.pvalue)
