"""The single entry point :func:`value` and the table of method names."""

from __future__ import annotations

import inspect
from typing import Any

from workbench.core.errors import InputError, UnknownNameError
from workbench.core.validation import check_choice
from workbench.valuation.base import BaseValuation
from workbench.valuation.catalog import MEMBER_METHODS
from workbench.valuation.checks import check_method_params, check_model
from workbench.valuation.ensemble import RankEnsemble
from workbench.valuation.result import ValuationResult

__all__ = ["METHODS", "list_methods", "make_method", "value"]

METHODS: dict[str, type[BaseValuation]] = {**MEMBER_METHODS, "ensemble": RankEnsemble}


def list_methods() -> list[str]:
    """Names accepted by :func:`value` and :func:`make_method`."""
    return list(METHODS)


_COMMON = ("model", "n_samples", "max_time", "random_state", "n_jobs", "show_progress")


def make_method(method: str, **params: Any) -> BaseValuation:
    """Build the valuation object of ``method`` with ``params``.

    Parameters
    ----------
    method : str
        One of :func:`list_methods`.
    **params
        Constructor parameters of that method's class. ``None`` values are left at defaults. The
        common parameters ``n_samples``, ``max_time``, ``random_state``, ``n_jobs`` and
        ``show_progress`` are checked, then dropped for methods that do not use them (exact
        methods need no budget or seed), so one call shape works for every method. ``model`` is
        refused by a method that trains none.

    Raises
    ------
    UnknownNameError
        For an unknown method.
    InputError
        For a parameter the method does not take, for ``model`` given to a method that trains
        no model (``knn_shapley``), or for a common parameter out of range.
    """
    if not isinstance(method, str):
        raise UnknownNameError("valuation method", method, METHODS)
    cls = METHODS[check_choice(method, METHODS, kind="valuation method")]
    accepted = set(inspect.signature(cls.__init__).parameters) - {"self"}
    if params.get("model") is not None and "model" not in accepted:
        uses = ", ".join(repr(m) for m, c in METHODS.items() if c.needs_model)
        raise InputError(
            f"Method {method!r} trains no model, so model={type(params['model']).__name__} "
            f"would be ignored. Drop model=, or pick a method that retrains it: {uses}."
        )
    if params.get("model") is not None:
        check_model(
            params["model"], classifier_only=cls.classification_only, methods=cls.model_methods
        )
    # Dropped common parameters are still checked: a bad seed or budget is a mistake anyway.
    check_method_params({k: v for k, v in params.items() if k in _COMMON and v is not None})
    unknown = sorted(
        k for k, v in params.items() if k not in accepted and k not in _COMMON and v is not None
    )
    if unknown:
        raise InputError(
            f"Method {method!r} takes no parameter(s) {unknown}; it accepts {sorted(accepted)}."
        )
    return cls(**{k: v for k, v in params.items() if k in accepted and v is not None})


def value(
    X: Any,
    y: Any,
    *,
    model: Any = None,
    method: str = "knn_shapley",
    X_test: Any = None,
    y_test: Any = None,
    n_samples: int | None = None,
    max_time: float | None = None,
    random_state: int | None = None,
    n_jobs: int | None = None,
    show_progress: bool | None = None,
    **params: Any,
) -> ValuationResult:
    """Value every training point with one method.

    Parameters
    ----------
    X : array-like of shape (n_points, n_features)
        Training points to value.
    y : array-like of shape (n_points,)
        Their labels.
    model : estimator, optional
        Unfitted scikit-learn classifier (or regressor, with a regression ``scorer``) for the
        model-based methods (default ``LogisticRegression(max_iter=1000)``). ``knn_shapley``,
        the default method, trains no model and refuses one: pass ``method=`` too. A plain L2/lbfgs
        ``LogisticRegression`` scored by accuracy is fitted on many subsets at once by a batched
        numpy solver of the same objective when the features lie within +-1e6
        (``result.utility_backend`` says which path ran).
    method : str, default="knn_shapley"
        ``"loo"``, ``"tmc_shapley"``, ``"beta_shapley"``, ``"banzhaf"`` (MSR), ``"knn_shapley"``,
        ``"data_oob"``, ``"confidence"`` or ``"ensemble"``.
    X_test, y_test : array-like, optional
        Held-out data for methods that score models (all but ``data_oob`` and ``confidence``).
    n_samples : int, optional
        Sample budget of Monte Carlo methods (permutations, subsets or bags).
    max_time : float, optional
        Time budget in seconds, counted from this call.
    random_state : int, optional
        Seed; a fixed seed with ``n_samples`` gives identical values on any joblib backend.
    n_jobs : int, optional
        Parallel workers; honours ``joblib.parallel_config`` (e.g. ``backend="dask"``).
    show_progress : bool, optional
        Force the progress bar on or off.
    **params
        Method-specific parameters (``scorer``, ``tol``, ``n_neighbors``, ``alpha`` ...).

    Returns
    -------
    ValuationResult

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> res = value(X[::2], y[::2], X_test=X[1::2], y_test=y[1::2], method="knn_shapley")
    >>> res.values.shape
    (75,)
    """
    est = make_method(
        method,
        model=model,
        n_samples=n_samples,
        max_time=max_time,
        random_state=random_state,
        n_jobs=n_jobs,
        show_progress=show_progress,
        **params,
    )
    return est.fit(X, y, X_test, y_test).result_
