"""Model-retraining methods: leave-one-out, TMC-Shapley, Beta Shapley and MSR-Banzhaf.

All of them estimate how a point changes the utility (test score of a model trained on a subset)
when it joins a subset. This module holds the estimators; their sampling loops (module-level
functions that every joblib backend can ship) are in :mod:`workbench.valuation.semivalue_sampling`.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from workbench.core.errors import ModelError
from workbench.core.parallel import effective_n_jobs, parallel_map
from workbench.valuation.base import BaseValuation, ValuationData
from workbench.valuation.checks import check_beta_args
from workbench.valuation.result import ValuationResult
from workbench.valuation.sampling import MeanAccumulator, RunLog, run_sampling, seed_entropy
from workbench.valuation.semivalue_sampling import (
    MSRAccumulator,
    loo_chunk,
    msr_chunk,
    permutation_chunk,
)
from workbench.valuation.utility import FitLog, single_threaded

__all__ = ["BetaShapley", "LeaveOneOut", "MSRBanzhaf", "TMCShapley", "beta_weights"]


def _raise_if_all_failed(fits: FitLog, what: str) -> None:
    if fits.n_fits and fits.n_failed == fits.n_fits:
        reason, _ = fits.failures.most_common(1)[0]
        raise ModelError(
            f"All {fits.n_fits} model fits of {what} failed (most common reason: {reason}); "
            "check the model and the data."
        )


def _result(
    name: str,
    values: np.ndarray,
    stderr: np.ndarray,
    counts: np.ndarray,
    log: RunLog,
    params: dict,
    backend: str = "",
) -> ValuationResult:
    return ValuationResult(
        method=name,
        values=values,
        stderr=stderr,
        counts=counts,
        n_samples=log.n_samples,
        n_fits=log.fits.n_fits,
        n_failed_fits=log.fits.n_failed,
        failures=dict(log.fits.failures),
        n_warned_fits=log.fits.n_warned,
        elapsed_s=log.elapsed_s,
        stop_reason=log.stop_reason,
        params=params,
        utility_backend=backend,
    )


class LeaveOneOut(BaseValuation):
    """Leave-one-out values: the test score lost when a point is removed from the training set.

    Parameters
    ----------
    model : estimator, optional
        Unfitted scikit-learn compatible model (default ``LogisticRegression(max_iter=1000)``).
    scorer : str or callable, default="accuracy"
        scikit-learn scorer name or ``scorer(estimator, X, y)``.
    default_score : float, default=0.0
        Utility of a failed fit.
    n_jobs : int, optional
        Parallel workers (joblib convention).
    show_progress : bool, optional
        Force the progress bar on or off.

    Attributes
    ----------
    result_ : ValuationResult
    values_ : numpy.ndarray
    """

    name = "loo"

    def __init__(
        self,
        model: Any = None,
        *,
        scorer: Any = "accuracy",
        default_score: float = 0.0,
        n_jobs: int | None = None,
        show_progress: bool | None = None,
    ) -> None:
        self.model = model
        self.scorer = scorer
        self.default_score = default_score
        self.n_jobs = n_jobs
        self.show_progress = show_progress

    def _compute(self, data: ValuationData, start: float) -> ValuationResult:
        util = self._utility(data)
        log = RunLog()
        if util.fast is not None:
            util.fast.prepare()
        with single_threaded():
            u_full = util.score(np.arange(util.n), log.fits)
        _raise_if_all_failed(log.fits, "the full training set")
        n_chunks = min(util.n, 8 * max(1, effective_n_jobs(self.n_jobs)))
        chunks = [c.tolist() for c in np.array_split(np.arange(util.n), n_chunks)]
        outs = parallel_map(
            loo_chunk,
            [(util, c) for c in chunks],
            n_jobs=self.n_jobs,
            desc="leave-one-out",
            show_progress=self.show_progress,
        )
        u_minus = np.concatenate([np.asarray(u, dtype=float) for u, _ in outs])
        for _, flog in outs:
            log.fits.merge(flog)
        _raise_if_all_failed(log.fits, "leave-one-out")
        log.n_samples = util.n
        log.elapsed_s = time.time() - start
        log.stop_reason = "exact (one fit per point)"
        n = util.n
        return _result(
            self.name, u_full - u_minus, np.zeros(n), np.ones(n), log, self._params(), util.backend
        )


# -- permutation sampling (TMC-Shapley, Beta Shapley) ---------------------------------------------
def beta_weights(n: int, alpha: float, beta: float) -> np.ndarray:
    """Importance weights of Beta(alpha, beta) Shapley for permutation sampling.

    A uniformly random permutation puts a point after ``k`` others with probability ``1/n``;
    weighting that marginal contribution by ``w[k] = n * C(n-1, k) * B(k+beta, n-1-k+alpha) /
    B(alpha, beta)`` makes its mean the Beta Shapley value (Kwon & Zou, 2022). ``alpha=beta=1``
    gives all ones (the Shapley value); ``alpha > beta`` favours small subsets.

    Parameters
    ----------
    n : int
        Number of points.
    alpha, beta : float
        Beta-distribution parameters, in ``[0.01, 10000]``.

    Returns
    -------
    numpy.ndarray of shape (n,)
    """
    from scipy.special import betaln, gammaln

    n, alpha, beta = check_beta_args(n, alpha, beta)
    k = np.arange(n, dtype=float)
    log_w = (
        math.log(n)
        + gammaln(n)
        - gammaln(k + 1)
        - gammaln(n - k)
        + betaln(k + beta, n - 1 - k + alpha)
        - betaln(alpha, beta)
    )
    return np.exp(log_w)


class TMCShapley(BaseValuation):
    """Data Shapley by truncated Monte Carlo permutation sampling (Ghorbani & Zou, 2019).

    Parameters
    ----------
    model : estimator, optional
        Unfitted scikit-learn compatible model (default ``LogisticRegression(max_iter=1000)``).
    scorer : str or callable, default="accuracy"
        scikit-learn scorer name or ``scorer(estimator, X, y)``.
    n_samples : int, optional
        Permutation budget. With neither ``n_samples`` nor ``max_time``, 50 permutations.
    max_time : float, optional
        Time budget in seconds, counted from the start of :meth:`fit`.
    tol : float, optional
        Stop early once every point's standard error is at most ``tol``.
    truncation_rtol : float, default=0.01
        A permutation is truncated once the utility is within this relative distance of the
        full-data utility.
    burn_in_fraction : float, default=0.0
        Share of each permutation evaluated before truncation may happen.
    keep_partial : bool, default=False
        When the time budget ends inside a permutation, use its evaluated prefix (as pyDVL
        does) instead of dropping it. Needed when one permutation takes longer than the budget;
        biases values toward contributions to small subsets.
    default_score : float, default=0.0
        Utility of the empty set and of failed fits.
    random_state : int, optional
        Seed; with ``n_samples`` the values are identical on every backend and ``n_jobs``.
    n_jobs : int, optional
        Parallel workers (joblib convention; honours ``joblib.parallel_config``).
    show_progress : bool, optional
        Force the progress bar on or off.

    Attributes
    ----------
    result_ : ValuationResult
    values_ : numpy.ndarray
    """

    name = "tmc_shapley"
    default_n_samples = 50

    def __init__(
        self,
        model: Any = None,
        *,
        scorer: Any = "accuracy",
        n_samples: int | None = None,
        max_time: float | None = None,
        tol: float | None = None,
        truncation_rtol: float = 0.01,
        burn_in_fraction: float = 0.0,
        keep_partial: bool = False,
        default_score: float = 0.0,
        random_state: int | None = None,
        n_jobs: int | None = None,
        show_progress: bool | None = None,
    ) -> None:
        self.keep_partial = keep_partial
        self.model = model
        self.scorer = scorer
        self.n_samples = n_samples
        self.max_time = max_time
        self.tol = tol
        self.truncation_rtol = truncation_rtol
        self.burn_in_fraction = burn_in_fraction
        self.default_score = default_score
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.show_progress = show_progress

    def _weights(self, n: int) -> np.ndarray | None:
        return None

    def _compute(self, data: ValuationData, start: float) -> ValuationResult:
        util = self._utility(data)
        weights = self._weights(util.n)
        pre = FitLog()
        if util.fast is not None:
            util.fast.prepare()  # all-data fit and preconditioner, shipped to the workers
        with single_threaded():
            u_full = util.score(np.arange(util.n), pre)
        _raise_if_all_failed(pre, "the full training set")
        entropy = seed_entropy(self.random_state)
        acc = MeanAccumulator(util.n)

        def make_task(ids: list[int], deadline: float | None) -> tuple[Any, ...]:
            return (
                util,
                ids,
                entropy,
                weights,
                self.truncation_rtol,
                self.burn_in_fraction,
                u_full,
                deadline,
                bool(self.keep_partial),
            )

        log = run_sampling(
            permutation_chunk,
            make_task,
            acc,
            self._budget(),
            start=start,
            n_jobs=self.n_jobs,
            desc=self.name,
            show_progress=self.show_progress,
            batch=util.batch_size,
        )
        log.fits.merge(pre)
        if acc.n == 0:
            raise ModelError(
                f"max_time={self.max_time} s was too short to finish one permutation of "
                f"{util.n} points; raise max_time, value fewer points or pass keep_partial=True."
            )
        _raise_if_all_failed(log.fits, self.name)
        params = {**self._params(), "entropy": entropy}
        return _result(
            self.name, acc.mean.copy(), acc.stderr(), acc.count.copy(), log, params, util.backend
        )


class BetaShapley(TMCShapley):
    """Beta(alpha, beta) Shapley (Kwon & Zou, 2022) by weighted permutation sampling.

    The default ``alpha=16, beta=1`` weights marginal contributions to small subsets more,
    where a mislabeled point does most damage. All other parameters are those of
    :class:`TMCShapley`.

    Parameters
    ----------
    model : estimator, optional
    alpha : float, default=16.0
    beta : float, default=1.0
    **kwargs
        See :class:`TMCShapley`.
    """

    name = "beta_shapley"

    def __init__(
        self,
        model: Any = None,
        *,
        alpha: float = 16.0,
        beta: float = 1.0,
        scorer: Any = "accuracy",
        n_samples: int | None = None,
        max_time: float | None = None,
        tol: float | None = None,
        truncation_rtol: float = 0.01,
        burn_in_fraction: float = 0.0,
        keep_partial: bool = False,
        default_score: float = 0.0,
        random_state: int | None = None,
        n_jobs: int | None = None,
        show_progress: bool | None = None,
    ) -> None:
        super().__init__(
            model,
            scorer=scorer,
            n_samples=n_samples,
            max_time=max_time,
            tol=tol,
            truncation_rtol=truncation_rtol,
            burn_in_fraction=burn_in_fraction,
            keep_partial=keep_partial,
            default_score=default_score,
            random_state=random_state,
            n_jobs=n_jobs,
            show_progress=show_progress,
        )
        self.alpha = alpha
        self.beta = beta

    def _weights(self, n: int) -> np.ndarray:
        return beta_weights(n, float(self.alpha), float(self.beta))


class MSRBanzhaf(BaseValuation):
    """Data Banzhaf values with the maximum-sample-reuse estimator (Wang & Jia, 2023).

    Each sample is one random subset (every point in with probability 1/2) and one model fit; it
    updates every point: ``value_i = mean(u | i in S) - mean(u | i not in S)``.

    Parameters
    ----------
    model : estimator, optional
        Unfitted scikit-learn compatible model (default ``LogisticRegression(max_iter=1000)``).
    scorer : str or callable, default="accuracy"
    n_samples : int, optional
        Subset budget. With neither ``n_samples`` nor ``max_time``, 1000 subsets.
    max_time : float, optional
        Time budget in seconds, counted from the start of :meth:`fit`.
    tol : float, optional
        Stop early once every point's standard error is at most ``tol``.
    default_score : float, default=0.0
        Utility of the empty set and of failed fits.
    random_state : int, optional
        Seed; with ``n_samples`` the values are identical on every backend and ``n_jobs``.
    n_jobs : int, optional
    show_progress : bool, optional

    Attributes
    ----------
    result_ : ValuationResult
    values_ : numpy.ndarray
    """

    name = "banzhaf"
    default_n_samples = 1000

    def __init__(
        self,
        model: Any = None,
        *,
        scorer: Any = "accuracy",
        n_samples: int | None = None,
        max_time: float | None = None,
        tol: float | None = None,
        default_score: float = 0.0,
        random_state: int | None = None,
        n_jobs: int | None = None,
        show_progress: bool | None = None,
    ) -> None:
        self.model = model
        self.scorer = scorer
        self.n_samples = n_samples
        self.max_time = max_time
        self.tol = tol
        self.default_score = default_score
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.show_progress = show_progress

    def _compute(self, data: ValuationData, start: float) -> ValuationResult:
        util = self._utility(data)
        if util.fast is not None:
            util.fast.prepare(share=0.5)  # warm start and preconditioner, shipped to workers
        entropy = seed_entropy(self.random_state)
        acc = MSRAccumulator(util.n)
        log = run_sampling(
            msr_chunk,
            lambda ids, deadline: (util, ids, entropy, deadline),
            acc,
            self._budget(),
            start=start,
            n_jobs=self.n_jobs,
            desc=self.name,
            show_progress=self.show_progress,
            round_seconds=0.5,
            batch=util.batch_size,
        )
        if acc.n == 0:
            raise ModelError(f"max_time={self.max_time} s was too short for a single fit.")
        _raise_if_all_failed(log.fits, self.name)
        counts = acc.inside.count + acc.outside.count
        params = {**self._params(), "entropy": entropy}
        values = np.nan_to_num(acc.values())
        return _result(self.name, values, acc.stderr(), counts, log, params, util.backend)
