"""Boundary checks of the valuation tool: models, targets, parameters, budgets, plot arguments.

Every public function and every ``fit`` of the valuation tool runs its arguments through these
helpers once, before any work starts; the computation modules trust what they get. The shared
checks (seeds, finite and bounded numbers, target kinds, estimator kinds) come from
:mod:`workbench.core`; this module adds the valuation-specific limits, so that ``'x'``, ``-1``,
``NaN``, ``1e308`` or a typo such as ``n_samples=10**9`` is refused with a message that says what
to do instead of reaching numpy, scikit-learn or a hang.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from workbench.core.errors import InputError, InputTypeError, ModelError
from workbench.core.params import check_flag, check_number, check_random_state, check_size
from workbench.core.validation import (
    check_array,
    check_choice,
    check_classification_target,
    check_consistent_length,
    check_estimator,
    check_n_jobs,
    check_regression_target,
)

__all__ = [
    "MAX_CURVE_POINTS",
    "MAX_POINTS",
    "MAX_SAMPLES",
    "MAX_TIME_S",
    "check_beta_args",
    "check_default_score",
    "check_fractions",
    "check_mask",
    "check_method_params",
    "check_model",
    "check_regression_scorer",
    "check_scorer",
    "check_target",
    "check_test",
]

#: Most Monte Carlo samples (permutations, subsets, bags) one run may ask for.
MAX_SAMPLES = 1_000_000
#: Longest time budget in seconds (one day).
MAX_TIME_S = 86_400.0
#: Most training points a weight vector is built for.
MAX_POINTS = 10_000_000
#: Most fractions of a removal/addition curve (each one is a model fit).
MAX_CURVE_POINTS = 1000

_SAMPLES_HINT = f"Use at most {MAX_SAMPLES:,} samples, or set max_time= for a time budget."
_TIME_HINT = "The time budget is in seconds; use at most one day (86400)."

# name -> (kind, low, high, low_open, optional); kind "size" is an integer, "number" a float.
_RULES: dict[str, tuple[str, float | None, float | None, bool, bool]] = {
    "n_samples": ("size", 1, MAX_SAMPLES, False, True),
    "max_time": ("number", 0.0, MAX_TIME_S, True, True),
    "tol": ("number", 0.0, None, True, True),
    "truncation_rtol": ("number", 0.0, None, False, False),
    "burn_in_fraction": ("number", 0.0, 1.0, False, False),
    "default_score": ("number", None, None, False, False),
    "alpha": ("number", 0.01, 10_000.0, False, False),
    "beta": ("number", 0.01, 10_000.0, False, False),
    "n_neighbors": ("size", 1, 100_000, False, False),
    "batch_size": ("size", 1, MAX_POINTS, False, True),
    "max_memory_mb": ("number", 0.0, 65_536.0, True, False),
    "max_samples": ("number", 0.0, 10.0, True, False),
    "cv": ("size", 2, 1000, False, False),
}
_HINTS = {
    "n_samples": _SAMPLES_HINT,
    "max_time": _TIME_HINT,
    "alpha": "Beta Shapley's alpha and beta are shape parameters; 1 to 16 are usual.",
    "beta": "Beta Shapley's alpha and beta are shape parameters; 1 to 16 are usual.",
    "burn_in_fraction": "It is a share of each permutation.",
    "max_samples": "It is the bag size as a share of the training points.",
    "max_memory_mb": "It bounds one batch of the KNN computation, in MiB.",
}


def check_method_params(params: dict[str, Any]) -> None:
    """Check the constructor parameters of a valuation method (those it has).

    Parameters
    ----------
    params : dict
        ``get_params(deep=False)`` of the method.

    Raises
    ------
    InputTypeError, InputError
        For the first parameter of the wrong type or outside its range.
    """
    for key, (kind, low, high, low_open, optional) in _RULES.items():
        if key not in params or (optional and params[key] is None):
            continue
        hint = _HINTS.get(key, "")
        if kind == "size":
            check_size(params[key], name=key, low=int(low or 0), high=int(high or 0), hint=hint)
        else:
            check_number(params[key], name=key, low=low, high=high, low_open=low_open, hint=hint)
    if "random_state" in params:
        check_random_state(params["random_state"])
    if "n_jobs" in params:
        check_n_jobs(params["n_jobs"])
    if "show_progress" in params:
        check_flag(params["show_progress"], name="show_progress", optional=True)
    if "keep_partial" in params:
        check_flag(params["keep_partial"], name="keep_partial")


def _kind(model: Any, name: str) -> str:
    from sklearn.base import ClassifierMixin, RegressorMixin, is_classifier, is_regressor

    try:
        if is_classifier(model):
            return "classifier"
        if is_regressor(model):
            return "regressor"
    except (AttributeError, TypeError):
        raise InputTypeError(
            f"{name} ({type(model).__name__}) is not a scikit-learn estimator (it has no "
            "estimator tags); derive it from sklearn.base.BaseEstimator with ClassifierMixin or "
            "RegressorMixin."
        ) from None
    if isinstance(model, ClassifierMixin | RegressorMixin):
        raise ModelError(
            f"{name} ({type(model).__name__}) derives from a scikit-learn mixin, but scikit-learn "
            "does not see its kind: list the mixin first, as in "
            "class MyModel(ClassifierMixin, BaseEstimator)."
        )
    return "other"


def check_model(
    model: Any,
    *,
    classifier_only: bool = False,
    methods: tuple[str, ...] = ("fit", "predict"),
    name: str = "model",
) -> bool:
    """Check a model a valuation method trains; return whether it is a classifier.

    Parameters
    ----------
    model : estimator
        An unfitted scikit-learn estimator with ``fit`` and ``predict``.
    classifier_only : bool, default=False
        Refuse regressors too (methods that compare predicted labels or probabilities).
    methods : tuple of str, default=("fit", "predict")
        Methods the model must offer.
    name : str, default="model"
        Argument name used in the message.

    Returns
    -------
    bool
        True for a classifier, False for a regressor.

    Raises
    ------
    InputTypeError
        If it is not an estimator instance with ``fit`` and ``predict``.
    ModelError
        If it is neither a classifier nor a regressor (e.g. a clusterer), or a regressor where a
        classifier is needed.
    """
    check_estimator(model, methods=methods, name=name)
    kind = _kind(model, name)
    if kind == "other":
        raise ModelError(
            f"{name} ({type(model).__name__}) is neither a classifier nor a regressor; data "
            "valuation retrains a supervised model. Pass e.g. LogisticRegression()."
        )
    if classifier_only:
        check_estimator(model, kind="classifier", name=name)
    return kind == "classifier"


def check_regression_scorer(model: Any, scorer: Any, *, classification: bool) -> None:
    """Refuse ``scorer='accuracy'`` for a regressor: it would score every fit as 0.

    Parameters
    ----------
    model : estimator
        The model (named in the message).
    scorer : str or callable
    classification : bool
        Whether the model is a classifier.

    Raises
    ------
    ModelError
        For ``scorer='accuracy'`` with a regressor.
    """
    if not classification and isinstance(scorer, str) and scorer == "accuracy":
        raise ModelError(
            f"scorer='accuracy' compares class labels, but model ({type(model).__name__}) is a "
            "regressor; pass a regression scorer such as scorer='r2' or "
            "scorer='neg_mean_squared_error'."
        )


def check_target(y: Any, *, classification: bool, name: str = "y", min_classes: int = 2) -> Any:
    """Check labels (classification) or a finite numeric target (regression).

    Parameters
    ----------
    y : array-like of shape (n,)
    classification : bool
        Class labels (core's classification target check) or a numeric target.
    name : str, default="y"
        Argument name used in messages.
    min_classes : int, default=2
        Fewest distinct classes accepted (classification only).

    Returns
    -------
    numpy.ndarray
        ``y`` as a 1-d array (float for a regression target).
    """
    if classification:
        return check_classification_target(y, name=name, min_classes=min_classes)
    return check_regression_target(y, name=name, float32=True)


def check_mask(mask: Any, n: int, *, name: str = "noisy") -> np.ndarray:
    """Check a boolean mask (or 0/1 values) of length ``n``.

    Parameters
    ----------
    mask : array-like of shape (n,)
    n : int
        Expected length.
    name : str, default="noisy"
        Argument name used in messages.

    Returns
    -------
    numpy.ndarray of bool
    """
    if mask is None:
        raise InputTypeError(f"{name} is None; pass a boolean mask (True = noisy point).")
    arr = np.asarray(mask)
    if arr.dtype.kind not in "biuf":
        raise InputError(f"{name} must be a boolean mask (True = noisy point), got {arr.dtype}.")
    if arr.shape != (n,):
        raise InputError(f"{name} has shape {arr.shape} but there are {n} values.")
    if arr.dtype != bool:
        if not np.isin(arr, [0, 1]).all():
            raise InputError(f"{name} must be a boolean mask (True = noisy point).")
        arr = arr.astype(bool)
    return arr


def check_fractions(fractions: Any) -> np.ndarray:
    """Check the fractions of a removal/addition curve: 1 to 1000 numbers in ``[0, 1)``.

    Parameters
    ----------
    fractions : float or array-like of float

    Returns
    -------
    numpy.ndarray of shape (n_fractions,)
    """
    if isinstance(fractions, numbers.Real) and not isinstance(fractions, bool):
        fractions = [fractions]
    fr = check_array(fractions, name="fractions", ndim=1)
    if fr.size > MAX_CURVE_POINTS:
        raise InputError(
            f"fractions has {fr.size} entries; each is a model fit, so use at most "
            f"{MAX_CURVE_POINTS}."
        )
    if ((fr < 0) | (fr >= 1)).any():
        raise InputError("fractions must lie in [0, 1).")
    return fr


def check_beta_args(n: Any, alpha: Any, beta: Any) -> tuple[int, float, float]:
    """Check the arguments of :func:`~workbench.valuation.semivalues.beta_weights`.

    Parameters
    ----------
    n : int
        Number of points, 1 to :data:`MAX_POINTS`.
    alpha, beta : float
        Beta-distribution parameters, in ``[0.01, 10000]``.

    Returns
    -------
    n : int
    alpha, beta : float
    """
    n = check_size(n, name="n", high=MAX_POINTS, hint="n is the number of training points.")
    check_method_params({"alpha": alpha, "beta": beta})
    return n, float(alpha), float(beta)


def check_scorer(scorer: Any) -> Any:
    """Check a scorer: a scikit-learn scorer name or a callable ``(estimator, X, y) -> float``.

    Parameters
    ----------
    scorer : str or callable

    Returns
    -------
    str or callable
        ``scorer`` itself.

    Raises
    ------
    InputTypeError
        If it is neither a string nor callable.
    UnknownNameError
        For a name scikit-learn does not know.
    """
    if callable(scorer):
        return scorer
    if not isinstance(scorer, str):
        raise InputTypeError(
            f"scorer must be a scikit-learn scorer name or a callable, got {type(scorer).__name__}."
        )
    from sklearn.metrics import get_scorer_names

    return check_choice(scorer, get_scorer_names(), kind="scorer")


def check_test(
    X_test: Any,
    y_test: Any,
    n_features: int,
    method: str,
    *,
    y: Any = None,
    classification: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Check the held-out data that a method scores its models on.

    Parameters
    ----------
    X_test, y_test : array-like
        Held-out features and labels (or targets); both are required.
    n_features : int
        Number of features of the training data.
    method : str
        Name of the method, for the message.
    y : array-like, optional
        Training labels; with ``classification``, ``y_test`` must share at least one of them.
    classification : bool, default=True
        Whether ``y_test`` holds class labels (a single class is fine) or a numeric target.

    Returns
    -------
    X_test, y_test : numpy.ndarray

    Raises
    ------
    InputError
        If either is missing, their lengths or the number of features differ, or (for class
        labels) ``y_test`` shares no label with ``y``.
    """
    if X_test is None or y_test is None:
        raise InputError(
            f"Method {method!r} scores models on held-out data: pass X_test and y_test "
            "(for example from sklearn.model_selection.train_test_split)."
        )
    Xt = check_array(X_test, name="X_test", float32=True)
    yt = check_target(y_test, classification=classification, name="y_test", min_classes=1)
    check_consistent_length(X_test=Xt, y_test=yt)
    if Xt.shape[1] != n_features:
        raise InputError(
            f"X_test has {Xt.shape[1]} features but X has {n_features}; use the same columns."
        )
    if classification and y is not None:
        if not set(np.unique(yt).tolist()) & set(np.unique(y).tolist()):
            raise InputError(
                "y_test shares no label with y; encode the training and test labels the same way."
            )
    return Xt, yt


def check_default_score(value: Any) -> float:
    """Check the utility of the empty set and of failed fits: a finite number, or NaN.

    NaN is allowed on purpose: retraining curves mark failed fits with it.

    Parameters
    ----------
    value : float

    Returns
    -------
    float

    Raises
    ------
    InputTypeError
        If it is not a real number.
    InputError
        If it is infinite (or an integer beyond the float range).
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputTypeError(f"default_score must be a number (or NaN), got {value!r}.")
    try:
        infinite = math.isinf(float(value))
    except OverflowError:  # an int too large for a float
        infinite = True
    if infinite:
        raise InputError(f"default_score must be finite (or NaN), got {value!r}.")
    return float(value)
