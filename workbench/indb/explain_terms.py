"""Per-feature input steps of a Pipeline, as numbers a stored explainer can keep in JSON.

The steps that compile to SQL (``StandardScaler``, ``MinMaxScaler``, ``MaxAbsScaler``,
``OneHotEncoder``, ``ColumnTransformer``, ``passthrough``) each make every output column from one
input column: a number ``a * x + c``, or an indicator ``x == category``. :func:`input_terms`
lists those outputs, so a linear model's margin splits exactly into one function per raw input
column, and a tree model's inputs can be rebuilt from the raw columns without scikit-learn.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from workbench.core.errors import ModelError
from workbench.indb.pipeline_steps import walk_step

__all__ = ["affine", "input_terms", "split_pipeline", "transform_with_terms"]

# One output column: ("num", j, ops) = x_j through ops [("sub"|"div"|"mul"|"add", v), ...],
# or ("cat", j, value) = [x_j == value].
Term = tuple[Any, ...]
_OPS = {"sub": np.subtract, "div": np.divide, "mul": np.multiply, "add": np.add}


def split_pipeline(model: Any) -> tuple[list[Any], Any]:
    """(input steps, final estimator) of a Pipeline, or ([], model)."""
    from sklearn.pipeline import Pipeline

    if isinstance(model, Pipeline):
        return [s for _, s in model.steps[:-1]], model.steps[-1][1]
    return [], model


def _leaf_terms(step: Any, names: list[str], terms: list[Term]) -> tuple[list[str], list[Term]]:
    """Terms of a scaler's or encoder's outputs, from those of its inputs."""
    from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler, OneHotEncoder, StandardScaler

    if isinstance(step, StandardScaler | MinMaxScaler | MaxAbsScaler):
        if isinstance(step, MinMaxScaler) and step.clip:
            raise ModelError("MinMaxScaler(clip=True) is not linear; it cannot be explained.")
        out = []
        for i, t in enumerate(terms):
            if t[0] != "num":
                raise ModelError(f"{type(step).__name__} after an encoder cannot be explained.")
            ops: list[tuple[str, float]] = []
            if isinstance(step, StandardScaler):
                if step.with_mean and step.mean_ is not None:
                    ops.append(("sub", float(step.mean_[i])))
                if step.with_std and step.scale_ is not None:
                    ops.append(("div", float(step.scale_[i])))
            elif isinstance(step, MinMaxScaler):
                ops += [("mul", float(step.scale_[i])), ("add", float(step.min_[i]))]
            else:
                ops.append(("div", float(step.scale_[i])))
            out.append(("num", t[1], (*t[2], *ops)))
        return names, out
    if isinstance(step, OneHotEncoder):
        if getattr(step, "infrequent_categories_", None) is not None and any(
            c is not None for c in step.infrequent_categories_
        ):
            raise ModelError("OneHotEncoder with infrequent categories cannot be explained.")
        drop = step.drop_idx_ if step.drop_idx_ is not None else [None] * len(terms)
        out_t, out_n = [], []
        for i, (t, name) in enumerate(zip(terms, names, strict=True)):
            if t[0] == "num" and t[2]:
                raise ModelError("OneHotEncoder after a scaler cannot be explained.")
            for k, cat in enumerate(step.categories_[i]):
                if drop[i] is not None and k == drop[i]:
                    continue
                value = cat.item() if isinstance(cat, np.generic) else cat
                out_t.append(("cat", t[1], value))
                out_n.append(f"{name}_{cat}")
        return out_n, out_t
    raise ModelError(
        f"{type(step).__name__} mixes or reshapes input columns; explanations are given for "
        "models after StandardScaler, MinMaxScaler, MaxAbsScaler, OneHotEncoder and "
        "ColumnTransformer steps only."
    )


def input_terms(steps: list[Any], names: list[str], kinds: list[str]) -> list[Term]:
    """The output columns of ``steps`` as terms over the raw input columns.

    Parameters
    ----------
    steps : list of fitted transformers
    names : list of str
        Raw input column names.
    kinds : list of {"numeric", "string"}
        Raw input kinds; text columns must be one-hot encoded.

    Returns
    -------
    list of tuple
        ``("num", j, ops)`` or ``("cat", j, value)`` per output column.
    """
    terms: list[Term] = [
        ("num", j, ()) if k == "numeric" else ("txt", j) for j, k in enumerate(kinds)
    ]
    out = list(names)
    for step in steps:
        out, terms = walk_step(step, out, terms, _leaf_terms)
    if any(t[0] == "txt" for t in terms):
        raise ModelError("A text column reaches the model without a OneHotEncoder.")
    return terms


def transform_with_terms(terms: list[Term], X: pd.DataFrame, names: list[str]) -> np.ndarray:
    """Rebuild the model's input matrix from raw columns with :func:`input_terms`' terms.

    Parameters
    ----------
    terms : list of tuple
    X : pandas.DataFrame
        Raw columns ``names``.
    names : list of str

    Returns
    -------
    ndarray of shape (n_rows, len(terms)), float64
    """
    out = np.empty((len(X), len(terms)), dtype=np.float64)
    cols = [X[n].to_numpy() for n in names]
    for i, t in enumerate(terms):
        x = cols[t[1]]
        if t[0] == "num":
            v = np.asarray(x, dtype=np.float64)
            for op, value in t[2]:
                v = _OPS[op](v, value)
            out[:, i] = v
        else:
            out[:, i] = (x == t[2]).astype(np.float64)
    return out


def affine(ops: tuple[tuple[str, float], ...]) -> tuple[float, float]:
    """``(a, c)`` with ``ops(x) = a * x + c`` (up to rounding) for a numeric term's operations."""
    a, c = 1.0, 0.0
    for op, v in ops:
        if op == "sub":
            c -= v
        elif op == "add":
            c += v
        elif op == "mul":
            a, c = a * v, c * v
        else:
            a, c = a / v, c / v
    return a, c
