"""Data-OOB (Kwon & Zou, 2023): how well bagged models predict a point when it was left out."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from workbench.core.errors import ModelError
from workbench.valuation.base import BaseValuation, ValuationData
from workbench.valuation.result import ValuationResult
from workbench.valuation.sampling import (
    MeanAccumulator,
    run_sampling,
    sample_groups,
    seed_entropy,
)
from workbench.valuation.utility import FitLog, single_threaded

__all__ = ["DataOOB"]


def _oob_chunk(task: tuple[Any, ...]) -> tuple[list[Any], FitLog]:
    with single_threaded():
        if task[0].fast is not None:
            return _bags_batched(*task)
        return _bags(*task)


def _bags_batched(
    util: Any, ids: list[int], entropy: int, m: int, deadline: float | None
) -> tuple[list[Any], FitLog]:
    """:func:`_bags` on the fast path: the bags of a group are fitted together.

    A bag drawn with replacement is the same fit as bootstrap counts used as row weights.
    """
    fast = util.fast
    log = FitLog()
    out: list[Any] = []
    n = util.n
    for group in sample_groups(ids, util.batch_size):
        if deadline is not None and time.time() >= deadline:
            break
        counts = np.stack(
            [
                np.bincount(np.random.default_rng([entropy, s]).integers(0, n, size=m), minlength=n)
                for s in group
            ]
        ).astype(np.float64)
        init = np.repeat(fast.warm_start(), len(group), axis=0)
        params, present, fitted = fast.fit(counts, log, init=init)
        pred = fast.predict_train(params, present)
        for j in range(len(group)):
            oob = counts[j] == 0
            if not fitted[j] or not oob.any():
                out.append((np.zeros(0), np.zeros(n, dtype=bool)))
                continue
            out.append(((pred[j, oob] == util.y[oob]).astype(np.float64), oob))
    return out, log


def _bags(
    util: Any, ids: list[int], entropy: int, m: int, deadline: float | None
) -> tuple[list[Any], FitLog]:
    log = FitLog()
    out: list[Any] = []
    n = util.n
    for s in ids:
        if deadline is not None and time.time() >= deadline:
            break
        idx = np.random.default_rng([entropy, s]).integers(0, n, size=m)
        oob = np.ones(n, dtype=bool)
        oob[idx] = False
        est = util.fit(idx, log)
        if est is None or not oob.any():
            out.append((np.zeros(0), np.zeros(n, dtype=bool)))  # a sample with no update
            continue
        try:
            pred = est.predict(util.X[oob])
        except Exception as exc:
            log.failures[f"predict failed, {type(exc).__name__}: {str(exc)[:100]}"] += 1
            out.append((np.zeros(0), np.zeros(n, dtype=bool)))
            continue
        truth = util.y[oob]
        if util.classification:
            score = (pred == truth).astype(np.float64)
        else:
            score = -((np.asarray(pred, dtype=float) - truth) ** 2)
        out.append((score, oob))
    return out, log


class DataOOB(BaseValuation):
    """Data-OOB values: the mean out-of-bag score of each point over bootstrap models.

    Each sample is one bootstrap bag and one fit of ``model``; every point left out of the bag
    gets the bag model's score on it (1/0 correctness for classifiers, minus the squared error for
    regressors). Mislabeled points are rarely predicted as labeled, so they get low values. No test
    set is needed.

    Parameters
    ----------
    model : estimator, optional
        Base learner, unfitted (default ``LogisticRegression(max_iter=1000)``; decision trees are
        the paper's choice).
    n_samples : int, optional
        Number of bags. With neither ``n_samples`` nor ``max_time``, 100.
    max_time : float, optional
        Time budget in seconds, counted from the start of :meth:`fit`.
    tol : float, optional
        Stop early once every point's standard error is at most ``tol``.
    max_samples : float, default=1.0
        Bag size as a share of the training points (drawn with replacement), in ``(0, 10]``.
    random_state : int, optional
    n_jobs : int, optional
    show_progress : bool, optional

    Attributes
    ----------
    result_ : ValuationResult
    values_ : numpy.ndarray
    """

    name = "data_oob"
    needs_test = False
    default_n_samples = 100

    def __init__(
        self,
        model: Any = None,
        *,
        n_samples: int | None = None,
        max_time: float | None = None,
        tol: float | None = None,
        max_samples: float = 1.0,
        random_state: int | None = None,
        n_jobs: int | None = None,
        show_progress: bool | None = None,
    ) -> None:
        self.model = model
        self.n_samples = n_samples
        self.max_time = max_time
        self.tol = tol
        self.max_samples = max_samples
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.show_progress = show_progress

    def _compute(self, data: ValuationData, start: float) -> ValuationResult:
        util = self._utility(data)
        m = max(1, round(float(self.max_samples) * util.n))
        entropy = seed_entropy(self.random_state)
        if util.fast is not None:
            util.fast.prepare(share=m / util.n)  # warm start and preconditioner, shipped
        acc = MeanAccumulator(util.n)
        log = run_sampling(
            _oob_chunk,
            lambda ids, deadline: (util, ids, entropy, m, deadline),
            acc,
            self._budget(),
            start=start,
            n_jobs=self.n_jobs,
            desc=self.name,
            show_progress=self.show_progress,
            batch=util.batch_size,
        )
        if log.fits.n_fits and log.fits.n_failed == log.fits.n_fits:
            reason = log.fits.failures.most_common(1)[0][0]
            raise ModelError(f"All {log.fits.n_fits} bag fits failed ({reason}).")
        never = acc.count == 0
        values = acc.mean.copy()
        if never.all():
            raise ModelError("No point was ever out of bag; raise n_samples or max_time.")
        # A point never left out has no estimate: give it the average, and say so.
        values[never] = values[~never].mean()
        stop = log.stop_reason + (
            f"; {int(never.sum())} point(s) never out of bag" if never.any() else ""
        )
        return ValuationResult(
            method=self.name,
            values=values,
            stderr=acc.stderr(),
            counts=acc.count.copy(),
            n_samples=log.n_samples,
            n_fits=log.fits.n_fits,
            n_failed_fits=log.fits.n_failed,
            failures=dict(log.fits.failures),
            n_warned_fits=log.fits.n_warned,
            elapsed_s=log.elapsed_s,
            stop_reason=stop,
            params={**self._params(), "entropy": entropy},
            utility_backend=util.backend,
        )
