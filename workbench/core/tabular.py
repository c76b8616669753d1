"""Column kinds and the numeric view of a table: what the tools that need a matrix get.

Kept apart from :mod:`workbench.core.tables` (which validates) because the rules here decide
what a model sees: numbers as float64 with a missing value filled by the column median, and a
category as one-hot columns, the most frequent first, rare ones grouped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["MAX_CATEGORIES", "encode_features", "kind_of"]

#: Categories one-hot encoded per column; rarer ones share one ``<other>`` column.
MAX_CATEGORIES = 30
_INTEGER = re.compile(r"^U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT)$")
_NUMBER = re.compile(r"^(FLOAT|DOUBLE|REAL|DECIMAL.*)$")
_DATE = re.compile(r"^(DATE|TIME.*|TIMESTAMP.*)$")


def kind_of(duckdb_type: Any) -> str:
    """The kind of a DuckDB column type.

    Parameters
    ----------
    duckdb_type : duckdb type or str

    Returns
    -------
    str
        ``"integer"``, ``"number"``, ``"bool"``, ``"text"``, ``"date"`` or ``"other"``.
    """
    name = str(duckdb_type).upper()
    if _INTEGER.match(name):
        return "integer"
    if _NUMBER.match(name):
        return "number"
    if name == "BOOLEAN":
        return "bool"
    if name == "VARCHAR" or name.startswith("ENUM"):
        return "text"
    if _DATE.match(name):
        return "date"
    return "other"


def _categories(values: Any) -> tuple[list[str], bool]:
    counts = values.value_counts(dropna=True)
    # Most frequent first; ties by value, so the order never depends on row order.
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))
    kept = [str(k) for k, _ in ordered[:MAX_CATEGORIES]]
    return kept, len(ordered) > MAX_CATEGORIES


def encode_features(
    frame: Any, features: Sequence[str], categorical: Sequence[str]
) -> tuple[np.ndarray, list[str], tuple[str, ...]]:
    """The features of ``frame`` as one float64 matrix.

    Parameters
    ----------
    frame : pandas.DataFrame
    features : sequence of str
        Columns, in order.
    categorical : sequence of str
        Those of ``features`` to one-hot encode.

    Returns
    -------
    X : numpy.ndarray of shape (n_rows, n_columns_out)
    names : list of str
        ``column`` for a number, ``column=value`` for a category's indicator (plus
        ``column=<other>`` and ``column=<missing>`` where needed).
    notes : tuple of str
        The missing values filled and categories grouped.
    """
    import pandas as pd

    blocks: list[np.ndarray] = []
    names: list[str] = []
    notes: list[str] = []
    n = len(frame)
    for col in features:
        values = frame[col]
        if col in categorical:
            text = values.astype("string")
            kept, grouped = _categories(text)
            missing = text.isna().to_numpy()
            for cat in kept:
                blocks.append((text == cat).fillna(False).to_numpy(dtype=np.float64))
                names.append(f"{col}={cat}")
            if grouped:
                other = ~text.isin(kept).fillna(False).to_numpy() & ~missing
                blocks.append(other.astype(np.float64))
                names.append(f"{col}=<other>")
                notes.append(
                    f"{col}: categories beyond the {MAX_CATEGORIES} most frequent "
                    "share one <other> column"
                )
            if missing.any():
                blocks.append(missing.astype(np.float64))
                names.append(f"{col}=<missing>")
            continue
        num = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        gaps = ~np.isfinite(num)
        if gaps.any():
            fill = float(np.median(num[~gaps])) if (~gaps).any() else 0.0
            num = np.where(gaps, fill, num)
            notes.append(
                f"{col}: {int(gaps.sum()):,} missing value(s) filled with the median {fill:.4g}"
            )
        blocks.append(num)
        names.append(col)
    X = np.column_stack(blocks) if blocks else np.empty((n, 0), dtype=np.float64)
    return X.astype(np.float64, copy=False), names, tuple(notes)
