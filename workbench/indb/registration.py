"""What ``ModelStore.register`` records about a model: task, classes, estimator, versions, the row.

Kept apart from the store so the store module holds only the store's behaviour; everything here
is a pure function of the fitted model and the checked inputs.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from workbench.core.errors import InputError, ModelError
from workbench.core.params import check_flag, check_number, check_random_state, check_size
from workbench.core.validation import (
    check_classification_target,
    check_consistent_length,
    check_estimator,
    check_regression_target,
)
from workbench.indb.backend_pick import check_backend, explainer_json, pick_backend
from workbench.indb.checks import (
    check_metrics,
    check_model_name,
    check_numeric_columns,
    check_text_columns,
)
from workbench.indb.features import (
    NUMERIC,
    STRING,
    Feature,
    features_from_frame,
    uses_column_transformer,
)
from workbench.indb.store_integrity import row_digest
from workbench.indb.udf import OnnxRunner

__all__ = [
    "MAX_NODES",
    "MAX_PARITY_ROWS",
    "build_row",
    "describe_estimator",
    "library_versions",
    "prepare_row",
    "score_on",
    "task_and_classes",
]

#: Largest SQL node budget: bigger expressions cannot be planned (a 5 MB forest was not).
MAX_NODES = 100_000
#: Largest parity sample: more rows add time, not confidence.
MAX_PARITY_ROWS = 100_000


def library_versions() -> dict[str, str]:
    """Versions of Python and of the libraries that build and run the models."""
    from importlib import metadata

    out = {"python": sys.version.split()[0]}
    for dist in ("scikit-learn", "skl2onnx", "onnx", "onnxruntime", "duckdb", "numpy"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "missing"
    return out


def describe_estimator(model: Any) -> str:
    """``LogisticRegression`` or ``Pipeline(ColumnTransformer, LogisticRegression)``."""
    from sklearn.pipeline import Pipeline

    if isinstance(model, Pipeline):
        return "Pipeline(" + ", ".join(describe_estimator(s) for _, s in model.steps) + ")"
    return type(model).__name__


def task_and_classes(model: Any) -> tuple[str, list[Any] | None]:
    """Check that ``model`` is a fitted classifier or regressor; return its task and classes.

    Raises
    ------
    InputTypeError
        Not an estimator, or no ``predict``.
    NotFittedError
        Not fitted.
    ModelError
        Neither a classifier nor a regressor, or class labels that are neither all integers
        nor all strings.
    """
    from sklearn.base import is_classifier, is_regressor

    check_estimator(model, methods=("predict",), fitted=True)
    if is_regressor(model):
        return "regression", None
    if not is_classifier(model):
        raise ModelError(
            f"model ({type(model).__name__}) is neither a classifier nor a regressor; "
            "register a fitted scikit-learn predictor or a Pipeline ending in one."
        )
    check_estimator(model, methods=("predict_proba",))
    classes = list(model.classes_)
    if all(isinstance(c, np.integer | int) and not isinstance(c, bool | np.bool_) for c in classes):
        return "classification", [int(c) for c in classes]
    if all(isinstance(c, str) for c in classes):
        return "classification", [str(c) for c in classes]
    raise ModelError(
        f"Class labels must all be integers or all strings, got {classes[:5]}; re-encode y."
    )


def score_on(model: Any, X: pd.DataFrame, y: Any, task: str) -> float:
    """``model.score(X, y)`` after checking ``y`` (same length, labels or finite numbers)."""
    if not isinstance(y, np.ndarray | pd.Series):
        y = pd.Series(list(y) if hasattr(y, "__iter__") else y, dtype=object)  # no coercion
    check_consistent_length(X=X, y=y)
    if task == "classification":
        labels = check_classification_target(y, min_classes=1)
        kind = pd.api.types.infer_dtype(labels, skipna=False)
        text = isinstance(model.classes_[0], str)
        if (kind == "string") != text:
            raise InputError(
                f"y holds {kind} labels but the model's classes are "
                f"{'text' if text else 'numbers'} ({list(model.classes_)[:3]}); pass the "
                "labels the model was trained on."
            )
    else:
        check_regression_target(y)
    score = float(model.score(X, y))
    if not np.isfinite(score):
        raise InputError("The model's score on X and y is not finite; check y.")
    return score


def build_row(
    *,
    name: str,
    version: int,
    task: str,
    estimator: str,
    features: list[Feature],
    column_mode: bool,
    classes: list[Any] | None,
    onnx_bytes: bytes,
    metrics: dict[str, float],
    parity: dict[str, Any],
    sql_predict: str | None,
    sql_proba: str | None,
    sql_note: str,
    backend: str = "udf",
    backend_reason: str = "",
    explainer: str | None = None,
) -> dict[str, Any]:
    """The table row of a new model version, with its ONNX sha256 and its row hash.

    Returns
    -------
    dict
        Column name to value, every column of ``workbench_models``.
    """
    row = {
        "name": name,
        "version": int(version),
        "created_at": _dt.datetime.now(_dt.UTC).replace(tzinfo=None, microsecond=0),
        "task": task,
        "estimator": estimator,
        "features": json.dumps([f.to_dict() for f in features]),
        "input_mode": "columns" if column_mode else "matrix",
        "classes": json.dumps(classes) if classes is not None else None,
        "onnx": onnx_bytes,
        "sha256": hashlib.sha256(onnx_bytes).hexdigest(),
        "library_versions": json.dumps(library_versions()),
        "metrics": json.dumps(metrics, allow_nan=False),
        "parity": json.dumps(parity, allow_nan=False),
        "sql_predict": sql_predict,
        "sql_proba": sql_proba,
        "sql_note": sql_note,
        "backend": backend,
        "backend_reason": backend_reason,
        "explainer": explainer,
    }
    row["row_sha256"] = row_digest(row)
    return row


def prepare_row(
    con: Any,
    name: Any,
    model: Any,
    X: Any,
    *,
    y: Any,
    metrics: Any,
    tolerance: Any,
    parity_rows: Any,
    compile: Any,
    max_nodes: Any,
    random_state: Any,
    allow_nan: Any,
    next_version: Callable[[str], int],
    backend: Any = "auto",
) -> dict[str, Any]:
    """Check every argument of ``ModelStore.register``, convert and check the model, build its row.

    Parameters are those of :meth:`workbench.indb.ModelStore.register`, plus ``con`` (for the
    compiled-SQL parity check and the backend measurement) and ``next_version`` (model name ->
    version number to use).

    Returns
    -------
    dict
        The row to insert (see :func:`build_row`).
    """
    from workbench.indb.onnx_export import convert_to_onnx
    from workbench.indb.parity import compiled_sql_parity, nan_parity, nan_rows, onnx_parity

    name = check_model_name(name)
    task, classes = task_and_classes(model)
    tolerance = check_number(
        tolerance, name="tolerance", low=0, high=1, low_open=True, high_open=True
    )
    parity_rows = check_size(parity_rows, name="parity_rows", high=MAX_PARITY_ROWS)
    max_nodes = check_size(max_nodes, name="max_nodes", high=MAX_NODES)
    random_state = check_random_state(random_state)
    allow_nan = check_flag(allow_nan, name="allow_nan", optional=True)
    compile = bool(check_flag(compile, name="compile"))
    backend = check_backend(backend)
    if backend == "sql" and not compile:
        raise InputError("backend='sql' needs compile=True (the compiled SQL is the backend).")
    all_metrics = check_metrics(metrics)
    features = features_from_frame(model, X)
    names = [f.name for f in features]
    numeric = [f.name for f in features if f.kind == NUMERIC]
    check_text_columns(X, [f.name for f in features if f.kind == STRING], name="X")
    check_numeric_columns(X, numeric, name="X", allow_nan=True)
    sample = X[names]
    if len(sample) > parity_rows:
        sample = sample.sample(n=parity_rows, random_state=random_state)
    has_nan = nan_rows(sample, features)
    if has_nan.all():
        raise InputError("Every row of X holds NaN; parity needs rows without NaN as well.")
    column_mode = uses_column_transformer(model)
    onnx_bytes = convert_to_onnx(model, features)
    runner = OnnxRunner(onnx_bytes, features, column_mode, 1, classes)
    clean = sample[~has_nan]
    parity = onnx_parity(model, runner, features, clean, task, tolerance)
    parity["nan"] = nan_parity(
        model, runner, features, sample, task, tolerance,
        allow_nan=allow_nan, random_state=random_state,
    )
    if nan_rows(X, features).any() and not parity["nan"]["sklearn_accepts_nan"]:
        raise InputError(
            f"X holds NaN but scikit-learn refuses NaN for {describe_estimator(model)}; drop "
            "or impute those rows."
        )
    sql_predict = sql_proba = None
    sql_note = "not compiled (compile=False)"
    if compile:
        sql_predict, sql_proba, sql_note, sql_report = compiled_sql_parity(
            con, model, features, clean, task, tolerance, max_nodes
        )
        parity.update(sql_report)
    if y is not None:
        all_metrics["score_on_X"] = score_on(model, X[names], y, task)
    chosen, reason, measured = pick_backend(
        con, model, sample, task=task, sql_predict=sql_predict, sql_proba=sql_proba,
        sql_note=sql_note, requested=backend, max_nodes=max_nodes, runner=runner,
    )
    if measured:
        parity["backend"] = measured
    return build_row(
        name=name,
        version=next_version(name),
        task=task,
        estimator=describe_estimator(model),
        features=features,
        column_mode=column_mode,
        classes=classes,
        onnx_bytes=onnx_bytes,
        metrics=all_metrics,
        parity=parity,
        sql_predict=sql_predict,
        sql_proba=sql_proba,
        sql_note=sql_note,
        backend=chosen,
        backend_reason=reason,
        explainer=explainer_json(model, X, features, random_state),
    )
