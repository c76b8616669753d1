"""Validation helpers used at public boundaries.

Each helper either returns a cleaned value or raises a
:class:`~workbench.core.errors.WorkbenchError` subclass naming the argument, the problem and the
fix. Tools call these once, at the top of their public functions, and trust the values inside.
"""

from __future__ import annotations

import difflib
import numbers
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from workbench.core.errors import (
    InputError,
    InputTypeError,
    ModelError,
    NotFittedError,
    ResourceNotFoundError,
    UnknownNameError,
)
from workbench.core.params import check_number, is_finite_number

_F32_MAX = float(np.finfo(np.float32).max)
#: Largest ``|n_jobs|`` accepted.
MAX_N_JOBS = 4096

__all__ = [
    "check_X_y",
    "check_array",
    "check_choice",
    "check_classification_target",
    "check_columns",
    "check_consistent_length",
    "check_estimator",
    "check_file",
    "check_fitted",
    "check_has_methods",
    "check_n_jobs",
    "check_positive",
    "check_probability",
    "check_regression_target",
]


def check_array(
    X: Any,
    *,
    name: str = "X",
    ndim: int = 2,
    min_samples: int = 1,
    allow_nan: bool = False,
    dtype: Any = np.float64,
    float32: bool = False,
) -> np.ndarray:
    """Convert ``X`` to a numeric numpy array and check its shape and values.

    Parameters
    ----------
    X : array-like
        The input; pandas objects and lists are accepted.
    name : str, default="X"
        Argument name used in error messages.
    ndim : {1, 2}, default=2
        Required number of dimensions.
    min_samples : int, default=1
        Fewest rows accepted.
    allow_nan : bool, default=False
        Whether NaN is acceptable. Infinity never is.
    dtype : numpy dtype, default=float64
        Target dtype.
    float32 : bool, default=False
        Also reject magnitudes above the largest float32 (values that reach ONNX, C or float32
        models would overflow to inf there).

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    InputTypeError
        If ``X`` is not numeric.
    InputError
        On a wrong number of dimensions, too few rows, NaN or infinity.
    """
    if X is None:
        raise InputTypeError(f"{name} is None; pass an array-like of numbers.")
    try:
        arr = np.asarray(X, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise InputTypeError(
            f"{name} must be numeric; converting it to {np.dtype(dtype).name} failed ({exc}). "
            "Encode text or categorical columns first."
        ) from None
    if arr.ndim != ndim:
        fix = "reshape(-1, 1) a single feature" if ndim == 2 and arr.ndim == 1 else "reshape it"
        raise InputError(f"{name} must be {ndim}-dimensional, got shape {arr.shape}; {fix}.")
    if arr.shape[0] < min_samples:
        raise InputError(
            f"{name} has {arr.shape[0]} rows but at least {min_samples} are needed; pass more data."
        )
    if ndim == 2 and arr.shape[1] == 0:
        raise InputError(f"{name} has no columns; pass at least one feature.")
    if np.issubdtype(arr.dtype, np.floating):
        finite = np.isfinite(arr)
        if not finite.all():
            nan = np.isnan(arr)
            if nan.any() and not allow_nan:
                rows = np.unique(np.nonzero(nan)[0])[:5].tolist()
                raise InputError(
                    f"{name} contains {int(nan.sum())} NaN value(s) (first rows: {rows}); "
                    "impute or drop them first."
                )
            if (~finite & ~nan).any():
                raise InputError(f"{name} contains infinite values; clip or drop them first.")
        if float32 and arr.size and float(np.nanmax(np.abs(arr), initial=0.0)) > _F32_MAX:
            raise InputError(
                f"{name} holds values above {_F32_MAX:.3g}, which overflow float32; rescale them."
            )
    return arr


def check_consistent_length(**arrays: Any) -> int:
    """Check that every named array has the same number of rows.

    Parameters
    ----------
    **arrays
        Name → array-like.

    Returns
    -------
    int
        The common length.
    """
    lengths = {k: len(v) for k, v in arrays.items() if v is not None}
    if len(set(lengths.values())) > 1:
        desc = ", ".join(f"{k}={n}" for k, n in lengths.items())
        raise InputError(f"Inputs have different numbers of rows ({desc}); pass aligned data.")
    return next(iter(lengths.values()), 0)


def check_X_y(
    X: Any, y: Any, *, min_samples: int = 1, classification: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Validate a feature matrix and its target together.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    min_samples : int, default=1
        Fewest rows accepted.
    classification : bool, default=False
        If true, ``y`` may hold labels of any type but needs at least two classes.

    Returns
    -------
    X, y : numpy.ndarray
    """
    Xa = check_array(X, name="X", min_samples=min_samples)
    if y is None:
        raise InputTypeError("y is None; pass the target values.")
    ya = np.asarray(y)
    if ya.ndim == 2 and ya.shape[1] == 1:
        ya = ya.ravel()
    if ya.ndim != 1:
        raise InputError(f"y must be 1-dimensional, got shape {ya.shape}.")
    check_consistent_length(X=Xa, y=ya)
    if classification:
        if ya.dtype.kind == "f" and np.isnan(ya).any():
            raise InputError("y contains NaN labels; drop those rows first.")
        if np.unique(ya).size < 2:
            raise InputError("y has a single class; classification needs at least two.")
    else:
        ya = check_array(ya, name="y", ndim=1)
    return Xa, ya


def check_positive(
    value: Any,
    *,
    name: str,
    strict: bool = True,
    integer: bool = False,
    high: float | None = None,
    high_open: bool = False,
    hint: str = "",
) -> Any:
    """Check that ``value`` is a (strictly) positive number, optionally with an upper bound.

    Parameters
    ----------
    value : int or float
    name : str
        Argument name for the message.
    strict : bool, default=True
        Reject zero too.
    integer : bool, default=False
        Require an integer.
    high : float, optional
        Largest accepted value (sizes a user can type need one, so a typo cannot hang the kernel).
    high_open : bool, default=False
        Refuse ``high`` itself.
    hint : str, default=""
        Why the upper bound exists, appended to its message.
    """
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind):
        what = "an integer" if integer else "a number"
        raise InputTypeError(f"{name} must be {what}, got {value!r}.")
    finite = is_finite_number(value)
    too_big = high is not None and isinstance(value, numbers.Integral) and value > high
    if not too_big and (not finite or value < 0 or (strict and value == 0)):
        bound = "> 0" if strict else ">= 0"
        raise InputError(f"{name} must be {bound}, got {value!r}.")
    if high is not None:
        low, low_open = (1, False) if integer and strict else (0, strict)
        return check_number(
            value, name=name, low=low, low_open=low_open, high=high, high_open=high_open,
            integer=integer, hint=hint,
        )
    return value


def check_probability(value: Any, *, name: str, open_interval: bool = True) -> float:
    """Check that ``value`` lies in (0, 1) (or [0, 1] when ``open_interval`` is false)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputTypeError(f"{name} must be a number between 0 and 1, got {value!r}.")
    lo_ok = value > 0 if open_interval else value >= 0
    hi_ok = value < 1 if open_interval else value <= 1
    if not (lo_ok and hi_ok):
        rng = "(0, 1)" if open_interval else "[0, 1]"
        raise InputError(f"{name} must lie in {rng}, got {value!r}.")
    return float(value)


def check_choice(value: Any, choices: Iterable[str], *, kind: str) -> str:
    """Check that ``value`` is one of ``choices``; suggest the closest name otherwise.

    Raises
    ------
    UnknownNameError
        With the accepted names and, when one is close, a "did you mean" hint.
    """
    options = list(choices)
    scalar = isinstance(value, str | int | float) and not isinstance(value, bool)
    if scalar and value in options:
        return value
    # Arrays, lists and other objects never name a choice (``array in list`` would even raise).
    shown = value if scalar or value is None else f"<{type(value).__name__}>"
    err = UnknownNameError(kind, shown, options)
    close = difflib.get_close_matches(value, options, n=1) if isinstance(value, str) else []
    if close:
        err.args = (f"{err.args[0]} Did you mean {close[0]!r}?",)
    raise err


def check_columns(
    frame_columns: Sequence[str], required: Iterable[str], *, what: str = "table"
) -> None:
    """Check that every required column is present in ``frame_columns``."""
    have = list(frame_columns)
    missing = [c for c in required if c not in have]
    if missing:
        raise InputError(
            f"The {what} lacks column(s) {missing}; it has {have}. Rename or add the columns."
        )


def check_has_methods(obj: Any, methods: Iterable[str], *, name: str = "model") -> None:
    """Check that ``obj`` offers every method in ``methods`` (duck typing)."""
    missing = [m for m in methods if not callable(getattr(obj, m, None))]
    if missing:
        raise InputTypeError(
            f"{name} ({type(obj).__name__}) has no {', '.join(missing)} method; "
            "pass a scikit-learn compatible estimator."
        )


def check_fitted(estimator: Any, *, name: str = "model") -> None:
    """Raise :class:`NotFittedError` if a scikit-learn estimator is not fitted."""
    from sklearn.exceptions import NotFittedError as SkNotFitted
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(estimator)
    except SkNotFitted:
        raise NotFittedError(
            f"{name} ({type(estimator).__name__}) is not fitted; call .fit(X, y) first."
        ) from None
    except (TypeError, AttributeError):
        # scikit-learn 1.9 raises AttributeError for duck-typed models without its base class.
        raise InputTypeError(
            f"{name} ({type(estimator).__name__}) is not a scikit-learn estimator; pass one, "
            "or a class derived from sklearn.base.BaseEstimator."
        ) from None


def check_n_jobs(n_jobs: Any) -> int | None:
    """Check an ``n_jobs`` argument: None, -1, or a non-zero integer (joblib's convention).

    The magnitude is bounded by :data:`MAX_N_JOBS`: joblib itself refuses ``10**9`` with a raw
    error, and nobody runs more workers than that on one machine.
    """
    if n_jobs is None:
        return None
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral) or n_jobs == 0:
        raise InputError(f"n_jobs must be None, -1 or a non-zero integer, got {n_jobs!r}.")
    if abs(n_jobs) > MAX_N_JOBS:
        raise InputError(
            f"n_jobs={n_jobs} is beyond {MAX_N_JOBS} workers; use -1 for all cores, or a "
            "Dask/Ray joblib backend for a cluster."
        )
    return int(n_jobs)


def check_file(path: str | os.PathLike[str], *, suffixes: Iterable[str] | None = None) -> Path:
    """Check that ``path`` names an existing regular file with an accepted suffix.

    Raises
    ------
    ResourceNotFoundError
        If the file does not exist.
    InputError
        If it is a folder or has an unexpected suffix.
    """
    if not isinstance(path, str | os.PathLike):
        raise InputTypeError(f"Expected a file path, got {type(path).__name__}.")
    p = Path(path).expanduser()
    if not p.exists():
        raise ResourceNotFoundError(f"File {str(p)!r} does not exist; check the path.")
    if not p.is_file():
        raise InputError(f"{str(p)!r} is not a regular file; pass a file, not a folder.")
    if suffixes is not None:
        allowed = [s.lower() for s in suffixes]
        if p.suffix.lower() not in allowed:
            raise InputError(
                f"{p.name!r} has suffix {p.suffix or '(none)'!r}; expected one of {allowed}."
            )
    return p


def check_classification_target(y: Any, *, name: str = "y", min_classes: int = 2) -> np.ndarray:
    """Check that ``y`` holds class labels, not a continuous target.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Labels: integers, strings or booleans. Floats are accepted only when every value is a
        whole number (``0.0``/``1.0``); a continuous target is refused.
    name : str, default="y"
        Argument name used in the message.
    min_classes : int, default=2
        Fewest distinct classes accepted.

    Returns
    -------
    numpy.ndarray
        ``y`` as a 1-d array.

    Raises
    ------
    InputError
        On a wrong shape, NaN labels, a continuous target or too few classes.
    """
    if y is None:
        raise InputTypeError(f"{name} is None; pass the class labels.")
    ya = np.asarray(y)
    if ya.ndim == 2 and ya.shape[1] == 1:
        ya = ya.ravel()
    if ya.ndim != 1:
        raise InputError(f"{name} must be 1-dimensional, got shape {ya.shape}.")
    if ya.dtype.kind == "O":
        kinds = {type(v) for v in ya.tolist()}
        if len(kinds) > 1 and not all(issubclass(k, numbers.Integral) for k in kinds):
            names = sorted(k.__name__ for k in kinds)
            raise InputError(
                f"{name} mixes label types {names}; convert the labels to one type (e.g. str)."
            )
        if any(v is None or (isinstance(v, float) and v != v) for v in ya.tolist()):
            raise InputError(f"{name} contains missing labels; drop those rows first.")
    if ya.dtype.kind == "f":
        if not np.isfinite(ya).all():
            raise InputError(f"{name} contains NaN or infinite labels; drop those rows first.")
        if ya.size and float(np.abs(ya).max()) > 2.0**53:
            # Beyond 2**53 floats are not exact integers; scikit-learn calls such labels continuous.
            raise InputError(
                f"{name} holds float labels beyond 2**53, which are not exact integers; "
                "encode the classes as small integers or strings."
            )
        if not np.array_equal(ya, np.round(ya)):
            example = float(ya[ya != np.round(ya)][0])
            raise InputError(
                f"{name} looks continuous (non-integer values such as {example!r}); "
                "this method needs class labels. Bin the target or use a regression tool."
            )
    if ya.dtype.kind == "c":
        raise InputError(f"{name} holds complex numbers; pass class labels.")
    n_classes = np.unique(ya).size
    if n_classes < min_classes:
        raise InputError(
            f"{name} has {n_classes} class(es); at least {min_classes} are needed. "
            "Check the target column."
        )
    return ya


def check_regression_target(y: Any, *, name: str = "y", float32: bool = False) -> np.ndarray:
    """Check that ``y`` is a finite numeric 1-d target."""
    ya = np.asarray(y) if y is not None else None
    if ya is not None and ya.ndim == 2 and ya.shape[1] == 1:
        ya = ya.ravel()
    return check_array(ya, name=name, ndim=1, float32=float32)


def check_estimator(
    model: Any,
    *,
    kind: str | None = None,
    methods: Iterable[str] = (),
    fitted: bool = False,
    name: str = "model",
) -> Any:
    """Check that ``model`` is an estimator that can do what a method needs.

    Parameters
    ----------
    model : estimator
    kind : {"classifier", "regressor"}, optional
        Required estimator type (scikit-learn's ``is_classifier``/``is_regressor``; the final step
        of a Pipeline counts). A clusterer or a regressor is refused where a classifier is needed.
    methods : iterable of str, default=()
        Methods the estimator must offer, e.g. ``("predict_proba",)``.
    fitted : bool, default=False
        Require a fitted estimator.
    name : str, default="model"
        Argument name used in the message.

    Returns
    -------
    estimator
        ``model`` itself.

    Raises
    ------
    InputTypeError
        If it is not an estimator, or lacks a needed method.
    ModelError
        If it is the wrong kind.
    NotFittedError
        If ``fitted`` and it is not fitted.
    """
    from sklearn.base import is_classifier, is_regressor

    if model is None or isinstance(model, type) or not callable(getattr(model, "fit", None)):
        what = f"the class {model.__name__}" if isinstance(model, type) else type(model).__name__
        raise InputTypeError(
            f"{name} must be a scikit-learn style estimator instance (with fit), got {what}."
        )
    if kind is not None:
        check_choice(kind, ["classifier", "regressor"], kind="estimator kind")
        try:
            classifier, regressor = is_classifier(model), is_regressor(model)
        except AttributeError:
            # scikit-learn 1.9 reads __sklearn_tags__, which only BaseEstimator provides.
            raise InputTypeError(
                f"{name} ({type(model).__name__}) has no scikit-learn tags; derive it from "
                "sklearn.base.BaseEstimator, with the mixin (e.g. ClassifierMixin) listed first."
            ) from None
        ok = classifier if kind == "classifier" else regressor
        if not ok:
            other = (
                "a regressor" if regressor
                else "a classifier" if classifier
                else "neither a classifier nor a regressor"
            )
            raise ModelError(
                f"{name} ({type(model).__name__}) is {other}; this method needs a {kind}. "
                f"Pass a {kind} such as "
                + ("LogisticRegression." if kind == "classifier" else "Ridge.")
            )
    check_has_methods(model, methods, name=name)
    if fitted:
        check_fitted(model, name=name)
    return model
