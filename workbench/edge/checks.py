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
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import is_classifier, is_regressor
from sklearn.pipeline import Pipeline

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
from workbench.edge.neighbors import knn_training_data

__all__ = [
    "MAX_FLASH_BUDGET",
    "MAX_N_SAMPLES",
    "UNSCALED_MEAN_RATIO",
    "UNSCALED_STD_RATIO",
    "UnscaledFeaturesWarning",
    "check_X",
    "check_band_edges",
    "check_flash_budget",
    "check_float32_model",
    "check_fs",
    "check_labels",
    "check_model",
    "check_n_samples",
    "check_name",
    "check_option",
    "check_targets",
    "check_windows",
    "column_labels",
    "warn_unscaled_features",
]

#: Largest window: the C feature code indexes FFT bins with int16 (and keeps 3 float buffers of
#: this length in RAM, already far beyond a microcontroller).
MAX_N_SAMPLES = 2**15
#: Largest flash budget accepted (bytes); no microcontroller has more.
MAX_FLASH_BUDGET = 10**9

#: An MLP's inputs count as unscaled when their standard deviations spread over more than this
#: factor. Measured with MLPClassifier((16,)) on a 6-class synthetic set: one column scaled
#: by 100 drops accuracy from 0.83 to 0.72, by 1e3 to 0.45, by 1e4 to 0.29.
UNSCALED_STD_RATIO = 100.0
#: ... or when a feature's mean lies more than this many standard deviations from 0: on the
#: same set, offsets of 10 std drop accuracy to 0.64, of 100 std to 0.21 (chance: 0.17).
UNSCALED_MEAN_RATIO = 10.0
_F32_MAX = FLOAT32_MAX

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
    if isinstance(model, Pipeline):
        raise ModelError(
            f"{name} is a Pipeline; export() compiles a Pipeline of scalers/PCA and a classifier "
            f"into one C function, this function takes the bare classifier: {supported}."
        )
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


def check_X(
    X: Any, n_features: int, dtype: str = "float32", *, name: str = "X", allow_nan: bool = False
) -> np.ndarray:
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
    allow_nan : bool, default=False
        Accept NaN (for models that route missing values, such as HistGradientBoosting).

    Returns
    -------
    numpy.ndarray
        ``X`` as float64; every value fits float32 (the C inputs are at most float32 for trees).
    """
    Xa = check_array(X, name=name, allow_nan=allow_nan)
    if Xa.shape[1] != n_features:
        raise InputError(
            f"{name} has {Xa.shape[1]} features but the model was fitted with {n_features}; pass "
            "the same columns as in training."
        )
    big = np.nanmax(np.abs(Xa), axis=0, initial=0.0) > _F32_MAX
    if big.any():
        col = int(np.flatnonzero(big)[0])
        raise InputError(
            f"{name} column {col} holds values up to {float(np.nanmax(np.abs(Xa[:, col]))):.3g}, "
            f"above {_F32_MAX:.3g}, which overflow float32; rescale it (the C inputs are "
            "float32) and train the model on the rescaled column."
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


class UnscaledFeaturesWarning(UserWarning):
    """An MLP is exported with inputs far from standardized; it is likely close to useless."""


def column_labels(model: Any, n_features: int) -> list[str]:
    """Labels of the input columns for messages: ``"column 2 ('ash')"`` or ``"column 2"``.

    Parameters
    ----------
    model : estimator
        Its ``feature_names_in_`` are used when it was fitted on a DataFrame.
    n_features : int

    Returns
    -------
    list of str
    """
    names = getattr(model, "feature_names_in_", None)
    if names is None or len(names) != n_features:
        return [f"column {i}" for i in range(n_features)]
    return [f"column {i} ({str(n)!r})" for i, n in enumerate(names)]


def _model_tables(model: Any, family: str) -> list[tuple[str, np.ndarray, bool]]:
    """(what, values, columns-are-input-features) of the tables a family writes into C."""
    if family == "mlp":
        return [("first-layer weights", np.asarray(model.coefs_[0]).T, True)] + [
            (f"layer {i} {kind}", np.atleast_2d(np.asarray(v)), False)
            for i, (w, b) in enumerate(zip(model.coefs_, model.intercepts_, strict=True))
            for kind, v in (("weights", w), ("biases", b))
            if i > 0 or kind == "biases"
        ]
    if family == "naive_bayes":
        return [
            ("class means", np.asarray(model.theta_), True),
            ("class variances", np.asarray(model.var_), True),
        ]
    if family == "knn":
        return [("stored training rows", knn_training_data(model)[0], True)]
    return []


def check_float32_model(model: Any, family: str, dtype: str, labels: list[str]) -> None:
    """Refuse a model whose C tables overflow float32 (it was trained on such features).

    The MLP weights, naive Bayes means and variances and k-NN's stored rows are written as
    float32 unless ``dtype="float64"``; the stored rows are compared with float32 inputs, so
    they must fit float32 in either case.

    Parameters
    ----------
    model : estimator
        Fitted classifier of ``family``.
    family : str
        From :func:`check_model`.
    dtype : str
        The export's arithmetic type.
    labels : list of str
        The model's input columns (:func:`column_labels`).

    Raises
    ------
    InputError
        Naming the column (or layer) and the value.
    """
    for what, values, by_column in _model_tables(model, family):
        if dtype == "float64" and family != "knn":
            continue
        big = ~(np.abs(values.astype(np.float64)) <= _F32_MAX)
        if not big.any():
            continue
        row, col = (int(v[0]) for v in np.nonzero(big))
        where = f" for {labels[col]}" if by_column else ""
        raise InputError(
            f"{type(model).__name__} was trained on features that overflow float32: its {what}"
            f"{where} reach {float(values[row, col]):.3g}, beyond float32's "
            f"{_F32_MAX:.3g} (inf in C). Rescale "
            + ("that column" if by_column else "the features")
            + " and train again"
            + ("." if family == "knn" else ", or export with dtype='float64'.")
        )


def warn_unscaled_features(Z: np.ndarray, *, in_pipeline: bool) -> bool:
    """Warn when the features an MLP receives are far from standardized.

    The rule, on the held-out rows given to the export: the per-feature standard deviations
    spread over more than :data:`UNSCALED_STD_RATIO`, or some feature's mean lies more than
    :data:`UNSCALED_MEAN_RATIO` standard deviations from 0. Constant features are ignored.

    Parameters
    ----------
    Z : numpy.ndarray of shape (n_samples, n_features)
        The MLP's inputs: ``X`` for a bare MLP, the transformed ``X`` in a Pipeline.
    in_pipeline : bool
        The MLP is the last step of a Pipeline (changes the advice).

    Returns
    -------
    bool
        Whether a :class:`UnscaledFeaturesWarning` was issued.
    """
    if len(Z) < 2:
        return False
    std, mean = Z.std(axis=0), Z.mean(axis=0)
    live = std > 0
    if not live.any():
        return False
    spread = float(std[live].max() / std[live].min())
    offset = float((np.abs(mean[live]) / std[live]).max())
    if spread <= UNSCALED_STD_RATIO and offset <= UNSCALED_MEAN_RATIO:
        return False
    where = (
        "right before the MLP in the Pipeline" if in_pipeline else "in a Pipeline before the MLP"
    )
    warnings.warn(
        f"The MLP's input features look unscaled on X (standard deviations spread over "
        f"{spread:.3g}x, means up to {offset:.3g} standard deviations from 0); an MLP trained "
        f"on them is likely close to useless. Fix: put a StandardScaler {where}; export() "
        "compiles the whole pipeline into the C function.",
        UnscaledFeaturesWarning,
        stacklevel=3,
    )
    return True
