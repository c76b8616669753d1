"""The fast utility path: test accuracy of batched LogisticRegression fits.

:class:`LogisticUtility` adapts :class:`~workbench.valuation.logistic_batch.BatchedLogistic` to
the valuation methods: it builds the warm start (and the preconditioner) once, fits batches of
weighted subsets, counts fits, single-class failures and non-converged fits in the caller's
:class:`~workbench.valuation.utility.FitLog`, and scores the fits on the test data.
"""

from __future__ import annotations

import numpy as np

from workbench.valuation.logistic_batch import BatchedLogistic, LogisticSpec
from workbench.valuation.utility import FitLog, single_threaded

__all__ = ["LogisticUtility"]


def _compact(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row indices and weights of the positive-weight rows of each problem, zero-padded.

    Parameters
    ----------
    weights : numpy.ndarray of shape (B, n)

    Returns
    -------
    rows : numpy.ndarray of shape (B, m)
        Positive-weight rows first, in order; ``m`` is the most any problem has.
    w : numpy.ndarray of shape (B, m)
        Their weights (0 for padding).
    """
    pos = weights > 0
    m = max(1, int(pos.sum(1).max()))
    order = np.argsort(~pos, axis=1, kind="stable")[:, :m]  # positive rows first, in order
    w = np.take_along_axis(weights, order, axis=1)
    return order, w


class LogisticUtility:
    """Accuracy of batched LogisticRegression fits on the test data: the fast utility path.

    Parameters
    ----------
    spec : LogisticSpec
    X, y : numpy.ndarray
        Training data.
    X_test, y_test : numpy.ndarray or None
        Test data the accuracy is measured on.
    default_score : float
        Utility of empty subsets and failed fits.

    Attributes
    ----------
    solver : BatchedLogistic
        The batch solver on the training data.
    X1_test : numpy.ndarray or None
        Test features with the intercept column (see :meth:`BatchedLogistic.design`).
    warm_ : numpy.ndarray of shape (1, K, d1) or None
        The warm start built by :meth:`prepare`.
    batch_size : int
        Problems solved together (32 binary, 16 multinomial).
    """

    name = "numpy-batched-logistic"

    def __init__(
        self,
        spec: LogisticSpec,
        X: np.ndarray,
        y: np.ndarray,
        X_test: np.ndarray | None,
        y_test: np.ndarray | None,
        default_score: float,
    ) -> None:
        self.solver = BatchedLogistic(spec, X, y)
        self.X1_test = None if X_test is None else self.solver.design(X_test)
        self.y_test = None if y_test is None else np.asarray(y_test)
        self.default_score = float(default_score)
        self._full: np.ndarray | None = None
        self.warm_: np.ndarray | None = None
        # Problems solved together: cheap binary problems in larger batches.
        self.batch_size = 32 if self.solver.n_classes_ <= 2 else 16

    def prepare(self, share: float | None = None) -> None:
        """Build the warm start (and preconditioner) of subsets holding ``share`` of the data.

        A random subset with a share ``s`` of the points has, in expectation, the objective of
        all points with ``C * s``; its solution is the warm start of every subset fit, and for
        multinomial models the Hessian there preconditions L-BFGS. Done once, before the work
        is shipped to workers.

        Parameters
        ----------
        share : float, optional
            Expected share of the points in a subset (clipped to ``[0.01, 1]``); without it only
            the all-data fit is made (the warm start).
        """
        with single_threaded():
            self.full_params()
            if share is None:
                return
            share = float(np.clip(share, 0.01, 1.0))
            spec = self.solver.spec
            n = self.solver.codes_.size
            if abs(share - 1.0) < 1e-9:
                warm = self.full_params()
            else:
                scaled = LogisticSpec(
                    C=spec.C * share, fit_intercept=spec.fit_intercept, tol=spec.tol
                )
                helper = BatchedLogistic(
                    scaled,
                    self.solver.X1_[:, :-1] if spec.fit_intercept else self.solver.X1_,
                    self.solver.classes_[self.solver.codes_],
                )
                warm = helper.fit(np.ones((1, n)))[0]
            self.warm_ = warm
            if self.solver.n_classes_ > 2:
                self.solver.set_reference(warm)
                self.solver.preconditioner(share)

    def full_params(self) -> np.ndarray:
        """Parameters fitted on all training points (the default warm start of subset fits).

        Returns
        -------
        numpy.ndarray of shape (1, K, d1)
        """
        if self._full is None:
            n = self.solver.codes_.size
            self._full = self.solver.fit(np.ones((1, n)))[0]
        return self._full

    def warm_start(self) -> np.ndarray:
        """The warm start of subset fits: from :meth:`prepare`, else the all-data fit.

        Returns
        -------
        numpy.ndarray of shape (1, K, d1)
        """
        return self.full_params() if self.warm_ is None else self.warm_

    def fit(
        self,
        weights: np.ndarray,
        log: FitLog,
        init: np.ndarray | None = None,
        rows: np.ndarray | None = None,
        precondition: bool = True,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Fit every non-empty problem, logging fits, single-class failures and non-convergence.

        Without ``rows``, each problem is reduced to its rows of positive weight (padded with
        zero weights to the longest in the batch): the same objective on fewer rows.

        Parameters
        ----------
        weights : numpy.ndarray of shape (B, n) or (B, m)
            Row weights of each problem (subset masks, bootstrap counts).
        log : FitLog
            Receives the counts.
        init : numpy.ndarray of shape (B, K, d1), optional
            Warm starts.
        rows : numpy.ndarray of shape (B, m), optional
            Row indices of each problem (``weights`` then applies to them).
        precondition : bool, default=True
            Use the preconditioner built by :meth:`prepare` for multinomial problems.

        Returns
        -------
        params : numpy.ndarray of shape (B, K, d1)
        present : numpy.ndarray of bool, shape (B, K)
            Classes present in each problem.
        fitted : numpy.ndarray of bool, shape (B,)
            Problems with at least two classes (the others are failed fits).
        """
        weights = np.asarray(weights, dtype=np.float64)
        nonempty = weights.sum(1) > 0
        if rows is None and self.solver.n_classes_ > 2:
            rows, weights = _compact(weights)
        params, present, converged = self.solver.fit(
            weights, init=init, rows=rows, precondition=precondition
        )
        fitted = present.sum(1) >= 2
        log.n_fits += int(nonempty.sum())
        n_single = int((nonempty & ~fitted).sum())
        if n_single:
            log.failures["subset has a single class"] += n_single
        log.n_warned += int((fitted & ~converged).sum())
        return params, present, fitted

    def accuracy(self, params: np.ndarray, present: np.ndarray, fitted: np.ndarray) -> np.ndarray:
        """Test accuracy of each problem; ``default_score`` where it was not fitted.

        Parameters
        ----------
        params, present, fitted : numpy.ndarray
            As returned by :meth:`fit`.

        Returns
        -------
        numpy.ndarray of shape (B,)
        """
        pred = self.solver.classes_[self.solver.predict_codes(params, self.X1_test, present)]
        acc = (pred == self.y_test[None, :]).mean(1)
        return np.where(fitted, acc, self.default_score)

    def score_weights(self, weights: np.ndarray, log: FitLog, warm: bool = True) -> np.ndarray:
        """Utilities of the weighted subsets (rows of ``weights``), warm-started from all data.

        Parameters
        ----------
        weights : numpy.ndarray of shape (B, n)
            Row weights of each subset.
        log : FitLog
            Receives the counts of fits and failures.
        warm : bool, default=True
            Start from :meth:`warm_start` (else from zeros).

        Returns
        -------
        numpy.ndarray of shape (B,)
        """
        weights = np.asarray(weights, dtype=np.float64)
        init = np.repeat(self.warm_start(), weights.shape[0], axis=0) if warm else None
        params, present, fitted = self.fit(weights, log, init=init)
        return self.accuracy(params, present, fitted)

    def predict_train(self, params: np.ndarray, present: np.ndarray) -> np.ndarray:
        """Predicted labels of every training point.

        Parameters
        ----------
        params, present : numpy.ndarray
            As returned by :meth:`fit`.

        Returns
        -------
        numpy.ndarray of shape (B, n)
        """
        return self.solver.classes_[self.solver.predict_codes(params, self.solver.X1_, present)]
