"""What an explainer keeps of a fitted model: JSON-safe numbers (see :mod:`workbench.indb.explain`).

Linear models keep, per raw column, the coefficient carried back through the scalers, the
background mean, and one contribution per category; tree models keep their trees in the form
``shap.TreeExplainer`` reads from a dict (children, default child for NaN, thresholds in the
double space the SQL compiler uses, leaf values per output, node cover) plus the base score.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from workbench.core.errors import ModelError
from workbench.indb.explain_terms import affine, input_terms, split_pipeline
from workbench.indb.sql_trees import TreeNodes, sklearn_tree_nodes

__all__ = ["decode_threshold", "explainer_spec"]

_LINEAR = ("LinearRegression", "Ridge", "Lasso", "ElasticNet", "LogisticRegression")
_FORESTS = (
    "DecisionTreeClassifier", "DecisionTreeRegressor", "ExtraTreeClassifier",
    "ExtraTreeRegressor", "RandomForestClassifier", "RandomForestRegressor",
    "ExtraTreesClassifier", "ExtraTreesRegressor",
)


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _same(col: np.ndarray, value: Any) -> np.ndarray:
    if isinstance(value, str):
        return np.asarray([c == value for c in col], dtype=bool)
    return np.asarray(pd.to_numeric(pd.Series(col), errors="coerce") == value, dtype=bool)


def _linear_spec(est: Any, terms: list[Any], X: pd.DataFrame, names: list[str]) -> dict:
    name = type(est).__name__
    coef = np.asarray(est.coef_, dtype=np.float64)
    intercept = np.atleast_1d(np.asarray(est.intercept_, dtype=np.float64))
    classes = [_plain(c) for c in getattr(est, "classes_", [])] or None
    if classes is None:
        if coef.ndim != 1:
            raise ModelError(f"{name} with several targets is not explained.")
        margin = "predicted value"
    else:
        margin = "log-odds of classes[1]" if len(classes) == 2 else "log-odds per class"
    B = coef.reshape(-1, coef.shape[-1])
    k = B.shape[0]
    base = intercept.copy()
    parts = []
    for j in range(len(names)):
        col = X[names[j]].to_numpy()
        weight = np.zeros(k)
        const = np.zeros(k)
        cats: dict[Any, np.ndarray] = {}
        numeric = False
        for i, t in enumerate(terms):
            if t[1] != j:
                continue
            if t[0] == "num":
                a, c = affine(t[2])
                weight += B[:, i] * a
                const += B[:, i] * c
                numeric = True
            else:
                cats[t[2]] = cats.get(t[2], np.zeros(k)) + B[:, i]
        part: dict[str, Any] = {"weight": None, "center": 0.0, "categories": None,
                                "unknown": [0.0] * k}
        if numeric:
            x = np.asarray(col, dtype=np.float64)
            center = float(np.nanmean(x)) if np.isfinite(x).any() else 0.0
            part.update(weight=weight.tolist(), center=center)
            base += weight * center + const
        if cats:
            expected = np.zeros(k)
            for value, beta in cats.items():
                expected += beta * float(_same(col, value).mean())
            part["categories"] = [[value, (beta - expected).tolist()]
                                  for value, beta in cats.items()]
            part["unknown"] = (-expected).tolist()
            base += expected
        parts.append(part)
    return {"kind": "linear", "margin": margin, "classes": classes if k > 1 else None,
            "base": base.tolist(), "parts": parts}


def encode_tree(tree: TreeNodes, values: np.ndarray, cover: np.ndarray) -> dict[str, Any]:
    """One tree in ``shap.TreeExplainer``'s dict form, JSON-safe (``inf`` written as text)."""
    leaf = tree.left == -1
    default = np.where(tree.nan_left, tree.left, tree.right)
    thr = np.where(leaf, 0.0, tree.threshold)
    return {
        "children_left": tree.left.astype(int).tolist(),
        "children_right": tree.right.astype(int).tolist(),
        "children_default": np.where(leaf, -1, default).astype(int).tolist(),
        "features": np.where(leaf, -1, tree.feature).astype(int).tolist(),
        "thresholds": ["inf" if v == np.inf else float(v) for v in thr],
        "values": np.asarray(values, dtype=np.float64).tolist(),
        "node_sample_weight": np.asarray(cover, dtype=np.float64).tolist(),
    }


def decode_threshold(values: list[Any]) -> np.ndarray:
    """Thresholds of :func:`encode_tree` back to floats."""
    return np.asarray([np.inf if v == "inf" else v for v in values], dtype=np.float64)


def _one_hot_values(v: np.ndarray, k: int, n_out: int) -> np.ndarray:
    out = np.zeros((len(v), n_out))
    out[:, k] = v
    return out


def _tree_spec(est: Any) -> dict:
    from sklearn.base import is_classifier

    from workbench.indb.sql_boosting import hist_model_trees, init_raw_score

    name = type(est).__name__
    classes = [_plain(c) for c in est.classes_] if is_classifier(est) else None
    trees = []
    if name.startswith("HistGradientBoosting"):
        base, model_trees = hist_model_trees(est)
        for iteration in model_trees:
            for k, (tree, counts) in enumerate(iteration):
                if tree.categories:
                    raise ModelError(
                        f"{name} with categorical splits is not explained (TreeSHAP in shap "
                        "takes thresholds only); encode the categories as numbers instead."
                    )
                values = _one_hot_values(tree.value[:, 0], k, len(base))
                trees.append(encode_tree(tree, values, counts))
        margin = "raw score (log-odds)" if classes else "raw score (before the link)"
    elif name.startswith("GradientBoosting"):
        base = init_raw_score(est)
        lr = float(est.learning_rate)
        for stage in est.estimators_:
            for k, t in enumerate(stage):
                scaled = lr * np.asarray(t.tree_.value[:, 0, 0], dtype=np.float64)
                tree = sklearn_tree_nodes(t, scaled.reshape(-1, 1))
                trees.append(encode_tree(tree, _one_hot_values(scaled, k, len(base)),
                                         t.tree_.weighted_n_node_samples))
        margin = "raw score (log-odds)" if classes else "predicted value"
    else:
        members = list(getattr(est, "estimators_", [est]))
        n = len(members)
        for t in members:
            v = np.asarray(t.tree_.value[:, 0, :], dtype=np.float64)
            if classes is not None:
                s = v.sum(axis=1, keepdims=True)
                s[s == 0.0] = 1.0
                v = v / s
                v = v[:, 1:2] if len(classes) == 2 else v
            trees.append(encode_tree(sklearn_tree_nodes(t), v / n,
                                     t.tree_.weighted_n_node_samples))
        base = np.zeros(len(trees[0]["values"][0]))
        margin = ("probability of classes[1]" if classes and len(classes) == 2 else
                  "probability per class" if classes else "predicted value")
    return {"kind": "trees", "margin": margin,
            "classes": classes if classes and len(base) > 1 else None,
            "base_offset": base.tolist(), "trees": trees}


def explainer_spec(model: Any, X: pd.DataFrame, names: list[str], kinds: list[str]) -> dict:
    """The JSON-safe spec of :class:`workbench.indb.explain.Explainer` for a fitted model.

    Parameters
    ----------
    model : estimator
    X : pandas.DataFrame
        Background rows (raw columns ``names``).
    names : list of str
    kinds : list of {"numeric", "string"}

    Returns
    -------
    dict
    """
    from sklearn.ensemble import (
        GradientBoostingClassifier,
        GradientBoostingRegressor,
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
    )

    steps, est = split_pipeline(model)
    terms = input_terms(steps, names, kinds)
    name = type(est).__name__
    sklearn_own = type(est).__module__.startswith("sklearn.")
    if name in _LINEAR and sklearn_own:
        spec = _linear_spec(est, terms, X, names)
    elif (name in _FORESTS and sklearn_own) or isinstance(est, (
        GradientBoostingClassifier, GradientBoostingRegressor,
        HistGradientBoostingClassifier, HistGradientBoostingRegressor,
    )):
        spec = _tree_spec(est)
    else:
        raise ModelError(
            f"{name} is not explained (supported: linear and logistic models, decision trees, "
            "random/extra-tree forests, GradientBoosting and HistGradientBoosting)."
        )
    spec.update(features=list(names), kinds=list(kinds),
                terms=[[t[0], int(t[1]), [list(op) for op in t[2]] if t[0] == "num" else t[2]]
                       for t in terms])
    return spec
