"""How atypical each record is: isolation-forest score or distance to its own class.

The privacy talk's claim is that atypical training points are the ones a model memorizes; the
audit checks it by correlating these scores with each record's membership risk.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from workbench.core.errors import InputError
from workbench.core.params import check_random_state, check_size
from workbench.core.validation import (
    check_array,
    check_choice,
    check_classification_target,
    check_consistent_length,
)

__all__ = ["OUTLIER_METHODS", "outlier_scores"]

OUTLIER_METHODS: tuple[str, ...] = ("isolation_forest", "class_distance")
"""Names accepted by :func:`outlier_scores`."""


def outlier_scores(
    X: Any,
    y: Any = None,
    *,
    method: str = "isolation_forest",
    n_neighbors: int = 5,
    random_state: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Outlier score per record (higher = more atypical) and a flag for clear outliers.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,), optional
        Class labels; required by ``method="class_distance"``.
    method : {"isolation_forest", "class_distance"}, default="isolation_forest"
        ``"isolation_forest"``: minus scikit-learn's ``IsolationForest.score_samples``; flagged
        where the forest predicts an outlier (``contamination="auto"``).
        ``"class_distance"``: mean distance to the ``n_neighbors`` nearest records of the same class
        divided by the mean distance to the nearest records of other classes, on standardized
        features; flagged where it exceeds 1 (closer to another class than to its own).
    n_neighbors : int, default=5
        Neighbours for ``"class_distance"``, 1 to 10000.
    random_state : int, optional
        Seed of the isolation forest, in ``[0, 2**32 - 1]``.

    Returns
    -------
    scores : numpy.ndarray of shape (n_samples,)
    flags : numpy.ndarray of bool, shape (n_samples,)

    Raises
    ------
    UnknownNameError
        For an unknown ``method``.
    InputError
        For NaN, infinite or float32-overflowing features; for ``"class_distance"`` without
        ``y``, with continuous or single-class labels, or a class of one record.
    """
    check_choice(method, OUTLIER_METHODS, kind="outlier method")
    n_neighbors = check_size(n_neighbors, name="n_neighbors", high=10_000, hint="5 is usual.")
    random_state = check_random_state(random_state)
    # IsolationForest works in float32, so larger magnitudes would overflow there.
    Xa = check_array(X, min_samples=2, float32=True)
    if method == "isolation_forest":
        from sklearn.ensemble import IsolationForest

        forest = IsolationForest(random_state=random_state).fit(Xa)
        return -forest.score_samples(Xa), forest.predict(Xa) == -1
    if y is None:
        raise InputError("method='class_distance' needs the class labels y.")
    ya = check_classification_target(y)
    check_consistent_length(X=Xa, y=ya)
    classes, counts = np.unique(ya, return_counts=True)
    if counts.min() < 2:
        raise InputError(
            f"Class {classes[np.argmin(counts)]!r} has a single record; 'class_distance' needs "
            "at least two per class."
        )
    from sklearn.neighbors import NearestNeighbors

    std = Xa.std(axis=0)
    Z = (Xa - Xa.mean(axis=0)) / np.where(std > 0, std, 1.0)
    same = np.empty(Z.shape[0])
    other = np.empty(Z.shape[0])
    for c in classes:
        inside = ya == c
        k_same = min(n_neighbors, int(inside.sum()) - 1)
        nn = NearestNeighbors(n_neighbors=k_same + 1).fit(Z[inside])
        dist, _ = nn.kneighbors(Z[inside])
        same[inside] = dist[:, 1:].mean(axis=1)  # column 0 is the record itself
        k_other = min(n_neighbors, int((~inside).sum()))
        nn = NearestNeighbors(n_neighbors=k_other).fit(Z[~inside])
        dist, _ = nn.kneighbors(Z[inside])
        other[inside] = dist.mean(axis=1)
    ratio = same / np.maximum(other, 1e-12)
    return ratio, ratio > 1.0
