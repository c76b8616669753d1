"""A rank-averaged ensemble of valuation methods."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import numpy as np

from workbench.core.errors import InputError, InputTypeError
from workbench.core.validation import check_choice
from workbench.valuation.base import BaseValuation, ValuationData
from workbench.valuation.catalog import MEMBER_METHODS
from workbench.valuation.result import ValuationResult

__all__ = ["RankEnsemble"]


class RankEnsemble(BaseValuation):
    """Average of the members' value ranks (each scaled to (0, 1]).

    Ranks make methods with different scales comparable; the mean rank is robust to one member's
    outliers. A time budget is split equally between the members.

    Parameters
    ----------
    model : estimator, optional
        Model of the model-based members (default ``LogisticRegression(max_iter=1000)``).
    members : sequence of str, default=("knn_shapley", "data_oob", "confidence")
        Method names (any of :func:`workbench.valuation.list_methods` except ``"ensemble"``).
    n_neighbors : int, default=5
        K of a ``knn_shapley`` member.
    n_samples : int, optional
        Sample budget of each Monte Carlo member.
    max_time : float, optional
        Total time budget in seconds, shared equally among members.
    random_state : int, optional
    n_jobs : int, optional
    show_progress : bool, optional

    Attributes
    ----------
    result_ : ValuationResult
        ``stderr`` is NaN (not estimated for a rank average).
    member_results_ : dict of str to ValuationResult
    values_ : numpy.ndarray
    """

    name = "ensemble"

    def __init__(
        self,
        model: Any = None,
        *,
        members: tuple[str, ...] | list[str] = ("knn_shapley", "data_oob", "confidence"),
        n_neighbors: int = 5,
        n_samples: int | None = None,
        max_time: float | None = None,
        random_state: int | None = None,
        n_jobs: int | None = None,
        show_progress: bool | None = None,
    ) -> None:
        self.model = model
        self.members = members
        self.n_neighbors = n_neighbors
        self.n_samples = n_samples
        self.max_time = max_time
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.show_progress = show_progress

    def _member_classes(self) -> dict[str, type[BaseValuation]]:
        if isinstance(self.members, str) or not hasattr(self.members, "__iter__"):
            raise InputTypeError("members must be a list of method names, e.g. ['knn_shapley'].")
        names = list(self.members)
        if not names:
            raise InputError("members is empty; name at least one method.")
        return {
            m: MEMBER_METHODS[check_choice(m, MEMBER_METHODS, kind="ensemble member")]
            for m in names
        }

    @property
    def needs_test(self) -> bool:  # type: ignore[override]
        """Whether any member scores on held-out data."""
        return any(c.needs_test for c in self._member_classes().values())

    def _compute(self, data: ValuationData, start: float) -> ValuationResult:
        from scipy.stats import rankdata

        classes = self._member_classes()
        share = None if self.max_time is None else self.max_time / len(classes)
        results: dict[str, ValuationResult] = {}
        for name, cls in classes.items():
            params = cls().get_params(deep=False)
            kwargs: dict[str, Any] = {}
            for key, val in (
                ("model", self.model),
                ("n_neighbors", self.n_neighbors),
                ("n_samples", self.n_samples),
                ("max_time", share),
                ("random_state", self.random_state),
                ("n_jobs", self.n_jobs),
                ("show_progress", self.show_progress),
            ):
                if key in params:
                    kwargs[key] = val
            est = cls(**kwargs)
            results[name] = est.fit(data.X, data.y, data.X_test, data.y_test).result_
        n = data.X.shape[0]
        ranks = np.mean([rankdata(r.values) / n for r in results.values()], axis=0)
        self.member_results_ = results
        failures: Counter = Counter()
        for r in results.values():
            failures.update(r.failures)
        return ValuationResult(
            method=self.name,
            values=ranks,
            stderr=np.full(n, np.nan),
            counts=np.full(n, len(results)),
            n_samples=sum(r.n_samples for r in results.values()),
            n_fits=sum(r.n_fits for r in results.values()),
            n_failed_fits=sum(r.n_failed_fits for r in results.values()),
            failures=dict(failures),
            n_warned_fits=sum(r.n_warned_fits for r in results.values()),
            elapsed_s=time.time() - start,
            stop_reason="; ".join(f"{k}: {r.stop_reason}" for k, r in results.items()),
            params=self._params(),
        )
