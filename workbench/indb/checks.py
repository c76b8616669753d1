"""Boundary checks of the in-database tool that the core checks do not cover: model and table
names, the numbers and texts of a table that will reach a float32 model, stored versions.

Numbers go through :mod:`workbench.core.params` and :mod:`workbench.core.validation`; this module
only adds what is specific to SQL and ONNX (identifiers, float32 inputs, NULL text).
"""

from __future__ import annotations

import keyword
import numbers
import re
from typing import Any

import numpy as np
import pandas as pd

from workbench.core.errors import InputError, InputTypeError
from workbench.core.params import check_number
from workbench.core.validation import check_array
from workbench.core.workspace import check_table_name
from workbench.indb.store_integrity import NAME_PATTERN

__all__ = [
        "check_metrics",
    "check_model_name",
    "check_numeric_columns",
    "check_table_name",
    "check_text_columns",
    "check_variable_name",
    "check_version",
]

_VERSIONED = re.compile(r"_v\d+$")


def check_model_name(name: Any) -> str:
    """Check a model name: it becomes the prefix of SQL function names.

    Parameters
    ----------
    name : str

    Returns
    -------
    str

    Raises
    ------
    InputTypeError
        If it is not a string.
    InputError
        If it is not 1-48 lowercase letters, digits and ``_`` starting with a letter, or ends
        like a version suffix (``_v2``).
    """
    if not isinstance(name, str):
        raise InputTypeError(f"Model name must be a string, got {type(name).__name__}.")
    if not NAME_PATTERN.match(name):
        raise InputError(
            f"Model name {name!r} is not valid: use 1-48 lowercase letters, digits and '_', "
            "starting with a letter (it becomes part of SQL function names)."
        )
    if _VERSIONED.search(name):
        raise InputError(
            f"Model name {name!r} ends like a version suffix ('_v<k>'), which would clash with "
            "versioned function names; choose another name."
        )
    return name


def check_variable_name(name: Any) -> str:
    """Check a Python variable name (the ``%%sql name`` target)."""
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        raise InputError(
            f"%%sql takes an optional variable name (a Python identifier) to store the result in, "
            f"got {name!r}."
        )
    return name


def check_version(version: Any) -> int | None:
    """Check a model version: None (the latest) or an integer >= 1."""
    if version is None:
        return None
    if isinstance(version, bool) or not isinstance(version, numbers.Integral):
        raise InputTypeError(
            f"version must be an integer (or None for the latest), got {version!r}."
        )
    return int(check_number(version, name="version", low=1, integer=True))




def check_metrics(metrics: Any) -> dict[str, float]:
    """Check training metrics to store: a dict of name to finite number."""
    if metrics is None:
        return {}
    if not isinstance(metrics, dict):
        raise InputTypeError(f"metrics must be a dict of name to number, got {metrics!r}.")
    out = {}
    for key, value in metrics.items():
        if not isinstance(key, str):
            raise InputTypeError(f"metrics names must be strings, got {key!r}.")
        out[key] = float(check_number(value, name=f"metrics[{key!r}]"))
    return out


def check_numeric_columns(
    frame: pd.DataFrame, columns: list[str], *, name: str, allow_nan: bool
) -> None:
    """Check numeric columns that will reach a float32 model: finite, within float32.

    Parameters
    ----------
    frame : pandas.DataFrame
    columns : list of str
        Numeric columns (nullable integer columns included: their NA counts as NaN).
    name : str
        What the frame is, for the message (``"X"``, ``"frame"``).
    allow_nan : bool
        Whether NaN (and NA) is acceptable.

    Raises
    ------
    InputError
        NaN where not allowed, infinity, or a magnitude above the largest float32.
    """
    for col in columns:
        values = frame[col].to_numpy(dtype=np.float64, na_value=np.nan)
        check_array(values, name=f"{name} column {col!r}", ndim=1, allow_nan=allow_nan,
                    float32=True, min_samples=0)


def check_text_columns(frame: pd.DataFrame, columns: list[str], *, name: str) -> None:
    """Check text columns: every value a string (no missing values, no numbers mixed in).

    Raises
    ------
    InputError
        If a column holds missing values.
    InputTypeError
        If a column mixes strings with other types.
    """
    for col in columns:
        values = frame[col]
        missing = int(values.isna().sum())
        if missing:
            raise InputError(
                f"{name} column {col!r} has {missing} missing text value(s); fill them (e.g. "
                "'unknown') or drop those rows. In SQL, a NULL argument gives a NULL result."
            )
        if isinstance(values.dtype, pd.CategoricalDtype):
            values = pd.Series(values.cat.categories)
        if pd.api.types.infer_dtype(values, skipna=False) == "string":
            continue
        odd = [v for v in values if not isinstance(v, str)][:1]
        if odd:
            raise InputTypeError(
                f"{name} column {col!r} mixes text with {type(odd[0]).__name__} values such as "
                f"{odd[0]!r}; convert the column to strings (astype(str))."
            )
