"""Gradient-boosted trees compiled to SQL exactly: HistGradientBoosting and GradientBoosting.

HistGradientBoosting compares float64 inputs with float64 thresholds, sends NaN (and, for
categorical features, categories it never saw) to the side its ``missing_go_to_left`` says, and
splits categorical features by bitsets over the codes of an internal ``OrdinalEncoder``; the
compiled SQL tests the raw category values with ``IN (...)`` lists decoded from those bitsets.
GradientBoosting compares float32 inputs like the other scikit-learn trees
(:func:`workbench.indb.sql_trees.float32_bound`) and scales each leaf by the learning rate in
double, as scikit-learn does before adding it.

Both start from the model's baseline (its ``init`` estimator's raw prediction) and add the trees
in iteration order; the sigmoid and the softmax are scikit-learn's formulas on the same doubles.

scikit-learn keeps these models' trees in private attributes (``_predictors``,
``_baseline_prediction``, ``_preprocessor``, ``_bin_mapper``, ``_raw_predict_init``), read here
and nowhere else; they are checked against ``predict_proba`` in the tests.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from workbench.core.errors import ModelError
from workbench.indb.sql_text import NodeBudget, ordered_sum_sql, sql_number
from workbench.indb.sql_trees import (
    TreeNodes,
    head_sql,
    model_classes,
    sklearn_tree_nodes,
    tree_case_sql,
)

__all__ = [
    "category_layout",
    "gradient_boosting_sql",
    "hist_gradient_boosting_sql",
    "hist_model_trees",
    "hist_tree_nodes",
    "init_raw_score",
]

_LOG_LINK_LOSSES = ("poisson", "gamma")


def _codes(bitset: np.ndarray) -> list[int]:
    """Category codes (0-255) whose bit is set in a scikit-learn bitset of 8 uint32 words."""
    words = np.asarray(bitset, dtype=np.uint64)
    return [c for c in range(256) if (int(words[c // 32]) >> (c % 32)) & 1]


def category_layout(model: Any) -> tuple[np.ndarray, list[np.ndarray] | None, Any]:
    """The column and category layout of a fitted HistGradientBoosting model.

    Parameters
    ----------
    model : HistGradientBoostingClassifier or HistGradientBoostingRegressor

    Returns
    -------
    tuple
        (input column of each internal feature, categories per internal categorical feature or
        None, known category codes or None), for :func:`hist_tree_nodes`.
    """
    n = int(model.n_features_in_)
    is_cat = getattr(model, "is_categorical_", None)
    if is_cat is None or not np.any(is_cat):
        return np.arange(n), None, None
    is_cat = np.asarray(is_cat, dtype=bool)
    pre = model._preprocessor
    n_cat = int(is_cat.sum())
    if pre.output_indices_["encoder"] != slice(0, n_cat):
        raise ModelError(
            "This HistGradientBoosting model orders its categorical features in a way the SQL "
            "compiler does not know; use the SQL function."
        )
    column = np.concatenate([np.flatnonzero(is_cat), np.flatnonzero(~is_cat)])
    categories = list(pre.named_transformers_["encoder"].categories_)
    known = model._bin_mapper.make_known_categories_bitsets()
    return column, categories, known


def _category_values(cats: np.ndarray, codes: list[int]) -> list[Any]:
    out = []
    for c in codes:
        if c >= len(cats):
            continue
        v = cats[c]
        if isinstance(v, float | np.floating) and np.isnan(v):
            continue
        out.append(v.item() if isinstance(v, np.generic) else v)
    return out


def hist_tree_nodes(model: Any, predictor: Any, layout: tuple[Any, Any, Any]) -> TreeNodes:
    """One tree of a fitted HistGradientBoosting model as :class:`TreeNodes` over input columns.

    Parameters
    ----------
    model : HistGradientBoostingClassifier or HistGradientBoostingRegressor
    predictor : TreePredictor
        One of the model's trees.
    layout : tuple
        The model's column/category layout (computed once per model).

    Returns
    -------
    TreeNodes
    """
    column, categories, known = layout
    nodes = predictor.nodes
    leaf = nodes["is_leaf"].astype(bool)
    left = np.where(leaf, -1, nodes["left"].astype(np.int64))
    right = np.where(leaf, -1, nodes["right"].astype(np.int64))
    inner = nodes["feature_idx"].astype(np.int64)
    tree = TreeNodes(
        left=left,
        right=right,
        feature=np.where(leaf, -1, column[inner]),
        threshold=np.where(leaf, np.nan, nodes["num_threshold"].astype(np.float64)),
        nan_left=nodes["missing_go_to_left"].astype(bool),
        value=nodes["value"].astype(np.float64).reshape(-1, 1),
    )
    for i in np.flatnonzero(nodes["is_categorical"].astype(bool) & ~leaf):
        f = int(inner[i])
        cats = categories[f]
        goes_left = _codes(predictor.raw_left_cat_bitsets[nodes["bitset_idx"][i]])
        known_bits, f_idx_map = known
        seen = _codes(known_bits[f_idx_map[f]])
        tree.categories[int(i)] = (_category_values(cats, goes_left), _category_values(cats, seen))
    return tree


def hist_model_trees(est: Any) -> tuple[np.ndarray, list[list[tuple[TreeNodes, np.ndarray]]]]:
    """The baseline and the trees of a fitted HistGradientBoosting model.

    Parameters
    ----------
    est : HistGradientBoostingClassifier or HistGradientBoostingRegressor

    Returns
    -------
    baseline : ndarray of shape (n_trees_per_iteration,)
        Raw score every row starts from.
    trees : list of list of (TreeNodes, ndarray)
        Per iteration, per class: the tree over input columns and its node sample counts.
    """
    layout = category_layout(est)
    trees = [
        [(hist_tree_nodes(est, p, layout), p.nodes["count"].astype(np.float64)) for p in it]
        for it in est._predictors
    ]
    return np.asarray(est._baseline_prediction, dtype=np.float64).ravel(), trees


def hist_gradient_boosting_sql(
    est: Any, inputs: list[str], output: str, budget: NodeBudget, dialect: str
) -> str:
    """A fitted HistGradientBoostingClassifier/Regressor as SQL (see the module docstring).

    Parameters
    ----------
    est : HistGradientBoostingClassifier or HistGradientBoostingRegressor
    inputs : list of str
        SQL expression of each input column.
    output : {"predict", "proba"}
    budget : NodeBudget
    dialect : {"duckdb", "portable"}

    Returns
    -------
    str
    """
    name = type(est).__name__
    classes = model_classes(est, output)
    if classes is not None and est.loss != "log_loss":
        raise ModelError(f"{name} with loss={est.loss!r} is not compiled to SQL.")
    budget.spend(sum(len(p.nodes) for it in est._predictors for p in it), name)
    baseline, trees = hist_model_trees(est)
    raws = []
    for k, base in enumerate(baseline):
        terms = [sql_number(base)]
        for iteration in trees:
            tree = iteration[k][0]
            terms.append(tree_case_sql(
                tree, inputs, lambda i, t=tree: sql_number(t.value[i, 0])))
        raws.append(ordered_sum_sql(terms, dialect))
    if classes is None:
        return head_sql("exp" if est.loss in _LOG_LINK_LOSSES else "identity", raws, None,
                        output, dialect)
    return head_sql("logit>" if len(raws) == 1 else "softmax", raws, classes, output, dialect)


def init_raw_score(est: Any) -> np.ndarray:
    """The constant raw score every row of a GradientBoosting model starts from.

    Parameters
    ----------
    est : GradientBoostingClassifier or GradientBoostingRegressor

    Returns
    -------
    ndarray of shape (n_trees_per_stage,)
        The ``init`` estimator's prediction in link space (zeros for ``init='zero'``).

    Raises
    ------
    ModelError
        If the init estimator's prediction depends on the row.
    """
    from sklearn.dummy import DummyClassifier, DummyRegressor

    init = est.init_
    k = est.estimators_.shape[1]
    if isinstance(init, str) and init == "zero":
        return np.zeros(k)
    if isinstance(init, DummyRegressor) or (
        isinstance(init, DummyClassifier)
        and init.strategy in ("prior", "most_frequent", "constant")
    ):
        probe = np.zeros((1, int(est.n_features_in_)), dtype=np.float32)
        return np.asarray(est._raw_predict_init(probe), dtype=np.float64).ravel()
    raise ModelError(
        f"{type(est).__name__} with init={type(init).__name__} starts from a prediction that "
        "depends on the row; only the default (constant) init is compiled to SQL."
    )


def gradient_boosting_sql(
    est: Any, inputs: list[str], output: str, budget: NodeBudget, dialect: str
) -> str:
    """A fitted GradientBoostingClassifier/Regressor as SQL (see the module docstring).

    Parameters
    ----------
    est : GradientBoostingClassifier or GradientBoostingRegressor
    inputs : list of str
    output : {"predict", "proba"}
    budget : NodeBudget
    dialect : {"duckdb", "portable"}

    Returns
    -------
    str
    """
    name = type(est).__name__
    classes = model_classes(est, output)
    if classes is not None and est.loss not in ("log_loss", "exponential"):
        raise ModelError(f"{name} with loss={est.loss!r} is not compiled to SQL.")
    stages = est.estimators_
    budget.spend(sum(t.tree_.node_count for t in stages.ravel()), name)
    init = init_raw_score(est)
    lr = float(est.learning_rate)
    raws = []
    for k in range(stages.shape[1]):
        terms = [sql_number(init[k])]
        for t in stages[:, k]:
            scaled = lr * np.asarray(t.tree_.value[:, 0, :1], dtype=np.float64)
            tree = sklearn_tree_nodes(t, scaled)
            terms.append(tree_case_sql(
                tree, inputs, lambda i, v=scaled: sql_number(v[i, 0])))
        raws.append(ordered_sum_sql(terms, dialect))
    if classes is None:
        return head_sql("identity", raws, None, output, dialect)
    if len(raws) == 1:
        kind = "exp_logit" if est.loss == "exponential" else "logit>="
        return head_sql(kind, raws, classes, output, dialect)
    return head_sql("softmax", raws, classes, output, dialect)
