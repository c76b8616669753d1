"""What ``ModelStore.register`` records beside the model: the backend of its SQL functions (and
why), and its explainer.

- **Backend.** ``backend="auto"`` measures the compiled SQL against the Arrow UDF with
  :func:`workbench.indb.backend.choose_backend` (behind its parity gate) and keeps the faster one
  for a query of :data:`CHOICE_ROWS` rows; ``"sql"`` requires the compiled SQL (gate passed);
  ``"udf"`` takes the Arrow UDF without measuring. The compiled SQL serves the functions only
  when every output of the model is stored compiled (predict, and proba for classifiers: not for
  3+ classes, whose probability lists stay with the UDF).
- **Explainer.** :func:`workbench.indb.make_explainer` as JSON, or None where the model is not
  explained (the store then creates no ``<name>_explain`` function for it).
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from workbench.core.errors import ModelError, WorkbenchError
from workbench.core.validation import check_choice
from workbench.indb.features import Feature

__all__ = [
    "BACKEND_OPTIONS",
    "CHOICE_ROWS",
    "CHOICE_TIMING_ROWS",
    "check_backend",
    "explainer_json",
    "pick_backend",
]

BACKEND_OPTIONS = ("auto", "sql", "udf")
#: Query size the backend choice optimizes for (the compiled SQL is planned once per query).
CHOICE_ROWS = 1_000_000
#: Sample rows (repeated) timed per backend at registration, and timed runs per backend.
CHOICE_TIMING_ROWS = 20_000
CHOICE_REPEATS = 2
#: Tolerance of the compiled SQL's parity gate (it is exact for the models it compiles).
CHOICE_TOLERANCE = 1e-6


def check_backend(backend: Any) -> str:
    """``backend`` of ``register``: one of :data:`BACKEND_OPTIONS`.

    Raises
    ------
    InputTypeError, UnknownNameError
        If it is not one of them.
    """
    check_choice(backend, list(BACKEND_OPTIONS), kind="backend")
    return str(backend)


def pick_backend(
    con: Any,
    model: Any,
    sample: pd.DataFrame,
    *,
    task: str,
    sql_predict: str | None,
    sql_proba: str | None,
    sql_note: str,
    requested: str,
    max_nodes: int,
    runner: Any,
) -> tuple[str, str, dict[str, Any]]:
    """Decide the backend of a model being registered.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        The store's connection (what is timed).
    model : estimator
    sample : pandas.DataFrame
        The parity sample (the model's columns; rows with NaN allowed).
    task : {"classification", "regression"}
    sql_predict, sql_proba : str or None
        The compiled expressions that passed registration's parity check.
    sql_note : str
        Why an expression is missing.
    requested : {"auto", "sql", "udf"}
    max_nodes : int
        Node budget the expressions were compiled with.
    runner : OnnxRunner
        The model's ONNX runner (timed as the Arrow UDF).

    Returns
    -------
    backend : {"sql", "udf"}
    reason : str
    report : dict
        ``timings`` and ``parity`` of the measurement (empty when not measured).

    Raises
    ------
    ModelError
        ``requested="sql"`` where the compiled SQL is missing or fails the gate.
    """
    from workbench.indb.backend import choose_backend

    if requested == "udf":
        return "udf", "requested (backend='udf'): the Arrow UDF (onnxruntime), not measured.", {}
    missing = sql_predict is None or (task == "classification" and sql_proba is None)
    if missing:
        why = sql_note or "no compiled SQL"
        if sql_predict is not None and task == "classification":
            why = "the class probabilities are not compiled (3+ classes give a list)"
        if requested == "sql":
            raise ModelError(
                f"backend='sql' needs the model compiled to SQL, but {why}; register it with "
                "backend='auto' or 'udf'."
            )
        return "udf", f"Arrow UDF (onnxruntime): the compiled SQL is not available ({why}).", {}
    choice = choose_backend(
        con, model, sample, rows=CHOICE_ROWS, timing_rows=CHOICE_TIMING_ROWS,
        max_nodes=max_nodes, tolerance=CHOICE_TOLERANCE, repeats=CHOICE_REPEATS, runner=runner,
    )
    report = {"timings": choice.timings, "parity": choice.parity}
    if requested == "sql":
        if "sql" not in choice.timings:
            raise ModelError(
                f"backend='sql' refused: {choice.reason} Register with backend='auto' or 'udf'."
            )
        why = f"requested (backend='sql'), parity gate passed; measured: {choice.reason}"
        return "sql", why, report
    return choice.backend, choice.reason, report


def explainer_json(model: Any, X: pd.DataFrame, features: list[Feature],
                   random_state: int | None) -> str | None:
    """The model's explainer as JSON, or None where the model is not explained.

    Parameters
    ----------
    model : estimator
    X : pandas.DataFrame
        Background rows (the model's columns).
    features : list of Feature
    random_state : int, optional
        Seed of the background sample.

    Returns
    -------
    str or None
    """
    from workbench.indb.explain import make_explainer

    try:
        explainer = make_explainer(model, X[[f.name for f in features]],
                                   random_state=random_state)
        return json.dumps(explainer.to_dict(), allow_nan=False, separators=(",", ":"))
    except (WorkbenchError, ValueError):
        return None
