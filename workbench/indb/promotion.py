"""Promotion: score two versions of a model in SQL on labelled rows and compare one metric.

Both versions are scored by their own SQL functions (``<name>_v<k>_predict``, or ``_proba`` for
``roc_auc`` and ``log_loss``) inside one DuckDB query over the labelled rows, and the metric is
computed by SQL aggregates (``fsum``, so the sum does not depend on thread order):

=========  ==========================================================  ============
metric     definition                                                  better
=========  ==========================================================  ============
accuracy   share of rows whose predicted label equals the label        higher
f1         2 TP / (2 TP + FP + FN), positive class ``classes[1]``      higher
roc_auc    Mann-Whitney U / (P N) on P(``classes[1]``), ties averaged  higher
log_loss   mean of -ln p(label), p clipped to [1e-15, 1 - 1e-15]       lower
r2         1 - sum((y - p)^2) / sum((y - mean y)^2)                    higher
mae        mean |y - p|                                                lower
rmse       sqrt(mean (y - p)^2)                                        lower
=========  ==========================================================  ============

``f1``, ``roc_auc`` and ``log_loss`` are for binary classifiers. The candidate wins when its
``gain`` (score minus the incumbent's, sign turned for "lower is better") is above 0 and at least
``min_gain``. Scores are rounded to 12 decimals.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd

from workbench.core.errors import InputError, ModelError, UnknownNameError
from workbench.core.results import Result
from workbench.indb.store_integrity import StoredModel

__all__ = [
    "METRICS",
    "PromotionRejectedError",
    "PromotionResult",
    "check_evaluation",
    "check_labels",
    "evaluation_sql",
    "metric_for",
]

#: metric -> (what it needs, SQL output it scores, higher is better)
METRICS: dict[str, tuple[str, str, bool]] = {
    "accuracy": ("classification", "predict", True),
    "f1": ("binary", "predict", True),
    "roc_auc": ("binary", "proba", True),
    "log_loss": ("binary", "proba", False),
    "r2": ("regression", "predict", True),
    "mae": ("regression", "predict", False),
    "rmse": ("regression", "predict", False),
}
_INTEGER_TYPES = {
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
    "UBIGINT", "UHUGEINT",
}
_NUMERIC_TYPES = _INTEGER_TYPES | {"FLOAT", "DOUBLE"}


class PromotionRejectedError(ModelError):
    """The candidate did not beat the alias's version; the alias stays where it was.

    Attributes
    ----------
    result : PromotionResult
        Both scores and why.
    """

    def __init__(self, message: str, result: PromotionResult) -> None:
        super().__init__(message)
        self.result = result


@dataclasses.dataclass(repr=False)
class PromotionResult(Result):
    """The outcome of ``ModelStore.promote``: both scores on the same rows, and the decision.

    Attributes
    ----------
    name, alias : str
        The model and the alias that was (or was not) moved.
    metric : str
    higher_is_better : bool
    candidate, incumbent : int
        The versions compared (``incumbent``: where the alias pointed).
    candidate_score, incumbent_score : float
    gain : float
        How much better the candidate scored (positive: better).
    min_gain : float
    promoted : bool
        Whether the alias now points at the candidate.
    n_rows : int
        Labelled rows scored.
    data_sha256 : str
        Fingerprint of those rows (see :mod:`workbench.indb.audit_log`).
    reason : str
    log_seq : int
        The audit log row that records this promotion.
    """

    name: str
    alias: str
    metric: str
    higher_is_better: bool
    candidate: int
    incumbent: int
    candidate_score: float
    incumbent_score: float
    gain: float
    min_gain: float
    promoted: bool
    n_rows: int
    data_sha256: str
    reason: str
    log_seq: int = 0

    @property
    def title(self) -> str:
        """Heading of the HTML view."""
        verb = "promoted" if self.promoted else "not promoted"
        return f"{self.name} v{self.candidate} {verb} to {self.alias!r}"

    def summary(self) -> dict[str, Any]:
        """Metric, both scores, gain, rows and the decision."""
        return {
            "metric": self.metric,
            f"v{self.candidate} (candidate)": self.candidate_score,
            f"v{self.incumbent} ({self.alias})": self.incumbent_score,
            "gain": self.gain,
            "rows": self.n_rows,
            "promoted": self.promoted,
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per version: version, role, score."""
        return pd.DataFrame(
            [
                {"version": self.incumbent, "role": self.alias, "score": self.incumbent_score},
                {"version": self.candidate, "role": "candidate", "score": self.candidate_score},
            ],
            columns=["version", "role", "score"],
        )


def metric_for(metric: Any, model: StoredModel) -> str:
    """The metric to use for ``model`` (None: accuracy or r2), checked against its task.

    Raises
    ------
    UnknownNameError
        Not a metric of :data:`METRICS`.
    InputError
        A metric the model's task does not have (``r2`` of a classifier, ``roc_auc`` of a
        multiclass model).
    """
    binary = model.task == "classification" and len(model.classes or []) == 2
    fits = {"classification": model.task == "classification", "binary": binary,
            "regression": model.task == "regression"}
    if metric is None:
        return "accuracy" if model.task == "classification" else "r2"
    if not isinstance(metric, str) or metric not in METRICS:
        raise UnknownNameError("metric", metric, list(METRICS))
    need = METRICS[metric][0]
    if not fits[need]:
        usable = [m for m, spec in METRICS.items() if fits[spec[0]]]
        kind = "binary classification" if need == "binary" else need
        raise InputError(
            f"Metric {metric!r} needs a {kind} model, but {model.label} is a {model.task} model"
            f"{' with ' + str(len(model.classes or [])) + ' classes' if model.classes else ''}; "
            f"use one of {usable}."
        )
    return metric


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: Any) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return str(int(value))


def check_labels(columns: list[str], types: list[str], target: str, model: StoredModel) -> None:
    """Check that the label column exists and has a type comparable with the model's output.

    Raises
    ------
    InputError
        No such column, or text labels for a model with integer classes (and the reverse), or
        non-numeric targets for a regressor.
    """
    if target not in columns:
        raise InputError(
            f"The labelled rows have no column {target!r} (the target); columns are "
            f"{columns[:20]}. Pass target= the label column, or a query that selects it."
        )
    kind = types[columns.index(target)].upper()
    if model.task == "regression":
        ok, want = kind in _NUMERIC_TYPES or kind.startswith("DECIMAL"), "a numeric"
    elif isinstance((model.classes or [0])[0], str):
        ok, want = kind == "VARCHAR", "a text (VARCHAR)"
    else:
        ok, want = kind in _INTEGER_TYPES, "an integer"
    if not ok:
        raise InputError(
            f"Column {target!r} is {kind}, but {model.label} needs {want} target; cast it in a "
            f"query (SELECT *, CAST({target} AS ...) AS {target} ...)."
        )


def _score(metric: str, col: str, pos: str) -> str:
    """SQL aggregate of ``metric`` for predictions ``col`` against ``y`` (over CTE ``scored``)."""
    if metric == "accuracy":
        return f"fsum(CASE WHEN {col} = y THEN 1.0 ELSE 0.0 END) / count(*)"
    if metric == "f1":
        tp = f"count(*) FILTER (WHERE {col} = {pos} AND y = {pos})"
        fp = f"count(*) FILTER (WHERE {col} = {pos} AND y <> {pos})"
        fn = f"count(*) FILTER (WHERE {col} <> {pos} AND y = {pos})"
        return f"coalesce(2.0 * {tp} / nullif(2 * {tp} + {fp} + {fn}, 0), 0.0)"
    if metric == "log_loss":
        p = f"least(greatest({col}, 1e-15), 1 - 1e-15)"
        return f"-fsum(CASE WHEN y = {pos} THEN ln({p}) ELSE ln(1 - {p}) END) / count(*)"
    if metric == "roc_auc":
        n_pos = f"count(*) FILTER (WHERE y = {pos})"
        return (f"(fsum(r_{col}) FILTER (WHERE y = {pos}) - {n_pos} * ({n_pos} + 1) / 2.0) "
                f"/ ({n_pos} * (count(*) - {n_pos}))")
    if metric == "r2":
        return f"1 - fsum((y - {col}) ^ 2) / nullif(fsum((y - y_mean) ^ 2), 0)"
    if metric == "mae":
        return f"fsum(abs(y - {col})) / count(*)"
    return f"sqrt(fsum((y - {col}) ^ 2) / count(*))"


def evaluation_sql(
    view: str, target: str, metric: str, models: tuple[StoredModel, StoredModel]
) -> str:
    """One query over ``view`` that scores both versions and returns their metric.

    It returns one row: ``n`` (rows), ``n_pos`` (rows of the positive class, binary metrics),
    ``y_var`` (target variance, regression), ``score_a`` and ``score_b``.

    Parameters
    ----------
    view : str
        Name the labelled rows go by in the query.
    target : str
        The label column.
    metric : str
        A key of :data:`METRICS`.
    models : (StoredModel, StoredModel)
        Candidate and incumbent.

    Returns
    -------
    str
    """
    output = METRICS[metric][1]
    a, b = models
    classes = a.classes or [0, 0]
    pos = _literal(classes[1]) if a.task == "classification" else "NULL"
    y = f"CAST({_quote(target)} AS DOUBLE)" if a.task == "regression" else _quote(target)

    def call(m: StoredModel) -> str:
        args = ", ".join(_quote(f.name) for f in m.features)
        return f"{m.name}_v{m.version}_{output}({args})"

    scored = f"SELECT {y} AS y, {call(a)} AS a, {call(b)} AS b FROM {view}"
    extra = ""
    if metric == "roc_auc":
        extra = ", " + ", ".join(
            f"rank() OVER (ORDER BY {c}) + (count(*) OVER (PARTITION BY {c}) - 1) / 2.0 AS r_{c}"
            for c in ("a", "b")
        )
    elif metric == "r2":
        extra = ", avg(y) OVER () AS y_mean"
    y_var = "var_pop(y)" if a.task == "regression" else "NULL"
    n_pos = f"count(*) FILTER (WHERE y = {pos})" if a.task == "classification" else "NULL"
    return (
        f"WITH scored AS ({scored}), ranked AS (SELECT *{extra} FROM scored) "
        f"SELECT count(*) AS n, {n_pos} AS n_pos, {y_var} AS y_var, "
        f"{_score(metric, 'a', pos)} AS score_a, {_score(metric, 'b', pos)} AS score_b "
        "FROM ranked"
    )


def check_evaluation(metric: str, n: int, n_pos: Any, y_var: Any) -> None:
    """Refuse scores that are undefined on these rows (one class only for roc_auc, constant y)."""
    if n == 0:
        raise InputError("The labelled rows are empty; pass a table or query with rows.")
    if metric == "roc_auc" and (not n_pos or n_pos == n):
        raise InputError(
            "roc_auc needs rows of both classes, but the labelled rows hold only one; use "
            "more rows or metric='accuracy'."
        )
    if metric == "r2" and not y_var:
        raise InputError("r2 is undefined when every target value is equal; use metric='mae'.")
