"""Boundary checks of the edge tool, built on the shared checks of :mod:`workbench.core`.

Every public function of :mod:`workbench.edge` validates its arguments here, once, at the top;
the code behind trusts what passes. The bounds are derived from what the generated C can hold:
float32 features, int16 FFT bin indices, int16 tree inputs.
"""

from __future__ import annotations

import itertools
import keyword
import numbers
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import is_classifier, is_regressor

from workbench.core.errors import InputError, InputTypeError, ModelError
from workbench.core.params import FLOAT32_MAX, check_finite, check_number, check_size
from workbench.core.validation import (
    check_array,
    check_choice,
    check_classification_target,
    check_consistent_length,
    check_estimator,
    check_fitted,
)
from workbench.edge.codegen import SUPPORTED_ESTIMATORS
from workbench.edge.compiler import ARM_TARGETS

__all__ = [
    "MAX_FLASH_BUDGET",
    "MAX_N_SAMPLES",
    "check_X",
    "check_band_edges",
        "check_flash_budget",
    "check_fs",
    "check_labels",
    "check_model",
    "check_n_samples",
    "check_name",
    "check_option",
    "check_targets",
    "check_windows",
]

#: Largest window: the C feature code indexes FFT bins with int16 (and keeps 3 float buffers of
#: this length in RAM, already far beyond a microcontroller).
MAX_N_SAMPLES = 2**15
#: Largest flash budget accepted (bytes); no microcontroller has more.
MAX_FLASH_BUDGET = 10**9

_C_KEYWORDS = frozenset(
    "auto break case char const continue default do double else enum extern float for goto if "
    "inline int long register restrict return short signed sizeof static struct switch typedef "
    "union unsigned void volatile while main".split()
)


def check_model(model: Any, *, name: str = "model") -> str:
    """Check that ``model`` is a fitted, single-output classifier that can be exported.

    Parameters
    ----------
    model : estimator
    name : str, default="model"
        Argument name used in messages.

    Returns
    -------
    str
        Its family: ``"tree"``, ``"mlp"``, ``"naive_bayes"`` or ``"knn"``.

    Raises
    ------
    InputTypeError
        If it is not an estimator instance.
    ModelError
        If it is not a classifier, not a supported one, or fitted on several outputs.
    NotFittedError
        If it is not fitted.
    """
    supported = ", ".join(SUPPORTED_ESTIMATORS)
    check_estimator(model, name=name)
    kind = type(model).__name__
    if not is_classifier(model):
        what = "a regressor" if is_regressor(model) else "not a classifier"
        raise ModelError(
            f"{name} ({kind}) is {what}; the edge export needs a classifier: {supported}."
        )
    if kind not in SUPPORTED_ESTIMATORS:
        raise ModelError(f"{kind} cannot be exported; supported estimators: {supported}.")
    check_fitted(model, name=name)
    multi = np.ndim(model.classes_) != 1 or isinstance(model.classes_, list)
    if kind == "MLPClassifier":
        multi = multi or (model.out_activation_ == "logistic" and model.n_outputs_ > 1)
    elif SUPPORTED_ESTIMATORS[kind] == "tree":
        multi = multi or model.n_outputs_ != 1
    if multi:
        raise ModelError(f"{kind} was fitted on several outputs; only single-output models export.")
    return SUPPORTED_ESTIMATORS[kind]


def check_X(X: Any, n_features: int, dtype: str = "float32", *, name: str = "X") -> np.ndarray:
    """Check features for a model with ``n_features`` inputs of C type ``dtype``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    n_features : int
        Features the model was fitted with.
    dtype : str, default="float32"
        ``"int16"`` also requires integers in int16 range.
    name : str, default="X"
        Argument name used in messages.

    Returns
    -------
    numpy.ndarray
        ``X`` as float64; every value fits float32 (the C inputs are at most float32 for trees).
    """
    Xa = check_array(X, name=name, float32=True)
    if Xa.shape[1] != n_features:
        raise InputError(
            f"{name} has {Xa.shape[1]} features but the model was fitted with {n_features}; pass "
            "the same columns as in training."
        )
    if dtype == "int16":
        if not np.array_equal(Xa, np.round(Xa)) or Xa.min() < -32768 or Xa.max() > 32767:
            raise InputError(
                "dtype='int16' needs integer-valued features in [-32768, 32767]; quantize them "
                "first (e.g. vibration_features(..., quantize=True)) or use dtype='float32'."
            )
    return Xa


def check_labels(y: Any, n_rows: int, *, name: str = "y", min_classes: int = 1) -> np.ndarray:
    """Check class labels aligned with ``n_rows`` rows of features.

    Parameters
    ----------
    y : array-like of shape (n_rows,)
    n_rows : int
    name : str, default="y"
    min_classes : int, default=1
        Held-out labels may hold a single class; training labels need two.

    Returns
    -------
    numpy.ndarray
    """
    ya = check_classification_target(y, name=name, min_classes=min_classes)
    check_consistent_length(**{"X": range(n_rows), name: ya})
    return ya


def check_option(value: Any, choices: Sequence[str], *, kind: str) -> str:
    """Check that ``value`` is one of the strings ``choices`` (arrays and other types refused).

    Parameters
    ----------
    value : str
    choices : sequence of str
    kind : str
        What the option is, e.g. ``"dtype"``; used in the message.

    Returns
    -------
    str
    """
    if not isinstance(value, str):
        raise InputTypeError(
            f"{kind} must be one of {list(choices)} (a string), got {type(value).__name__}."
        )
    return check_choice(value, choices, kind=kind)


def check_targets(targets: Any) -> list[str] | None:
    """Check size targets: None or a non-empty list of ``"host"`` and :data:`ARM_TARGETS`."""
    if targets is None:
        return None
    if isinstance(targets, str) or not isinstance(targets, list | tuple) or not targets:
        raise InputError(f"targets must be a non-empty list of target names, got {targets!r}.")
    names = [check_option(t, ("host", *ARM_TARGETS), kind="size target") for t in targets]
    return list(dict.fromkeys(names))


def check_name(name: Any) -> str:
    """Check a C identifier used as the prefix of every generated symbol."""
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,40}", name):
        raise InputError(
            f"name must be a C identifier (letters, digits, '_', not starting with a digit, "
            f"at most 41 characters), got {name!r}."
        )
    if name in _C_KEYWORDS or keyword.iskeyword(name):
        raise InputError(f"name {name!r} is a reserved word; choose another, e.g. 'model'.")
    return name


def check_flash_budget(flash_budget: Any) -> int | None:
    """Check a flash budget in bytes: None or an integer in ``[1, MAX_FLASH_BUDGET]``."""
    if flash_budget is None:
        return None
    return check_size(
        flash_budget,
        name="flash_budget",
        high=MAX_FLASH_BUDGET,
        hint="It is in bytes; no microcontroller has more than 1 GB of flash.",
    )




def check_fs(fs: Any, *, low: float = 0.0, hint: str = "") -> float:
    """Check a sampling rate in Hz: finite, above ``low`` (exclusive when 0), fits float32."""
    return check_number(fs, name="fs", low=low, low_open=low == 0.0, float32=True, hint=hint)


def check_n_samples(n_samples: Any, *, name: str = "n_samples") -> int:
    """Check a window length: a power of two in ``[64, MAX_N_SAMPLES]``."""
    n = check_size(
        n_samples,
        name=name,
        low=64,
        high=MAX_N_SAMPLES,
        hint="The C feature code indexes FFT bins with int16; use a power of two such as 1024.",
    )
    if n & (n - 1):
        raise InputError(f"{name} must be a power of two >= 64, got {n}; e.g. 1024.")
    return n


def _edges_tuple(band_edges: Any) -> tuple[float, ...]:
    if isinstance(band_edges, str | bytes) or not isinstance(band_edges, Sequence | np.ndarray):
        raise InputTypeError(
            f"band_edges must be a sequence of frequencies in Hz such as (0, 100, 500, 2048), "
            f"got {type(band_edges).__name__}."
        )
    if any(isinstance(e, bool) or not isinstance(e, numbers.Real) for e in band_edges):
        raise InputTypeError(f"band_edges must hold numbers only, got {list(band_edges)!r}.")
    finite = check_finite(band_edges, name="band_edges", hint="give finite frequencies in Hz")
    edges = tuple(finite.tolist())
    if len(edges) < 2 or any(b <= a for a, b in itertools.pairwise(edges)):
        raise InputError(f"band_edges must increase and have at least two values, got {edges}.")
    return edges


def check_band_edges(band_edges: Any, fs: float | None = None) -> tuple[float, ...]:
    """Check FFT band edges: increasing finite frequencies, within ``[0, fs/2]`` when ``fs`` given.

    Parameters
    ----------
    band_edges : sequence of float
    fs : float, optional
        Sampling rate; the last edge may not pass Nyquist.

    Returns
    -------
    tuple of float
    """
    edges = _edges_tuple(band_edges)
    if fs is not None and (edges[0] < 0 or edges[-1] > fs / 2):
        raise InputError(f"band_edges must lie within [0, fs/2 = {fs / 2:g}] Hz, got {edges}.")
    return edges


def check_windows(windows: Any, *, for_c: bool = False) -> np.ndarray:
    """Check raw acceleration windows: 2-d, finite, a power-of-two length, float32-sized.

    Parameters
    ----------
    windows : array-like of shape (n_windows, n_samples)
    for_c : bool, default=False
        The windows go through the C feature code: also refuse amplitudes whose fourth powers
        (summed for the kurtosis) overflow float32 on the device.

    Returns
    -------
    numpy.ndarray
    """
    W = check_array(windows, name="windows", float32=True)
    n = W.shape[1]
    if n < 64 or n > MAX_N_SAMPLES or n & (n - 1):
        raise InputError(
            f"windows must have a power-of-two length in [64, {MAX_N_SAMPLES}], got {n}."
        )
    if for_c:
        limit = (FLOAT32_MAX / n) ** 0.25
        dev = float(np.max(np.abs(W - W.mean(axis=1, keepdims=True)), initial=0.0))
        if dev > limit:
            raise InputError(
                f"windows swing up to {dev:.3g} around their mean; the C kurtosis sums x**4 in "
                f"float32, which overflows above {limit:.3g} for {n} samples. Rescale them "
                "(e.g. to g)."
            )
    return W
