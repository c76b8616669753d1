"""What kind of data a column holds: numbers, categories or dates, refused when it is ambiguous.

A column whose values are numbers except for one typed word is not silently made categorical:
pandas would give it the ``object`` dtype and every price would become a level. These helpers
decide the kind of a column once, at the boundary, and say how to fix a mixed column.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import pandas as pd

from workbench.core.errors import InputError, InputTypeError
from workbench.core.params import FLOAT32_MAX

__all__ = ["attribute_kind", "check_quantities", "numeric_values", "refuse_numbers_as_dates"]

_CONTAINERS = (list, tuple, set, dict, np.ndarray, pd.Series, pd.DataFrame)


def _is_number(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool | np.bool_)


def _is_missing(v: Any) -> bool:
    return v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and v != v)


def attribute_kind(s: pd.Series, *, name: str) -> str:
    """Return ``"numeric"``, ``"categorical"`` or ``"missing"`` (no value at all) for a column.

    Booleans, strings and pandas ``category`` columns are categorical; numbers are numeric,
    also in an ``object`` column. A column mixing numbers and text, holding dates, complex
    numbers or containers (lists, dicts) is refused.

    Parameters
    ----------
    s : pandas.Series
    name : str
        Used in messages, e.g. ``"attributes['price']"``.

    Returns
    -------
    str
    """
    dtype = s.dtype
    if pd.api.types.is_bool_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
        return "categorical"
    if pd.api.types.is_complex_dtype(dtype):
        raise InputTypeError(f"{name} holds complex numbers; pass real numbers or text.")
    if pd.api.types.is_numeric_dtype(dtype):
        return "numeric" if s.notna().any() else "missing"
    if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
        raise InputTypeError(
            f"{name} holds dates or durations; turn them into numbers (e.g. days since a "
            "reference date) or into text categories first."
        )
    values = [v for v in s.tolist() if not _is_missing(v)]
    if not values:
        return "missing"
    bad = next((v for v in values if isinstance(v, _CONTAINERS) or isinstance(v, complex)), None)
    if bad is not None:
        raise InputTypeError(
            f"{name} holds {type(bad).__name__} values such as {bad!r}; every cell must be one "
            "number or one label."
        )
    is_num = [_is_number(v) for v in values]
    if all(is_num):
        return "numeric"
    if any(is_num):
        text = next(v for v, n in zip(values, is_num, strict=True) if not n)
        num = next(v for v, n in zip(values, is_num, strict=True) if n)
        raise InputTypeError(
            f"{name} mixes numbers (e.g. {num!r}) and text (e.g. {text!r}). Fix the text values "
            f"if the column is numeric, or declare it categorical with .astype(str)."
        )
    return "categorical"


def numeric_values(s: pd.Series, *, name: str) -> np.ndarray:
    """The values of a numeric column as float64, NaN kept, infinite and huge values refused.

    Values above the largest float32 (3.4e38) are refused: squared in attribute distances and
    summed over items they leave the float range and the forecast turns NaN.
    """
    v = pd.to_numeric(s).to_numpy(dtype=float)
    if np.isinf(v).any():
        raise InputError(f"{name} has infinite values; replace them with real numbers or NaN.")
    if v.size and float(np.nanmax(np.abs(v), initial=0.0)) > FLOAT32_MAX:
        raise InputError(
            f"{name} holds values above {FLOAT32_MAX:.3g} in magnitude; rescale the column "
            "(e.g. prices in thousands)."
        )
    return v


def check_quantities(s: pd.Series, *, name: str, missing: str = "raise") -> np.ndarray:
    """Sales quantities: real numbers (not booleans or complex), finite, float32-sized.

    NaN quantities raise with ``missing="raise"`` and count as zero sales with
    ``missing="zero"``.
    """
    if pd.api.types.is_bool_dtype(s.dtype) or pd.api.types.is_complex_dtype(s.dtype):
        raise InputTypeError(f"{name} must hold numeric quantities, got dtype {s.dtype}.")
    try:
        y = pd.to_numeric(s).to_numpy(dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputTypeError(f"{name} must be numeric ({exc}).") from None
    if np.isnan(y).any():
        if missing == "zero":
            y = np.where(np.isnan(y), 0.0, y)
        else:
            raise InputError(
                f"{name} has {int(np.isnan(y).sum())} NaN value(s); fill periods without sales "
                "with 0, or pass missing='zero' to count them as zero sales."
            )
    if not np.isfinite(y).all():
        raise InputError(f"{name} has infinite values.")
    if y.size and float(np.abs(y).max()) > FLOAT32_MAX:
        raise InputError(
            f"{name} holds quantities above {FLOAT32_MAX:.3g}; rescale them (e.g. in thousands)."
        )
    return y


def refuse_numbers_as_dates(values: Any, *, name: str) -> None:
    """Refuse numbers where dates are expected: pandas reads ``123`` as 123 ns after 1970."""
    s = values if isinstance(values, pd.Series | pd.Index) else pd.Series(values, dtype=object)
    if pd.api.types.is_bool_dtype(s.dtype) or (
        pd.api.types.is_numeric_dtype(s.dtype) and s.notna().any()
    ):
        raise InputTypeError(
            f"{name} holds numbers, not dates; pass dates such as '2025-03-03' or datetimes "
            "(a bare number would be read as nanoseconds after 1970)."
        )
    if s.dtype == object:
        bad = next(
            (
                v
                for v in s.tolist()
                if (_is_number(v) and not _is_missing(v)) or isinstance(v, bool)
            ),
            None,
        )
        if bad is not None:
            raise InputTypeError(
                f"{name} holds the number {bad!r}, not a date; pass dates such as '2025-03-03'."
            )
