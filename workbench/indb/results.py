"""Result objects of the in-database inference tool."""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd

from workbench.core.results import Result

__all__ = ["ModelInfo", "model_info"]


@dataclasses.dataclass(repr=False)
class ModelInfo(Result):
    """One stored model version, as recorded in the database.

    Attributes
    ----------
    name : str
        Model name; its SQL functions start with it.
    version : int
        Version number, 1 for the first registration.
    created_at : str
        ISO time of registration (UTC).
    task : {"classification", "regression"}
    estimator : str
        Class name of the scikit-learn estimator (``Pipeline(StandardScaler, ...)`` for pipelines).
    features : list of dict
        ``name``, ``kind`` and ``sql_type`` of each argument, in SQL argument order.
    classes : list or None
        Class labels of a classifier, in the order of probability lists.
    sha256 : str
        Checksum of the stored ONNX bytes, verified when the database is opened.
    onnx_bytes : int
        Size of the stored ONNX model.
    library_versions : dict
        Versions of the libraries that built the model.
    metrics : dict
        Training metrics given at registration (and the sample score when ``y`` was given).
    parity : dict
        Rows checked, maximum absolute difference and label mismatches of ONNX (and of the
        compiled SQL) against scikit-learn, and the tolerance used.
    functions : list of str
        SQL functions that call this version.
    sql : dict
        For ``"predict"`` and ``"proba"``: whether a compiled SQL expression is stored, or why not.
    backend : {"sql", "udf"}
        What runs the SQL functions: the compiled SQL as macros, or the Arrow UDF (onnxruntime).
    backend_reason : str
        Why that backend (the measured times, or why the compiled SQL was not eligible).
    explain : bool
        Whether an explainer is stored (then ``<name>_v<k>_explain`` is among the functions).
    nan_policy : {"pass", "error"}
        What a NaN argument does in SQL: reaches the model (checked against scikit-learn at
        registration), or fails the query. ``parity["nan"]`` says why.
    row_sha256 : str or None
        Checksum of the whole row (metadata and ONNX bytes), verified when the database is
        opened; None for rows stored before row hashes (legacy rows).
    """

    name: str
    version: int
    created_at: str
    task: str
    estimator: str
    features: list[dict[str, str]]
    classes: list[Any] | None
    sha256: str
    onnx_bytes: int
    library_versions: dict[str, str]
    metrics: dict[str, float]
    parity: dict[str, Any]
    functions: list[str]
    sql: dict[str, str]
    nan_policy: str = "error"
    row_sha256: str | None = None
    backend: str = "udf"
    backend_reason: str = ""
    explain: bool = False

    @property
    def title(self) -> str:
        """Heading of the HTML view."""
        return f"Model {self.name!r} version {self.version}"

    def summary(self) -> dict[str, Any]:
        """Name, version, task, estimator, ONNX parity and the SQL functions."""
        return {
            "name": self.name,
            "version": self.version,
            "task": self.task,
            "estimator": self.estimator,
            "parity_max_abs_diff": self.parity.get("max_abs_diff"),
            "nan_policy": self.nan_policy,
            "backend": self.backend,
            "backend_reason": self.backend_reason,
            "functions": ", ".join(self.functions),
        }

    def signature(self, function: str | None = None) -> str:
        """SQL call signature, e.g. ``churn_predict(tenure DOUBLE, plan VARCHAR)``."""
        fname = function or (self.functions[0] if self.functions else f"{self.name}_predict")
        args = ", ".join(f"{f['name']} {f['sql_type']}" for f in self.features)
        return f"{fname}({args})"

    def to_frame(self) -> pd.DataFrame:
        """The features as a table: name, kind and SQL type of each argument."""
        return pd.DataFrame(self.features, columns=["name", "kind", "sql_type"])


def model_info(m: Any, functions: list[str]) -> ModelInfo:
    """The :class:`ModelInfo` of a verified stored version.

    Parameters
    ----------
    m : StoredModel
        See :mod:`workbench.indb.store_integrity`.
    functions : list of str
        The SQL functions that call it now.

    Returns
    -------
    ModelInfo
    """
    return ModelInfo(
        name=m.name,
        version=m.version,
        created_at=m.created_at.isoformat(),
        task=m.task,
        estimator=m.estimator,
        features=[f.to_dict() for f in m.features],
        classes=m.classes,
        sha256=m.sha256,
        onnx_bytes=len(m.onnx),
        library_versions=m.library_versions,
        metrics=m.metrics,
        parity=m.parity,
        functions=functions,
        sql={
            "predict": "stored" if m.sql_predict else "not available",
            "proba": "stored" if m.sql_proba else "not available",
            "note": m.sql_note or "",
        },
        nan_policy=m.nan_policy,
        row_sha256=m.row_sha256,
        backend=m.backend,
        backend_reason=m.backend_reason,
        explain=m.explainer is not None,
    )
