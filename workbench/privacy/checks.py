"""Boundary checks of the privacy audit: estimators, records, member sets, attacks, numbers.

:func:`workbench.privacy.audit` (through :func:`workbench.privacy.arguments.validate_audit`) and
the other public functions run their arguments through these helpers once, before any model is
trained. The shared checks (seeds, finite and bounded numbers, class-label targets, estimator
kinds) come from :mod:`workbench.core`; this module adds the audit's own rules: a classifier, enough
records per class, member sets, bounded numbers of shadow models and queries.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

from workbench.core.errors import InputError, InputTypeError, ModelError
from workbench.core.params import check_number, check_size
from workbench.core.validation import (
    check_array,
    check_choice,
    check_classification_target,
    check_consistent_length,
    check_estimator,
)
from workbench.privacy import attacks as atk

__all__ = [
    "MAX_EPSILONS",
    "MAX_QUERIES",
    "MAX_SHADOWS",
    "MIN_PER_CLASS",
    "MIN_RECORDS",
    "MIN_SHADOWS",
    "as_indices",
    "check_classes",
    "check_classifier",
    "check_epsilons",
    "check_members",
    "check_mixin_order",
    "check_records",
    "check_sizes",
    "resolve_attacks",
]

#: Most shadow models an audit trains (LiRA reaches its power with 64-256).
MAX_SHADOWS = 1024
#: Most perturbed queries per record of the label-only attack.
MAX_QUERIES = 1000
#: Most privacy budgets (each one a DP variant that is audited).
MAX_EPSILONS = 20
#: Fewest records per class in pooled mode (each model trains on half of the records).
MIN_PER_CLASS = 4

MIN_RECORDS = 20
"""Fewest records an audit accepts (each model trains on about half of them)."""

MIN_SHADOWS = 4
"""Fewest shadow models for attacks that need references (each record needs IN and OUT ones)."""


def check_classifier(estimator: Any, *, fitted: bool = False, name: str = "estimator") -> Any:
    """Check that ``estimator`` is a scikit-learn classifier (a Pipeline ending in one counts).

    Membership inference here reads each model's labels and class probabilities, so regressors
    and clusterers are refused up front, with the fix, instead of failing inside an attack.

    Parameters
    ----------
    estimator : object
        The model (pooled mode: the template; given mode: the fitted model).
    fitted : bool, default=False
        Require a fitted estimator.
    name : str, default="estimator"
        Argument name used in messages.

    Returns
    -------
    estimator
        ``estimator`` itself.

    Raises
    ------
    InputTypeError
        If it is not an estimator instance with ``fit`` and ``predict``, or has no scikit-learn
        tags.
    ModelError
        If it is not a classifier (with the reason when the mixins are in the wrong order).
    NotFittedError
        If ``fitted`` and it is not fitted.
    """
    check_estimator(estimator, methods=("fit", "predict"), name=name)
    try:
        return check_estimator(estimator, kind="classifier", fitted=fitted, name=name)
    except ModelError as exc:
        if type(exc) is not ModelError:
            raise
        check_mixin_order(estimator, name=name)
        raise ModelError(
            f"{exc} The audit attacks a model through its predicted labels and class "
            "probabilities, so it needs a classifier; a regressor's leak is not measured here."
        ) from None


def check_mixin_order(estimator: Any, *, name: str = "estimator") -> None:
    """Refuse a classifier whose ``ClassifierMixin`` comes after ``BaseEstimator``.

    scikit-learn then does not see it as a classifier; the message says how to fix the class.

    Parameters
    ----------
    estimator : estimator
        An estimator with scikit-learn tags.
    name : str, default="estimator"
        Argument name used in the message.

    Raises
    ------
    ModelError
        If the estimator derives from ``ClassifierMixin`` but is not seen as a classifier.
    """
    from sklearn.base import ClassifierMixin, is_classifier

    if isinstance(estimator, ClassifierMixin) and not is_classifier(estimator):
        raise ModelError(
            f"{name} ({type(estimator).__name__}) derives from ClassifierMixin, but scikit-learn "
            "does not see it as a classifier: list the mixin first, as in "
            "class MyModel(ClassifierMixin, BaseEstimator)."
        )


def check_records(X: Any, y: Any, *, min_samples: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Check audit records: finite float32-safe features and class labels of equal length.

    Parameters
    ----------
    X : array-like of shape (n_records, n_features)
        Features; every model of the audit trains on them, some in float32.
    y : array-like of shape (n_records,)
        Class labels (integers, strings or whole floats below 2**53).
    min_samples : int, default=2
        Fewest records accepted.

    Returns
    -------
    X : numpy.ndarray of shape (n_records, n_features)
    y : numpy.ndarray of shape (n_records,)

    Raises
    ------
    InputError, InputTypeError
        For missing, non-finite or float32-overflowing features, a continuous or one-class
        target, or lengths that differ.
    """
    Xa = check_array(X, name="X", min_samples=min_samples, float32=True)
    ya = check_classification_target(y)
    check_consistent_length(X=Xa, y=ya)
    return Xa, ya


def check_classes(y: np.ndarray) -> None:
    """Refuse classes with fewer than :data:`MIN_PER_CLASS` records (pooled mode).

    Parameters
    ----------
    y : numpy.ndarray of shape (n_records,)
        Checked labels.
    """
    classes, counts = np.unique(y, return_counts=True)
    if counts.min() < MIN_PER_CLASS:
        rare = classes[counts < MIN_PER_CLASS].tolist()
        raise InputError(
            f"Class(es) {rare} have fewer than {MIN_PER_CLASS} records; each model trains on "
            "half of the records, so it would miss them. Drop or merge those classes."
        )


def check_epsilons(epsilons: Any) -> list[float]:
    """Check privacy budgets: 1 to :data:`MAX_EPSILONS` positive finite numbers.

    Parameters
    ----------
    epsilons : float or iterable of float
        One budget or several, each in ``(0, 1e6]``.

    Returns
    -------
    list of float
    """
    if isinstance(epsilons, numbers.Real) and not isinstance(epsilons, bool):
        epsilons = [epsilons]
    if isinstance(epsilons, str | bytes) or not isinstance(epsilons, Iterable):
        raise InputTypeError(
            f"epsilons must be a list of privacy budgets such as [1.0, 10.0], got {epsilons!r}."
        )
    eps = list(epsilons)
    if not eps:
        raise InputError("epsilons is empty; pass at least one privacy budget such as 1.0.")
    if len(eps) > MAX_EPSILONS:
        raise InputError(f"epsilons has {len(eps)} budgets; use at most {MAX_EPSILONS}.")
    return [check_number(e, name="epsilon", low=0.0, low_open=True, high=1e6) for e in eps]


def resolve_attacks(attacks: Any, estimator: Any) -> list[str]:
    """The attacks to run, in report order; refuse unknown names and impossible requests.

    Parameters
    ----------
    attacks : str, iterable of str or None
        Requested attacks (None: all of them).
    estimator : estimator
        The audited model (attacks on probabilities need ``predict_proba``).

    Returns
    -------
    list of str
    """
    has_proba = callable(getattr(estimator, "predict_proba", None))
    if attacks is None:
        if not has_proba:
            raise ModelError(
                f"{type(estimator).__name__} has no predict_proba, which the attacks "
                f"{', '.join(a for a in atk.ATTACKS if a in atk.NEEDS_PROBA)} need. Pass "
                "attacks=['label_only'] (it needs only predict), or use a model with class "
                "probabilities (e.g. SVC(probability=True))."
            )
        return list(atk.ATTACKS)
    if isinstance(attacks, str):
        names = [attacks]
    elif isinstance(attacks, Iterable) and not isinstance(attacks, bytes):
        names = list(attacks)
    else:
        raise InputTypeError(f"attacks must be a list of attack names, got {attacks!r}.")
    if not names:
        raise InputError(f"attacks is empty; choose from {', '.join(atk.ATTACKS)}.")
    for name in names:
        check_choice(name, atk.ATTACKS, kind="attack")
    needing = [a for a in names if a in atk.NEEDS_PROBA]
    if needing and not has_proba:
        raise ModelError(
            f"{type(estimator).__name__} has no predict_proba, which the attack(s) "
            f"{', '.join(needing)} need. Use attacks=['label_only'] for a model that only "
            "returns labels."
        )
    return [a for a in atk.ATTACKS if a in names]


def as_indices(value: Any, n: int, name: str) -> np.ndarray:
    """Row indices of ``X`` from a boolean mask or an integer index array.

    Parameters
    ----------
    value : array-like of bool or int
        Mask of shape ``(n,)`` or distinct row indices.
    n : int
        Rows of ``X``.
    name : str
        Argument name used in messages.

    Returns
    -------
    numpy.ndarray of int
    """
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):
        arr = np.asarray([None], dtype=object)
    if arr.dtype == bool:
        if arr.shape != (n,):
            raise InputError(f"{name} as a boolean mask needs shape ({n},), got {arr.shape}.")
        return np.nonzero(arr)[0]
    if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
        raise InputError(f"{name} must be a boolean mask or an array of row indices of X.")
    if arr.size and (arr.min() < 0 or arr.max() >= n):
        raise InputError(f"{name} holds row indices outside 0..{n - 1}.")
    if np.unique(arr).size != arr.size:
        raise InputError(f"{name} lists some rows twice; pass each row once.")
    return arr.astype(int)


def check_sizes(n_shadows: Any, n_queries: Any, noise_scale: Any) -> tuple[int, int, float]:
    """Check the audit's counts and the label-only noise level.

    Parameters
    ----------
    n_shadows, n_queries : int
        Shadow models (0 to :data:`MAX_SHADOWS`); label-only queries (1 to :data:`MAX_QUERIES`).
    noise_scale : float
        Label-only noise, in ``(0, 10]``.

    Returns
    -------
    n_shadows, n_queries : int
    noise_scale : float
    """
    n_shadows = check_size(
        n_shadows, name="n_shadows", low=0, high=MAX_SHADOWS, hint="16 to 64 are usual."
    )
    n_queries = check_size(n_queries, name="n_queries", high=MAX_QUERIES, hint="16 is usual.")
    noise_scale = check_number(
        noise_scale,
        name="noise_scale",
        low=0.0,
        low_open=True,
        high=10.0,
        hint="It is a share of each feature's standard deviation; 0.1 is usual.",
    )
    return n_shadows, n_queries, noise_scale


def check_members(
    estimator: Any, X: np.ndarray, y: np.ndarray, members: Any, non_members: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Given mode: check the fitted model against the records, and the member sets.

    Parameters
    ----------
    estimator : fitted classifier
        The audited model.
    X, y : numpy.ndarray
        Checked records and labels.
    members, non_members : array-like or None
        Rows the model trained on; rows known not to be in training (all others when None).

    Returns
    -------
    in_idx, out_idx : numpy.ndarray of int
    """
    n_in = getattr(estimator, "n_features_in_", None)
    if isinstance(n_in, numbers.Integral) and n_in != X.shape[1]:
        raise InputError(
            f"The fitted estimator expects {n_in} features but X has {X.shape[1]}; audit it on "
            "records with the columns it was trained on."
        )
    try:
        estimator.predict(X[:2])
    except Exception as exc:  # the user's model on the user's records: say what failed
        raise ModelError(
            f"The fitted estimator cannot predict on X ({type(exc).__name__}: {exc}); pass the "
            "records in the form it was trained on."
        ) from None
    model_classes = set(np.asarray(getattr(estimator, "classes_", [])).tolist())
    unknown = sorted(set(np.unique(y).tolist()) - model_classes, key=str)
    if unknown:
        raise InputError(
            f"Labels {unknown[:5]} in y are missing from the model's classes_ "
            f"{sorted(model_classes, key=str)[:10]}; audit the model on records of the "
            "classes it was trained on."
        )
    n = X.shape[0]
    in_idx = as_indices(members, n, "members")
    if in_idx.size == 0:
        raise InputError("members is empty; pass the rows the model was trained on.")
    if non_members is None:
        out_idx = np.setdiff1d(np.arange(n), in_idx)
    else:
        out_idx = as_indices(non_members, n, "non_members")
        overlap = np.intersect1d(in_idx, out_idx)
        if overlap.size:
            raise InputError(
                f"{overlap.size} row(s) are both members and non-members (first: "
                f"{overlap[:5].tolist()}); the two sets must be disjoint."
            )
    if out_idx.size == 0:
        raise InputError("No non-members: pass rows the model was not trained on.")
    return in_idx, out_idx
