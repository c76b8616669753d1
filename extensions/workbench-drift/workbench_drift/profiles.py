"""Reference profiles: what kind each monitored column is, its clean values, and its reference bins.

:meth:`DriftMonitor.fit <workbench_drift.monitor.DriftMonitor.fit>` profiles every column of the
reference sample once; :mod:`workbench_drift.comparison` reads later samples with the same rules
(:func:`column_values`) so that both sides of a comparison are cleaned alike.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pandas as pd

from workbench.core.errors import InputError, InputTypeError
from workbench_drift.statistics import bin_counts, numeric_bin_edges

__all__ = ["ColumnProfile", "bin_labels", "column_kind", "column_values", "profile_column"]


@dataclasses.dataclass(frozen=True, eq=False)
class ColumnProfile:
    """The reference distribution of one monitored column.

    Attributes
    ----------
    kind : {"numeric", "categorical"}
        How the column is compared.
    counts : pandas.Series
        Reference counts per bin (numeric; labelled by :func:`bin_labels`) or per category
        (categorical; most frequent first, ties by name).
    edges : numpy.ndarray or None
        Inner PSI bin edges of a numeric column; ``None`` for a categorical one.
    sorted_values : numpy.ndarray or None
        The reference values in ascending order (for the KS test) of a numeric column; ``None``
        for a categorical one.
    """

    kind: str
    counts: pd.Series
    edges: np.ndarray | None = None
    sorted_values: np.ndarray | None = None


def bin_labels(edges: np.ndarray) -> list[str]:
    """Readable labels of the bins that inner ``edges`` define.

    Parameters
    ----------
    edges : numpy.ndarray
        Inner edges from :func:`~workbench_drift.statistics.numeric_bin_edges`.

    Returns
    -------
    list of str
        ``len(edges) + 1`` labels such as ``"<= 1.2"``, ``"1.2 to 3.4"``, ``"> 3.4"``; ``["all"]``
        when there is no edge.
    """
    e = [f"{v:.3g}" for v in edges]
    if not e:
        return ["all"]
    pairs = itertools.pairwise(e)
    return [f"<= {e[0]}", *(f"{a} to {b}" for a, b in pairs), f"> {e[-1]}"]


def column_kind(series: pd.Series, *, categorical: bool, sample: str) -> str:
    """Decide how a column is compared: ``"numeric"`` or ``"categorical"``.

    Parameters
    ----------
    series : pandas.Series
        The column.
    categorical : bool
        The user named it categorical (codes, ratings), whatever its dtype.
    sample : str
        Name of the sample it comes from, used in messages.

    Returns
    -------
    str
        ``"categorical"`` for named, boolean and text columns, ``"numeric"`` for other numbers.

    Raises
    ------
    InputTypeError
        If it holds dates or durations (not monitored).
    """
    if pd.api.types.is_datetime64_any_dtype(series) or pd.api.types.is_timedelta64_dtype(series):
        raise InputTypeError(
            f"Column {series.name!r} of {sample} holds dates or durations, which are not "
            "monitored; leave it out of columns (use it as the time column of windows)."
        )
    if categorical or pd.api.types.is_bool_dtype(series):
        return "categorical"
    if pd.api.types.is_numeric_dtype(series):
        return "numeric"
    return "categorical"


def column_values(series: pd.Series, kind: str, *, sample: str) -> np.ndarray:
    """The non-missing values of a column, as floats (numeric) or strings (categorical).

    Parameters
    ----------
    series : pandas.Series
        The column.
    kind : {"numeric", "categorical"}
        How the reference column was profiled.
    sample : str
        Name of the sample, used in messages; ``"reference"`` also refuses an all-missing column.

    Returns
    -------
    numpy.ndarray
        float64 values without NaN, or the values as strings.

    Raises
    ------
    InputTypeError
        If a numeric column now holds text, flags or other non-numbers.
    InputError
        If a numeric column holds infinity, or a reference column has no value.
    """
    present = series[~series.isna()]
    if kind == "numeric":
        numeric = pd.api.types.is_numeric_dtype(series)
        if pd.api.types.is_bool_dtype(series) or (not numeric and not present.empty):
            try:
                # object columns of numbers (e.g. decimals) are fine; text or flags are not
                if (
                    pd.api.types.is_bool_dtype(series)
                    or present.map(lambda v: isinstance(v, bool | str | bytes)).any()
                ):
                    raise TypeError
                present = pd.to_numeric(present)
            except (TypeError, ValueError):
                raise InputTypeError(
                    f"Column {series.name!r} of {sample} is {series.dtype}, but the reference "
                    "had numbers; fix the column's type upstream."
                ) from None
        values = present.to_numpy(dtype=np.float64)
        if np.isinf(values).any():
            raise InputError(
                f"Column {series.name!r} of {sample} contains infinite values; clip or drop them."
            )
    else:
        values = present.astype(str).to_numpy()
    if sample == "reference" and values.size == 0:
        raise InputError(
            f"Column {series.name!r} of the reference has no non-missing value; drop it "
            "from columns."
        )
    return values


def profile_column(values: np.ndarray, kind: str, *, bins: int) -> ColumnProfile:
    """Profile one reference column from its clean values.

    Parameters
    ----------
    values : numpy.ndarray
        From :func:`column_values` on the reference.
    kind : {"numeric", "categorical"}
        From :func:`column_kind`.
    bins : int
        Quantile bins wanted for a numeric column (repeated values can merge some).

    Returns
    -------
    ColumnProfile
    """
    if kind == "numeric":
        edges = numeric_bin_edges(values, bins)
        counts = pd.Series(bin_counts(values, edges), index=bin_labels(edges))
        return ColumnProfile(kind, counts, edges=edges, sorted_values=np.sort(values))
    counts = pd.Series(values).value_counts()
    order = sorted(counts.index, key=lambda k: (-counts[k], k))
    return ColumnProfile(kind, counts.reindex(order))
