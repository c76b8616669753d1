"""Feature schemas: which columns a model reads, as numbers or as text, and how SQL passes them.

A stored model records its features as a list of :class:`Feature`. Numeric features are SQL
``DOUBLE`` arguments (any integer or float column binds to them) and reach ONNX as ``float32``;
string features are SQL ``VARCHAR`` arguments and reach ONNX as strings.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pandas as pd

from workbench.core.errors import InputError, InputTypeError
from workbench.core.validation import check_columns

__all__ = ["Feature", "features_from_frame", "model_feature_names", "uses_column_transformer"]

NUMERIC = "numeric"
STRING = "string"
_SQL_TYPES = {NUMERIC: "DOUBLE", STRING: "VARCHAR"}
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclasses.dataclass(frozen=True)
class Feature:
    """One input column of a stored model.

    Parameters
    ----------
    name : str
        Column name the model was trained on.
    kind : {"numeric", "string"}
        Numbers are passed to ONNX as float32, text as strings.
    """

    name: str
    kind: str

    @property
    def sql_type(self) -> str:
        """SQL type of the function argument (``DOUBLE`` or ``VARCHAR``)."""
        return _SQL_TYPES[self.kind]

    def to_dict(self) -> dict[str, str]:
        """Plain dict for JSON storage."""
        return {"name": self.name, "kind": self.kind, "sql_type": self.sql_type}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Feature:
        """Inverse of :meth:`to_dict`.

        Parameters
        ----------
        data : dict
            ``name`` (a plain SQL identifier) and ``kind`` (``"numeric"`` or ``"string"``);
            ``sql_type``, if present, must agree with ``kind``.

        Returns
        -------
        Feature

        Raises
        ------
        InputTypeError
            If ``data`` is not a dict or ``name`` not a string.
        InputError
            If ``name`` is not an identifier, ``kind`` is unknown or ``sql_type`` disagrees.
        """
        if not isinstance(data, dict):
            raise InputTypeError(f"A feature must be a dict with name and kind, got {data!r}.")
        name, kind = data.get("name"), data.get("kind")
        if not isinstance(name, str):
            raise InputTypeError(f"A feature's name must be a string, got {name!r}.")
        if not _IDENT.match(name):
            raise InputError(
                f"Feature name {name!r} is not a plain SQL identifier (letters, digits, '_')."
            )
        if kind not in _SQL_TYPES:
            raise InputError(f"Feature kind must be 'numeric' or 'string', got {kind!r}.")
        if data.get("sql_type", _SQL_TYPES[kind]) != _SQL_TYPES[kind]:
            raise InputError(
                f"Feature {name!r} of kind {kind!r} has SQL type {_SQL_TYPES[kind]}, "
                f"not {data['sql_type']!r}."
            )
        return cls(name=name, kind=kind)


def uses_column_transformer(model: Any) -> bool:
    """Whether ``model`` starts with a ``ColumnTransformer`` (then it takes one input per column).

    Parameters
    ----------
    model : estimator
        A scikit-learn estimator or Pipeline.

    Returns
    -------
    bool
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline

    first = model
    while isinstance(first, Pipeline):
        first = first.steps[0][1]
    return isinstance(first, ColumnTransformer)


def model_feature_names(model: Any, X: pd.DataFrame) -> list[str]:
    """Names of the columns the fitted ``model`` reads, in order.

    Uses ``feature_names_in_`` when the model was fitted on a DataFrame, else the first
    ``n_features_in_`` columns of ``X`` must be the features.
    """
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        return [str(n) for n in names]
    n = getattr(model, "n_features_in_", None)
    if n is None or n != X.shape[1]:
        raise InputError(
            f"The model was fitted without column names and X has {X.shape[1]} columns "
            f"(model expects {n}); fit the model on a pandas DataFrame or pass exactly its columns."
        )
    return [str(c) for c in X.columns]


def features_from_frame(model: Any, X: Any) -> list[Feature]:
    """Infer the feature schema of ``model`` from a sample DataFrame.

    Parameters
    ----------
    model : estimator
        Fitted scikit-learn estimator or Pipeline.
    X : pandas.DataFrame
        Rows shaped like the training data (at least one row).

    Returns
    -------
    list of Feature

    Raises
    ------
    InputTypeError
        If ``X`` is not a DataFrame or a column has a type that is neither numeric nor text.
    InputError
        If ``X`` is empty, lacks a model column, a column name is not a plain SQL identifier, or
        text columns are given to a model without a leading ``ColumnTransformer``.
    """
    if not isinstance(X, pd.DataFrame):
        raise InputTypeError(
            f"X must be a pandas DataFrame with the model's columns, got {type(X).__name__}."
        )
    if X.shape[0] == 0:
        raise InputError("X has no rows; pass a sample of the training data (parity runs on it).")
    names = model_feature_names(model, X)
    check_columns([str(c) for c in X.columns], names, what="sample X")
    out = []
    for name in names:
        if not _IDENT.match(name):
            raise InputError(
                f"Column name {name!r} is not a plain SQL identifier (letters, digits, '_'); "
                "rename the column before training."
            )
        dtype = X[name].dtype
        if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
            kind = NUMERIC
        elif pd.api.types.is_string_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
            kind = STRING
        else:
            raise InputTypeError(
                f"Column {name!r} has dtype {dtype}; only numeric and text columns can be SQL "
                "function arguments. Convert it (e.g. a date to a number) before training."
            )
        out.append(Feature(name, kind))
    if any(f.kind == STRING for f in out) and not uses_column_transformer(model):
        text = [f.name for f in out if f.kind == STRING]
        raise InputError(
            f"Text column(s) {text} need a model that encodes them: start the Pipeline with a "
            "ColumnTransformer (e.g. OneHotEncoder on the text columns)."
        )
    return out
