"""Compile scikit-learn models to one SQL expression over the feature columns.

Supported: ``LinearRegression``, ``Ridge``, ``Lasso``, ``ElasticNet``, ``LogisticRegression``,
decision trees, random/extra-tree forests, ``GradientBoosting*`` and ``HistGradientBoosting*``
(its NaN branches and categorical splits included), behind ``StandardScaler``,
``MinMaxScaler``, ``MaxAbsScaler``, ``OneHotEncoder`` and ``ColumnTransformer`` steps of a
``Pipeline``. Trees are exact: see :mod:`workbench.indb.sql_trees` and
:mod:`workbench.indb.sql_boosting`.

Two dialects: ``"duckdb"`` (default) returns the probabilities of several classes as a
``DOUBLE[]`` list and adds long sums with ``list_sum``; ``"portable"`` uses only CASE,
comparisons and arithmetic, so the same text runs in SQLite, PostgreSQL or Spark SQL. In both,
NaN goes down trees as scikit-learn sends it wherever the engine orders NaN above all numbers
(DuckDB, PostgreSQL). Numeric literals are
written in shortest round-trip form with an exponent (``0.25e0``), so every engine reads them as
the same doubles. Any NULL input gives a NULL result. Models are compiled only under a node
budget: a large forest makes a query that engines cannot even plan.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from workbench.core.errors import InputError, InputTypeError, ModelError
from workbench.core.params import check_size
from workbench.core.validation import check_choice, check_estimator
from workbench.indb.pipeline_steps import walk_step
from workbench.indb.sql_text import (
    DIALECTS,
    NodeBudget,
    quote_identifier,
    sql_literal,
    sql_number,
)

__all__ = ["compile_sql", "quote_identifier", "sql_literal"]

# ---------------------------------------------------------------- preprocessing steps
def _leaf_sql(step: Any, names: list[str], exprs: list[str]) -> tuple[list[str], list[str]]:
    """SQL expressions of a scaler's or encoder's outputs, from those of its inputs."""
    from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler, OneHotEncoder, StandardScaler

    if isinstance(step, StandardScaler):
        out = []
        for i, e in enumerate(exprs):
            term = e
            if step.mean_ is not None and step.with_mean:
                term = f"({term} - {sql_number(step.mean_[i])})"
            if step.scale_ is not None and step.with_std:
                term = f"({term} / {sql_number(step.scale_[i])})"
            out.append(term)
        return names, out
    if isinstance(step, MinMaxScaler):
        if step.clip:
            raise ModelError("MinMaxScaler(clip=True) is not compiled to SQL.")
        out = [
            f"({e} * {sql_number(step.scale_[i])} + {sql_number(step.min_[i])})"
            for i, e in enumerate(exprs)
        ]
        return names, out
    if isinstance(step, MaxAbsScaler):
        return names, [f"({e} / {sql_number(step.scale_[i])})" for i, e in enumerate(exprs)]
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
def _linear(coef: np.ndarray, intercept: float, exprs: list[str], budget: NodeBudget) -> str:
    terms = [sql_number(intercept)]
    for c, e in zip(coef, exprs, strict=True):
        if c != 0.0:
            terms.append(f"{sql_number(c)} * {e}")
    budget.spend(len(terms), "The linear model")
    return "(" + " + ".join(terms) + ")"


_TREES = (
    "DecisionTreeClassifier", "DecisionTreeRegressor", "ExtraTreeClassifier",
    "ExtraTreeRegressor", "RandomForestClassifier", "RandomForestRegressor",
    "ExtraTreesClassifier", "ExtraTreesRegressor",
)


def _estimator_sql(
    est: Any, exprs: list[str], output: str, budget: NodeBudget, dialect: str
) -> str:
    from sklearn.ensemble import (
        GradientBoostingClassifier,
        GradientBoostingRegressor,
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
    )
    from sklearn.linear_model import ElasticNet, Lasso, LinearRegression, LogisticRegression, Ridge

    from workbench.indb.sql_boosting import gradient_boosting_sql, hist_gradient_boosting_sql
    from workbench.indb.sql_trees import forest_sql, head_sql

    name = type(est).__name__
    if isinstance(est, HistGradientBoostingClassifier | HistGradientBoostingRegressor):
        return hist_gradient_boosting_sql(est, exprs, output, budget, dialect)
    if isinstance(est, GradientBoostingClassifier | GradientBoostingRegressor):
        return gradient_boosting_sql(est, exprs, output, budget, dialect)
    if name in _TREES and type(est).__module__.startswith("sklearn."):
        return forest_sql(est, exprs, output, budget, dialect)
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
        zs = [_linear(coef[k], est.intercept_[k], exprs, budget) for k in range(len(classes))]
        if output == "proba":
            if dialect != "duckdb":
                raise ModelError(
                    "Probabilities of a multiclass model are a list, which plain SQL has no "
                    "portable type for; compile output='predict', use dialect='duckdb' or the "
                    "SQL function <name>_proba."
                )
            return head_sql("softmax", zs, classes, output, dialect)
        budget.spend(len(classes) ** 2 * len(exprs), f"The {len(classes)}-class argmax")
        whens = []
        for k in range(len(classes) - 1):
            cond = " AND ".join(f"{zs[k]} >= {zs[j]}" for j in range(k + 1, len(classes)))
            whens.append(f"WHEN {cond} THEN {sql_literal(classes[k])}")
        return f"CASE {' '.join(whens)} ELSE {sql_literal(classes[-1])} END"
    raise ModelError(
        f"{name} is not compiled to SQL (supported: linear/logistic models, decision trees, "
        "random/extra-tree forests, GradientBoosting and HistGradientBoosting); call it "
        "through the SQL function <name>_predict."
    )


def _list_output(est: Any, output: str, dialect: str) -> str:
    """The estimators' output name: ``"proba"`` for lists of several classes too."""
    n_classes = len(getattr(est, "classes_", []))
    if output == "proba" and n_classes > 2:
        raise ModelError(
            "Probabilities of a multiclass model are a list, which plain SQL has no portable "
            "type for; compile output='predict', output='proba_list' (DuckDB) or use the SQL "
            "function <name>_proba."
        )
    if output == "proba_list":
        if n_classes < 3:
            raise ModelError(
                "output='proba_list' is for classifiers with 3 or more classes; use "
                "output='proba' (the probability of classes_[1])."
            )
        if dialect != "duckdb":
            raise ModelError("output='proba_list' needs dialect='duckdb' (it is a DOUBLE[]).")
        return "proba"
    return output


def compile_sql(
    model: Any,
    features: list[str] | None = None,
    *,
    output: str = "predict",
    max_nodes: int = 10_000,
    dialect: str = "duckdb",
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
        of ``classes_[1]`` for a binary classifier. ``"proba_list"``: the list of class
        probabilities of a classifier with 3 or more classes (DuckDB ``DOUBLE[]``, what the SQL
        function ``<name>_proba`` returns for it).
    max_nodes : int, default=10,000
        Budget of linear terms plus tree nodes, 1 to 100,000 (a forest's labels count its
        nodes once per class); larger models raise :class:`ModelError` naming both numbers.
        DuckDB plans about 20,000 nodes per second (HistGradientBoosting of 100 iterations,
        6,200 nodes: 0.3 s), once per query.
    dialect : {"duckdb", "portable"}, default="duckdb"
        See the module docstring.

    Returns
    -------
    str
        An SQL expression using double-quoted column names; NULL when any input is NULL.

    Raises
    ------
    ModelError
        If a step or the estimator is not supported, or the model exceeds ``max_nodes``.
    UnknownNameError
        If ``output`` or ``dialect`` is not one of the names above.

    Notes
    -----
    ``output="proba"`` refuses several classes and ``"proba_list"`` two: each output has one
    SQL type, as each SQL function of the store has.
    InputTypeError
        If ``model`` is not an estimator or ``features`` not a list of strings.
    NotFittedError
        If ``model`` is not fitted.
    InputError
        If no feature names are known, their number does not match the model, or a name
        repeats.
    """
    check_choice(output, ["predict", "proba", "proba_list"], kind="output")
    check_choice(dialect, list(DIALECTS), kind="dialect")
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

    budget = NodeBudget(int(max_nodes))
    names = list(features)
    exprs = [quote_identifier(f) for f in features]
    est = model
    if isinstance(model, Pipeline):
        for _, step in model.steps[:-1]:
            names, exprs = walk_step(step, names, exprs, _leaf_sql)
        est = model.steps[-1][1]
    output = _list_output(est, output, dialect)
    body = _estimator_sql(est, exprs, output, budget, dialect)
    guard = " OR ".join(f"{quote_identifier(f)} IS NULL" for f in features)
    return f"CASE WHEN {guard} THEN NULL ELSE {body} END"
