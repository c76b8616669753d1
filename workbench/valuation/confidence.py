"""A cross-validated label-confidence baseline: how likely a model thinks each given label is."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from workbench.core.errors import InputError, ModelError
from workbench.core.parallel import parallel_map
from workbench.valuation.base import BaseValuation, ValuationData
from workbench.valuation.result import ValuationResult
from workbench.valuation.utility import FitLog, Utility, single_threaded

__all__ = ["LabelConfidence"]


def _fold(task: tuple[Utility, np.ndarray, np.ndarray]) -> tuple[np.ndarray, FitLog]:
    util, train, held_out = task
    log = FitLog()
    with single_threaded():
        est = util.fit(train, log)
        if est is None:
            return np.full(held_out.size, np.nan), log
        proba = est.predict_proba(util.X[held_out])
    classes = list(est.classes_)
    out = np.zeros(held_out.size)
    for j, label in enumerate(util.y[held_out]):
        if label in classes:
            out[j] = proba[j, classes.index(label)]
    return out, log


class LabelConfidence(BaseValuation):
    """Cross-validated probability of each point's own label (a strong, cheap baseline).

    Every point is predicted by a model that did not see it (stratified k-fold); its value is the
    predicted probability of the label it carries. Low values flag likely mislabeled points.

    Parameters
    ----------
    model : estimator, optional
        Unfitted classifier with ``predict_proba`` (default ``LogisticRegression(max_iter=1000)``).
    cv : int, default=5
        Number of folds, 2 to 1000 (and at most the size of the smallest class).
    random_state : int, optional
        Seed of the fold shuffle.
    n_jobs : int, optional
    show_progress : bool, optional

    Attributes
    ----------
    result_ : ValuationResult
    values_ : numpy.ndarray
    """

    name = "confidence"
    needs_test = False
    classification_only = True
    model_methods = ("fit", "predict", "predict_proba")

    def __init__(
        self,
        model: Any = None,
        *,
        cv: int = 5,
        random_state: int | None = None,
        n_jobs: int | None = None,
        show_progress: bool | None = None,
    ) -> None:
        self.model = model
        self.cv = cv
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.show_progress = show_progress

    def _compute(self, data: ValuationData, start: float) -> ValuationResult:
        from sklearn.model_selection import StratifiedKFold

        labels, counts = np.unique(data.y, return_counts=True)
        if counts.min() < self.cv:
            raise InputError(
                f"Class {labels[counts.argmin()]!r} has only {counts.min()} point(s) but "
                f"cv={self.cv} folds need at least that many per class; lower cv or add data."
            )
        folds = StratifiedKFold(n_splits=self.cv, shuffle=True, random_state=self.random_state)
        util = self._utility(data)
        splits = list(folds.split(data.X, data.y))
        outs = parallel_map(
            _fold,
            [(util, tr, te) for tr, te in splits],
            n_jobs=self.n_jobs,
            desc=self.name,
            show_progress=self.show_progress,
        )
        values = np.empty(util.n)
        fits = FitLog()
        for (_, te), (v, flog) in zip(splits, outs, strict=True):
            values[te] = v
            fits.merge(flog)
        if fits.n_failed == fits.n_fits:
            raise ModelError(f"Every fold fit failed ({fits.failures.most_common(1)[0][0]}).")
        failed_rows = np.isnan(values)
        values[failed_rows] = 0.5  # unknown: neither trusted nor flagged
        n = util.n
        return ValuationResult(
            method=self.name,
            values=values,
            stderr=np.zeros(n),
            counts=np.ones(n),
            n_samples=int(self.cv),
            n_fits=fits.n_fits,
            n_failed_fits=fits.n_failed,
            failures=dict(fits.failures),
            n_warned_fits=fits.n_warned,
            elapsed_s=time.time() - start,
            stop_reason=f"exact ({self.cv}-fold)",
            params=self._params(),
            utility_backend="sklearn",
        )
