"""Mitigated variants of a model: stronger regularization, smaller trees, differential privacy.

Differential privacy comes from the optional package ``diffprivlib`` (IBM), which offers private
logistic regression, Gaussian naive Bayes and random forests. It is not a dependency of the
workbench: diffprivlib 0.6.6 fails to import with scikit-learn 1.9 (``cannot import name 'DOUBLE'
from sklearn.tree._tree``) and works with scikit-learn 1.7–1.8. Asking for a DP variant without a
working diffprivlib raises :class:`~workbench.core.errors.DependencyError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from workbench.core.errors import DependencyError, InputError, InputTypeError, ModelError
from workbench.core.validation import check_choice
from workbench.privacy.checks import check_classifier, check_epsilons, check_records

__all__ = [
    "MITIGATIONS",
    "build_variants",
    "dp_variants",
    "import_diffprivlib",
    "mitigation_variants",
]

MITIGATIONS: tuple[str, ...] = ("regularize", "dp")
"""Mitigation kinds accepted by :func:`mitigation_variants`."""

_TREE_LIKE = (
    "RandomForestClassifier",
    "ExtraTreesClassifier",
    "DecisionTreeClassifier",
    "ExtraTreeClassifier",
)


def _final_step(estimator: Any) -> tuple[Any, str]:
    """The last estimator of a pipeline (or the estimator) and its parameter prefix."""
    steps = getattr(estimator, "steps", None)
    if steps:
        name, last = steps[-1]
        return last, f"{name}__"
    return estimator, ""


def import_diffprivlib() -> Any:
    """Import ``diffprivlib.models`` or explain why it cannot be used.

    Returns
    -------
    module
        ``diffprivlib.models``.

    Raises
    ------
    DependencyError
        If diffprivlib is not installed or fails to import (as 0.6.6 does with scikit-learn 1.9).
    """
    try:
        import diffprivlib.models as dpm
    except (ImportError, AttributeError) as exc:
        raise DependencyError(
            "Differential-privacy mitigations need the optional package diffprivlib "
            f"(pip install diffprivlib), but importing it failed: {exc}. diffprivlib 0.6.6 "
            "works with scikit-learn 1.7-1.8 and not with 1.9; use mitigations=['regularize'] "
            "or a separate environment."
        ) from None
    return dpm


def _regularized(estimator: Any) -> tuple[dict[str, Any], str | None]:
    from sklearn.base import clone

    last, prefix = _final_step(estimator)
    params = last.get_params()
    name = type(last).__name__
    out: dict[str, Any] = {}
    if "max_depth" in params and "min_samples_leaf" in params:
        for label, change in (
            ("max_depth=6", {"max_depth": 6}),
            ("max_depth=3, min_leaf=10", {"max_depth": 3, "min_samples_leaf": 10}),
        ):
            out[label] = clone(estimator).set_params(**{prefix + k: v for k, v in change.items()})
    elif "alpha" in params and isinstance(params["alpha"], int | float):
        base = float(params["alpha"]) or 1e-4
        for factor in (100.0, 10000.0):
            value = base * factor
            out[f"alpha={value:g}"] = clone(estimator).set_params(**{prefix + "alpha": value})
    elif "C" in params and isinstance(params["C"], int | float):
        for factor in (10.0, 100.0):
            value = float(params["C"]) / factor
            out[f"C={value:g}"] = clone(estimator).set_params(**{prefix + "C": value})
    else:
        return out, f"no regularization knob known for {name} (looked for max_depth, alpha, C)"
    return out, None


def dp_variants(
    estimator: Any,
    X: Any,
    y: Any,
    *,
    epsilons: Iterable[float] = (1.0, 10.0),
) -> dict[str, Any]:
    """Differentially private counterparts of ``estimator`` from diffprivlib, one per epsilon.

    Feature bounds (and the data norm of logistic regression) are read from ``X``; that reading
    is itself not private, as diffprivlib's documentation warns. Pipelines keep their
    preprocessing and swap the final estimator.

    Parameters
    ----------
    estimator : estimator or Pipeline
        A LogisticRegression, GaussianNB, or tree/forest classifier (possibly last in a Pipeline).
    X, y : array-like
        The audit records (for bounds and classes).
    epsilons : iterable of float, default=(1.0, 10.0)
        Privacy budgets in ``(0, 1e6]``, at most 20 of them; smaller is more private.

    Returns
    -------
    dict of str to estimator
        ``"DP eps=1"`` → unfitted diffprivlib estimator.

    Raises
    ------
    DependencyError
        If diffprivlib cannot be imported.
    ModelError
        If the estimator is not a classifier, or diffprivlib offers no private counterpart.
    InputError, InputTypeError
        For bad records or budgets.
    """
    check_classifier(estimator)
    Xa, ya = check_records(X, y)
    return _dp_variants(estimator, Xa, ya, check_epsilons(epsilons))


def _dp_variants(
    estimator: Any, X: np.ndarray, y: np.ndarray, eps_list: list[float]
) -> dict[str, Any]:
    """:func:`dp_variants` on checked arguments."""
    last, _ = _final_step(estimator)
    name = type(last).__name__
    supported = ("LogisticRegression", "GaussianNB", *_TREE_LIKE)
    if name not in supported:
        raise ModelError(
            f"diffprivlib offers no differentially private {name}; DP variants exist for "
            f"{', '.join(supported)}."
        )
    dpm = import_diffprivlib()
    from sklearn.base import clone

    steps = getattr(estimator, "steps", None)
    Xt = X
    if steps:
        Xt = clone(estimator[:-1]).fit_transform(X, y)
    Xt = np.asarray(Xt, dtype=float)
    bounds = (Xt.min(axis=0), Xt.max(axis=0))
    classes = np.unique(y)
    params = last.get_params()
    out: dict[str, Any] = {}
    for eps in eps_list:
        if name == "LogisticRegression":
            model = dpm.LogisticRegression(
                epsilon=eps,
                data_norm=float(np.linalg.norm(Xt, axis=1).max()),
                C=params.get("C", 1.0),
                max_iter=params.get("max_iter", 100),
            )
        elif name == "GaussianNB":
            model = dpm.GaussianNB(epsilon=eps, bounds=bounds)
        else:
            model = dpm.RandomForestClassifier(
                n_estimators=int(params.get("n_estimators", 10)),
                epsilon=eps,
                bounds=bounds,
                classes=classes,
                max_depth=int(params.get("max_depth") or 5),
            )
        if steps:
            from sklearn.pipeline import Pipeline

            model = Pipeline([*clone(estimator[:-1]).steps, (estimator.steps[-1][0], model)])
        out[f"DP eps={eps:g}"] = model
    return out


def mitigation_variants(
    estimator: Any,
    X: Any,
    y: Any,
    mitigations: str | Iterable[str] | Mapping[str, Any] = "auto",
    *,
    epsilons: Iterable[float] = (1.0, 10.0),
) -> tuple[dict[str, Any], list[str]]:
    """Unfitted mitigated variants of ``estimator`` and notes on those that could not be built.

    Parameters
    ----------
    estimator : estimator
        The audited model (template).
    X, y : array-like
        The audit records (DP bounds and classes).
    mitigations : "auto", iterable of {"regularize", "dp"}, or mapping of str to estimator
        ``"auto"``: regularization, plus DP when diffprivlib works and offers the model (skipped
        with a note otherwise). Names: the same kinds, but a DP request that cannot be honoured
        raises. A mapping gives the variants directly.
    epsilons : iterable of float, default=(1.0, 10.0)
        Privacy budgets of the DP variants.

    Returns
    -------
    variants : dict of str to estimator
    notes : list of str

    Raises
    ------
    UnknownNameError
        For an unknown mitigation kind.
    DependencyError, ModelError
        When ``"dp"`` is named explicitly and cannot be built.
    InputTypeError
        When a mapping value has no ``fit`` method.
    InputError, ModelError
        For bad records or budgets, or an estimator that is not a classifier.
    """
    check_classifier(estimator)
    Xa, ya = check_records(X, y)
    return build_variants(estimator, Xa, ya, mitigations, check_epsilons(epsilons))


def build_variants(
    estimator: Any,
    X: np.ndarray,
    y: np.ndarray,
    mitigations: Any,
    epsilons: list[float],
) -> tuple[dict[str, Any], list[str]]:
    """:func:`mitigation_variants` on checked estimator, records and budgets (the audit's path).

    Parameters
    ----------
    estimator : classifier
    X, y : numpy.ndarray
        Checked records.
    mitigations : "auto", iterable of str, or mapping of str to estimator
    epsilons : list of float
        Checked privacy budgets.

    Returns
    -------
    variants : dict of str to estimator
    notes : list of str
    """
    if isinstance(mitigations, Mapping):
        for key, est in mitigations.items():
            if not callable(getattr(est, "fit", None)):
                raise InputTypeError(
                    f"Mitigation {key!r} is a {type(est).__name__}, not an estimator with fit()."
                )
            check_classifier(est, name=f"mitigation {key!r}")
        return dict(mitigations), []
    auto = isinstance(mitigations, str) and mitigations == "auto"
    if isinstance(mitigations, str):
        kinds = list(MITIGATIONS) if auto else [mitigations]
    elif isinstance(mitigations, Iterable) and not isinstance(mitigations, bytes):
        kinds = list(mitigations)
    else:
        raise InputTypeError(
            f"mitigations must be 'auto', a list such as ['regularize'] or a mapping of "
            f"names to estimators, got {mitigations!r}."
        )
    if not kinds:
        raise InputError("mitigations is empty; pass 'auto', ['regularize'] or ['dp'].")
    for kind in kinds:
        check_choice(kind, MITIGATIONS, kind="mitigation")
    variants: dict[str, Any] = {}
    notes: list[str] = []
    if "regularize" in kinds:
        reg, note = _regularized(estimator)
        variants.update(reg)
        if note:
            notes.append(note)
    if "dp" in kinds:
        try:
            variants.update(_dp_variants(estimator, X, y, epsilons))
        except (DependencyError, ModelError) as exc:
            if not auto:
                raise
            notes.append(f"DP skipped: {exc}")
    return variants, notes
