"""How good are the values? Test scores after removing or adding points in value order."""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

from workbench.core.errors import InputError, InputTypeError, ModelError
from workbench.core.parallel import parallel_map
from workbench.core.params import check_flag, check_random_state
from workbench.core.validation import (
    check_array,
    check_choice,
    check_consistent_length,
    check_n_jobs,
)
from workbench.valuation.base import default_model
from workbench.valuation.checks import (
    check_fractions,
    check_model,
    check_regression_scorer,
    check_scorer,
    check_target,
    check_test,
)
from workbench.valuation.detection import values_of
from workbench.valuation.result import CurveResult
from workbench.valuation.utility import FitLog, Utility, single_threaded

__all__ = ["point_addition_curve", "point_removal_curve", "score_without"]


def _checked_data(
    model: Any, X: Any, y: Any, X_test: Any, y_test: Any, scorer: Any, what: str
) -> tuple[Any, bool, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The model, whether it classifies, and the validated training and test data."""
    model = default_model() if model is None else model
    classification = check_model(model)
    check_scorer(scorer)
    check_regression_scorer(model, scorer, classification=classification)
    Xa = check_array(X, name="X", min_samples=2, float32=True)
    ya = check_target(y, classification=classification)
    check_consistent_length(X=Xa, y=ya)
    Xt, yt = check_test(X_test, y_test, Xa.shape[1], what, y=ya, classification=classification)
    return model, classification, Xa, ya, Xt, yt


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
    v = values_of(values)
    model, classification, Xa, ya, Xt, yt = _checked_data(
        model, X, y, X_test, y_test, scorer, f"point {kind} curve"
    )
    if v.size != Xa.shape[0]:
        raise InputError(f"values has {v.size} entries but X has {Xa.shape[0]} rows.")
    fr = check_fractions(fractions)
    check_choice(order, ["lowest", "highest", "random"], kind="order")
    rs = check_random_state(random_state)
    check_n_jobs(n_jobs)
    check_flag(show_progress, name="show_progress", optional=True)
    if order == "random":
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
        classification=classification,
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
    model, classification, Xa, ya, Xt, yt = _checked_data(
        model, X, y, X_test, y_test, scorer, "score_without"
    )
    drop_idx = _drop_indices(drop, Xa.shape[0])
    keep = np.setdiff1d(np.arange(Xa.shape[0]), drop_idx)
    if keep.size == 0:
        raise InputError("drop lists every training point; leave some points to train on.")
    util = Utility(
        model,
        Xa,
        ya,
        Xt,
        yt,
        scorer=scorer,
        default_score=float("nan"),
        classification=classification,
    )
    before, log_b = _fit_score(util, np.arange(Xa.shape[0]))
    after, log_a = _fit_score(util, keep)
    if log_b.n_failed or log_a.n_failed:
        reason = (log_b.failures + log_a.failures).most_common(1)[0][0]
        raise ModelError(f"Retraining failed ({reason}).")
    return {"before": before, "after": after, "n_dropped": int(drop_idx.size)}


def _drop_indices(drop: Any, n: int) -> np.ndarray:
    """Row indices from ``drop``: integer indices or a boolean mask of length ``n``."""
    try:
        arr = np.asarray([] if drop is None else drop)
    except (TypeError, ValueError):
        arr = np.asarray([None])
    if arr.dtype == bool:
        if arr.shape != (n,):
            raise InputError(f"drop as a boolean mask needs shape ({n},), got {arr.shape}.")
        return np.flatnonzero(arr)
    if arr.size == 0:
        return np.zeros(0, dtype=int)
    if arr.dtype.kind not in "iuf":
        raise InputTypeError(
            f"drop must hold row indices (integers) or a boolean mask of length {n}, "
            f"got {arr.dtype} values."
        )
    idx = arr.astype(float).ravel()
    bad = ~np.isfinite(idx) | (idx != np.round(idx)) | (idx < 0) | (idx >= n)
    if bad.any():
        raise InputError(f"drop must hold row indices between 0 and {n - 1}.")
    return np.unique(idx.astype(int))
