"""A model store inside a DuckDB database: models as rows, SQL functions that call them.

The table ``workbench_models`` holds, per model version: name, version, creation time, task,
estimator, feature names and types, class labels, the ONNX bytes, their sha256 and a sha256 of
the whole row (:mod:`workbench.indb.store_integrity`), library versions, training metrics, the
parity report (NaN behaviour included) and compiled SQL where the model compiles. Opening the
database checks every row and re-creates the SQL functions (:mod:`workbench.indb.catalog`) of
the rows that pass; registering and dropping run in one transaction with the function changes
and their audit log row. Aliases, promotion, rollback, routing and the log are the methods of
:mod:`workbench.indb.lifecycle` (with ``lifecycle_promote`` and ``lifecycle_route``).

A store opened ``read_only=True`` (a reader) writes nothing: several reader processes can open
the same file at once and call every model from SQL.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from workbench.core.errors import (
    InputError,
    InputTypeError,
    IntegrityError,
    ModelError,
    UnknownNameError,
)
from workbench.core.params import check_flag, check_size
from workbench.core.validation import check_choice
from workbench.indb import audit_log
from workbench.indb.catalog import FunctionCatalog
from workbench.indb.checks import check_version
from workbench.indb.database import database_path, is_read_only, open_database, track_open
from workbench.indb.lifecycle_promote import PromotionMethods
from workbench.indb.lifecycle_route import RoutingMethods
from workbench.indb.listing import model_listing
from workbench.indb.registration import MAX_NODES, MAX_PARITY_ROWS, prepare_row
from workbench.indb.results import ModelInfo, model_info
from workbench.indb.sql_guard import explain_sql_error, run_query
from workbench.indb.store_integrity import (
    COLUMNS,
    TABLE,
    StoredModel,
    ensure_schema,
    read_rows,
    verify_row,
    verify_rows,
)

__all__ = ["MAX_NODES", "MAX_PARITY_ROWS", "TABLE", "ModelStore"]


class ModelStore(PromotionMethods, RoutingMethods):
    """Models stored in a DuckDB database and exposed as SQL functions, with their life cycle.

    Parameters
    ----------
    database : str, path or duckdb.DuckDBPyConnection, default=":memory:"
        A database file (created if missing), ``":memory:"``, or an open connection to use (a
        connection opened ``read_only=True`` gives a reader store).
    on_corrupt : {"raise", "skip"}, default="raise"
        What to do with a stored row that fails its checks on opening (ONNX bytes or metadata
        not matching their sha256, invalid fields), or an audit log whose hash chain is
        broken: refuse to open (:class:`IntegrityError`), or leave that model version out and
        list it in :attr:`corrupt_` (so it can be dropped) and the log's damage in
        :attr:`log_problems_`. A damaged database file raises :class:`IntegrityError` either way.
    onnx_threads : int, default=1
        onnxruntime intra-op threads per batch (1-64). DuckDB already calls the functions from
        several threads; 1 measured fastest (see ``benchmarks/results/indb.md``).
    read_only : bool, default=False
        Open the file as a reader: no writes, no schema changes, and any number of reader
        processes at once (while no process writes).

    Attributes
    ----------
    con : duckdb.DuckDBPyConnection
        The connection; run any SQL on it, or use :meth:`sql` for clear errors and protection of
        the store's own tables.
    read_only : bool
        Whether this store is a reader.
    path : str
        The database file, or ``":memory:"``.
    corrupt_ : list of str
        ``"name v<k>"`` of stored rows refused on opening; reasons in :attr:`corrupt_reasons_`.
    corrupt_reasons_ : dict of str to str
        Why each row in :attr:`corrupt_` was refused.
    legacy_ : list of str
        ``"name v<k>"`` of rows written before row hashes (see
        :mod:`workbench.indb.store_integrity`); they load, and refuse NaN in SQL.
    log_problems_ : list of str
        What is wrong with the audit log's hash chain (empty when intact).

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
        read_only: bool = False,
    ) -> None:
        import duckdb

        check_choice(on_corrupt, ["raise", "skip"], kind="on_corrupt policy")
        threads = check_size(onnx_threads, name="onnx_threads", high=64)
        read_only = bool(check_flag(read_only, name="read_only"))
        self._owns = not isinstance(database, duckdb.DuckDBPyConnection)
        self.con = open_database(database, read_only=read_only) if self._owns else database
        if self._owns:
            track_open(self)
        self.read_only = read_only or is_read_only(self.con)
        self.path = database_path(self.con)
        self._database = self.con.execute("SELECT current_database()").fetchall()[0][0]
        self.catalog = FunctionCatalog(threads)
        self.corrupt_: list[str] = []
        self.corrupt_reasons_: dict[str, str] = {}
        self.legacy_: list[str] = []
        try:
            self._columns = ensure_schema(self.con, read_only=self.read_only, path=self.path)
            good, bad = verify_rows(self._read_rows())
            if bad and on_corrupt == "raise":
                label, reason = next(iter(bad.items()))
                raise IntegrityError(
                    f"Stored model {label} is corrupted: {reason}; refusing to load it. Open "
                    "with on_corrupt='skip' to load the other models, then drop or re-register "
                    "it."
                )
            self.corrupt_ = list(bad)
            self.corrupt_reasons_ = bad
            self.legacy_ = [m.label for m in good if m.legacy]
            self._open_lifecycle(good, on_corrupt)
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------ reading rows
    def _read_rows(self, name: str | None = None, *, blobs: bool = True) -> list[dict[str, Any]]:
        return read_rows(self.con, self._columns, self.path, name, blobs=blobs)

    def _row(self, name: Any, version: Any) -> dict[str, Any]:
        if not isinstance(name, str):
            raise InputTypeError(f"Model name must be a string, got {type(name).__name__}.")
        version = check_version(version)
        rows = self._read_rows(name)
        if not rows:
            names = sorted({r["name"] for r in self._read_rows(blobs=False)})
            raise UnknownNameError("model", name, names)
        if version is None:
            return rows[-1]
        for r in rows:
            if r["version"] == version:
                return r
        raise UnknownNameError(f"version of model {name!r}", version, [r["version"] for r in rows])

    def _model(self, name: Any, version: Any) -> StoredModel:
        """A stored version, checked again (the table may have been changed through ``con``)."""
        row = self._row(name, version)
        try:
            return verify_row(row)
        except IntegrityError as exc:
            raise IntegrityError(
                f"Stored model {row['name']} v{row['version']} is corrupted: {exc}. Drop it "
                f"with store.drop({row['name']!r}, version={row['version']}) and re-register it."
            ) from None

    def _live(self, name: str) -> list[StoredModel]:
        """Stored versions of ``name`` that pass their checks (the others stay unloaded)."""
        out = []
        for row in self._read_rows(name):
            try:
                out.append(verify_row(row))
            except IntegrityError:
                continue
        return out

    def _require_writer(self, action: str) -> None:
        if self.read_only:
            raise InputError(
                f"This store is open read-only (a reader), so it cannot {action}; open the file "
                "with indb.connect(path) in the one process that writes."
            )

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
        allow_nan: bool | None = None,
        backend: str = "auto",
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
            and the parity sample. Numbers must be finite and within float32; NaN only where
            scikit-learn accepts it for the model.
        y : array-like, optional
            Targets of ``X``; when given, the model's score on ``X`` is stored as a metric.
        metrics : dict of str to float, optional
            Training metrics to store (e.g. held-out accuracy).
        tolerance : float, default=1e-4
            Largest accepted difference between ONNX and scikit-learn outputs (probabilities,
            or values relative to ``max(1, |value|)``), in (0, 1). Label flips are accepted
            only where scikit-learn's two top probabilities are within ``2 * tolerance``.
        parity_rows : int, default=1000
            Rows of ``X`` (sampled with ``random_state``) used for the parity checks, at most
            100,000.
        compile : bool, default=True
            Also compile the model to SQL (stored for :meth:`to_sql`) where supported.
        max_nodes : int, default=2000
            Node budget of the compiled SQL, at most 100,000.
        random_state : int, optional
            Seed of the parity sample and of the NaN probe rows.
        allow_nan : bool, optional
            NaN arguments in SQL. None: passed to the model when scikit-learn accepts NaN for
            it and the ONNX model matches scikit-learn on probe rows with NaN, refused (the
            query fails) otherwise. True: require that, else :class:`ModelError`. False:
            always refused.
        backend : {"auto", "sql", "udf"}, default="auto"
            What serves the SQL functions: ``"auto"`` times the compiled SQL (when it compiles
            and passes the parity gate) against the Arrow UDF and keeps the faster
            (:func:`workbench.indb.choose_backend`); ``"sql"`` requires the compiled SQL;
            ``"udf"`` takes the Arrow UDF (onnxruntime) without measuring. An explainer is stored
            where the model is explained, giving ``<name>_explain(...)``.

        Returns
        -------
        ModelInfo
            The stored version (see :meth:`describe`); ``nan_policy`` says what NaN does,
            ``backend`` and ``backend_reason`` which backend serves it and why.

        Raises
        ------
        InputError, InputTypeError
            Bad name, sample or arguments, or a reader store.
        NotFittedError
            If the model is not fitted.
        ModelError
            If skl2onnx cannot convert it, parity fails, a function name clashes, or
            ``backend="sql"`` and the compiled SQL is not available.
        """
        self._require_writer("register models")
        row = prepare_row(
            self.con,
            name,
            model,
            X,
            y=y,
            metrics=metrics,
            tolerance=tolerance,
            parity_rows=parity_rows,
            compile=compile,
            max_nodes=max_nodes,
            random_state=random_state,
            allow_nan=allow_nan,
            next_version=self._next_version,
            backend=backend,
        )

        names = [f["name"] for f in json.loads(row["features"])]
        data = audit_log.frame_fingerprint(X, names)

        def insert() -> None:
            self.con.execute(
                f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES "
                f"({', '.join('?' * len(COLUMNS))})",
                [row[c] for c in COLUMNS],
            ).fetchall()
            self._append(
                "register", row["name"], versions={"version": row["version"]},
                data=data, metrics=json.loads(row["metrics"]),
                detail={"estimator": row["estimator"], "row_sha256": row["row_sha256"]},
            )

        name = row["name"]
        self.catalog.change(self.con, name, [*self._live(name), verify_row(row)], insert)
        return self.describe(name, row["version"])

    def _next_version(self, name: str) -> int:
        rows = self.con.execute(
            f"SELECT coalesce(max(version), 0) FROM {TABLE} WHERE name = ?", [name]
        ).fetchall()
        return int(rows[0][0]) + 1

    def describe(self, name: str, version: int | None = None) -> ModelInfo:
        """Everything stored about one model version.

        Parameters
        ----------
        name : str
            A registered model name.
        version : int, optional
            Version number (>= 1); default the latest.

        Returns
        -------
        ModelInfo

        Raises
        ------
        UnknownNameError
            If the model or version does not exist.
        IntegrityError
            If that stored row fails its checks (drop and re-register it).
        """
        m = self._model(name, version)
        return model_info(m, self.catalog.functions_of(m.name, m.version))

    def list_models(self) -> pd.DataFrame:
        """One row per stored model version.

        Returns
        -------
        pandas.DataFrame
            Columns name, version, created_at, task, estimator, n_features, sha256 (first 12
            characters), compiled_sql (whether ``to_sql`` works), nan_policy (None where the
            row is corrupt), corrupt and legacy.
        """
        return model_listing(self._read_rows(), self.corrupt_)

    def drop(self, name: str, version: int | None = None) -> int:
        """Delete a model (every version) or one version, with its SQL functions.

        Corrupt rows can be dropped too.

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
        InputError
            On a reader store.
        """
        self._require_writer("drop models")
        version = check_version(version)
        self._row(name, version)
        doomed = [r["version"] for r in self._read_rows(name, blobs=False)
                  if version is None or r["version"] == version]
        remaining = [m for m in self._live(name) if m.version not in doomed]
        self._check_drop(name, doomed, version is None)

        def delete() -> None:
            if version is None:
                self.con.execute(f"DELETE FROM {TABLE} WHERE name = ?", [name]).fetchall()
            else:
                self.con.execute(
                    f"DELETE FROM {TABLE} WHERE name = ? AND version = ?", [name, version]
                ).fetchall()
            self._forget(name, doomed, version is None)

        self.catalog.change(self.con, name, remaining, delete)
        gone = {f"{name} v{v}" for v in doomed}
        self.corrupt_ = [c for c in self.corrupt_ if c not in gone]
        self.corrupt_reasons_ = {k: v for k, v in self.corrupt_reasons_.items() if k not in gone}
        self.legacy_ = [c for c in self.legacy_ if c not in gone]
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
            PostgreSQL, Spark SQL and other engines (``SELECT <expr> FROM table``). It was
            checked on rows without NaN; NULL inputs give NULL.

        Raises
        ------
        UnknownNameError
            Unknown model, version or output.
        ModelError
            If this model was not compiled (the message says why).
        """
        check_choice(output, ["predict", "proba"], kind="output")
        m = self._model(name, version)
        expr = m.sql_predict if output == "predict" else m.sql_proba
        if expr is None:
            raise ModelError(
                f"Model {name!r} v{m.version} has no compiled SQL for {output!r} "
                f"({m.sql_note or 'not compiled'}); call the SQL function {name}_{output} "
                "instead."
            )
        return str(expr)

    def sql(self, query: str, params: Any = None) -> pd.DataFrame:
        """Run SQL on the store's connection and return a DataFrame, with clear errors.

        Statements that would change a ``workbench_*`` table (the store's own) are rolled back
        and refused; see :mod:`workbench.indb.sql_guard`.

        Parameters
        ----------
        query : str
            Any DuckDB SQL (no BEGIN/COMMIT); model functions can be called in it.
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
            If DuckDB rejects the query, a model function refuses an argument (NaN where the
            model's ``nan_policy`` is ``"error"``, infinity), or the query changes the store's
            tables; calls of a model function with wrong arguments name the expected signature.
        """
        return run_query(self.con, query, params, database=self._database, explain=self._explain)

    def _explain(self, exc: Exception) -> Any:
        return explain_sql_error(exc, self.catalog.signature, self.catalog.names(), self.path)

    def function_stats(self) -> pd.DataFrame:
        """How often each model version ran, on how many rows and from how many threads.

        Returns
        -------
        pandas.DataFrame
            Columns name, version, batches, rows, threads (distinct calling threads).
        """
        return self.catalog.stats()

    def close(self) -> None:
        """Close the connection if this store opened it."""
        if self._owns:
            self.con.close()

    def __enter__(self) -> ModelStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        mode = ", read_only=True" if getattr(self, "read_only", False) else ""
        return f"ModelStore(models={self.catalog.models()}{mode})"
