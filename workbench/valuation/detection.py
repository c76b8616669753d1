"""How well do values find noisy points? Detection scores against a known noisy mask.

:meth:`ValuationResult.detect <workbench.valuation.result.ValuationResult.detect>` calls this
module, so it reads a result's values through the shared :class:`~workbench.core.results.Result`
base instead of importing the result module back.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from workbench.core.errors import InputError
from workbench.core.params import check_size
from workbench.core.results import Result
from workbench.core.validation import check_array
from workbench.valuation.checks import MAX_POINTS, check_mask

__all__ = ["detection_scores", "values_of"]


def values_of(values: Any) -> np.ndarray:
    """The values of a valuation result, or an array-like of values, as a finite 1-d array.

    Parameters
    ----------
    values : ValuationResult or array-like of shape (n_points,)

    Returns
    -------
    numpy.ndarray of shape (n_points,)
    """
    if isinstance(values, Result):
        values = getattr(values, "values", None)
    return check_array(values, name="values", ndim=1)


def detection_scores(values: Any, noisy: Any, k: int | None = None) -> dict[str, float]:
    """Score values as a detector of noisy (e.g. flipped-label) points; low value = flagged.

    Parameters
    ----------
    values : array-like of shape (n_points,) or ValuationResult
    noisy : array-like of bool of shape (n_points,)
        True for the truly noisy points (at least one of each kind).
    k : int, optional
        Points inspected for precision@k; default the number of noisy points.

    Returns
    -------
    dict
        ``auroc`` (area under the ROC curve of ``-values``), ``precision_at_k``, ``k`` and
        ``f1_2means`` (OpenDataVal's rule: 2-means on the values, the low cluster is flagged).
    """
    from sklearn.cluster import KMeans
    from sklearn.metrics import f1_score, roc_auc_score

    v = values_of(values)
    mask = check_mask(noisy, v.size)
    if mask.all() or not mask.any():
        raise InputError("noisy must mark at least one noisy and one clean point.")
    k = int(mask.sum()) if k is None else k
    k = min(check_size(k, name="k", high=MAX_POINTS, hint="k is a number of points."), v.size)
    lowest = np.argsort(v, kind="stable")[:k]
    if np.ptp(v) > 0:
        km = KMeans(n_clusters=2, n_init=10, random_state=0).fit(v.reshape(-1, 1))
        low = int(np.argmin(km.cluster_centers_.ravel()))
        f1 = float(f1_score(mask, km.labels_ == low))
    else:
        f1 = 0.0
    return {
        "auroc": float(roc_auc_score(mask, -v)),
        "precision_at_k": float(mask[lowest].mean()),
        "k": k,
        "f1_2means": f1,
    }
