"""Scalers folded into tree thresholds: a scaled tree Pipeline as a bare tree on raw features.

scikit-learn sends a row left at a node on feature ``f`` when ``float32(T_f(x)) <= t``, where
``T_f`` is the Pipeline's transform of that column. For element-wise scalers with positive
scales every IEEE operation of ``T_f`` (subtract, divide, multiply, add, clamp) and the final
rounding to float32 are non-decreasing in ``x``, so over the float32 inputs the test holds
exactly for ``x <= x*``. :func:`fold_into_trees` finds ``x*`` for every node by bisection over
the ordered float32 values with the steps' arithmetic (:func:`elementwise_transform`, the same
IEEE operations as scikit-learn's, so the same bits), checks the boundary with the steps' own
``transform``, and writes ``x*`` as the node's threshold. The tree generators then
round it to itself (float32) or to ``floor(x*)`` (int16 inputs, exact for integers).
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from workbench.edge.codegen import SUPPORTED_ESTIMATORS
from workbench.edge.preprocessing import step_stage, transform_features
from workbench.edge.trees import tree_estimators

__all__ = ["elementwise_transform", "fold_into_trees"]

_F32_MAX = float(np.finfo(np.float32).max)


def fold_into_trees(steps: list[tuple[str, Any]], final: Any) -> Any | None:
    """A copy of a tree model whose thresholds apply to the raw features, or None.

    Possible when every step is an element-wise scaler with positive scales and ``final`` is
    a decision tree or forest (see the module notes). For a node on feature ``f`` with
    threshold ``t`` the raw threshold is the largest float32 ``x`` with
    ``float32(T_f(x)) <= t``, found by bisection over the ordered float32 values.

    Parameters
    ----------
    steps : list of (str, transformer)
    final : estimator
        The fitted classifier.

    Returns
    -------
    estimator or None
        None when a step is PCA, a scale is not positive, ``final`` is not a tree model, or
        some node sends every finite input the same way.
    """
    if SUPPORTED_ESTIMATORS.get(type(final).__name__) != "tree" or not steps:
        return None
    for stage in (step_stage(n, s) for n, s in steps):
        if stage.dense or not (stage.weights > 0).all():
            return None
    folded = copy.deepcopy(final)
    n = int(final.n_features_in_)
    for est in tree_estimators(folded):
        tree = est.tree_
        internal = np.flatnonzero(tree.children_left != -1)
        if not internal.size:
            continue
        raw = _raw_thresholds(steps, tree.feature[internal], tree.threshold[internal], n)
        if raw is None:
            return None
        tree.threshold[internal] = raw
    return folded


def _ordered(v: np.ndarray) -> np.ndarray:
    bits = v.astype(np.float32).view(np.int32).astype(np.int64)
    return np.where(bits < 0, -(bits & 0x7FFFFFFF), bits)


def _unordered(k: np.ndarray) -> np.ndarray:
    bits = np.where(k < 0, (-k) | 0x80000000, k).astype(np.uint32)
    return bits.view(np.float32)


def elementwise_transform(steps: list[tuple[str, Any]], Z: np.ndarray) -> np.ndarray:
    """The element-wise scalers' ``transform`` on float64 ``Z``, operation by operation.

    The same IEEE operations in the same order as scikit-learn's dense ``transform`` methods
    (so the same bits), but without their input checks: values that overflow to infinity in
    one step go on through the next (scikit-learn would refuse them).

    Parameters
    ----------
    steps : list of (str, transformer)
        ``StandardScaler``, ``RobustScaler``, ``MinMaxScaler`` or ``MaxAbsScaler``, fitted.
    Z : numpy.ndarray of float64

    Returns
    -------
    numpy.ndarray
    """
    Z = np.array(Z, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for _, step in steps:
            kind = type(step).__name__
            if kind == "StandardScaler":
                if step.with_mean:
                    Z -= step.mean_
                if step.with_std:
                    Z /= step.scale_
            elif kind == "RobustScaler":
                if step.with_centering:
                    Z -= step.center_
                if step.with_scaling:
                    Z /= step.scale_
            elif kind == "MinMaxScaler":
                Z *= step.scale_
                Z += step.min_
                if step.clip:
                    np.clip(Z, step.feature_range[0], step.feature_range[1], out=Z)
            else:  # MaxAbsScaler
                Z /= step.scale_
                if getattr(step, "clip", False):
                    np.clip(Z, -1.0, 1.0, out=Z)
    return Z


def _raw_thresholds(
    steps: list[tuple[str, Any]], feature: np.ndarray, threshold: np.ndarray, n: int
) -> np.ndarray | None:
    # One transform per bisection step: row r, column f holds the r-th node on feature f.
    rank = np.zeros(len(feature), dtype=np.int64)
    for f in np.unique(feature):
        on_f = feature == f
        rank[on_f] = np.arange(int(on_f.sum()))
    rows = int(rank.max()) + 1

    def goes_left(key: np.ndarray, transform: Any = elementwise_transform) -> np.ndarray:
        M = np.zeros((rows, n))
        M[rank, feature] = _unordered(key).astype(np.float64)
        z = transform(steps, M)[rank, feature]
        with np.errstate(over="ignore", invalid="ignore"):
            return z.astype(np.float32).astype(np.float64) <= threshold

    lo = np.full(len(feature), _ordered(np.array([-_F32_MAX]))[0])
    hi = np.full(len(feature), _ordered(np.array([_F32_MAX]))[0])
    if not goes_left(lo).all():
        return None
    always = goes_left(hi)
    while (hi - lo > 1).any():
        mid = (lo + hi) // 2
        left = goes_left(mid)
        lo, hi = np.where(left, mid, lo), np.where(left, hi, mid)
    # Cross-check the boundary with scikit-learn's own transform: x* goes left, the next
    # float32 goes right (where it can take the rows at all).
    cut = ~always
    if cut.any():
        try:
            left_ok = goes_left(np.where(cut, lo, 0), transform_features)[cut].all()
            right_ok = not goes_left(np.where(cut, hi, 0), transform_features)[cut].any()
        except ValueError:
            return None
        if not (left_ok and right_ok):
            return None
    return np.where(always, _F32_MAX, _unordered(lo).astype(np.float64))
