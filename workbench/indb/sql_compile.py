"""Compile scikit-learn models to one plain SQL expression that any SQL engine can evaluate.

Supported: ``LinearRegression``, ``Ridge``, ``Lasso``, ``ElasticNet``, ``LogisticRegression``
(binary and multiclass labels; probabilities for binary), single decision trees and small
random/extra-tree forests (binary or regression), behind ``StandardScaler``, ``MinMaxScaler``,
``MaxAbsScaler``, ``OneHotEncoder`` and ``ColumnTransformer`` steps of a ``Pipeline``.

Exactness: numeric literals are written in shortest round-trip form with an exponent
(``0.25e0``) so every engine reads them as floating point; trees compare ``CAST(x AS REAL)``
because scikit-learn trees compare float32 inputs with float64 thresholds. Any NULL input gives
a NULL result. Trees are compiled only under a node budget: a large forest makes a query that
engines cannot even plan.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from workbench.core.errors import InputError, InputTypeError, ModelError
from workbench.core.params import check_size
from workbench.core.validation import check_choice, check_estimator

__all__ = ["compile_sql", "quote_identifier", "sql_literal"]

_MAX_DEPTH = 40


def quote_identifier(name: str) -> str:
    """Quote a column name for SQL (``"name"``, inner quotes doubled).

    Parameters
    ----------
    name : str

    Returns
    -------
    str
    """
    return '"' + str(name).replace('"', '""') + '"'


def _num(value: float) -> str:
    v = float(value)
    if not math.isfinite(v):
        raise ModelError(f"The model holds a non-finite number ({v}); it cannot be written as SQL.")
    text = repr(v)
    if "e" not in text:
        text += "e0"
    return f"({text})" if text.startswith("-") else text


def sql_literal(value: Any) -> str:
    """A label or category as an SQL literal (numbers as numbers, text single-quoted).

    Parameters
    ----------
    value : int, float or str

    Returns
    -------
    str

    Raises
    ------
    ModelError
        For booleans, non-finite numbers and other types.
    """
    if isinstance(value, bool | np.bool_):
        raise ModelError("Boolean class labels cannot be compiled to SQL; encode them as 0/1.")
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return _num(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise ModelError(f"Value {value!r} of type {type(value).__name__} cannot be written as SQL.")


class _Budget:
    def __init__(self, max_nodes: int) -> None:
        self.max_nodes = max_nodes
        self.used = 0

    def spend(self, n: int, what: str) -> None:
        self.used += int(n)
        if self.used > self.max_nodes:
            raise ModelError(
                f"{what} needs more than max_nodes={self.max_nodes} SQL terms (a large SQL "
                "expression cannot be planned efficiently); use the SQL function "
                "<name>_predict instead, or raise max_nodes."
            )


# ---------------------------------------------------------------- preprocessing steps
def _columns_of(ct: Any, cols: Any, names: list[str]) -> list[int]:
    if isinstance(cols, str):
        cols = [cols]
    if isinstance(cols, slice):
        return list(range(len(names)))[cols]
    arr = np.asarray(cols)
    if arr.dtype.kind == "b":
        return [int(i) for i in np.flatnonzero(arr)]
    if arr.dtype.kind in "iu":
        return [int(i) for i in arr]
    out = []
    for c in arr:
        if str(c) not in names:
            raise ModelError(f"ColumnTransformer selects unknown column {c!r}.")
        out.append(names.index(str(c)))
    return out


def _transform(step: Any, names: list[str], exprs: list[str]) -> tuple[list[str], list[str]]:
    """SQL expressions of the outputs of a fitted transformer, from those of its inputs."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import (
        FunctionTransformer,
        MaxAbsScaler,
        MinMaxScaler,
        OneHotEncoder,
        StandardScaler,
    )

    if (isinstance(step, str) and step == "passthrough") or (
        isinstance(step, FunctionTransformer) and step.func is None
    ):
        return names, exprs
    if isinstance(step, Pipeline):
        for _, sub in step.steps:
            names, exprs = _transform(sub, names, exprs)
        return names, exprs
    if isinstance(step, ColumnTransformer):
        out_names: list[str] = []
        out_exprs: list[str] = []
        for tname, trans, cols in step.transformers_:
            if isinstance(trans, str) and trans == "drop":
                continue
            idx = _columns_of(step, cols, names)
            if not idx:
                continue
            n2, e2 = _transform(trans, [names[i] for i in idx], [exprs[i] for i in idx])
            out_names += [f"{tname}__{n}" for n in n2]
            out_exprs += e2
        return out_names, out_exprs
    if isinstance(step, StandardScaler):
        out = []
        for i, e in enumerate(exprs):
            term = e
            if step.mean_ is not None and step.with_mean:
                term = f"({term} - {_num(step.mean_[i])})"
            if step.scale_ is not None and step.with_std:
                term = f"({term} / {_num(step.scale_[i])})"
            out.append(term)
        return names, out
    if isinstance(step, MinMaxScaler):
        if step.clip:
            raise ModelError("MinMaxScaler(clip=True) is not compiled to SQL.")
        out = [
            f"({e} * {_num(step.scale_[i])} + {_num(step.min_[i])})" for i, e in enumerate(exprs)
        ]
        return names, out
    if isinstance(step, MaxAbsScaler):
        return names, [f"({e} / {_num(step.scale_[i])})" for i, e in enumerate(exprs)]
    if isinstance(step, OneHotEncoder):
        if getattr(step, "infrequent_categories_", None) is not None and any(
            c is not None for c in step.infrequent_categories_
        ):
            raise ModelError("OneHotEncoder with infrequent categories is not compiled to SQL.")
        drop = step.drop_idx_ if step.drop_idx_ is not None else [None] * len(exprs)
        out_names, out_exprs = [], []
        for i, (name, e) in enumerate(zip(names, exprs, strict=True)):
            for j, cat in enumerate(step.categories_[i]):
                if drop[i] is not None and j == drop[i]:
                    continue
                if cat is None or (isinstance(cat, float) and math.isnan(cat)):
                    continue  # NULL inputs give NULL results before this indicator matters
                out_names.append(f"{name}_{cat}")
                out_exprs.append(f"(CASE WHEN {e} = {sql_literal(cat)} THEN 1.0e0 ELSE 0.0e0 END)")
        return out_names, out_exprs
    raise ModelError(
        f"{type(step).__name__} is not compiled to SQL (supported steps: StandardScaler, "
        "MinMaxScaler, MaxAbsScaler, OneHotEncoder, ColumnTransformer); use the SQL function."
    )


# ---------------------------------------------------------------- final estimators
def _linear(coef: np.ndarray, intercept: float, exprs: list[str], budget: _Budget) -> str:
    terms = [_num(intercept)]
    for c, e in zip(coef, exprs, strict=True):
        if c != 0.0:
            terms.append(f"{_num(c)} * {e}")
    budget.spend(len(terms), "The linear model")
    return "(" + " + ".join(terms) + ")"


def _tree_sql(tree: Any, exprs: list[str], leaf: Any, budget: _Budget, what: str) -> str:
    t = tree.tree_
    if t.max_depth > _MAX_DEPTH:
        raise ModelError(f"{what} is {t.max_depth} levels deep; SQL trees stop at {_MAX_DEPTH}.")
    budget.spend(t.node_count, what)
    left, right, feat, thr, value = (
        t.children_left,
        t.children_right,
        t.feature,
        t.threshold,
        t.value,
    )

    def rec(node: int) -> str:
        if left[node] == -1:
            return leaf(value[node])
        x = f"CAST({exprs[feat[node]]} AS REAL)"
        return (
            f"CASE WHEN {x} <= {_num(thr[node])} THEN {rec(left[node])} ELSE {rec(right[node])} END"
        )

    return rec(0)


def _proportions(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v[0], dtype=np.float64)
    s = v.sum()
    return v / s if s > 0 else v


def _estimator_sql(est: Any, exprs: list[str], output: str, budget: _Budget) -> str:
    from sklearn.ensemble import (
        ExtraTreesClassifier,
        ExtraTreesRegressor,
        RandomForestClassifier,
        RandomForestRegressor,
    )
    from sklearn.linear_model import ElasticNet, Lasso, LinearRegression, LogisticRegression, Ridge
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    name = type(est).__name__
    if isinstance(est, LinearRegression | Ridge | Lasso | ElasticNet):
        coef = np.asarray(est.coef_, dtype=np.float64)
        if coef.ndim != 1:
            raise ModelError(f"{name} with several targets is not compiled to SQL.")
        if output == "proba":
            raise ModelError(f"{name} is a regressor: it has no probabilities.")
        return _linear(coef, float(np.ravel(est.intercept_)[0]), exprs, budget)
    if isinstance(est, LogisticRegression):
        classes = list(est.classes_)
        coef = np.asarray(est.coef_, dtype=np.float64)
        if len(classes) == 2:
            z = _linear(coef[0], est.intercept_[0], exprs, budget)
            if output == "proba":
                return f"(1.0e0 / (1.0e0 + EXP(-{z})))"
            return (
                f"CASE WHEN {z} > 0.0e0 THEN {sql_literal(classes[1])} "
                f"ELSE {sql_literal(classes[0])} END"
            )
        if output == "proba":
            raise ModelError(
                "Probabilities of a multiclass model are a list, which plain SQL has no portable "
                "type for; compile output='predict' or use the SQL function <name>_proba."
            )
        zs = [_linear(coef[k], est.intercept_[k], exprs, budget) for k in range(len(classes))]
        budget.spend(len(classes) ** 2 * len(exprs), f"The {len(classes)}-class argmax")
        whens = []
        for k in range(len(classes) - 1):
            cond = " AND ".join(f"{zs[k]} >= {zs[j]}" for j in range(k + 1, len(classes)))
            whens.append(f"WHEN {cond} THEN {sql_literal(classes[k])}")
        return f"CASE {' '.join(whens)} ELSE {sql_literal(classes[-1])} END"
    if isinstance(est, DecisionTreeRegressor):
        if output == "proba":
            raise ModelError(f"{name} is a regressor: it has no probabilities.")
        return _tree_sql(est, exprs, lambda v: _num(v[0][0]), budget, name)
    if isinstance(est, DecisionTreeClassifier):
        classes = list(est.classes_)
        if output == "proba":
            if len(classes) != 2:
                raise ModelError("Probabilities are compiled for binary classifiers only.")
            return _tree_sql(est, exprs, lambda v: _num(_proportions(v)[1]), budget, name)
        return _tree_sql(
            est, exprs, lambda v: sql_literal(classes[int(np.argmax(v[0]))]), budget, name
        )
    if isinstance(est, RandomForestRegressor | ExtraTreesRegressor):
        if output == "proba":
            raise ModelError(f"{name} is a regressor: it has no probabilities.")
        parts = [
            _tree_sql(t, exprs, lambda v: _num(v[0][0]), budget, name) for t in est.estimators_
        ]
        return f"(({' + '.join(parts)}) / {_num(len(parts))})"
    if isinstance(est, RandomForestClassifier | ExtraTreesClassifier):
        classes = list(est.classes_)
        if len(classes) != 2:
            raise ModelError(
                "Forests are compiled to SQL for regression and binary classification only; use "
                "the SQL function for multiclass forests."
            )
        parts = [
            _tree_sql(t, exprs, lambda v: _num(_proportions(v)[1]), budget, name)
            for t in est.estimators_
        ]
        p1 = f"(({' + '.join(parts)}) / {_num(len(parts))})"
        if output == "proba":
            return p1
        return (
            f"CASE WHEN {p1} > 0.5e0 THEN {sql_literal(classes[1])} "
            f"ELSE {sql_literal(classes[0])} END"
        )
    raise ModelError(
        f"{name} is not compiled to SQL (supported: linear/logistic models, decision trees and "
        "small random/extra-tree forests); call it through the SQL function <name>_predict."
    )


def compile_sql(
    model: Any,
    features: list[str] | None = None,
    *,
    output: str = "predict",
    max_nodes: int = 2000,
) -> str:
    """Compile a fitted model into one SQL expression over the feature columns.

    Parameters
    ----------
    model : estimator
        Fitted scikit-learn estimator or Pipeline (see the module docstring for what compiles).
    features : list of str, optional
        Input column names in training order (distinct strings); default
        ``model.feature_names_in_``.
    output : {"predict", "proba"}, default="predict"
        ``"predict"``: the label (classifier) or value (regressor). ``"proba"``: the probability
        of ``classes_[1]`` for a binary classifier.
    max_nodes : int, default=2000
        Budget of linear terms plus tree nodes, 1 to 100,000; larger models raise
        :class:`ModelError`.

    Returns
    -------
    str
        An SQL expression using double-quoted column names; NULL when any input is NULL.

    Raises
    ------
    ModelError
        If a step or the estimator is not supported, or the model exceeds ``max_nodes``.
    UnknownNameError
        If ``output`` is not ``"predict"`` or ``"proba"``.
    InputTypeError
        If ``model`` is not an estimator or ``features`` not a list of strings.
    NotFittedError
        If ``model`` is not fitted.
    InputError
        If no feature names are known, their number does not match the model, or a name
        repeats.
    """
    check_choice(output, ["predict", "proba"], kind="output")
    max_nodes = check_size(
        max_nodes, name="max_nodes", high=100_000,
        hint="Larger SQL expressions cannot be planned; use the SQL function instead.",
    )
    check_estimator(model, methods=("predict",), fitted=True)
    if features is not None:
        if isinstance(features, str) or not isinstance(features, list | tuple):
            raise InputTypeError(f"features must be a list of column names, got {features!r}.")
        if not all(isinstance(f, str) for f in features):
            raise InputTypeError(f"features must hold strings, got {list(features)!r}.")
        if len(set(features)) != len(features):
            raise InputError(f"features names a column twice: {list(features)}.")
    if features is None:
        names = getattr(model, "feature_names_in_", None)
        if names is None:
            raise InputError(
                "The model was fitted without column names; pass features=[...] in training order."
            )
        features = [str(n) for n in names]
    n_in = getattr(model, "n_features_in_", len(features))
    if len(features) != n_in:
        raise InputError(f"features has {len(features)} names but the model reads {n_in} columns.")
    from sklearn.pipeline import Pipeline

    budget = _Budget(int(max_nodes))
    names = list(features)
    exprs = [quote_identifier(f) for f in features]
    est = model
    if isinstance(model, Pipeline):
        for _, step in model.steps[:-1]:
            names, exprs = _transform(step, names, exprs)
        est = model.steps[-1][1]
    body = _estimator_sql(est, exprs, output, budget)
    guard = " OR ".join(f"{quote_identifier(f)} IS NULL" for f in features)
    return f"CASE WHEN {guard} THEN NULL ELSE {body} END"
