"""The bad-input harness: one valid call per public name, corrupted one argument at a time.

A :class:`Case` names a public callable, the ``__all__`` names it covers, and a recipe for a valid
call (keyword arguments built lazily and cached, because models and data are slow to make).
Hypothesis picks which argument to corrupt and with what: generic bad values (None, text, NaN,
infinities, 1e308, huge and negative integers, empty containers, bytes, objects) and corruptions of
the valid value itself (a NaN or 1e308 planted in an array, no rows, one row, a wrong shape, text in
a numeric column, a dropped column).

The only accepted outcomes are a :class:`~workbench.core.errors.WorkbenchError` or a valid result:
any other exception, a run past :data:`TIME_LIMIT_S`, or NaN/inf in a numeric result fails.
"""

from __future__ import annotations

import collections
import math
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import strategies as st

from workbench.core.errors import WorkbenchError

#: A call that runs longer than this is a hang (valid calls here take a few seconds at most).
TIME_LIMIT_S = 120
#: Generators are consumed up to this many items.
MAX_ITEMS = 1000

#: Outcome counts over the session, printed in the terminal summary.
OUTCOMES: collections.Counter[tuple[str, str]] = collections.Counter()


class Hang(Exception):
    """Raised by the alarm when a call runs past the time limit."""


@dataclass
class Case:
    """A public callable and a recipe for one valid call of it.

    Parameters
    ----------
    name : str
        Test id, e.g. ``"indb.train_model"``.
    call : callable
        Runs the public callable with keyword arguments.
    valid : callable returning dict
        Builds the keyword arguments of a valid call (cached after the first use).
    covers : tuple of str
        ``__all__`` names exercised by the case (``"tool.Name"``).
    params : tuple of str, optional
        Arguments to corrupt; default every key of ``valid()``.
    max_examples : int
        Hypothesis examples for this case.
    nan_ok : tuple of str
        Result paths (suffixes) where NaN or inf is a documented value (e.g. "not measured").
    needs : str, optional
        An optional package the valid call needs; without it only the bad calls are run.
    """

    name: str
    call: Callable[..., Any]
    valid: Callable[[], dict[str, Any]]
    covers: tuple[str, ...]
    params: tuple[str, ...] | None = None
    max_examples: int = 25
    nan_ok: tuple[str, ...] = ()
    needs: str | None = None
    _cache: dict[str, Any] | None = field(default=None, repr=False)

    def kwargs(self) -> dict[str, Any]:
        if self._cache is None:
            self._cache = self.valid()
        return dict(self._cache)

    def param_names(self) -> tuple[str, ...]:
        return self.params if self.params is not None else tuple(self.kwargs())


GENERIC_BAD: list[Any] = [
    None,
    "x",
    "",
    "1e308",
    -1,
    0,
    True,
    10**9,
    10**30,
    -(10**30),
    math.nan,
    math.inf,
    -math.inf,
    1e308,
    -1e308,
    1e-320,
    [],
    {},
    (),
    b"\xff\xfe",
    object(),
    np.array([]),
    np.full(3, np.nan),
    [1, "a", None],
]


def _corruptions(value: Any) -> list[Callable[[Any], Any]]:
    """Ways to spoil a valid value of this type while keeping its type."""
    out: list[Callable[[Any], Any]] = []
    if isinstance(value, np.ndarray) and value.size and value.dtype.kind in "fiu":

        def plant(v: Any, bad: float) -> Any:
            a = v.astype(np.float64, copy=True)
            a.flat[a.size // 2] = bad
            return a

        out += [
            lambda v: plant(v, np.nan),
            lambda v: plant(v, np.inf),
            lambda v: plant(v, 1e308),
            lambda v: v[:0],
            lambda v: v[:1],
            lambda v: v.ravel() if v.ndim > 1 else v.reshape(-1, 1)[:, [0, 0]],
            lambda v: v.T,
            lambda v: v.astype(str),
            lambda v: v[..., None],
        ]
    if isinstance(value, pd.DataFrame) and len(value.columns):

        def plant_col(v: Any, bad: Any) -> Any:
            f = v.copy()
            num = f.select_dtypes("number").columns
            col = num[0] if len(num) else f.columns[0]
            f[col] = f[col].astype(object)
            f.iloc[len(f) // 2, f.columns.get_loc(col)] = bad
            return f

        out += [
            lambda v: plant_col(v, np.nan),
            lambda v: plant_col(v, np.inf),
            lambda v: plant_col(v, 1e308),
            lambda v: plant_col(v, "text"),
            lambda v: v.iloc[:0],
            lambda v: v.iloc[:1],
            lambda v: v.drop(columns=v.columns[-1]),
            lambda v: v.drop(columns=v.columns[0]),
            lambda v: v.set_axis([v.columns[0]] * len(v.columns), axis=1),
        ]
    if isinstance(value, pd.Series) and len(value):
        out += [lambda v: v.iloc[:0], lambda v: v.iloc[:1], lambda v: v.astype(str)]
    if isinstance(value, list | tuple) and value:
        out += [lambda v: type(v)(), lambda v: type(v)([None, *v[1:]]), lambda v: [v]]
    if isinstance(value, str):
        out += [lambda v: v + "_nope", lambda v: v.upper() + "\x00"]
    return out


@st.composite
def bad_call(draw: st.DrawFn, case: Case) -> tuple[str, dict[str, Any]]:
    """Draw one corrupted call of ``case``: a description and its keyword arguments."""
    kwargs = case.kwargs()
    params = case.param_names()
    param = draw(st.sampled_from(params))
    current = kwargs.get(param)
    spoilers = _corruptions(current)
    choices: list[st.SearchStrategy[Any]] = [
        st.sampled_from(range(len(GENERIC_BAD))).map(lambda i: ("generic", GENERIC_BAD[i])),
        st.one_of(
            st.integers(min_value=-(2**70), max_value=-1),
            st.integers(min_value=10**9, max_value=2**70),
            st.floats(allow_nan=True, allow_infinity=True).filter(
                lambda f: not math.isfinite(f) or abs(f) > 1e30
            ),
            st.text(max_size=6),
        ).map(lambda v: ("drawn", v)),
    ]
    if spoilers:
        choices.insert(
            0,
            st.sampled_from(range(len(spoilers))).map(lambda i: ("spoilt", spoilers[i](current))),
        )
    origin, value = draw(st.one_of(*choices))
    kwargs[param] = value
    return f"{param}={_short(value)} ({origin})", kwargs


def _short(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"ndarray{value.shape}/{value.dtype}"
    if isinstance(value, pd.DataFrame):
        return f"DataFrame{value.shape}"
    text = repr(value)
    return text if len(text) < 40 else text[:37] + "..."


def _on_alarm(signum: int, frame: Any) -> None:
    raise Hang(f"ran past {TIME_LIMIT_S} s")


def run_bounded(fn: Callable[[], Any]) -> Any:
    """Run ``fn`` under the alarm; consume a returned generator."""
    old = signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(TIME_LIMIT_S)
    try:
        result = fn()
        if isinstance(result, Iterator):
            result = [x for _, x in zip(range(MAX_ITEMS), result, strict=False)]
        return result
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def non_finite(result: Any, nan_ok: tuple[str, ...] = (), path: str = "result", depth: int = 0):
    """Return the path of the first NaN/inf in a numeric result, or None."""
    if depth > 4 or any(path.endswith(k) for k in nan_ok):
        return None
    if isinstance(result, bool | int | str | bytes) or result is None:
        return None
    if isinstance(result, float | np.floating):
        return None if math.isfinite(result) else path
    if isinstance(result, np.ndarray):
        if result.dtype.kind in "fc" and result.size and not np.isfinite(result).all():
            return path
        return None
    if isinstance(result, pd.DataFrame):
        for col in result.columns:
            found = non_finite(result[col], nan_ok, f"{path}[{col!r}]", depth + 1)
            if found:
                return found
        return None
    if isinstance(result, pd.Series):
        if result.dtype.kind in "fc" and not np.isfinite(result.to_numpy()).all():
            return path
        return None
    if isinstance(result, dict):
        for k, v in result.items():
            found = non_finite(v, nan_ok, f"{path}[{k!r}]", depth + 1)
            if found:
                return found
        return None
    if isinstance(result, list | tuple):
        for i, v in enumerate(result[:50]):
            found = non_finite(v, nan_ok, f"{path}[{i}]", depth + 1)
            if found:
                return found
        return None
    if hasattr(result, "__dataclass_fields__"):
        for k in result.__dataclass_fields__:
            if k.startswith("_"):
                continue
            found = non_finite(getattr(result, k, None), nan_ok, f"{path}.{k}", depth + 1)
            if found:
                return found
    return None


def check_outcome(case: Case, desc: str, kwargs: dict[str, Any]) -> str:
    """Run one corrupted call and return its outcome; raise AssertionError on a bad one."""
    try:
        result = run_bounded(lambda: case.call(**kwargs))
    except WorkbenchError:
        OUTCOMES[(case.name, "WorkbenchError")] += 1
        return "WorkbenchError"
    except Hang:
        OUTCOMES[(case.name, "hang")] += 1
        raise AssertionError(f"{case.name}({desc}) hung: no answer in {TIME_LIMIT_S} s") from None
    except Exception as exc:
        OUTCOMES[(case.name, f"raw {type(exc).__name__}")] += 1
        raise AssertionError(
            f"{case.name}({desc}) raised a raw {type(exc).__module__}.{type(exc).__name__}: "
            f"{str(exc)[:300]}"
        ) from exc
    bad = non_finite(result, case.nan_ok)
    if bad:
        OUTCOMES[(case.name, "NaN/inf result")] += 1
        raise AssertionError(f"{case.name}({desc}) returned NaN or inf at {bad}")
    OUTCOMES[(case.name, "valid result")] += 1
    return "valid result"
