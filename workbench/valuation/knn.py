"""Exact Shapley values of a k-nearest-neighbour classifier (Jia et al., 2019), vectorized.

For one test point with training points sorted from nearest to farthest (``a_1 .. a_N``) the
values satisfy ``s_N = [y_{a_N} = y_t] / N`` and
``s_i = s_{i+1} + ([y_{a_i} = y_t] - [y_{a_{i+1}} = y_t]) / max(K, i)``. Here the recursion is a
reversed cumulative sum over a whole batch of test points, and test points are processed in
batches so memory stays within ``max_memory_mb``.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from workbench.core.parallel import parallel_map
from workbench.core.validation import check_array, check_consistent_length
from workbench.valuation.base import BaseValuation, ValuationData
from workbench.valuation.checks import check_method_params, check_target, check_test
from workbench.valuation.result import ValuationResult

__all__ = ["KNNShapley", "knn_shapley_values"]

# float64/int64 arrays of shape (batch, n_train) alive at once inside one batch
_ARRAYS_PER_CELL = 6


def _knn_batch(
    task: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, int],
) -> np.ndarray:
    X, sq_norms, y, Xb, yb, k = task
    n = X.shape[0]
    # Squared Euclidean distances up to a per-row constant (|x_test|^2 does not change the order).
    d = sq_norms[None, :] - 2.0 * (Xb @ X.T)
    order = np.argsort(d, axis=1, kind="stable")
    del d
    match = (y[order] == yb[:, None]).astype(np.float64)
    # Walk from the farthest point to the nearest: r[:, j] is the value of the point at rank N-j.
    r = np.empty_like(match)
    r[:, 0] = match[:, -1] / n
    coef = 1.0 / np.maximum(k, np.arange(1, n))  # rank i (1-based), i = 1 .. N-1
    r[:, 1:] = ((match[:, :-1] - match[:, 1:]) * coef)[:, ::-1]
    np.cumsum(r, axis=1, out=r)
    sorted_values = r[:, ::-1]
    return np.bincount(order.ravel(), weights=sorted_values.ravel(), minlength=n)


def knn_shapley_values(
    X: Any,
    y: Any,
    X_test: Any,
    y_test: Any,
    n_neighbors: int = 5,
    *,
    batch_size: int | None = None,
    max_memory_mb: float = 256.0,
    n_jobs: int | None = None,
    show_progress: bool | None = None,
) -> np.ndarray:
    """Exact KNN-Shapley values of every training point, averaged over the test points.

    Parameters
    ----------
    X, y : array-like
        Training features (n_train, n_features) and class labels.
    X_test, y_test : array-like
        Test features and class labels.
    n_neighbors : int, default=5
        K of the nearest-neighbour classifier, 1 to 100000.
    batch_size : int, optional
        Test points per batch; by default as many as fit in ``max_memory_mb``.
    max_memory_mb : float, default=256
        Memory bound of one batch, in ``(0, 65536]`` MiB.
    n_jobs : int, optional
        Batches run in parallel threads (numpy releases the GIL in matmul and sort).
    show_progress : bool, optional
        Force the progress bar on or off.

    Returns
    -------
    numpy.ndarray of shape (n_train,)

    Raises
    ------
    InputError, InputTypeError
        For bad data (NaN, wrong shapes, continuous labels, mismatched lengths) or parameters.
    """
    check_method_params(
        {
            "n_neighbors": n_neighbors,
            "batch_size": batch_size,
            "max_memory_mb": max_memory_mb,
            "n_jobs": n_jobs,
            "show_progress": show_progress,
        }
    )
    Xa = check_array(X, name="X", float32=True)
    ya = check_target(y, classification=True, min_classes=1)
    check_consistent_length(X=Xa, y=ya)
    Xt, yt = check_test(X_test, y_test, Xa.shape[1], "knn_shapley", y=ya)
    return _knn_values(
        Xa, ya, Xt, yt, int(n_neighbors), batch_size, float(max_memory_mb), n_jobs, show_progress
    )


def _knn_values(
    X: np.ndarray,
    y: np.ndarray,
    X_test: np.ndarray,
    y_test: np.ndarray,
    n_neighbors: int,
    batch_size: int | None,
    max_memory_mb: float,
    n_jobs: int | None,
    show_progress: bool | None,
) -> np.ndarray:
    """:func:`knn_shapley_values` on validated inputs."""
    n = X.shape[0]
    if batch_size is None:
        batch_size = int(max_memory_mb * 2**20 // (_ARRAYS_PER_CELL * 8 * n))
    batch_size = max(1, min(batch_size, X_test.shape[0]))
    sq_norms = np.einsum("ij,ij->i", X, X)
    tasks = [
        (X, sq_norms, y, X_test[i : i + batch_size], y_test[i : i + batch_size], n_neighbors)
        for i in range(0, X_test.shape[0], batch_size)
    ]
    parts = parallel_map(
        _knn_batch,
        tasks,
        n_jobs=n_jobs,
        desc="knn_shapley",
        show_progress=show_progress,
        prefer="threads",
    )
    total = np.zeros(n)
    for p in parts:
        total += p
    return total / X_test.shape[0]


class KNNShapley(BaseValuation):
    """Exact Shapley values for a K-nearest-neighbour classifier (Jia et al., 2019).

    No model is trained: the utility is the KNN classifier's likelihood of the right label, whose
    Shapley values have a closed form computed here in O(N log N) per test point.

    Parameters
    ----------
    n_neighbors : int, default=5
        K of the classifier (Euclidean distance).
    batch_size : int, optional
        Test points per batch; by default as many as fit in ``max_memory_mb``.
    max_memory_mb : float, default=256
        Memory bound of one batch.
    n_jobs : int, optional
        Parallel batches (threads).
    show_progress : bool, optional
        Force the progress bar on or off.

    Attributes
    ----------
    result_ : ValuationResult
    values_ : numpy.ndarray
    """

    name = "knn_shapley"
    needs_model = False
    classification_only = True
    min_points = 1

    def __init__(
        self,
        n_neighbors: int = 5,
        *,
        batch_size: int | None = None,
        max_memory_mb: float = 256.0,
        n_jobs: int | None = None,
        show_progress: bool | None = None,
    ) -> None:
        self.n_neighbors = n_neighbors
        self.batch_size = batch_size
        self.max_memory_mb = max_memory_mb
        self.n_jobs = n_jobs
        self.show_progress = show_progress

    def _compute(self, data: ValuationData, start: float) -> ValuationResult:
        assert data.X_test is not None and data.y_test is not None
        values = _knn_values(
            data.X,
            data.y,
            data.X_test,
            data.y_test,
            int(self.n_neighbors),
            self.batch_size,
            float(self.max_memory_mb),
            self.n_jobs,
            self.show_progress,
        )
        n = values.size
        return ValuationResult(
            method=self.name,
            values=values,
            stderr=np.zeros(n),
            counts=np.full(n, data.X_test.shape[0]),
            n_samples=int(data.X_test.shape[0]),
            elapsed_s=time.time() - start,
            stop_reason="exact (closed form)",
            params=self._params(),
        )
