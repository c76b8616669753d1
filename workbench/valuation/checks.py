"""Boundary checks of the valuation tool: models, targets, parameters, budgets, plot arguments.

Every public function and every ``fit`` of the valuation tool runs its arguments through these
helpers once, before any work starts; the computation modules trust what they get. The shared
checks (seeds, finite and bounded numbers, target kinds, estimator kinds) come from
:mod:`workbench.core`; this module adds the valuation-specific limits, so that ``'x'``, ``-1``,
``NaN``, ``1e308`` or a typo such as ``n_samples=10**9`` is refused with a message that says what
to do instead of reaching numpy, scikit-learn or a hang.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from workbench.core.errors import InputError, InputTypeError, ModelError
from workbench.core.params import check_number, check_random_state, check_size
from workbench.core.validation import (
    check_array,
    check_classification_target,
    check_estimator,
    check_n_jobs,
    check_regression_target,
)

__all__ = [
    "MAX_CURVE_POINTS",
    "MAX_POINTS",
    "MAX_SAMPLES",
    "MAX_TIME_S",
    "check_ax",
    "check_beta_args",
    "check_flag",
    "check_fractions",
    "check_label_size",
    "check_mask",
    "check_method_params",
    "check_model",
    "check_regression_scorer",
    "check_target",
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


def check_flag(value: Any, *, name: str, optional: bool = False) -> bool | None:
    """Check a switch: ``True`` or ``False`` (or ``None`` when ``optional``)."""
    if value is None and optional:
        return None
    if not isinstance(value, bool | np.bool_):
        allowed = "True, False or None" if optional else "True or False"
        raise InputTypeError(f"{name} must be {allowed}, got {value!r}.")
    return bool(value)


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
    """Refuse ``scorer='accuracy'`` for a regressor: it would score every fit as 0."""
    if not classification and isinstance(scorer, str) and scorer == "accuracy":
        raise ModelError(
            f"scorer='accuracy' compares class labels, but model ({type(model).__name__}) is a "
            "regressor; pass a regression scorer such as scorer='r2' or "
            "scorer='neg_mean_squared_error'."
        )


def check_target(y: Any, *, classification: bool, name: str = "y", min_classes: int = 2) -> Any:
    """Check labels (classification) or a finite numeric target (regression)."""
    if classification:
        ya = check_classification_target(y, name=name, min_classes=min_classes)
        check_label_size(ya, name=name)
        return ya
    return check_regression_target(y, name=name, float32=True)


def check_label_size(y: np.ndarray, *, name: str = "y") -> None:
    """Refuse float labels beyond 2**53, where whole numbers stop being exact integers.

    scikit-learn reads such labels as a continuous target, so its fits would fail one by one.
    """
    if y.dtype.kind == "f" and y.size and float(np.abs(y).max()) > 2.0**53:
        raise InputError(
            f"{name} holds float labels up to {float(np.abs(y).max()):.3g}; class labels must be "
            "integers below 2**53 or strings. Encode the classes (e.g. LabelEncoder)."
        )


def check_mask(mask: Any, n: int, *, name: str = "noisy") -> np.ndarray:
    """Check a boolean mask (or 0/1 values) of length ``n``."""
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


def check_ax(ax: Any) -> Any:
    """Check a matplotlib ``Axes`` (or None, for a new figure)."""
    if ax is None:
        return None
    from matplotlib.axes import Axes

    if not isinstance(ax, Axes):
        raise InputTypeError(
            f"ax must be a matplotlib Axes or None, got {type(ax).__name__}; "
            "e.g. fig, ax = plt.subplots()."
        )
    return ax


def check_fractions(fractions: Any) -> np.ndarray:
    """Check the fractions of a removal/addition curve: 1 to 1000 numbers in ``[0, 1)``."""
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
    """Check the arguments of :func:`~workbench.valuation.semivalues.beta_weights`."""
    n = check_size(n, name="n", high=MAX_POINTS, hint="n is the number of training points.")
    check_method_params({"alpha": alpha, "beta": beta})
    return n, float(alpha), float(beta)
