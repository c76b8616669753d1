"""Model-prediction drift: a deployed model's outputs become one more monitored column.

When :class:`~workbench_drift.monitor.DriftMonitor` holds a model, it predicts on the reference and
on every current sample, and monitors those predictions like a logged score or label column.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from workbench.core.errors import InputError, ModelError
from workbench.core.validation import check_columns
from workbench_drift.checks import check_model, check_predictions, column_names

__all__ = ["model_input_columns", "predict_column", "predicts_labels"]


def model_input_columns(model: Any, model_columns: Sequence[str] | None) -> list[str]:
    """Check a deployed model and name its input columns, in the order it expects them.

    Parameters
    ----------
    model : estimator
        A fitted scikit-learn style model with ``predict``.
    model_columns : list of str, optional
        The input columns; default: ``model.feature_names_in_``.

    Returns
    -------
    list of str

    Raises
    ------
    InputTypeError
        If ``model`` is no estimator instance with ``predict``, or ``model_columns`` no list of
        names.
    NotFittedError
        If a scikit-learn model is not fitted.
    InputError
        If the model was fitted on an array and ``model_columns`` is not given.
    """
    check_model(model)
    cols = column_names(model_columns, name="model_columns")
    if not cols:
        names = getattr(model, "feature_names_in_", None)
        if names is None:
            raise InputError(
                "model was fitted without column names; fit it on a DataFrame or pass "
                "model_columns=[...] in the order the model expects."
            )
        cols = [str(n) for n in names]
    return cols


def predicts_labels(model: Any) -> bool:
    """Whether the monitored output of ``model`` is a class label (a multi-class classifier).

    A binary classifier is monitored through its positive-class probability and a regressor
    through its prediction, both numbers; a multi-class classifier's predicted labels are
    categories even when they are integers.

    Parameters
    ----------
    model : estimator

    Returns
    -------
    bool
    """
    classes = getattr(model, "classes_", None)
    return classes is not None and len(classes) != 2


def predict_column(
    model: Any, frame: pd.DataFrame, *, columns: Sequence[str], sample: str, name: str
) -> pd.Series:
    """The model's monitored output for every row of a sample.

    Parameters
    ----------
    model : estimator
        Checked by :func:`model_input_columns`.
    frame : pandas.DataFrame
        The sample, holding the model's input columns.
    columns : list of str
        The model's input columns, in order.
    sample : str
        Name of the sample, used in messages.
    name : str
        Name of the returned Series (the prediction column).

    Returns
    -------
    pandas.Series
        Positive-class probability of a binary classifier (``predict_proba``), else ``predict``;
        indexed like ``frame``.

    Raises
    ------
    InputError
        If input columns are missing or hold missing values.
    ModelError
        If the model fails to predict or returns other than one value per row.
    """
    check_columns(frame.columns, list(columns), what=f"{sample} (model inputs)")
    X: Any = frame[list(columns)]
    if X.isna().to_numpy().any():
        raise InputError(
            f"{sample} has missing values in the model's input columns; the model cannot "
            "predict them. Impute or drop those rows first."
        )
    if getattr(model, "feature_names_in_", None) is None:
        X = X.to_numpy()  # a model fitted on an array warns when given named columns
    try:
        proba = getattr(model, "predict_proba", None)
        classes = getattr(model, "classes_", None)
        if callable(proba) and classes is not None and len(classes) == 2:
            values = np.asarray(proba(X))[:, 1]
        else:
            values = np.asarray(model.predict(X))
    except Exception as exc:
        raise ModelError(
            f"model ({type(model).__name__}) failed to predict on {sample}: {exc}"
        ) from exc
    values = check_predictions(values, len(frame), model=model, sample=sample)
    return pd.Series(values, index=frame.index, name=name)
