"""The SQL functions a model store created in its DuckDB connection, and which model each calls.

Functions per model ``churn`` (``k`` = every stored version)::

    churn_predict(...)      label (classifier) or value (regressor) of the latest version
    churn_proba(...)        classifiers: P(classes[1]) if binary, else a DOUBLE[] list
    churn_vk_predict(...)   the same for version k (and churn_vk_proba)
    churn_<alias>_predict   the version an alias points at (and _proba), see indb.aliases
    churn_explain(...)      per-feature contributions (and churn_vk_explain, churn_<alias>_explain)
                            where the version stores an explainer

A version whose backend is ``"udf"`` is served by Arrow UDFs (onnxruntime) that look their target
up at call time, so re-pointing ``churn_predict`` to a new version (or an alias to another
version) is a Python assignment inside the same transaction as the row's INSERT, DELETE or UPDATE.
A version whose backend is ``"sql"`` is served by TEMP macros of its compiled SQL
(:mod:`workbench.indb.catalog_sql`), (re)created inside that transaction. DuckDB's catalog is
transactional, so a failure leaves the table and the functions as they were. A function that
changes kind (UDF <-> macro) or signature is replaced right after the commit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from workbench.core.errors import ModelError
from workbench.indb.catalog_sql import drop_macro, macro_statement, make_explain_udf
from workbench.indb.database import StoreLockedError
from workbench.indb.store_integrity import StoredModel
from workbench.indb.udf import OnnxRunner, make_udf, return_type

#: Kinds of catalog function: ONNX Arrow UDF, compiled-SQL macro, explain Arrow UDF.
UDF, MACRO, EXPLAIN = "udf", "macro", "explain"

__all__ = ["FunctionCatalog"]


class FunctionCatalog:
    """SQL functions of one store: their DuckDB catalog entries and the model versions they call.

    Parameters
    ----------
    onnx_threads : int
        onnxruntime intra-op threads per batch.

    Notes
    -----
    Every method that touches DuckDB takes the connection as its first argument, so the store's
    ``con`` attribute is the one connection in use.
    """

    def __init__(self, onnx_threads: int) -> None:
        self.onnx_threads = int(onnx_threads)
        self._runners: dict[tuple[str, int], OnnxRunner] = {}
        self._explainers: dict[tuple[str, int], Any] = {}
        # function name -> (model, version, output) it calls now
        self._targets: dict[str, tuple[str, int, str]] = {}
        # function name -> (model, signature) as created in DuckDB's catalog
        self._created: dict[str, tuple[str, tuple[Any, ...]]] = {}
        # model -> alias -> version, as the alias functions call them now
        self._aliases: dict[str, dict[str, int]] = {}

    # ------------------------------------------------------------------ queries
    def names(self) -> list[str]:
        """Names of the SQL functions that call a model now."""
        return sorted(self._targets)

    def models(self) -> list[str]:
        """Names of the models with SQL functions."""
        return sorted({t[0] for t in self._targets.values()})

    def functions_of(self, name: str, version: int) -> list[str]:
        """The SQL functions that call ``name`` version ``version``: latest, aliases, versioned."""
        funcs = [f for f, t in self._targets.items() if t[:2] == (name, version)]
        latest = (f"{name}_predict", f"{name}_proba")
        return sorted(funcs, key=lambda f: (f not in latest, f"_v{version}_" in f, f))

    def aliases_of(self, name: str) -> dict[str, int]:
        """Alias -> version of model ``name``, as its alias functions call them now."""
        return dict(self._aliases.get(name, {}))

    def alias_functions(self, name: str, alias: str) -> list[str]:
        """The SQL functions of one alias (none when its version does not load)."""
        return sorted(
            f for f in self._targets
            if self._created.get(f, ("",))[0] == name
            and any(f == f"{name}_{alias}_{s}" for s in ("predict", "proba", "explain"))
        )

    def kind_of(self, fname: str) -> str | None:
        """``"udf"``, ``"macro"`` or ``"explain"`` for a model function, else None."""
        created = self._created.get(fname)
        return None if created is None else str(created[1][2])

    def target(self, fname: str) -> tuple[str, int, str] | None:
        """``(model, version, output)`` that SQL function ``fname`` calls, or None."""
        return self._targets.get(fname)

    def signature(self, fname: str) -> str | None:
        """``fname(arg TYPE, ...)`` of a model function, or None for other names."""
        target = self._targets.get(fname)
        if target is None:
            return None
        runner = self._runners[target[:2]]
        args = ", ".join(f"{f.name} {f.sql_type}" for f in runner.features)
        return f"{fname}({args})"

    def stats(self) -> pd.DataFrame:
        """Batches, rows and calling threads per model version (see ``function_stats``)."""
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

    # ------------------------------------------------------------------ planning
    @staticmethod
    def _outputs(task: str) -> list[tuple[str, str]]:
        """(suffix, runner output) pairs of the functions a model gets."""
        if task == "regression":
            return [("predict", "value")]
        return [("predict", "predict"), ("proba", "proba")]

    def _plan(
        self, name: str, versions: list[StoredModel], aliases: dict[str, int]
    ) -> dict[str, tuple[Any, ...]]:
        """Function name -> (model row, output, signature) wanted for these versions."""
        wanted: dict[str, tuple[Any, ...]] = {}
        latest = max(versions, key=lambda m: m.version) if versions else None
        for m in versions:
            args = tuple(f.sql_type for f in m.features)
            outputs = self._outputs(m.task) + ([("explain", EXPLAIN)] if m.explainer else [])
            for suffix, out in outputs:
                if out == EXPLAIN:
                    sig: tuple[Any, ...] = (args, self._explainer(m).sql_type, EXPLAIN)
                else:
                    kind = MACRO if m.backend == "sql" else UDF
                    sig = (args, return_type(m.task, m.classes, out), kind)
                wanted[f"{name}_v{m.version}_{suffix}"] = (m, out, sig)
                if m is latest:
                    wanted[f"{name}_{suffix}"] = (m, out, sig)
                for alias in sorted(a for a, v in aliases.items() if v == m.version):
                    wanted[f"{name}_{alias}_{suffix}"] = (m, out, sig)
        return wanted

    def _check_clashes(self, con: Any, name: str, names: list[str]) -> None:
        rows = con.execute("SELECT DISTINCT function_name FROM duckdb_functions()").fetchall()
        existing = {r[0] for r in rows}
        for fname in names:
            owner = self._created.get(fname)
            if owner is not None and owner[0] != name:
                raise ModelError(
                    f"SQL function {fname!r} already calls model {owner[0]!r}; choose another name."
                )
            if owner is None and fname in existing:
                raise ModelError(
                    f"An SQL function or macro named {fname!r} already exists in this database; "
                    f"choose another model name than {name!r} (or drop that function)."
                )

    def _explainer(self, m: StoredModel) -> Any:
        """The version's :class:`Explainer`, parsed from its stored JSON once."""
        import json

        from workbench.indb.explain import Explainer

        key = (m.name, m.version)
        if key not in self._explainers:
            self._explainers[key] = Explainer.from_dict(json.loads(str(m.explainer)))
        return self._explainers[key]

    def _explain_resolver(self, fname: str) -> Callable[[], Any]:
        def resolve() -> Any:
            target = self._targets.get(fname)
            if target is None:
                raise ModelError(f"SQL function {fname} has no stored model behind it now.")
            return self._explainers[(target[0], target[1])]

        return resolve

    def _resolver(self, fname: str) -> Callable[[], tuple[OnnxRunner, str]]:
        def resolve() -> tuple[OnnxRunner, str]:
            target = self._targets.get(fname)
            if target is None:
                raise ModelError(f"SQL function {fname} has no stored model behind it now.")
            return self._runners[(target[0], target[1])], target[2]

        return resolve

    def _create(
        self, con: Any, fname: str, owner: str, signature: tuple[Any, ...],
        model: StoredModel | None = None, output: str = "",
    ) -> None:
        """Create a catalog function: a UDF calling whatever :attr:`_targets` maps it to, or the
        macro of ``model``'s compiled ``output``.

        UDFs are never created inside a transaction: a rolled-back ``create_function`` leaves
        the name blocked in the Python client (measured with duckdb 2.0). Macros are SQL DDL and
        are created inside the change's transaction.
        """
        args, ret, kind = signature
        if kind == MACRO:
            if model is None:
                raise ModelError(f"SQL macro {fname} needs its model version.")
            con.execute(macro_statement(fname, model, output, ret))
        elif kind == EXPLAIN:
            con.create_function(
                fname, make_explain_udf(self._explain_resolver(fname), len(args)), list(args),
                ret, type="arrow", side_effects=False,
            )
        else:
            con.create_function(
                fname,
                make_udf(self._resolver(fname), len(args)),
                list(args),
                ret,
                type="arrow",
                null_handling="special",
                side_effects=False,
            )
        self._created[fname] = (owner, signature)

    def _remove(self, con: Any, fname: str) -> None:
        if self._created[fname][1][2] == MACRO:
            drop_macro(con, fname)
        else:
            con.remove_function(fname)
        del self._created[fname]

    def _point(self, fname: str, model: StoredModel, output: str) -> None:
        key = (model.name, model.version)
        if key not in self._runners:
            self._runners[key] = OnnxRunner(
                model.onnx,
                model.features,
                model.column_mode,
                self.onnx_threads,
                model.classes,
                nan_policy=model.nan_policy,
                label=f"model {model.name!r} v{model.version}",
            )
        self._targets[fname] = (model.name, model.version, output)

    # ------------------------------------------------------------------ changes
    def install(
        self, con: Any, models: list[StoredModel], aliases: dict[str, dict[str, int]] | None = None
    ) -> None:
        """Create the functions of verified stored models (when a store opens).

        Parameters
        ----------
        con : duckdb.DuckDBPyConnection
        models : list of StoredModel
        aliases : dict, optional
            Model name -> alias -> version; an alias of a version not in ``models`` gets no
            functions.
        """
        by_name: dict[str, list[StoredModel]] = {}
        for m in models:
            by_name.setdefault(m.name, []).append(m)
        for name, versions in by_name.items():
            wanted = (aliases or {}).get(name, {})
            self._aliases[name] = dict(wanted)
            plan = self._plan(name, versions, wanted)
            self._check_clashes(con, name, list(plan))
            for fname, (m, out, sig) in plan.items():
                self._create(con, fname, name, sig, m, out)
                self._point(fname, m, out)

    def change(
        self,
        con: Any,
        name: str,
        new_versions: list[StoredModel],
        dml: Callable[[], None],
        aliases: dict[str, int] | None = None,
    ) -> None:
        """Run ``dml`` (a change of model or alias rows) and re-point the functions, atomically.

        New function names are created before the transaction and removed again if it fails;
        existing ones are re-pointed in Python (restored on failure); a function whose
        signature changes is replaced after the commit.

        Parameters
        ----------
        con : duckdb.DuckDBPyConnection
        name : str
            The model whose rows change.
        new_versions : list of StoredModel
            Every version of ``name`` that will be stored (and loadable) afterwards.
        dml : callable
            Executes the statement(s) inside the transaction.
        aliases : dict, optional
            Alias -> version of ``name`` afterwards; default the aliases as they are.

        Raises
        ------
        ModelError
            If a function name clashes, or DuckDB refuses the change (rolled back).
        StoreLockedError
            If another connection changed the same rows meanwhile (rolled back).
        """
        import duckdb

        new_aliases = dict(self._aliases.get(name, {}) if aliases is None else aliases)
        plan = self._plan(name, new_versions, new_aliases)
        self._check_clashes(con, name, list(plan))
        created: list[str] = []
        try:
            for fname, (_m, _out, sig) in plan.items():
                if fname not in self._created and sig[2] != MACRO:
                    self._create(con, fname, name, sig)
                    created.append(fname)
        except BaseException:
            for fname in created:
                self._remove(con, fname)
            raise
        deferred = [f for f, (_m, _o, sig) in plan.items()
                    if f in self._created and self._created[f][1] != sig]
        saved = (dict(self._targets), dict(self._runners), dict(self._aliases),
                 dict(self._explainers), dict(self._created))
        con.execute("BEGIN TRANSACTION")
        try:
            dml()
            for fname, (m, out, sig) in plan.items():
                if sig[2] == MACRO and fname not in deferred:
                    self._create(con, fname, name, sig, m, out)
            for fname in [f for f, t in self._targets.items() if t[0] == name]:
                del self._targets[fname]
            for fname, (m, out, _sig) in plan.items():
                if fname not in deferred:
                    self._point(fname, m, out)
            self._aliases[name] = new_aliases
            con.execute("COMMIT")
        except BaseException as exc:
            con.execute("ROLLBACK")
            self._targets, self._runners, self._aliases, self._explainers, self._created = saved
            for fname in created:
                self._remove(con, fname)
            if isinstance(exc, duckdb.TransactionException):
                raise StoreLockedError(
                    f"Another connection changed model {name!r} at the same time; this change "
                    f"was rolled back, nothing changed. Retry it ({str(exc).splitlines()[0]})."
                ) from None
            if isinstance(exc, duckdb.Error):
                raise ModelError(
                    f"Storing model {name!r} failed and was rolled back, nothing changed: {exc}"
                ) from None
            raise
        for fname in [f for f, o in self._created.items() if o[0] == name and f not in plan]:
            self._remove(con, fname)
        for fname in deferred:
            m, out, sig = plan[fname]
            self._remove(con, fname)
            self._create(con, fname, name, sig, m, out)
            self._point(fname, m, out)
        keep = {(m.name, m.version) for m in new_versions}
        for cache in (self._runners, self._explainers):
            for key in [k for k in cache if k[0] == name and k not in keep]:
                del cache[key]
        if not new_versions:
            self._aliases.pop(name, None)
