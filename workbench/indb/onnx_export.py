"""Convert fitted scikit-learn models to ONNX with skl2onnx and check them against scikit-learn.

Numeric inputs are ``float32`` tensors and text inputs string tensors: onnxruntime cannot load
float64 tree classifiers, and string inputs mixed with float64 inputs fail to load too. ZipMap
is turned off so classifiers return a plain probability matrix.
"""

from __future__ import annotations

import re
import warnings
from typing import Any

import numpy as np

from workbench.core.errors import ModelError
from workbench.indb.features import NUMERIC, Feature, uses_column_transformer

__all__ = ["convert_to_onnx", "make_feed", "unsupported_steps"]

TARGET_OPSET = {"": 18, "ai.onnx.ml": 3}
MATRIX_INPUT = "X"


def _iter_steps(model: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Every (path, estimator) inside Pipelines and ColumnTransformers, outermost first."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline

    out = [(prefix or type(model).__name__, model)]
    if isinstance(model, Pipeline):
        for name, step in model.steps:
            out += _iter_steps(step, f"{prefix}{name}" if not prefix else f"{prefix}/{name}")
    elif isinstance(model, ColumnTransformer):
        items = getattr(model, "transformers_", model.transformers)
        for name, step, _cols in items:
            if not isinstance(step, str):
                out += _iter_steps(step, f"{prefix}/{name}" if prefix else name)
    return out


def unsupported_steps(model: Any) -> list[str]:
    """Steps of ``model`` that skl2onnx has no converter for, as ``"path (ClassName)"``.

    Parameters
    ----------
    model : estimator

    Returns
    -------
    list of str
    """
    from skl2onnx import supported_converters
    from sklearn.preprocessing import FunctionTransformer

    known = {n.removeprefix("Sklearn") for n in supported_converters(from_sklearn=True)}
    known |= {"Pipeline", "ColumnTransformer"}
    bad = []
    for path, step in _iter_steps(model):
        cls = type(step).__name__
        if cls not in known or (isinstance(step, FunctionTransformer) and step.func is not None):
            bad.append(f"{path} ({cls})")
    return bad


def _initial_types(features: list[Feature], column_mode: bool) -> list[tuple[str, Any]]:
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    if not column_mode:
        return [(MATRIX_INPUT, FloatTensorType([None, len(features)]))]
    return [
        (f.name, FloatTensorType([None, 1]) if f.kind == NUMERIC else StringTensorType([None, 1]))
        for f in features
    ]


def convert_to_onnx(model: Any, features: list[Feature]) -> bytes:
    """Convert a fitted estimator or Pipeline to serialized ONNX.

    Parameters
    ----------
    model : estimator
        Fitted scikit-learn classifier or regressor (Pipelines and ColumnTransformers included).
    features : list of Feature
        Its input columns (see :func:`workbench.indb.features.features_from_frame`).

    Returns
    -------
    bytes
        The ONNX model. A model starting with a ColumnTransformer has one input per column
        (named like the column); any other model has one float32 matrix input ``"X"``.

    Raises
    ------
    ModelError
        If skl2onnx cannot convert a step; the message names the step and suggests
        ``to_sql`` or a supported estimator.
    """
    from skl2onnx import convert_sklearn

    column_mode = uses_column_transformer(model)
    try:
        with warnings.catch_warnings():
            # skl2onnx 1.20 writes booleans into int attributes of HistGradientBoosting trees;
            # onnx accepts them with a DeprecationWarning that users cannot act on.
            warnings.filterwarnings("ignore", message=".*Expected an int, got a boolean.*")
            onx = convert_sklearn(
                model,
                initial_types=_initial_types(features, column_mode),
                options={id(model): {"zipmap": False}} if hasattr(model, "predict_proba") else None,
                target_opset=TARGET_OPSET,
            )
    except Exception as exc:  # skl2onnx raises RuntimeError/NotImplementedError/KeyError variants
        bad = unsupported_steps(model)
        found = re.search(r"type '<class '([\w.]+)'>'", str(exc))
        if not bad and found:
            bad = [found.group(1).rsplit(".", 1)[-1]]
        where = f"the step(s) {', '.join(bad)}" if bad else f"{type(model).__name__}"
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(
            f"skl2onnx cannot convert {where} to ONNX ({first_line}). Replace it with a "
            "supported estimator (e.g. StandardScaler/OneHotEncoder + LogisticRegression, "
            "trees, forests, HistGradientBoosting), or, if the model is linear or a tree, run it "
            "as plain SQL with workbench.indb.compile_sql(model) (the compiler behind to_sql)."
        ) from None
    return onx.SerializeToString()


def make_feed(
    features: list[Feature], columns: list[np.ndarray], column_mode: bool
) -> dict[str, np.ndarray]:
    """Build the onnxruntime input dict from one array per feature.

    Numeric columns are cast to float32 here, explicitly; text columns become object arrays.
    """
    if not column_mode:
        return {MATRIX_INPUT: np.column_stack([np.asarray(c, np.float32) for c in columns])}
    feed = {}
    for f, col in zip(features, columns, strict=True):
        arr = np.asarray(col, np.float32) if f.kind == NUMERIC else np.asarray(col, dtype=object)
        feed[f.name] = arr.reshape(-1, 1)
    return feed
