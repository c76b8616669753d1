"""Checks for scalar parameters at public boundaries: seeds, numbers, sizes, dates and durations.

Every tool takes seeds, tolerances, counts, horizons and windows from the user. These helpers are
the one place that decides what is acceptable, so ``'x'``, ``-1``, ``NaN``, ``inf``, ``1e308`` and
``10**7`` get the same clear :class:`~workbench.core.errors.WorkbenchError` in every tool instead of
a numpy or scikit-learn traceback, an overflow, or a hang.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from workbench.core.errors import InputError, InputTypeError

__all__ = [
    "FLOAT32_MAX",
    "MAX_SEED",
    "check_ax",
    "check_finite",
    "check_flag",
    "check_number",
    "check_random_state",
    "check_size",
    "check_text",
    "check_timedelta",
    "check_timestamp",
    "is_finite_number",
]

#: Largest seed numpy's legacy and new generators both accept (scikit-learn's bound too).
MAX_SEED = 2**32 - 1
#: Largest finite float32; values above it overflow to inf in ONNX, C and float32 models.
FLOAT32_MAX = float(np.finfo(np.float32).max)


def check_random_state(random_state: Any, *, name: str = "random_state") -> int | None:
    """Check a seed: None or an integer in ``[0, 2**32 - 1]``.

    Parameters
    ----------
    random_state : None or int
        The seed given by the user. numpy integers are accepted; booleans, strings, floats and
        ``RandomState`` objects are not (a seed must be writable into a result and a notebook).
    name : str, default="random_state"
        Argument name used in the message.

    Returns
    -------
    int or None

    Raises
    ------
    InputTypeError
        If it is not None or an integer.
    InputError
        If it is negative or above ``2**32 - 1``.
    """
    if random_state is None:
        return None
    if isinstance(random_state, bool) or not isinstance(random_state, numbers.Integral):
        raise InputTypeError(
            f"{name} must be None or an integer seed such as 0, got {random_state!r} "
            f"({type(random_state).__name__})."
        )
    if not 0 <= random_state <= MAX_SEED:
        raise InputError(f"{name} must lie in [0, 2**32 - 1], got {random_state}; pick e.g. 0.")
    return int(random_state)


def is_finite_number(value: Any) -> bool:
    """Whether a real number is finite; Python ints beyond the float range count as infinite."""
    try:
        return bool(np.isfinite(float(value)))
    except OverflowError:
        return False


def check_number(
    value: Any,
    *,
    name: str,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    integer: bool = False,
    float32: bool = False,
    hint: str = "",
) -> Any:
    """Check that ``value`` is a finite real number (or integer) inside a range.

    Parameters
    ----------
    value : int or float
        The number given by the user.
    name : str
        Argument name used in the message.
    low, high : float, optional
        Bounds; None leaves that side open-ended (but the number must still be finite).
    low_open, high_open : bool, default=False
        Exclude the bound itself.
    integer : bool, default=False
        Require an integer (numpy integers accepted, booleans and floats not).
    float32 : bool, default=False
        Also reject magnitudes that overflow float32 (for values that reach ONNX, C or float32
        models).
    hint : str, default=""
        Extra advice appended to a range error, e.g. why the upper bound exists.

    Returns
    -------
    int or float
        ``int`` when ``integer`` is true, else ``float``.

    Raises
    ------
    InputTypeError
        If it is not a number (or not an integer when one is needed).
    InputError
        If it is NaN, infinite, overflows float32 or lies outside the range.
    """
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind):
        what = "an integer" if integer else "a number"
        raise InputTypeError(f"{name} must be {what}, got {value!r} ({type(value).__name__}).")
    if not integer and not is_finite_number(value):
        raise InputError(f"{name} must be a finite number, got {value!r}.")
    if float32 and not (is_finite_number(value) and abs(float(value)) <= FLOAT32_MAX):
        raise InputError(
            f"{name}={value!r} overflows float32 (largest {FLOAT32_MAX:.3g}); rescale it."
        )
    below = low is not None and (value <= low if low_open else value < low)
    above = high is not None and (value >= high if high_open else value > high)
    if below or above:
        lo = "(-inf" if low is None else ("(" if low_open else "[") + f"{low:g}"
        hi = "inf)" if high is None else f"{high:g}" + (")" if high_open else "]")
        extra = f" {hint}" if hint else ""
        raise InputError(f"{name} must lie in {lo}, {hi}, got {value!r}.{extra}")
    return int(value) if integer else float(value)


def check_size(value: Any, *, name: str, high: int, low: int = 1, hint: str = "") -> int:
    """Check a count, size or horizon: an integer in ``[low, high]``.

    Every size a user can type has an upper bound, so that a typo such as ``10**7`` is refused
    at once instead of hanging the kernel or exhausting memory.

    Parameters
    ----------
    value : int
    name : str
        Argument name used in the message.
    high : int
        Largest accepted value; say why in ``hint``.
    low : int, default=1
    hint : str, default=""
        Why the bound exists or what to do instead.

    Returns
    -------
    int
    """
    return check_number(value, name=name, low=low, high=high, integer=True, hint=hint)


def check_finite(
    values: Any, *, name: str, float32: bool = False, hint: str = "impute or drop them first"
) -> np.ndarray:
    """Check that a numeric array holds no NaN, no infinity and (optionally) fits float32.

    Parameters
    ----------
    values : array-like of numbers
    name : str
        Argument name used in the message.
    float32 : bool, default=False
        Also reject magnitudes above the largest float32.
    hint : str, default="impute or drop them first"
        What to do, appended to the message.

    Returns
    -------
    numpy.ndarray
        The values as float64.
    """
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputTypeError(f"{name} must hold numbers only.") from None
    bad = ~np.isfinite(arr)
    if bad.any():
        where = np.argwhere(bad)[:3].tolist()
        raise InputError(
            f"{name} holds {int(bad.sum())} NaN or infinite value(s) (first at {where}); {hint}."
        )
    if float32 and arr.size and float(np.abs(arr).max()) > FLOAT32_MAX:
        raise InputError(
            f"{name} holds values above {FLOAT32_MAX:.3g}, which overflow float32; rescale them."
        )
    return arr


def check_text(value: Any, *, name: str, allow_empty: bool = False) -> str:
    """Check that ``value`` is a string (non-empty unless ``allow_empty``)."""
    if not isinstance(value, str):
        raise InputTypeError(f"{name} must be a string, got {type(value).__name__}.")
    if not allow_empty and not value.strip():
        raise InputError(f"{name} is empty; pass some text.")
    return value


def check_timestamp(value: Any, *, name: str) -> Any:
    """Parse a date or time given as text, ``datetime``, ``date`` or pandas/numpy timestamp.

    Bare numbers are refused: pandas would read ``123`` as nanoseconds after 1970.

    Returns
    -------
    pandas.Timestamp
    """
    import pandas as pd

    if value is None or isinstance(value, bool | numbers.Number):
        raise InputTypeError(
            f"{name} must be a date such as '2024-03-01' or a datetime, got {value!r}."
        )
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError, OverflowError) as exc:
        raise InputError(
            f"{name}={value!r} is not a date ({exc}); write it like '2024-03-01'."
        ) from None
    if ts is pd.NaT:
        raise InputError(f"{name} is missing (NaT); pass a date such as '2024-03-01'.")
    return ts


def check_timedelta(value: Any, *, name: str, minimum: str | None = None) -> Any:
    """Parse a duration such as ``'1 day'`` or ``'6h'`` and check it is positive.

    Parameters
    ----------
    value : str or timedelta
    name : str
        Argument name used in the message.
    minimum : str, optional
        Smallest accepted duration (e.g. ``'1 minute'``), so that a typo cannot ask for billions
        of windows.

    Returns
    -------
    pandas.Timedelta
    """
    import pandas as pd

    if value is None or isinstance(value, bool | numbers.Number):
        raise InputTypeError(f"{name} must be a duration such as '1 day', got {value!r}.")
    try:
        td = pd.Timedelta(value)
    except (TypeError, ValueError, OverflowError) as exc:
        raise InputError(
            f"{name}={value!r} is not a duration ({exc}); write it like '1 day' or '6h'."
        ) from None
    if td is pd.NaT or td <= pd.Timedelta(0):
        raise InputError(f"{name} must be a positive duration, got {value!r}.")
    if minimum is not None and td < pd.Timedelta(minimum):
        raise InputError(f"{name}={value!r} is shorter than the smallest supported {minimum!r}.")
    return td


def check_flag(value: Any, *, name: str, optional: bool = False) -> bool | None:
    """Check a boolean switch (numpy booleans accepted); None too when ``optional``.

    A truthy string such as ``"no"`` is refused rather than read as True.
    """
    if value is None and optional:
        return None
    if not isinstance(value, bool | np.bool_):
        allowed = "True, False or None" if optional else "True or False"
        raise InputTypeError(f"{name} must be {allowed}, got {value!r} ({type(value).__name__}).")
    return bool(value)


def check_ax(ax: Any, *, name: str = "ax") -> Any:
    """Check a plotting target: None (a new figure) or a matplotlib ``Axes``."""
    if ax is None:
        return None
    from matplotlib.axes import Axes

    if not isinstance(ax, Axes):
        raise InputTypeError(
            f"{name} must be a matplotlib Axes (e.g. from plt.subplots()) or None, got "
            f"{type(ax).__name__}."
        )
    return ax
