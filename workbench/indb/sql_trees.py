"""Decision trees and forests compiled to SQL that gives scikit-learn's answers exactly.

scikit-learn's trees compare ``float32(x) <= threshold`` with a float64 threshold. Casting in
SQL (``CAST(x AS REAL)``) costs a cast at every node and means a 64-bit double in SQLite, so
each threshold is moved instead: :func:`float32_bound` gives the double ``b`` with
``float32(x) <= t`` exactly when ``x <= b``, and the SQL compares the column itself.

NaN follows each node's ``missing_go_to_left``. DuckDB (and PostgreSQL) order NaN above every
number, so ``x <= b`` already sends NaN right; a node that sends NaN left tests ``-x >= -b``
instead, the same test for numbers (negation is exact) that NaN passes. DuckDB's optimizer
turns it into ``x <= b OR isnan(x)`` itself, from half the SQL text (it plans 100 trees in
0.49 s against 1.01 s for ``isnan`` written out, measured). Engines without NaN (SQLite) never
meet it.

Sums of tree outputs keep scikit-learn's order (tree 1, tree 2, ...), divisions and the last
comparisons are the same double operations, so probabilities match to the last bit and labels
never flip (binary forest labels compare both classes' means, as ``argmax`` does).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from workbench.core.errors import ModelError
from workbench.indb.sql_text import (
    INF,
    NEG_INF,
    NodeBudget,
    bind_sql,
    ordered_sum_sql,
    sql_literal,
    sql_number,
)

__all__ = [
    "MAX_TREE_DEPTH",
    "TreeNodes",
    "float32_bound",
    "forest_sql",
    "head_sql",
    "model_classes",
    "negated",
    "sklearn_tree_nodes",
    "tree_case_sql",
]

#: Deepest tree compiled: DuckDB refuses expressions nested deeper than 1,000 levels.
MAX_TREE_DEPTH = 120
_F32 = np.float32
_HALF_ULP_TOP = 2.0**103  # half the float32 spacing just below FLT_MAX


def float32_bound(threshold: float) -> float:
    """The double ``b`` with ``float32(x) <= threshold`` exactly when ``x <= b`` (any double x).

    Parameters
    ----------
    threshold : float
        A tree threshold (float64), compared with float32 inputs by scikit-learn.

    Returns
    -------
    float
        The largest double that rounds (to nearest, ties to even) to a float32 at most
        ``threshold``; ``inf`` for an infinite threshold.
    """
    t = float(threshold)
    if t == np.inf:
        return np.inf
    with np.errstate(over="ignore"):  # beyond float32: m or its neighbour is infinite
        m = _F32(t)
        if float(m) > t:
            m = np.nextafter(m, _F32(-np.inf))
        up = np.nextafter(m, _F32(np.inf))
    top = float(np.finfo(np.float32).max)
    if np.isinf(up):
        mid = top + _HALF_ULP_TOP
    elif np.isinf(m):
        mid = -(top + _HALF_ULP_TOP)
    else:
        mid = (float(m) + float(up)) / 2.0
    even = (int(np.asarray(m, dtype=_F32).view(np.uint32)) & 1) == 0
    return mid if even else float(np.nextafter(mid, -np.inf))


@dataclass
class TreeNodes:
    """One tree as flat arrays: node ``i`` sends a row left when ``x[feature[i]] <= threshold[i]``.

    Parameters
    ----------
    left, right : ndarray of int
        Children; -1 at leaves.
    feature : ndarray of int
        Input column of each split.
    threshold : ndarray of float
        Double thresholds compared with the input as a double (``inf`` allowed).
    nan_left : ndarray of bool
        Whether NaN (and, for categorical splits, unknown categories) go left.
    value : ndarray of shape (n_nodes, n_values)
        Leaf outputs.
    categories : dict, optional
        Node -> (categories sent left, known categories) for categorical splits.
    """

    left: np.ndarray
    right: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    nan_left: np.ndarray
    value: np.ndarray
    categories: dict[int, tuple[list[Any], list[Any]]] = field(default_factory=dict)

    @property
    def n_nodes(self) -> int:
        """Number of nodes (splits and leaves)."""
        return len(self.left)

    def node_depths(self) -> np.ndarray:
        """Depth of every node (the root has depth 0)."""
        depths, stack = np.zeros(len(self.left), dtype=np.int64), [(0, 0)]
        while stack:
            node, d = stack.pop()
            depths[node] = d
            if self.left[node] != -1:
                stack += [(int(self.left[node]), d + 1), (int(self.right[node]), d + 1)]
        return depths

    def depth(self) -> int:
        """Depth of the deepest leaf (a lone leaf has depth 0)."""
        return int(self.node_depths().max())


def sklearn_tree_nodes(tree: Any, value: np.ndarray | None = None) -> TreeNodes:
    """A fitted scikit-learn decision tree (float32 inputs) as :class:`TreeNodes`.

    Parameters
    ----------
    tree : DecisionTreeClassifier or DecisionTreeRegressor
    value : ndarray, optional
        Leaf outputs to use instead of ``tree_.value[:, 0, :]``.

    Returns
    -------
    TreeNodes
    """
    t = tree.tree_
    if t.n_outputs != 1:
        raise ModelError("Trees with several outputs are not compiled to SQL.")
    left = np.asarray(t.children_left)
    leaf = left == -1
    thr = np.array([np.nan if is_leaf else float32_bound(v)
                    for v, is_leaf in zip(t.threshold, leaf, strict=True)])
    return TreeNodes(
        left=left,
        right=np.asarray(t.children_right),
        feature=np.asarray(t.feature),
        threshold=thr,
        nan_left=np.asarray(t.missing_go_to_left, dtype=bool),
        value=np.asarray(t.value[:, 0, :], dtype=np.float64) if value is None else value,
    )


def negated(expr: str) -> str:
    """``-expr`` as a double: ``-x >= -b`` is ``x <= b`` for numbers and true for NaN."""
    return f"(-CAST({expr} AS DOUBLE))"


def _in_list(expr: str, values: list[Any]) -> str:
    if not values:
        return "FALSE"
    return f"{expr} IN ({', '.join(sql_literal(v) for v in values)})"


def tree_case_sql(
    tree: TreeNodes,
    inputs: list[str],
    leaf: Callable[[int], str],
) -> str:
    """One tree as nested ``CASE WHEN <split> THEN <left> ELSE <right> END``.

    Parameters
    ----------
    tree : TreeNodes
    inputs : list of str
        SQL expression of each input column.
    leaf : callable
        Leaf node index -> SQL expression.

    Returns
    -------
    str
    """
    if tree.depth() > MAX_TREE_DEPTH:
        raise ModelError(
            f"A tree is {tree.depth()} levels deep; SQL trees stop at {MAX_TREE_DEPTH} "
            "(set max_depth, or use the SQL function)."
        )
    out: list[str] = []

    def cond(node: int) -> str:
        x = inputs[int(tree.feature[node])]
        if node in tree.categories:
            goes_left, known = tree.categories[node]
            test = _in_list(x, goes_left)
            if tree.nan_left[node]:
                test = f"({test} OR NOT ({_in_list(x, known)}))"
            return test
        t = float(tree.threshold[node])
        if tree.nan_left[node]:
            return f"{negated(x)} >= {NEG_INF if t == np.inf else sql_number(-t)}"
        return f"{x} <= {INF if t == np.inf else sql_number(t)}"

    def emit(node: int) -> None:
        if tree.left[node] == -1:
            out.append(leaf(node))
            return
        out.append(f"CASE WHEN {cond(node)} THEN ")
        emit(int(tree.left[node]))
        out.append(" ELSE ")
        emit(int(tree.right[node]))
        out.append(" END")

    emit(0)
    return "".join(out)


def _sigmoid(z: str) -> str:
    return f"(1.0e0 / (1.0e0 + EXP(-({z}))))"


def _softmax(raws: list[str]) -> str:
    exps = bind_sql(raws, "list_transform(r, lambda v: EXP(v - list_max(r)))")
    return f"list_transform([{exps}], lambda e: list_transform(e, lambda v: v / list_sum(e)))[1]"


def head_sql(
    kind: str, raws: list[str], classes: list[Any] | None, output: str, dialect: str
) -> str:
    """Turn per-class sums into scikit-learn's prediction or probabilities.

    Parameters
    ----------
    kind : str
        ``"identity"``, ``"exp"`` (log link), ``"logit>"``/``"logit>="`` (binary boosting:
        label when the score is > or >= 0), ``"exp_logit"`` (exponential loss),
        ``"softmax"`` (multiclass boosting) or ``"mean"`` (forest class means, already
        divided).
    raws : list of str
        One SQL expression per output (per class for multiclass and forests).
    classes : list, optional
        Class labels.
    output : {"predict", "proba"}
    dialect : {"duckdb", "portable"}

    Returns
    -------
    str
    """
    if classes is None:
        (z,) = raws
        return f"EXP({z})" if kind == "exp" else z
    labels = [sql_literal(c) for c in classes]
    if len(raws) == 1:  # binary boosting: one score
        z = raws[0]
        if output == "proba":
            return _sigmoid(f"2.0e0 * {z}" if kind == "exp_logit" else z)
        op = ">" if kind == "logit>" else ">="
        return f"CASE WHEN {z} {op} 0.0e0 THEN {labels[1]} ELSE {labels[0]} END"
    if kind == "mean" and len(raws) == 2:
        if output == "proba":
            return raws[1]
        return f"CASE WHEN {raws[1]} > {raws[0]} THEN {labels[1]} ELSE {labels[0]} END"
    if dialect != "duckdb":
        raise ModelError(
            "Several classes need lists (probabilities) or one bound list (the label); use "
            "dialect='duckdb' or the SQL function."
        )
    if output == "proba":
        return _softmax(raws) if kind == "softmax" else "[" + ", ".join(raws) + "]"
    return bind_sql(raws, f"[{', '.join(labels)}][list_position(r, list_max(r))]")


def forest_sql(
    est: Any, inputs: list[str], output: str, budget: NodeBudget, dialect: str
) -> str:
    """A decision tree or random/extra-trees forest (classifier or regressor) as SQL.

    Parameters
    ----------
    est : DecisionTree*, RandomForest* or ExtraTrees* estimator
    inputs : list of str
    output : {"predict", "proba"}
    budget : NodeBudget
    dialect : {"duckdb", "portable"}

    Returns
    -------
    str
    """
    name = type(est).__name__
    trees = list(getattr(est, "estimators_", [est]))
    single = not hasattr(est, "estimators_")
    classes = model_classes(est, output)
    if classes is None:
        budget.spend(sum(t.tree_.node_count for t in trees), name)
        shapes = [sklearn_tree_nodes(t) for t in trees]
        terms = [
            tree_case_sql(nodes, inputs, lambda i, v=nodes.value: sql_number(v[i, 0]))
            for nodes in shapes
        ]
        total = ordered_sum_sql(terms, dialect)
        return total if single else f"({total} / {sql_number(len(trees))})"
    if single and output == "predict":
        budget.spend(trees[0].tree_.node_count, name)
        nodes = sklearn_tree_nodes(trees[0])
        return tree_case_sql(
            nodes, inputs, lambda i: sql_literal(classes[int(np.argmax(nodes.value[i]))]))
    wanted = [1] if (output == "proba" and len(classes) == 2) else range(len(classes))
    budget.spend(len(wanted) * sum(t.tree_.node_count for t in trees), name)
    means = []
    shapes = [sklearn_tree_nodes(t, _proportions(t)) for t in trees]
    for k in wanted:
        terms = [
            tree_case_sql(nodes, inputs, lambda i, v=nodes.value, k=k: sql_number(v[i, k]))
            for nodes in shapes
        ]
        total = ordered_sum_sql(terms, dialect)
        means.append(total if single else f"({total} / {sql_number(len(trees))})")
    if output == "proba" and len(classes) == 2:
        return means[0]
    return head_sql("mean", means, classes, output, dialect)


def model_classes(est: Any, output: str) -> list[Any] | None:
    """A classifier's classes, or None for a regressor, which cannot give ``output="proba"``.

    Raises
    ------
    ModelError
        If ``output`` is ``"proba"`` and ``est`` is a regressor.
    """
    from sklearn.base import is_classifier

    if is_classifier(est):
        return list(est.classes_)
    if output == "proba":
        raise ModelError(f"{type(est).__name__} is a regressor: it has no probabilities.")
    return None


def _proportions(tree: Any) -> np.ndarray:
    """Leaf class probabilities as scikit-learn's ``predict_proba`` normalizes them."""
    v = np.asarray(tree.tree_.value[:, 0, :], dtype=np.float64)
    s = v.sum(axis=1, keepdims=True)
    s[s == 0.0] = 1.0
    return v / s
