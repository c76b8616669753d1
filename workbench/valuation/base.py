"""The base of every valuation method: parameter and data validation at the public boundary."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator

from workbench.core.validation import check_array, check_consistent_length
from workbench.valuation.checks import (
    check_method_params,
    check_model,
    check_regression_scorer,
    check_scorer,
    check_target,
    check_test,
)
from workbench.valuation.result import ValuationResult
from workbench.valuation.sampling import Budget
from workbench.valuation.utility import Utility

__all__ = ["FAST_MAX_ABS", "BaseValuation", "ValuationData", "default_model"]

#: Largest feature magnitude the batched LogisticRegression solver takes (sklearn fits the rest).
FAST_MAX_ABS = 1e6


def default_model() -> Any:
    """The model used when none is given: ``LogisticRegression(max_iter=1000)``.

    Returns
    -------
    sklearn.linear_model.LogisticRegression
        A new, unfitted instance.
    """
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=1000)


@dataclass
class ValuationData:
    """Validated inputs of one valuation run.

    Attributes
    ----------
    X, y : numpy.ndarray
        Training features and labels (or targets).
    X_test, y_test : numpy.ndarray or None
        Held-out data (None for methods that need none).
    classification : bool
        Whether the model is a classifier (``y`` holds class labels).
    """

    X: np.ndarray
    y: np.ndarray
    X_test: np.ndarray | None
    y_test: np.ndarray | None
    classification: bool


class BaseValuation(BaseEstimator):
    """Base class of the valuation methods (scikit-learn style: parameters in ``__init__``).

    Subclasses set the class attributes and implement ``_compute(data, start)``. After
    :meth:`fit`, ``result_`` holds a :class:`ValuationResult` and ``values_`` its values.
    """

    name: ClassVar[str] = ""
    needs_test: ClassVar[bool] = True
    needs_model: ClassVar[bool] = True
    classification_only: ClassVar[bool] = False
    min_points: ClassVar[int] = 2
    default_n_samples: ClassVar[int | None] = None
    model_methods: ClassVar[tuple[str, ...]] = ("fit", "predict")

    def fit(self, X: Any, y: Any, X_test: Any = None, y_test: Any = None) -> BaseValuation:
        """Value every training point.

        Parameters
        ----------
        X : array-like of shape (n_points, n_features)
            Training points to value.
        y : array-like of shape (n_points,)
            Their labels (or targets).
        X_test, y_test : array-like, optional
            Held-out data the utility is scored on (required by methods that need it).

        Returns
        -------
        self
        """
        start = time.time()  # budgets count from the start of the run, not from construction
        data = self._validate(X, y, X_test, y_test)
        self.result_ = self._compute(data, start)
        self.values_ = self.result_.values
        self.utility_backend_ = self.result_.utility_backend
        return self

    # -- validation -----------------------------------------------------------------------
    def _get_model(self) -> Any:
        model = getattr(self, "model", None)
        return default_model() if model is None else model

    def _budget(self) -> Budget:
        n_samples = getattr(self, "n_samples", None)
        max_time = getattr(self, "max_time", None)
        if n_samples is None and max_time is None:
            n_samples = self.default_n_samples
        return Budget(n_samples=n_samples, max_time=max_time, tol=getattr(self, "tol", None))

    def _validate(self, X: Any, y: Any, X_test: Any, y_test: Any) -> ValuationData:
        check_method_params(self.get_params(deep=False))
        if hasattr(self, "scorer"):
            check_scorer(self.scorer)
        classification = True
        if self.needs_model:
            classification = check_model(
                self._get_model(),
                classifier_only=self.classification_only,
                methods=self.model_methods,
            )
            check_regression_scorer(
                self._get_model(), getattr(self, "scorer", None), classification=classification
            )
        Xa = check_array(X, name="X", min_samples=self.min_points, float32=True)
        ya = check_target(y, classification=classification)
        check_consistent_length(X=Xa, y=ya)
        Xt, yt = None, None
        if self.needs_test:
            Xt, yt = check_test(
                X_test, y_test, Xa.shape[1], self.name, y=ya, classification=classification
            )
        return ValuationData(Xa, ya, Xt, yt, classification)

    def _utility(self, data: ValuationData) -> Utility:
        model = self._get_model()
        scorer = getattr(self, "scorer", "accuracy")
        fast = None
        if data.classification and scorer == "accuracy":
            from workbench.valuation.logistic_batch import logistic_spec
            from workbench.valuation.logistic_utility import LogisticUtility

            spec = logistic_spec(model)
            # Far beyond this magnitude the batched Newton solves go singular (seen from 1e10).
            if spec is not None and float(np.abs(data.X).max()) <= FAST_MAX_ABS:
                fast = LogisticUtility(
                    spec,
                    data.X,
                    data.y,
                    data.X_test,
                    data.y_test,
                    float(getattr(self, "default_score", 0.0)),
                )
        return Utility(
            fast=fast,
            model=model,
            X=data.X,
            y=data.y,
            X_test=data.X_test,
            y_test=data.y_test,
            scorer=getattr(self, "scorer", "accuracy"),
            default_score=float(getattr(self, "default_score", 0.0)),
            classification=data.classification,
        )

    def _compute(self, data: ValuationData, start: float) -> ValuationResult:  # pragma: no cover
        raise NotImplementedError

    def _params(self) -> dict[str, Any]:
        return {
            k: (repr(v) if not isinstance(v, str | int | float | bool | type(None)) else v)
            for k, v in self.get_params(deep=False).items()
        }
