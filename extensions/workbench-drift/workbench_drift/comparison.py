"""Comparing one sample with the reference: each column's PSI and test, then the drift rule.

:func:`compare_column` scores one column against its reference
:class:`~workbench_drift.profiles.ColumnProfile`, and :func:`flag_drift` turns the scores of all
columns into adjusted p-values and ``drifted`` flags.
:meth:`DriftMonitor.compare <workbench_drift.monitor.DriftMonitor.compare>` strings them together.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from workbench_drift.profiles import ColumnProfile, column_values
from workbench_drift.report import COLUMN_FIELDS, BinCounts
from workbench_drift.statistics import (
    chi_square_from_counts,
    ks_test_sorted,
    psi_from_proportions,
    sorted_bin_counts,
)

__all__ = ["CORRECTIONS", "RULES", "compare_column", "flag_drift"]

RULES = {
    "psi": "PSI at or above psi_threshold",
    "test": "adjusted p-value below p_value_threshold",
    "both": "PSI at or above the threshold and a significant test",
    "either": "PSI at or above the threshold or a significant test",
}
"""Ways to turn a column's PSI and test into its ``drifted`` flag."""

CORRECTIONS = ("bonferroni", "none")
"""Multiple-testing corrections over the monitored columns of one report."""


def compare_column(
    series: pd.Series, profile: ColumnProfile, *, eps: float
) -> tuple[dict[str, Any], BinCounts]:
    """Score one column of a current sample against its reference profile.

    A numeric column gets the PSI over the reference bins and a two-sample KS test; a categorical
    one the PSI over the union of categories and a chi-square test. A column without any value in
    the current sample gets test ``"missing"`` and NaN scores.

    Parameters
    ----------
    series : pandas.Series
        The column of the current sample (missing values allowed).
    profile : ColumnProfile
        The column's reference profile.
    eps : float
        Floor for empty-bin proportions in the PSI (already checked).

    Returns
    -------
    scores : dict
        ``type``, ``n_reference``, ``n_current``, ``missing_current``, ``test``, ``psi``,
        ``statistic`` and ``p_value``.
    bins : tuple
        Bin labels, reference counts and current counts (what the PSI compared).

    Raises
    ------
    InputTypeError
        If a numeric column now holds text.
    InputError
        If a numeric column holds infinity.
    """
    kind = profile.kind
    values = column_values(series, kind, sample="current")
    ref_counts = profile.counts
    scores: dict[str, Any] = {
        "type": kind,
        "n_reference": int(ref_counts.sum()),
        "n_current": int(values.size),
        "missing_current": float(series.isna().mean()),
    }
    if values.size == 0:
        scores.update(test="missing", psi=np.nan, statistic=np.nan, p_value=np.nan)
        zeros = np.zeros(len(ref_counts))
        return scores, (list(map(str, ref_counts.index)), ref_counts.to_numpy(), zeros)
    if kind == "numeric":
        values = np.sort(values)
        cur_counts = sorted_bin_counts(values, profile.edges)
        stat, p = ks_test_sorted(profile.sorted_values, values)
        psi = psi_from_proportions(ref_counts.to_numpy(), cur_counts, eps=eps)
        scores.update(test="ks", psi=psi, statistic=stat, p_value=p)
        return scores, (list(ref_counts.index), ref_counts.to_numpy(), cur_counts)
    cur = pd.Series(values).value_counts()
    labels = list(ref_counts.index) + sorted(k for k in cur.index if k not in ref_counts.index)
    r = ref_counts.reindex(labels, fill_value=0).to_numpy(dtype=np.int64)
    k = cur.reindex(labels, fill_value=0).to_numpy(dtype=np.int64)
    stat, p = chi_square_from_counts(r, k)
    psi = psi_from_proportions(r, k, eps=eps)
    scores.update(test="chi2", psi=psi, statistic=stat, p_value=p)
    return scores, (labels, r, k)


def flag_drift(
    table: pd.DataFrame,
    *,
    rule: str,
    correction: str,
    psi_threshold: float,
    p_value_threshold: float,
) -> pd.DataFrame:
    """Adjust the p-values of one report and flag the columns that drifted.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per monitored column with at least ``test``, ``psi`` and ``p_value``.
    rule : str
        A key of :data:`RULES`.
    correction : str
        One of :data:`CORRECTIONS`; Bonferroni multiplies each p-value by the number of columns.
    psi_threshold : float
        PSI at or above which a column counts as shifted.
    p_value_threshold : float
        Adjusted p-value below which a test counts as significant.

    Returns
    -------
    pandas.DataFrame
        The table with ``p_adjusted`` and ``drifted`` added, in :data:`COLUMN_FIELDS` order. A
        column that went missing always counts as drifted.
    """
    table = table.copy()
    m = len(table) if correction == "bonferroni" else 1
    table["p_adjusted"] = np.minimum(table["p_value"].astype(float) * m, 1.0)
    shifted = table["psi"].astype(float) >= psi_threshold
    significant = table["p_adjusted"].astype(float) < p_value_threshold
    flag = {
        "psi": shifted,
        "test": significant,
        "both": shifted & significant,
        "either": shifted | significant,
    }[rule]
    table["drifted"] = flag | (table["test"] == "missing")
    return table[COLUMN_FIELDS]
