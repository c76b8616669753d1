"""The two kinds of SQL function a store adds besides the ONNX Arrow UDFs: compiled-SQL macros and
explain UDFs.

- A model version whose backend is ``"sql"`` gets TEMP macros with typed parameters
  (``CREATE OR REPLACE TEMP MACRO churn_v2_proba("tenure" DOUBLE, "plan" VARCHAR) AS ...``):
  the stored compiled expression, guarded like the Arrow UDF
  (:func:`workbench.indb.backend.guarded_sql`: NaN where the NaN policy is ``"error"``, infinity
  and float32 overflow fail the query) and cast to the UDF's return type. TEMP: they live in the
  connection, like the UDFs, and are re-created when a store opens; DuckDB's catalog is
  transactional, so a macro changes with its row.
- A version with a stored explainer gets ``<name>_v<k>_explain`` (and the latest / alias names):
  an Arrow UDF that looks its :class:`workbench.indb.Explainer` up at call time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from workbench.indb.backend import guarded_sql
from workbench.indb.sql_text import quote_identifier
from workbench.indb.store_integrity import StoredModel

__all__ = ["drop_macro", "macro_statement", "make_explain_udf"]


def macro_statement(fname: str, model: StoredModel, output: str, return_type: str) -> str:
    """``CREATE OR REPLACE TEMP MACRO`` of one output of a compiled model version.

    Parameters
    ----------
    fname : str
        The function name.
    model : StoredModel
        A version whose ``sql_predict`` (and ``sql_proba`` for ``output="proba"``) is stored.
    output : {"predict", "proba", "value"}
    return_type : str
        The SQL type the Arrow UDF of this output returns.

    Returns
    -------
    str
    """
    expr = model.sql_proba if output == "proba" else model.sql_predict
    if expr is None:  # the store only plans macros for fully compiled versions
        raise ValueError(f"{model.label} has no compiled SQL for {output!r}")
    args = ", ".join(f"{quote_identifier(f.name)} {f.sql_type}" for f in model.features)
    body = guarded_sql(expr, model.features, model.nan_policy, f"model {model.name!r} "
                       f"v{model.version}")
    return f"CREATE OR REPLACE TEMP MACRO {fname}({args}) AS CAST(({body}) AS {return_type})"


def drop_macro(con: Any, fname: str) -> None:
    """Drop a TEMP macro of the store's connection (if it exists)."""
    con.execute(f"DROP MACRO IF EXISTS temp.{fname}")


def make_explain_udf(resolve: Callable[[], Any], n_args: int) -> Any:
    """An Arrow UDF with ``n_args`` named parameters calling ``resolve().batch(...)``.

    Parameters
    ----------
    resolve : callable
        Returns the :class:`workbench.indb.Explainer` the function calls now.
    n_args : int

    Returns
    -------
    callable
    """
    params = ", ".join(f"a{i}" for i in range(n_args))
    namespace: dict[str, Any] = {"_resolve": resolve}
    # The source holds only generated parameter names (a0, a1, ...), never user text.
    exec(f"def udf({params}):\n    return _resolve().batch({params})\n", namespace)
    return namespace["udf"]
