"""Walking the input steps of a scikit-learn Pipeline, column by column.

The SQL compiler (:mod:`workbench.indb.sql_compile`) and the explainer's input terms
(:mod:`workbench.indb.explain_terms`) both carry one value per column through ``passthrough``,
nested ``Pipeline`` and ``ColumnTransformer`` steps (outputs named ``<transformer>__<column>``,
as scikit-learn names them) and differ only in what a leaf transformer does to its columns.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from workbench.core.errors import ModelError

__all__ = ["column_indices", "walk_step"]

V = TypeVar("V")
#: What a leaf transformer does: (step, names, values) -> (names, values) of its outputs.
Leaf = Callable[[Any, list[str], list[V]], tuple[list[str], list[V]]]


def column_indices(cols: Any, names: list[str]) -> list[int]:
    """Positions in ``names`` of a ColumnTransformer's column selection.

    Parameters
    ----------
    cols : str, slice, array-like of str, int or bool
        The selection as stored in ``transformers_``.
    names : list of str
        The columns the ColumnTransformer receives.

    Returns
    -------
    list of int

    Raises
    ------
    ModelError
        If a selected name is not among ``names``.
    """
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


def walk_step(
    step: Any, names: list[str], values: list[V], leaf: Leaf
) -> tuple[list[str], list[V]]:
    """The output names and values of a fitted step, from those of its input columns.

    Parameters
    ----------
    step : transformer, Pipeline, ColumnTransformer or ``"passthrough"``
    names : list of str
        Input column names.
    values : list
        One value per input column (an SQL expression, an explainer term, ...).
    leaf : callable
        ``leaf(step, names, values) -> (names, values)`` for every other transformer; it raises
        :class:`~workbench.core.errors.ModelError` for steps it does not support.

    Returns
    -------
    names : list of str
    values : list
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    if (isinstance(step, str) and step == "passthrough") or (
        isinstance(step, FunctionTransformer) and step.func is None
    ):
        return names, values
    if isinstance(step, Pipeline):
        for _, sub in step.steps:
            names, values = walk_step(sub, names, values, leaf)
        return names, values
    if isinstance(step, ColumnTransformer):
        out_names: list[str] = []
        out_values: list[V] = []
        for tname, trans, cols in step.transformers_:
            if isinstance(trans, str) and trans == "drop":
                continue
            idx = column_indices(cols, names)
            if not idx:
                continue
            n2, v2 = walk_step(trans, [names[i] for i in idx], [values[i] for i in idx], leaf)
            out_names += [f"{tname}__{n}" for n in n2]
            out_values += v2
        return out_names, out_values
    return leaf(step, names, values)
