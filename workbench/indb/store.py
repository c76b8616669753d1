"""A model store inside a DuckDB database: models as rows, SQL functions that call them.

The table ``workbench_models`` holds, per model version: name, version, creation time, task,
estimator, feature names and types, class labels, the ONNX bytes and their sha256, library
versions, training metrics, the parity report and compiled SQL where the model compiles.
Opening the database re-creates the SQL functions from the stored models after checking every
sha256. Registering, dropping and re-pointing functions run in one transaction: DuckDB's
catalog is transactional, so a failure leaves the table and the functions as they were.

Functions per model ``churn`` (``k`` = every stored version)::

    churn_predict(...)      label (classifier) or value (regressor) of the latest version
    churn_proba(...)        classifiers: P(classes[1]) if binary, else a DOUBLE[] list
    churn_vk_predict(...)   the same for version k (and churn_vk_proba)
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as _dt
import hashlib
import json
import os
import re
import sys
import weakref
from typing import Any

import numpy as np
import pandas as pd

from workbench.core.errors import (
    InputError,
    InputTypeError,
    IntegrityError,
    ModelError,
    UnknownNameError,
)
from workbench.core.validation import (
    check_choice,
    check_consistent_length,
    check_fitted,
    check_has_methods,
    check_positive,
    check_probability,
)
from workbench.indb.features import Feature, features_from_frame, uses_column_transformer
from workbench.indb.results import ModelInfo
from workbench.indb.udf import OnnxRunner, make_udf, return_type

__all__ = ["TABLE", "ModelStore", "connect", "get_store", "set_store"]

TABLE = "workbench_models"
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
_VERSIONED = re.compile(r"_v\d+$")
_PARITY_VIEW = "__workbench_parity_sample"

_DDL = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    name VARCHAR NOT NULL,
    version INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    task VARCHAR NOT NULL,
    estimator VARCHAR NOT NULL,
    features VARCHAR NOT NULL,
    input_mode VARCHAR NOT NULL,
    classes VARCHAR,
    onnx BLOB NOT NULL,
    sha256 VARCHAR NOT NULL,
    library_versions VARCHAR NOT NULL,
    metrics VARCHAR NOT NULL,
    parity VARCHAR NOT NULL,
    sql_predict VARCHAR,
    sql_proba VARCHAR,
    sql_note VARCHAR,
    PRIMARY KEY (name, version)
)
"""
_COLUMNS = (
    "name, version, created_at, task, estimator, features, input_mode, classes, onnx, sha256, "
    "library_versions, metrics, parity, sql_predict, sql_proba, sql_note"
)


def _library_versions() -> dict[str, str]:
    from importlib import metadata

    out = {"python": sys.version.split()[0]}
    for dist in ("scikit-learn", "skl2onnx", "onnx", "onnxruntime", "duckdb", "numpy"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "missing"
    return out


def _describe_estimator(model: Any) -> str:
    from sklearn.pipeline import Pipeline

    if isinstance(model, Pipeline):
        return "Pipeline(" + ", ".join(_describe_estimator(s) for _, s in model.steps) + ")"
    return type(model).__name__


def _check_name(name: Any) -> str:
    if not isinstance(name, str):
        raise InputTypeError(f"Model name must be a string, got {type(name).__name__}.")
    if not _NAME.match(name):
        raise InputError(
            f"Model name {name!r} is not valid: use 1-48 lowercase letters, digits and '_', "
            "starting with a letter (it becomes part of SQL function names)."
        )
    if _VERSIONED.search(name):
        raise InputError(
            f"Model name {name!r} ends like a version suffix ('_v<k>'), which would clash with "
            "versioned function names; choose another name."
        )
    return name


def _classes_of(model: Any) -> list[Any]:
    classes = list(model.classes_)
    if all(isinstance(c, np.integer | int) and not isinstance(c, bool | np.bool_) for c in classes):
        return [int(c) for c in classes]
    if all(isinstance(c, str) for c in classes):
        return [str(c) for c in classes]
    raise ModelError(
        f"Class labels must all be integers or all strings, got {classes[:5]}; re-encode y."
    )


class ModelStore:
    """Models stored in a DuckDB database and exposed as SQL functions.

    Parameters
    ----------
    database : str, path or duckdb.DuckDBPyConnection, default=":memory:"
        A database file (created if missing), ``":memory:"``, or an open connection to use.
    on_corrupt : {"raise", "skip"}, default="raise"
        What to do when a stored model's bytes do not match their sha256 on opening: refuse to
        open (:class:`IntegrityError`), or leave that model's functions out and list it in
        :attr:`corrupt_` (so it can be dropped).
    onnx_threads : int, default=1
        onnxruntime intra-op threads per batch. DuckDB already calls the functions from several
        threads; 1 measured fastest (see ``benchmarks/results/indb.md``).

    Attributes
    ----------
    con : duckdb.DuckDBPyConnection
        The connection; run any SQL on it, or use :meth:`sql` for clear errors.
    corrupt_ : list of str
        ``"name v<k>"`` of stored models refused because of a sha256 mismatch.

    Examples
    --------
    >>> store = ModelStore()                                     # doctest: +SKIP
    >>> store.register("churn", fitted_pipeline, X_sample)       # doctest: +SKIP
    >>> store.sql("SELECT churn_proba(tenure, plan) FROM customers")  # doctest: +SKIP
    """

    def __init__(
        self,
        database: Any = ":memory:",
        *,
        on_corrupt: str = "raise",
        onnx_threads: int = 1,
    ) -> None:
        import duckdb

        check_choice(on_corrupt, ["raise", "skip"], kind="on_corrupt policy")
        self.onnx_threads = int(check_positive(onnx_threads, name="onnx_threads", integer=True))
        if isinstance(database, duckdb.DuckDBPyConnection):
            self.con = database
            self._owns = False
        elif isinstance(database, str | os.PathLike):
            try:
                self.con = duckdb.connect(str(database))
            except duckdb.Error as exc:
                raise InputError(f"Cannot open DuckDB database {str(database)!r}: {exc}") from None
            self._owns = True
            _OPEN.add(self)
        else:
            raise InputTypeError(
                "database must be a file path, ':memory:' or a duckdb connection, got "
                f"{type(database).__name__}."
            )
        self.corrupt_: list[str] = []
        self._runners: dict[tuple[str, int], OnnxRunner] = {}
        # function name -> (model, version, output) it calls now
        self._functions: dict[str, tuple[str, int, str]] = {}
        # function name -> (model, signature) as created in DuckDB's catalog
        self._catalog: dict[str, tuple[str, tuple[Any, ...]]] = {}
        self.con.execute(_DDL)
        rows = self._rows()
        good: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            digest = hashlib.sha256(row["onnx"]).hexdigest()
            if digest != row["sha256"]:
                label = f"{row['name']} v{row['version']}"
                if on_corrupt == "raise":
                    raise IntegrityError(
                        f"Stored model {label} is corrupted: sha256 of its ONNX bytes is "
                        f"{digest[:16]}..., recorded {row['sha256'][:16]}...; refusing to load it. "
                        "Open with on_corrupt='skip' to drop or re-register it."
                    )
                self.corrupt_.append(label)
                continue
            good.setdefault(row["name"], []).append(row)
        for name, versions in good.items():
            plan = self._plan(name, versions)
            self._check_clashes(name, list(plan))
            for fname, (row, out, sig) in plan.items():
                self._create_function(fname, name, sig)
                self._set_target(fname, row, out)

    # ------------------------------------------------------------------ internals
    def _rows(self, name: str | None = None) -> list[dict[str, Any]]:
        where, params = ("WHERE name = ?", [name]) if name is not None else ("", [])
        cur = self.con.execute(
            f"SELECT {_COLUMNS} FROM {TABLE} {where} ORDER BY name, version", params
        )
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]

    def _live_rows(self, name: str) -> list[dict[str, Any]]:
        """Stored versions of ``name`` whose bytes passed the sha256 check."""
        return [r for r in self._rows(name) if f"{name} v{r['version']}" not in self.corrupt_]

    def _next_version(self, name: str) -> int:
        rows = self.con.execute(
            f"SELECT coalesce(max(version), 0) FROM {TABLE} WHERE name = ?", [name]
        ).fetchall()
        return int(rows[0][0]) + 1

    def _runner(self, row: dict[str, Any]) -> OnnxRunner:
        key = (row["name"], int(row["version"]))
        if key not in self._runners:
            feats = [Feature.from_dict(f) for f in json.loads(row["features"])]
            classes = json.loads(row["classes"]) if row["classes"] else None
            self._runners[key] = OnnxRunner(
                bytes(row["onnx"]),
                feats,
                row["input_mode"] == "columns",
                self.onnx_threads,
                classes,
            )
        return self._runners[key]

    @staticmethod
    def _outputs(task: str) -> list[tuple[str, str]]:
        """(suffix, runner output) pairs of the functions a model gets."""
        if task == "regression":
            return [("predict", "value")]
        return [("predict", "predict"), ("proba", "proba")]

    @staticmethod
    def _signature(row: dict[str, Any], output: str) -> tuple[tuple[str, ...], str]:
        feats = json.loads(row["features"])
        classes = json.loads(row["classes"]) if row["classes"] else None
        return tuple(f["sql_type"] for f in feats), return_type(row["task"], classes, output)

    def _plan(self, name: str, versions: list[dict[str, Any]]) -> dict[str, tuple[Any, ...]]:
        """Function name -> (row, output, signature) wanted for the given versions of a model."""
        wanted: dict[str, tuple[Any, ...]] = {}
        latest = max(versions, key=lambda r: r["version"]) if versions else None
        for row in versions:
            for suffix, out in self._outputs(row["task"]):
                item = (row, out, self._signature(row, out))
                wanted[f"{name}_v{row['version']}_{suffix}"] = item
                if row is latest:
                    wanted[f"{name}_{suffix}"] = item
        return wanted

    def _existing_functions(self) -> set[str]:
        rows = self.con.execute("SELECT DISTINCT function_name FROM duckdb_functions()").fetchall()
        return {r[0] for r in rows}

    def _check_clashes(self, name: str, names: list[str]) -> None:
        existing = self._existing_functions()
        for fname in names:
            owner = self._catalog.get(fname)
            if owner is not None and owner[0] != name:
                raise ModelError(
                    f"SQL function {fname!r} already calls model {owner[0]!r}; choose another name."
                )
            if owner is None and fname in existing:
                raise ModelError(
                    f"An SQL function or macro named {fname!r} already exists in this database; "
                    f"choose another model name than {name!r} (or drop that function)."
                )

    def _resolver(self, fname: str) -> Any:
        def resolve() -> tuple[OnnxRunner, str]:
            target = self._functions.get(fname)
            if target is None:
                raise ModelError(f"SQL function {fname} has no stored model behind it now.")
            return self._runners[(target[0], target[1])], target[2]

        return resolve

    def _create_function(self, fname: str, owner: str, signature: tuple[Any, ...]) -> None:
        """Create a catalog function that calls whatever :attr:`_functions` maps it to.

        Never called inside a transaction: a rolled-back ``create_function`` leaves the name
        blocked in the Python client (measured with duckdb 2.0).
        """
        args, ret = signature
        self.con.create_function(
            fname,
            make_udf(self._resolver(fname), len(args)),
            list(args),
            ret,
            type="arrow",
            null_handling="special",
            side_effects=False,
        )
        self._catalog[fname] = (owner, signature)

    def _remove_function(self, fname: str) -> None:
        self.con.remove_function(fname)
        del self._catalog[fname]

    def _set_target(self, fname: str, row: dict[str, Any], output: str) -> None:
        self._runner(row)
        self._functions[fname] = (row["name"], int(row["version"]), output)

    def _change(self, name: str, new_rows: list[dict[str, Any]], dml: Any) -> None:
        """Run ``dml()`` in a transaction and make the functions of ``name`` match ``new_rows``.

        New function names are created before the transaction and removed again if it fails;
        existing ones are re-pointed in Python (restored on failure); a function whose
        signature changes is replaced after the commit.
        """
        import duckdb

        plan = self._plan(name, new_rows)
        self._check_clashes(name, list(plan))
        created: list[str] = []
        try:
            for fname, (_row, _out, sig) in plan.items():
                if fname not in self._catalog:
                    self._create_function(fname, name, sig)
                    created.append(fname)
        except BaseException:
            for fname in created:
                self._remove_function(fname)
            raise
        deferred = [f for f, (_r, _o, sig) in plan.items() if self._catalog[f][1] != sig]
        saved = (dict(self._functions), dict(self._runners))
        self.con.execute("BEGIN TRANSACTION")
        try:
            dml()
            for fname in [f for f, t in self._functions.items() if t[0] == name]:
                del self._functions[fname]
            for fname, (row, out, _sig) in plan.items():
                if fname not in deferred:
                    self._set_target(fname, row, out)
            self.con.execute("COMMIT")
        except BaseException as exc:
            self.con.execute("ROLLBACK")
            self._functions, self._runners = saved
            for fname in created:
                self._remove_function(fname)
            if isinstance(exc, duckdb.Error):
                raise ModelError(
                    f"Storing model {name!r} failed and was rolled back, nothing changed: {exc}"
                ) from None
            raise
        for fname in [f for f, o in self._catalog.items() if o[0] == name and f not in plan]:
            self._remove_function(fname)
        for fname in deferred:
            row, out, sig = plan[fname]
            self._remove_function(fname)
            self._create_function(fname, name, sig)
            self._set_target(fname, row, out)
        keep = {(r["name"], int(r["version"])) for r in new_rows}
        for key in [k for k in self._runners if k[0] == name and k not in keep]:
            del self._runners[key]

    # ------------------------------------------------------------------ parity
    def _parity(
        self,
        model: Any,
        onnx_bytes: bytes,
        features: list[Feature],
        sample: pd.DataFrame,
        task: str,
        tolerance: float,
    ) -> dict[str, Any]:
        runner = OnnxRunner(onnx_bytes, features, uses_column_transformer(model), 1)
        cols = [sample[f.name].to_numpy() for f in features]
        try:
            first, proba = runner.run(cols)
        except Exception as exc:
            raise ModelError(f"onnxruntime could not run the converted model: {exc}") from None
        report: dict[str, Any] = {"rows": len(sample), "tolerance": float(tolerance)}
        if task == "regression":
            ref = np.asarray(model.predict(sample), dtype=np.float64)
            diff = np.abs(np.asarray(first, np.float64) - ref) / np.maximum(1.0, np.abs(ref))
            report["max_abs_diff"] = float(np.nanmax(diff)) if diff.size else 0.0
            report["label_mismatches"] = 0
            ok = report["max_abs_diff"] <= tolerance
        else:
            ref_p = np.asarray(model.predict_proba(sample), dtype=np.float64)
            ref_y = np.asarray(model.predict(sample))
            report["max_abs_diff"] = float(np.nanmax(np.abs(proba - ref_p)))
            flips = np.asarray(first).astype(ref_y.dtype) != ref_y
            top2 = np.sort(ref_p, axis=1)[:, -2:]
            unexplained = flips & ((top2[:, 1] - top2[:, 0]) > 2 * tolerance)
            report["label_mismatches"] = int(flips.sum())
            ok = report["max_abs_diff"] <= tolerance and not unexplained.any()
        if not ok:
            raise ModelError(
                f"ONNX parity check failed on {len(sample)} rows: max abs difference "
                f"{report['max_abs_diff']:.3g} (tolerance {tolerance:g}), "
                f"{report['label_mismatches']} label mismatch(es). The model was not registered; "
                "raise tolerance if float32 inputs are acceptable for this model."
            )
        return report

    def _compile(
        self,
        model: Any,
        features: list[Feature],
        sample: pd.DataFrame,
        task: str,
        tolerance: float,
        max_nodes: int,
    ) -> tuple[str | None, str | None, str, dict[str, Any]]:
        from workbench.indb.sql_compile import compile_sql

        names = [f.name for f in features]
        outputs = ["predict"] if task == "regression" else ["predict", "proba"]
        exprs: dict[str, str | None] = {}
        notes: list[str] = []
        report: dict[str, Any] = {}
        self.con.register(_PARITY_VIEW, sample[names])
        try:
            for out in outputs:
                try:
                    expr = compile_sql(model, names, output=out, max_nodes=max_nodes)
                except ModelError as exc:
                    exprs[out] = None
                    if str(exc) not in notes:
                        notes.append(str(exc))
                    continue
                query = f"SELECT {expr} FROM {_PARITY_VIEW}"
                got = [r[0] for r in self.con.execute(query).fetchall()]
                if out == "proba":
                    diff = np.abs(np.asarray(got, float) - model.predict_proba(sample)[:, 1])
                    report["sql_proba_max_abs_diff"] = float(diff.max())
                    ok = diff.max() <= tolerance
                elif task == "regression":
                    ref = np.asarray(model.predict(sample), float)
                    diff = np.abs(np.asarray(got, float) - ref) / np.maximum(1.0, np.abs(ref))
                    report["sql_max_abs_diff"] = float(diff.max())
                    ok = diff.max() <= tolerance
                else:
                    ref_y = model.predict(sample)
                    mism = int((np.asarray(got, dtype=ref_y.dtype) != ref_y).sum())
                    report["sql_label_mismatches"] = mism
                    ok = mism == 0
                if ok:
                    exprs[out] = expr
                else:
                    exprs[out] = None
                    notes.append(f"{out}: compiled SQL failed the parity check")
        finally:
            self.con.unregister(_PARITY_VIEW)
        return exprs.get("predict"), exprs.get("proba"), "; ".join(notes), report

    # ------------------------------------------------------------------ public API
    def register(
        self,
        name: str,
        model: Any,
        X: pd.DataFrame,
        *,
        y: Any = None,
        metrics: dict[str, float] | None = None,
        tolerance: float = 1e-4,
        parity_rows: int = 1000,
        compile: bool = True,
        max_nodes: int = 2000,
        random_state: int | None = 0,
    ) -> ModelInfo:
        """Convert a fitted model to ONNX, check it, store it and create its SQL functions.

        Parameters
        ----------
        name : str
            Model name: lowercase letters, digits and ``_``; functions are ``<name>_predict``
            and, for classifiers, ``<name>_proba``. Registering a name again adds a version.
        model : estimator
            Fitted scikit-learn classifier or regressor, or a Pipeline (a leading
            ColumnTransformer lets it take text columns).
        X : pandas.DataFrame
            Rows like the training data, holding the model's columns; gives the feature types
            and the parity sample.
        y : array-like, optional
            Targets of ``X``; when given, the model's score on ``X`` is stored as a metric.
        metrics : dict of str to float, optional
            Training metrics to store (e.g. held-out accuracy).
        tolerance : float, default=1e-4
            Largest accepted difference between ONNX and scikit-learn outputs (probabilities,
            or values relative to ``max(1, |value|)``). Label flips are accepted only where
            scikit-learn's two top probabilities are within ``2 * tolerance``.
        parity_rows : int, default=1000
            Rows of ``X`` (sampled with ``random_state``) used for the parity checks.
        compile : bool, default=True
            Also compile the model to SQL (stored for :meth:`to_sql`) where supported.
        max_nodes : int, default=2000
            Node budget of the compiled SQL.
        random_state : int, optional
            Seed of the parity sample.

        Returns
        -------
        ModelInfo
            The stored version (see :meth:`describe`).

        Raises
        ------
        InputError, InputTypeError
            Bad name, sample or arguments.
        NotFittedError
            If the model is not fitted.
        ModelError
            If skl2onnx cannot convert it, parity fails, or a function name clashes.
        """
        from sklearn.base import is_classifier, is_regressor

        name = _check_name(name)
        check_has_methods(model, ["predict"])
        check_fitted(model)
        if is_classifier(model):
            task = "classification"
            classes: list[Any] | None = _classes_of(model)
        elif is_regressor(model):
            task, classes = "regression", None
        else:
            raise InputTypeError(
                f"model ({type(model).__name__}) is neither a classifier nor a regressor; "
                "register a fitted scikit-learn predictor or a Pipeline ending in one."
            )
        check_probability(tolerance, name="tolerance")
        check_positive(parity_rows, name="parity_rows", integer=True)
        if metrics is not None and not isinstance(metrics, dict):
            raise InputTypeError(f"metrics must be a dict of name to number, got {metrics!r}.")
        features = features_from_frame(model, X)
        sample = X[[f.name for f in features]]
        if len(sample) > parity_rows:
            sample = sample.sample(n=int(parity_rows), random_state=random_state)
        from workbench.indb.onnx_export import convert_to_onnx

        onnx_bytes = convert_to_onnx(model, features)
        parity = self._parity(model, onnx_bytes, features, sample, task, float(tolerance))
        sql_predict = sql_proba = None
        sql_note = "not compiled (compile=False)"
        if compile:
            sql_predict, sql_proba, sql_note, sql_report = self._compile(
                model, features, sample, task, float(tolerance), int(max_nodes)
            )
            parity.update(sql_report)
        all_metrics = {str(k): float(v) for k, v in (metrics or {}).items()}
        if y is not None:
            check_consistent_length(X=X, y=y)
            all_metrics["score_on_X"] = float(model.score(X[[f.name for f in features]], y))
        column_mode = uses_column_transformer(model)
        row = {
            "name": name,
            "version": self._next_version(name),
            "created_at": _dt.datetime.now(_dt.UTC).replace(tzinfo=None, microsecond=0),
            "task": task,
            "estimator": _describe_estimator(model),
            "features": json.dumps([f.to_dict() for f in features]),
            "input_mode": "columns" if column_mode else "matrix",
            "classes": json.dumps(classes) if classes is not None else None,
            "onnx": onnx_bytes,
            "sha256": hashlib.sha256(onnx_bytes).hexdigest(),
            "library_versions": json.dumps(_library_versions()),
            "metrics": json.dumps(all_metrics),
            "parity": json.dumps(parity),
            "sql_predict": sql_predict,
            "sql_proba": sql_proba,
            "sql_note": sql_note,
        }
        version = row["version"]

        def insert() -> None:
            self.con.execute(
                f"INSERT INTO {TABLE} ({_COLUMNS}) VALUES ({', '.join('?' * len(row))})",
                [row[c.strip()] for c in _COLUMNS.split(",")],
            ).fetchall()

        self._change(name, [*self._live_rows(name), row], insert)
        return self.describe(name, version)

    def _row(self, name: str, version: int | None) -> dict[str, Any]:
        if not isinstance(name, str):
            raise InputTypeError(f"Model name must be a string, got {type(name).__name__}.")
        rows = self._rows(name)
        if not rows:
            raise UnknownNameError("model", name, sorted({r["name"] for r in self._rows()}))
        if version is None:
            return rows[-1]
        if isinstance(version, bool) or not isinstance(version, int | np.integer):
            raise InputTypeError(f"version must be an integer, got {version!r}.")
        for r in rows:
            if r["version"] == version:
                return r
        raise UnknownNameError(f"version of model {name!r}", version, [r["version"] for r in rows])

    def describe(self, name: str, version: int | None = None) -> ModelInfo:
        """Everything stored about one model version.

        Parameters
        ----------
        name : str
            A registered model name.
        version : int, optional
            Version number; default the latest.

        Returns
        -------
        ModelInfo

        Raises
        ------
        UnknownNameError
            If the model or version does not exist.
        """
        row = self._row(name, version)
        funcs = [f for f, owner in self._functions.items() if owner[:2] == (name, row["version"])]
        created = row["created_at"]
        return ModelInfo(
            name=row["name"],
            version=int(row["version"]),
            created_at=created.isoformat() if hasattr(created, "isoformat") else str(created),
            task=row["task"],
            estimator=row["estimator"],
            features=json.loads(row["features"]),
            classes=json.loads(row["classes"]) if row["classes"] else None,
            sha256=row["sha256"],
            onnx_bytes=len(row["onnx"]),
            library_versions=json.loads(row["library_versions"]),
            metrics=json.loads(row["metrics"]),
            parity=json.loads(row["parity"]),
            functions=sorted(funcs, key=lambda f: (f"_v{row['version']}_" in f, f)),
            sql={
                "predict": "stored" if row["sql_predict"] else "not available",
                "proba": "stored" if row["sql_proba"] else "not available",
                "note": row["sql_note"] or "",
            },
        )

    def list_models(self) -> pd.DataFrame:
        """One row per stored model version.

        Returns
        -------
        pandas.DataFrame
            Columns name, version, created_at, task, estimator, n_features, sha256 (first 12
            characters), compiled_sql (whether ``to_sql`` works) and corrupt.
        """
        cur = self.con.execute(
            f"SELECT name, version, created_at, task, estimator, features, sha256, "
            f"sql_predict IS NOT NULL FROM {TABLE} ORDER BY name, version"
        )
        rows = [
            {
                "name": n,
                "version": int(v),
                "created_at": c,
                "task": t,
                "estimator": e,
                "n_features": len(json.loads(f)),
                "sha256": s[:12],
                "compiled_sql": bool(q),
                "corrupt": f"{n} v{v}" in self.corrupt_,
            }
            for n, v, c, t, e, f, s, q in cur.fetchall()
        ]
        cols = [
            "name",
            "version",
            "created_at",
            "task",
            "estimator",
            "n_features",
            "sha256",
            "compiled_sql",
            "corrupt",
        ]
        return pd.DataFrame(rows, columns=cols)

    def drop(self, name: str, version: int | None = None) -> int:
        """Delete a model (every version) or one version, with its SQL functions.

        Parameters
        ----------
        name : str
            A registered model name.
        version : int, optional
            Drop only this version; ``<name>_predict`` then calls the newest remaining one.

        Returns
        -------
        int
            Number of versions deleted.

        Raises
        ------
        UnknownNameError
            If the model or version does not exist.
        """
        self._row(name, version)
        doomed = [r for r in self._rows(name) if version is None or r["version"] == version]
        remaining = [r for r in self._live_rows(name) if r not in doomed]

        def delete() -> None:
            if version is None:
                self.con.execute(f"DELETE FROM {TABLE} WHERE name = ?", [name]).fetchall()
            else:
                self.con.execute(
                    f"DELETE FROM {TABLE} WHERE name = ? AND version = ?", [name, int(version)]
                ).fetchall()

        self._change(name, remaining, delete)
        gone = {f"{name} v{r['version']}" for r in doomed}
        self.corrupt_ = [c for c in self.corrupt_ if c not in gone]
        return len(doomed)

    def to_sql(self, name: str, *, version: int | None = None, output: str = "predict") -> str:
        """The model compiled to one SQL expression, checked against scikit-learn when stored.

        Parameters
        ----------
        name : str
            A registered model name.
        version : int, optional
            Default the latest.
        output : {"predict", "proba"}, default="predict"
            Label/value, or the probability of ``classes[1]`` (binary classifiers).

        Returns
        -------
        str
            An expression over the double-quoted feature columns, runnable in DuckDB,
            PostgreSQL, Spark SQL and other engines (``SELECT <expr> FROM table``).

        Raises
        ------
        UnknownNameError
            Unknown model, version or output.
        ModelError
            If this model was not compiled (the message says why).
        """
        check_choice(output, ["predict", "proba"], kind="output")
        row = self._row(name, version)
        expr = row[f"sql_{output}"]
        if expr is None:
            raise ModelError(
                f"Model {name!r} v{row['version']} has no compiled SQL for {output!r} "
                f"({row['sql_note'] or 'not compiled'}); call the SQL function {name}_{output} "
                "instead."
            )
        return str(expr)

    def sql(self, query: str, params: Any = None) -> pd.DataFrame:
        """Run SQL on the store's connection and return a DataFrame, with clear errors.

        Parameters
        ----------
        query : str
            Any DuckDB SQL; model functions can be called in it.
        params : sequence or dict, optional
            Prepared-statement parameters.

        Returns
        -------
        pandas.DataFrame
            The result (empty for statements that return nothing).

        Raises
        ------
        InputTypeError
            If ``query`` is not a string.
        InputError
            If DuckDB rejects the query; calls of a model function with wrong arguments name
            the expected signature.
        """
        import duckdb

        if not isinstance(query, str):
            raise InputTypeError(f"query must be a string of SQL, got {type(query).__name__}.")
        if not query.strip():
            raise InputError("query is empty; write an SQL statement.")
        try:
            rel = self.con.execute(query, params) if params is not None else self.con.execute(query)
            if rel.description is None:
                return pd.DataFrame()
            return rel.df()
        except duckdb.Error as exc:
            raise self._explain(exc) from None

    def _explain(self, exc: Exception) -> InputError:
        msg = str(exc).strip()
        called = re.search(r"argument types '(\w+)\(([^']*)\)'", msg)
        if called and called.group(1) in self._functions:
            fname = called.group(1)
            owner = self._functions[fname]
            info = self.describe(owner[0], owner[1])
            got = called.group(2) or "no arguments"
            return InputError(
                f"{fname} was called with ({got}) but takes {len(info.features)} argument(s): "
                f"{info.signature(fname)}. Pass the columns in this order (numbers as DOUBLE, "
                "text as VARCHAR)."
            )
        missing = re.search(r"Function with name (\w+) does not exist", msg)
        if missing and re.search(r"_(predict|proba)$", missing.group(1)):
            return UnknownNameError("model function", missing.group(1), sorted(self._functions))
        return InputError(f"SQL failed: {msg.splitlines()[0]}")

    def function_stats(self) -> pd.DataFrame:
        """How often each model version ran, on how many rows and from how many threads.

        Returns
        -------
        pandas.DataFrame
            Columns name, version, batches, rows, threads (distinct calling threads).
        """
        rows = [
            {
                "name": k[0],
                "version": k[1],
                "batches": r.calls,
                "rows": r.rows,
                "threads": len(r.thread_ids),
            }
            for k, r in sorted(self._runners.items())
        ]
        return pd.DataFrame(rows, columns=["name", "version", "batches", "rows", "threads"])

    def close(self) -> None:
        """Close the connection if this store opened it."""
        if self._owns:
            self.con.close()

    def __enter__(self) -> ModelStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        names = sorted({owner[0] for owner in self._functions.values()})
        return f"ModelStore(models={names})"


_default: ModelStore | None = None
# duckdb 2.0 prints "nanobind: leaked ..." at exit for connections still open with Python UDFs.
_OPEN: weakref.WeakSet[ModelStore] = weakref.WeakSet()


@atexit.register
def _close_open_stores() -> None:
    for store in list(_OPEN):
        with contextlib.suppress(Exception):
            store.close()


def connect(database: Any = ":memory:", **kwargs: Any) -> ModelStore:
    """Open a :class:`ModelStore` and make it the default one (used by the ``%%sql`` magic).

    Parameters
    ----------
    database : str, path or duckdb connection, default=":memory:"
    **kwargs
        Passed to :class:`ModelStore`.

    Returns
    -------
    ModelStore
    """
    store = ModelStore(database, **kwargs)
    set_store(store)
    return store


def set_store(store: ModelStore) -> None:
    """Make ``store`` the default store of the ``%%sql`` magic."""
    global _default
    if not isinstance(store, ModelStore):
        raise InputTypeError(f"Expected a ModelStore, got {type(store).__name__}.")
    _default = store


def get_store() -> ModelStore:
    """The default store; an in-memory one is created on first use."""
    global _default
    if _default is None:
        _default = ModelStore()
    return _default
