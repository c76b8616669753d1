"""How good are the values? Noisy-label detection scores and point removal/addition curves."""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

from workbench.core.errors import InputError, ModelError, UnknownNameError
from workbench.core.parallel import parallel_map
from workbench.core.validation import check_array, check_has_methods, check_X_y
from workbench.valuation.base import _check_test, check_random_state, check_scorer, default_model
from workbench.valuation.result import CurveResult, ValuationResult
from workbench.valuation.utility import FitLog, Utility, single_threaded

__all__ = ["detection_scores", "point_addition_curve", "point_removal_curve", "score_without"]


def _values_of(values: Any) -> np.ndarray:
    if isinstance(values, ValuationResult):
        values = values.values
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

    v = _values_of(values)
    mask = np.asarray(noisy)
    if mask.shape != v.shape:
        raise InputError(f"noisy has shape {mask.shape} but values has shape {v.shape}.")
    if mask.dtype != bool:
        if not np.isin(mask, [0, 1]).all():
            raise InputError("noisy must be a boolean mask (True = noisy point).")
        mask = mask.astype(bool)
    if mask.all() or not mask.any():
        raise InputError("noisy must mark at least one noisy and one clean point.")
    k = int(mask.sum()) if k is None else k
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise InputError(f"k must be a positive integer, got {k!r}.")
    k = min(int(k), v.size)
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


def _fit_score(util: Utility, idx: np.ndarray) -> tuple[float, FitLog]:
    log = FitLog()
    with single_threaded():
        score = util.score(idx, log) if idx.size else float("nan")
    if log.n_failed:
        score = float("nan")
    return score, log


def _curve(
    kind: str,
    values: Any,
    X: Any,
    y: Any,
    X_test: Any,
    y_test: Any,
    *,
    model: Any,
    scorer: Any,
    fractions: Any,
    order: str,
    random_state: int | None,
    n_jobs: int | None,
    show_progress: bool | None,
) -> CurveResult:
    from sklearn.base import is_classifier

    v = _values_of(values)
    model = default_model() if model is None else model
    check_has_methods(model, ["fit", "predict"], name="model")
    Xa, ya = check_X_y(X, y, min_samples=2, classification=is_classifier(model))
    if v.size != Xa.shape[0]:
        raise InputError(f"values has {v.size} entries but X has {Xa.shape[0]} rows.")
    Xt, yt = _check_test(X_test, y_test, Xa.shape[1], f"point {kind} curve")
    check_scorer(scorer)
    fr = check_array(fractions, name="fractions", ndim=1)
    if ((fr < 0) | (fr >= 1)).any():
        raise InputError("fractions must lie in [0, 1).")
    if order not in ("lowest", "highest", "random"):
        raise UnknownNameError("order", order, ["lowest", "highest", "random"])
    if order == "random":
        rs = check_random_state(random_state)
        ranked = np.random.default_rng(rs).permutation(v.size)
    else:
        ranked = np.argsort(v if order == "lowest" else -v, kind="stable")
    n = v.size
    if kind == "removal":
        subsets = [np.sort(ranked[round(float(f) * n) :]) for f in fr]
    else:
        subsets = [np.sort(ranked[: max(1, round(float(f) * n))]) for f in fr]
    util = Utility(
        model,
        Xa,
        ya,
        Xt,
        yt,
        scorer=scorer,
        default_score=float("nan"),
        classification=is_classifier(model),
    )
    outs = parallel_map(
        partial(_fit_score, util),
        subsets,
        n_jobs=n_jobs,
        desc=f"{kind} curve",
        show_progress=show_progress,
    )
    return CurveResult(
        kind=kind,
        order=order,
        fractions=fr,
        scores=np.array([s for s, _ in outs]),
        n_failed_fits=sum(lg.n_failed for _, lg in outs),
    )


def point_removal_curve(
    values: Any,
    X: Any,
    y: Any,
    X_test: Any,
    y_test: Any,
    *,
    model: Any = None,
    scorer: Any = "accuracy",
    fractions: Any = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5),
    order: str = "lowest",
    random_state: int | None = None,
    n_jobs: int | None = None,
    show_progress: bool | None = None,
) -> CurveResult:
    """Test score after removing a growing share of the training points in value order.

    Removing the lowest-valued points first should keep or raise the score when they are noisy;
    removing the highest first should make it drop fastest. ``order="random"`` is the control.

    Parameters
    ----------
    values : array-like of shape (n_points,) or ValuationResult
    X, y : array-like
        The valued training data.
    X_test, y_test : array-like
        Held-out data to score on.
    model : estimator, optional
        Model retrained at each step (default ``LogisticRegression(max_iter=1000)``).
    scorer : str or callable, default="accuracy"
    fractions : array-like of float in [0, 1)
        Shares removed.
    order : {"lowest", "highest", "random"}, default="lowest"
    random_state : int, optional
        Seed of ``order="random"``.
    n_jobs : int, optional
    show_progress : bool, optional

    Returns
    -------
    CurveResult
        Scores of failed fits are NaN and counted.
    """
    return _curve(
        "removal",
        values,
        X,
        y,
        X_test,
        y_test,
        model=model,
        scorer=scorer,
        fractions=fractions,
        order=order,
        random_state=random_state,
        n_jobs=n_jobs,
        show_progress=show_progress,
    )


def point_addition_curve(
    values: Any,
    X: Any,
    y: Any,
    X_test: Any,
    y_test: Any,
    *,
    model: Any = None,
    scorer: Any = "accuracy",
    fractions: Any = (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9),
    order: str = "highest",
    random_state: int | None = None,
    n_jobs: int | None = None,
    show_progress: bool | None = None,
) -> CurveResult:
    """Test score of models trained on a growing share of points, taken in value order.

    Parameters are those of :func:`point_removal_curve`; ``fractions`` are the shares used and
    ``order="highest"`` adds the most valuable points first.

    Returns
    -------
    CurveResult
    """
    return _curve(
        "addition",
        values,
        X,
        y,
        X_test,
        y_test,
        model=model,
        scorer=scorer,
        fractions=fractions,
        order=order,
        random_state=random_state,
        n_jobs=n_jobs,
        show_progress=show_progress,
    )


def score_without(
    drop: Any,
    X: Any,
    y: Any,
    X_test: Any,
    y_test: Any,
    *,
    model: Any = None,
    scorer: Any = "accuracy",
) -> dict[str, float]:
    """Test score of the model trained on all points and on all but ``drop``.

    Parameters
    ----------
    drop : array-like of int
        Indices of training points to leave out (e.g. the points marked as suspicious).
    X, y, X_test, y_test : array-like
        Training and test data.
    model : estimator, optional
        Unfitted model (default ``LogisticRegression(max_iter=1000)``).
    scorer : str or callable, default="accuracy"

    Returns
    -------
    dict
        ``before``, ``after`` and ``n_dropped``.
    """
    from sklearn.base import is_classifier

    model = default_model() if model is None else model
    check_has_methods(model, ["fit", "predict"], name="model")
    Xa, ya = check_X_y(X, y, min_samples=2, classification=is_classifier(model))
    Xt, yt = _check_test(X_test, y_test, Xa.shape[1], "score_without")
    check_scorer(scorer)
    idx = np.asarray(drop if drop is not None else [], dtype=float).ravel()
    if idx.size and ((idx != np.round(idx)).any() or idx.min() < 0 or idx.max() >= Xa.shape[0]):
        raise InputError(f"drop must hold row indices between 0 and {Xa.shape[0] - 1}.")
    drop_idx = np.unique(idx.astype(int))
    keep = np.setdiff1d(np.arange(Xa.shape[0]), drop_idx)
    util = Utility(
        model,
        Xa,
        ya,
        Xt,
        yt,
        scorer=scorer,
        default_score=float("nan"),
        classification=is_classifier(model),
    )
    before, log_b = _fit_score(util, np.arange(Xa.shape[0]))
    after, log_a = _fit_score(util, keep)
    if log_b.n_failed or log_a.n_failed:
        reason = (log_b.failures + log_a.failures).most_common(1)[0][0]
        raise ModelError(f"Retraining failed ({reason}).")
    return {"before": before, "after": after, "n_dropped": int(drop_idx.size)}
