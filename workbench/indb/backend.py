"""Which backend runs a model's SQL function: the compiled SQL or the Arrow UDF (onnxruntime).

:func:`choose_backend` decides by measurement, behind a parity gate:

1. compile the model (:func:`workbench.indb.compile_sql`); where it does not compile, the UDF;
2. run the compiled SQL on the sample in DuckDB and compare with scikit-learn: probabilities or
   values within ``tolerance`` and no label flip, on clean rows and, where scikit-learn accepts
   NaN, on rows with NaN too; where it fails, the UDF;
3. time both on the same rows (the sample repeated to ``timing_rows``, and to at least one
   DuckDB row group per thread the connection runs, up to :data:`MAX_TIMED_THREADS`) in the
   caller's DuckDB connection, in turns: the compiled SQL's planning time (paid by every query:
   DuckDB plans about 20,000 tree nodes a second) and both per-row times. DuckDB scans a table
   one row group (:data:`ROW_GROUP_ROWS` rows) per thread, so a smaller sample runs on one
   thread; on this project's 2-core machine the two backends gain differently from the second
   thread (GradientBoosting, compiled SQL ÷ Arrow UDF: 0.88 on one row group, 1.10 on two,
   1.14 on four), and the choice must see the query's parallelism;
4. pick the one faster on a query of ``rows`` rows, and say why in :class:`BackendChoice`.

:func:`guarded_sql` wraps a compiled expression so that, as a SQL macro, it refuses the same
arguments as the UDF (NaN where the model's NaN policy is ``"error"``, infinity, float32 overflow).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import time
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from workbench.core.errors import InputTypeError, ModelError
from workbench.core.params import FLOAT32_MAX, check_number, check_size
from workbench.core.results import Result
from workbench.core.validation import check_estimator
from workbench.indb.features import NUMERIC, Feature, features_from_frame
from workbench.indb.sql_text import quote_identifier

__all__ = [
    "BACKENDS",
    "MAX_TIMED_THREADS",
    "ROW_GROUP_ROWS",
    "BackendChoice",
    "choose_backend",
    "guarded_sql",
]

BACKENDS = ("sql", "udf")
#: Rows of a DuckDB row group, its unit of parallel scanning (checked against DuckDB in tests).
ROW_GROUP_ROWS = 122_880
#: The timing table spans one row group per DuckDB thread up to this many threads.
MAX_TIMED_THREADS = 4
_ids = itertools.count()


@dataclasses.dataclass(repr=False)
class BackendChoice(Result):
    """The backend chosen for a model's SQL function, and why.

    Attributes
    ----------
    backend : {"sql", "udf"}
        ``"sql"``: the compiled SQL expression; ``"udf"``: the Arrow UDF through onnxruntime.
    reason : str
        Why, in words (the measured numbers, or why the compiled SQL was not eligible).
    timings : dict
        Per backend: ``plan_s`` (per query), ``per_row_us``, ``timed_rows``, ``projected_s``
        (for ``rows`` rows).
    parity : dict
        The compiled SQL against scikit-learn: ``rows``, ``max_abs_diff``,
        ``label_mismatches``, ``nan_rows`` (rows with NaN checked).
    sql : dict
        Compiled expressions by output (``predict``, ``proba`` or ``proba_list``), or None.
    rows : int
        Query size the choice optimizes for.
    """

    backend: str
    reason: str
    timings: dict[str, dict[str, float]]
    parity: dict[str, Any]
    sql: dict[str, str | None]
    rows: int

    @property
    def title(self) -> str:
        """Heading of the HTML view."""
        return f"Backend: {self.backend}"

    def summary(self) -> dict[str, Any]:
        """Backend and reason."""
        return {"backend": self.backend, "reason": self.reason}

    def to_frame(self) -> pd.DataFrame:
        """One row per timed backend: plan_s, per_row_us, timed_rows, projected_s."""
        rows = [{"backend": b, **t} for b, t in self.timings.items()]
        return pd.DataFrame(rows, columns=["backend", "plan_s", "per_row_us", "timed_rows",
                                           "projected_s"])


def guarded_sql(expr: str, features: list[Feature], nan_policy: str, label: str) -> str:
    """``expr`` refusing, like the Arrow UDF, NaN (policy ``"error"``), infinity and overflow.

    Parameters
    ----------
    expr : str
        A compiled expression over the double-quoted feature names.
    features : list of Feature
    nan_policy : {"error", "pass"}
    label : str
        How messages name the model, e.g. ``"model 'churn' v2"``.

    Returns
    -------
    str
        ``CASE WHEN <bad argument> THEN error('...') ... ELSE expr END``; use it as the body of
        ``CREATE MACRO <name>_predict(<features>) AS ...``.
    """
    whens = []
    for f in features:
        if f.kind != NUMERIC:
            continue
        x = f"CAST({quote_identifier(f.name)} AS DOUBLE)"
        if nan_policy == "error":
            msg = (f"{label} got NaN in argument {f.name!r}, but it was registered with "
                   f"nan_policy='error'. Pass NULL instead (NULLIF({f.name}, 'nan'::DOUBLE)), "
                   "or impute the value.")
            whens.append(f"WHEN isnan({x}) THEN error({_text(msg)})")
        msg = (f"{label} got an infinite or too large value in argument {f.name!r}: arguments "
               f"must be finite numbers within ±{FLOAT32_MAX:.3g}. Replace them with NULL or "
               "clip them.")
        whens.append(f"WHEN NOT isnan({x}) AND abs({x}) > {FLOAT32_MAX!r} "
                     f"THEN error({_text(msg)})")
    if not whens:
        return expr
    return f"CASE {' '.join(whens)} ELSE {expr} END"


def _text(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _arrow(frame: pd.DataFrame, features: list[Feature]) -> Any:
    """Rows as Arrow with NaN kept (DuckDB reads a pandas NaN as NULL)."""
    import pyarrow as pa

    return pa.table({
        f.name: pa.array(frame[f.name].to_numpy(dtype=np.float64, na_value=np.nan))
        if f.kind == NUMERIC else pa.array(frame[f.name].astype(object))
        for f in features
    })


def _sklearn(model: Any, X: pd.DataFrame, output: str) -> np.ndarray:
    with threadpool_limits(limits=1):
        if output == "proba":
            return np.asarray(model.predict_proba(X), dtype=np.float64)[:, 1]
        if output == "proba_list":
            return np.asarray(model.predict_proba(X), dtype=np.float64)
        return np.asarray(model.predict(X))


def _sql_answers(con: Any, expr: str, view: str, output: str) -> np.ndarray:
    got = [r[0] for r in con.execute(f"SELECT {expr} FROM {view}").fetchall()]
    if output == "proba_list":
        return np.asarray([np.asarray(r, dtype=np.float64) for r in got])
    return np.asarray(got, dtype=object if output == "predict" else np.float64)


def _gate(con: Any, model: Any, exprs: dict[str, str], rows: pd.DataFrame,
          features: list[Feature], tolerance: float, report: dict[str, Any]) -> str | None:
    """Compare every compiled output with scikit-learn on ``rows``; None if all match."""
    view = f"__workbench_backend_rows_{next(_ids)}"
    con.register(view, _arrow(rows, features))
    try:
        for output, expr in exprs.items():
            want = _sklearn(model, rows, output)
            got = _sql_answers(con, expr, view, output)
            if output == "predict" and want.dtype.kind not in "fc":
                bad = int((got.astype(want.dtype) != want).sum())
                report["label_mismatches"] = report.get("label_mismatches", 0) + bad
                if bad:
                    return f"{bad} label(s) differ from scikit-learn on {len(rows)} rows"
                continue
            diff = np.abs(got.astype(np.float64) - want)
            if output == "predict":
                diff = diff / np.maximum(1.0, np.abs(want))
            worst = float(np.max(diff)) if diff.size else 0.0
            if not np.isfinite(worst):
                return f"{output}: non-finite answers where scikit-learn has numbers"
            report["max_abs_diff"] = max(report.get("max_abs_diff", 0.0), worst)
            if worst > tolerance:
                return f"{output} differs by up to {worst:.3g} (tolerance {tolerance:g})"
    finally:
        con.unregister(view)
    return None


def _nan_rows(clean: pd.DataFrame, features: list[Feature]) -> pd.DataFrame:
    numeric = [f.name for f in features if f.kind == NUMERIC]
    base = clean.iloc[:64].reset_index(drop=True).astype({c: float for c in numeric})
    parts = []
    for col in numeric:
        part = base.copy()
        part[col] = np.nan
        parts.append(part)
    return pd.concat(parts, ignore_index=True) if parts else base.iloc[:0]


def _timed(con: Any, exprs: dict[str, str], table: str, repeats: int) -> dict[str, dict]:
    """Plan and run ``SELECT expr`` over ``table`` for each backend, the backends interleaved.

    Returns, per backend, the median plan seconds and the per-row microseconds of the best run.
    Interleaving (sql, udf, sql, udf, ...) keeps a change of the machine's load during the
    measurement from favouring the backend that happened to be timed first.
    """
    n = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    plans: dict[str, list[float]] = {b: [] for b in exprs}
    runs: dict[str, list[float]] = {b: [] for b in exprs}
    for _ in range(repeats):
        for backend, expr in exprs.items():
            t0 = time.perf_counter()
            con.execute(f"EXPLAIN SELECT {expr} FROM {table}").fetchall()
            plans[backend].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            con.execute(f"CREATE OR REPLACE TEMP TABLE __workbench_backend_out AS "
                        f"SELECT {expr} AS p FROM {table}")
            runs[backend].append(time.perf_counter() - t0)
    con.execute("DROP TABLE IF EXISTS __workbench_backend_out")
    out = {}
    for backend in exprs:
        plan = float(np.median(plans[backend]))
        run = max(min(runs[backend]) - plan, 1e-9)
        out[backend] = {"plan_s": plan, "per_row_us": run / n * 1e6, "timed_rows": float(n)}
    return out


def _onnx_call(con: Any, model: Any, features: list[Feature], runner: Any, task: str,
               classes: list[Any] | None, out: str) -> tuple[str, str]:
    """Create a temporary Arrow UDF for the model; return (call expression, function name)."""
    from workbench.indb.features import uses_column_transformer
    from workbench.indb.onnx_export import convert_to_onnx
    from workbench.indb.udf import OnnxRunner, make_udf, return_type

    if runner is None:
        runner = OnnxRunner(convert_to_onnx(model, features), features,
                            uses_column_transformer(model), 1, classes)
    fname = f"__workbench_backend_udf_{next(_ids)}"
    con.create_function(
        fname, make_udf(lambda: (runner, out), len(features)),
        [f.sql_type for f in features], return_type(task, classes, out),
        type="arrow", null_handling="special", side_effects=False,
    )
    args = ", ".join(quote_identifier(f.name) for f in features)
    return f"{fname}({args})", fname


def choose_backend(
    con: Any,
    model: Any,
    X_sample: pd.DataFrame,
    *,
    rows: int = 1_000_000,
    timing_rows: int = 100_000,
    max_nodes: int = 10_000,
    tolerance: float = 1e-6,
    repeats: int = 3,
    runner: Any = None,
) -> BackendChoice:
    """Measure the compiled SQL and the Arrow UDF on a sample and pick the faster one.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Where the model will run (its thread setting is what is measured).
    model : estimator
        Fitted scikit-learn classifier or regressor (or Pipeline).
    X_sample : pandas.DataFrame
        Rows like the training data (the parity sample; NaN allowed where scikit-learn
        accepts it).
    rows : int, default=1,000,000
        Query size to optimize for: the compiled SQL pays its planning time once per query.
    timing_rows : int, default=100,000
        Rows timed per backend (the clean sample rows repeated), at most 10,000,000; raised to
        one row group (:data:`ROW_GROUP_ROWS`) per DuckDB thread of ``con`` where it runs more
        than one, up to :data:`MAX_TIMED_THREADS`, so the timing runs as parallel as the query.
    max_nodes : int, default=10,000
        Node budget of the compiled SQL (see :func:`workbench.indb.compile_sql`).
    tolerance : float, default=1e-6
        Largest accepted difference of probabilities (values: relative to ``max(1, |v|)``);
        labels must all agree.
    repeats : int, default=3
        Timed runs per backend (best run, median plan), at most 20.
    runner : OnnxRunner, optional
        The model's converted ONNX runner, when the caller has one already.

    Returns
    -------
    BackendChoice

    Raises
    ------
    InputTypeError, InputError, NotFittedError
        Bad connection, model, sample or sizes.
    ModelError
        If neither backend can run the model.
    """
    import duckdb
    from sklearn.base import is_classifier

    from workbench.indb.checks import check_numeric_columns, check_text_columns
    from workbench.indb.parity import nan_rows, sklearn_accepts_nan
    from workbench.indb.sql_compile import compile_sql
    from workbench.indb.udf import OnnxRunner

    if not isinstance(con, duckdb.DuckDBPyConnection) and not all(
        callable(getattr(con, m, None)) for m in ("execute", "register", "create_function")
    ):
        raise InputTypeError(f"con must be a DuckDB connection, got {type(con).__name__}.")
    check_estimator(model, methods=("predict",), fitted=True)
    rows = check_size(rows, name="rows", high=10**12)
    timing_rows = check_size(timing_rows, name="timing_rows", high=10_000_000)
    max_nodes = check_size(max_nodes, name="max_nodes", high=100_000)
    repeats = check_size(repeats, name="repeats", high=20)
    tolerance = check_number(tolerance, name="tolerance", low=0, high=1, low_open=True,
                             high_open=True)
    if runner is not None and not isinstance(runner, OnnxRunner):
        raise InputTypeError(f"runner must be an OnnxRunner, got {type(runner).__name__}.")
    features = features_from_frame(model, X_sample)
    names = [f.name for f in features]
    check_text_columns(X_sample, [f.name for f in features if f.kind != NUMERIC], name="X_sample")
    check_numeric_columns(X_sample, [f.name for f in features if f.kind == NUMERIC],
                          name="X_sample", allow_nan=True)
    classes = list(model.classes_) if is_classifier(model) else None
    task = "regression" if classes is None else "classification"
    main = "predict" if classes is None else "proba" if len(classes) == 2 else "proba_list"
    outputs = ["predict"] if classes is None else ["predict", main]
    sample = X_sample[names]
    has_nan = nan_rows(sample, features)
    clean = sample[~has_nan]
    if clean.empty:
        raise ModelError("Every row of X_sample holds NaN; the backends are timed on clean rows.")
    exprs: dict[str, str | None] = dict.fromkeys(outputs)
    parity: dict[str, Any] = {"rows": 0, "nan_rows": 0}
    why_not_sql = None
    try:
        for out in outputs:
            exprs[out] = compile_sql(model, names, output=out, max_nodes=max_nodes)
    except ModelError as exc:
        exprs = dict.fromkeys(outputs)
        why_not_sql = f"the model does not compile to SQL ({str(exc).rstrip('.')})"
    if why_not_sql is None:
        compiled = {k: v for k, v in exprs.items() if v is not None}
        parity["rows"] = len(clean)
        why_not_sql = _gate(con, model, compiled, clean, features, tolerance, parity)
        probe = pd.concat([sample[has_nan], _nan_rows(clean, features)], ignore_index=True)
        if why_not_sql is None and len(probe) and sklearn_accepts_nan(model, probe):
            parity["nan_rows"] = len(probe)
            why_not_sql = _gate(con, model, compiled, probe, features, tolerance, parity)
            if why_not_sql:
                why_not_sql += " (rows with NaN)"
        if why_not_sql:
            why_not_sql = f"the compiled SQL failed the parity gate: {why_not_sql}"
    return _measure(con, model, clean, features, exprs, main, why_not_sql, parity, rows,
                    timing_rows, repeats, runner, task, classes)


def _measure(con: Any, model: Any, clean: pd.DataFrame, features: list[Feature],
             exprs: dict[str, str | None], main: str, why_not_sql: str | None,
             parity: dict[str, Any], rows: int, timing_rows: int, repeats: int, runner: Any,
             task: str, classes: list[Any] | None) -> BackendChoice:
    view = f"__workbench_backend_sample_{next(_ids)}"
    table = f"__workbench_backend_timing_{next(_ids)}"
    threads = int(con.execute("SELECT current_setting('threads')").fetchall()[0][0])
    if threads > 1:
        timing_rows = max(timing_rows, min(threads, MAX_TIMED_THREADS) * ROW_GROUP_ROWS)
    k = math.ceil(timing_rows / len(clean))
    con.register(view, _arrow(clean, features))
    timings: dict[str, dict[str, float]] = {}
    why_not_onnx = None
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT s.* FROM {view} s, "
                    f"range({k}) LIMIT {timing_rows}")
        timed = {} if why_not_sql is not None else {"sql": str(exprs[main])}
        out = "value" if task == "regression" else "proba"
        fname = None
        try:
            call, fname = _onnx_call(con, model, features, runner, task, classes, out)
            timed["udf"] = call
        except ModelError as exc:
            why_not_onnx = str(exc)
        try:
            if timed:
                timings = _timed(con, timed, table, repeats)
        finally:
            if fname is not None:
                con.remove_function(fname)
    finally:
        con.execute(f"DROP TABLE IF EXISTS {table}")
        con.unregister(view)
    for t in timings.values():
        t["projected_s"] = t["plan_s"] + rows * t["per_row_us"] * 1e-6
    if not timings:
        raise ModelError(f"Neither backend can run this model: {why_not_sql}; {why_not_onnx}.")
    backend = min(timings, key=lambda b: timings[b]["projected_s"])
    reason = _reason(backend, timings, rows, why_not_sql, why_not_onnx)
    return BackendChoice(backend=backend, reason=reason, timings=timings, parity=parity,
                         sql=exprs, rows=rows)


def _reason(backend: str, timings: dict[str, dict[str, float]], rows: int,
            why_not_sql: str | None, why_not_onnx: str | None) -> str:
    words = {"sql": "compiled SQL", "udf": "Arrow UDF (onnxruntime)"}

    def said(b: str) -> str:
        t = timings[b]
        return (f"{words[b]} {t['projected_s']:.3g} s ({t['plan_s']:.3g} s to plan + "
                f"{t['per_row_us']:.3g} µs/row)")

    if len(timings) == 2:
        other = "udf" if backend == "sql" else "sql"
        return (f"{words[backend]}: faster on {rows:,} rows, {said(backend)} against "
                f"{said(other)}; measured on {int(timings[backend]['timed_rows']):,} rows.")
    if backend == "udf":
        return f"{words['udf']}: {why_not_sql}; {said('udf')} for {rows:,} rows."
    return f"{words['sql']}: the Arrow UDF is not available ({why_not_onnx}); {said('sql')}."
