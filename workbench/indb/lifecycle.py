"""A stored model's life after registration: aliases, promotion, rollback, routing, the audit log.

:class:`ModelLifecycle` holds the methods :class:`workbench.indb.ModelStore` inherits for this
(the store module keeps registration and reading). Every change here runs in one transaction
with its audit log row (:mod:`workbench.indb.audit_log`) and its SQL functions: a failure leaves
the tables, the functions and the log as they were. Changes are exclusive: one process writes a
DuckDB file at a time (a second gets :class:`StoreLockedError` when it opens the file), one thread
at a time changes a store, and a change that finds an alias moved by another connection since it
started is rolled back with :class:`StoreLockedError`.
"""

from __future__ import annotations

import contextlib
import threading
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd

from workbench.core.errors import InputError, InputTypeError, IntegrityError, UnknownNameError
from workbench.indb import audit_log
from workbench.indb.aliases import (
    AliasInfo,
    alias_frame,
    check_alias_name,
    ensure_alias_schema,
    read_aliases,
    resolve_version,
    write_alias,
)
from workbench.indb.database import StoreLockedError, damaged_file_error, is_damage
from workbench.indb.routing import (
    ROUTE_TABLE,
    ensure_route_schema,
    hash_probe,
    read_routes,
    route_functions,
    route_statements,
)
from workbench.indb.store_integrity import StoredModel

__all__ = ["ModelLifecycle"]


def _check_name(name: Any) -> str:
    if not isinstance(name, str):
        raise InputTypeError(f"Model name must be a string (or None for all), got {name!r}.")
    return name


class ModelLifecycle:
    """Aliases, promotion, rollback, routing and the audit log of a :class:`ModelStore`.

    Attributes
    ----------
    log_problems_ : list of str
        What is wrong with the audit log (``"row 4 was edited ..."``), found on opening; empty
        for an intact log. Only a store opened with ``on_corrupt="skip"`` opens with problems.
    """

    con: Any
    catalog: Any
    read_only: bool
    path: str
    log_problems_: list[str]
    # provided by ModelStore
    _live: Callable[[str], list[StoredModel]]
    _row: Callable[[Any, Any], dict[str, Any]]
    _require_writer: Callable[[str], None]
    _explain: Callable[[Exception], Exception]

    # ------------------------------------------------------------------ opening
    def _open_lifecycle(self, good: list[StoredModel], on_corrupt: str) -> None:
        """Create or read the life-cycle tables, check the log, create the model functions."""
        import duckdb

        self._lock = threading.Lock()
        self._log_head: tuple[int, str] | None = None
        try:
            self._has_log = audit_log.ensure_log_schema(self.con, read_only=self.read_only)
            self._has_aliases = ensure_alias_schema(self.con, read_only=self.read_only)
            self._has_routes = ensure_route_schema(self.con, read_only=self.read_only)
            self.log_problems_ = audit_log.verify_log(self.con) if self._has_log else []
            aliases = read_aliases(self.con, self._has_aliases)
            routes = read_routes(self.con, self._has_routes)
        except duckdb.Error as exc:
            if is_damage(exc):
                raise damaged_file_error(self.path, exc, [m.label for m in good]) from None
            raise InputError(f"Cannot read the model store's tables: {exc}") from None
        if self.log_problems_ and on_corrupt == "raise":
            raise IntegrityError(
                f"The model log {audit_log.LOG_TABLE} was changed after it was written: "
                f"{'; '.join(self.log_problems_)}. It is append-only and hash-chained; restore "
                "the file from a backup, or open with on_corrupt='skip' to use the store (the "
                "damage stays listed in store.log_problems_ and stays detectable)."
            )
        pointing = {n: {a: v for a, (v, _h) in by.items()} for n, by in aliases.items()}
        by_key = {(m.name, m.version): m for m in good}
        probe = hash_probe(self.con)
        routed: dict[str, list[StoredModel]] = {}
        for name, route in routes.items():
            live = [v for v, w in route["weights"].items() if w > 0]
            if not live or any((name, v) not in by_key for v in live):
                continue  # a routed version did not load (see corrupt_): no route functions
            if route["hash_probe"] != probe:
                warnings.warn(
                    f"DuckDB's hash changed since the route of {name!r} was made, so its keys "
                    "now split differently; call store.route again to record the new split.",
                    RuntimeWarning, stacklevel=3,
                )
            routed[name] = [by_key[(name, v)] for v in live]
        self.catalog.install(self.con, good, pointing)
        for name, models in routed.items():
            for stmt in route_statements(name, routes[name]["weights"], models):
                self.con.execute(stmt)

    # ------------------------------------------------------------------ helpers
    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        if not self._lock.acquire(blocking=False):
            raise StoreLockedError(
                "Another change (a promotion, rollback, alias move or route) is running on this "
                "store in another thread; wait for it to finish, then retry."
            )
        try:
            yield
        finally:
            self._lock.release()

    def _versions(self, name: Any) -> list[StoredModel]:
        self._require_writer("change aliases, promote, roll back or route")
        live = self._live(name) if isinstance(name, str) else []
        if not live:
            self._row(name, None)  # UnknownNameError, or:
            raise IntegrityError(f"No stored version of {name!r} loads (see store.corrupt_).")
        return live

    def _move(
        self, name: str, alias: str, to: int | None, history: list[int], expect: int | None,
        action: str, **log: Any,
    ) -> AliasInfo:
        """Point ``alias`` at ``to`` (None: drop it), with its functions and a log row, at once."""
        live = self._live(name)
        pointing = self.catalog.aliases_of(name)
        if to is None:
            pointing.pop(alias, None)
        else:
            pointing[alias] = to
        seq = [0]

        def dml() -> None:
            now = read_aliases(self.con).get(name, {}).get(alias)
            if (now[0] if now else None) != expect:
                raise StoreLockedError(
                    f"Alias {alias!r} of {name!r} was moved by another connection meanwhile; "
                    "nothing changed. Look at store.aliases() and retry."
                )
            write_alias(self.con, name, alias, to, history)
            versions = {"from": expect, "to": to, **log.pop("versions", {})}
            seq[0] = self._append(action, name, alias=alias, versions=versions, **log)

        self.catalog.change(self.con, name, live, dml, aliases=pointing)
        return AliasInfo(
            name=name, alias=alias, version=to, previous=history[-1] if history else None,
            functions=self.catalog.alias_functions(name, alias), log_seq=seq[0],
        )

    def _append(self, action: str, name: str, **log: Any) -> int:
        """Append a log row inside the running transaction; return its number."""
        head = audit_log.append_entry(self.con, action, name, head=self._log_head, **log)
        self._log_head = head if isinstance(head, tuple) else None
        return head[0] if isinstance(head, tuple) else 0

    def _transaction(self, work: Callable[[], Any]) -> Any:
        """Run ``work`` (SQL only, no new Python functions) in one transaction."""
        import duckdb

        self.con.execute("BEGIN TRANSACTION")
        try:
            out = work()
            self.con.execute("COMMIT")
        except BaseException as exc:
            self.con.execute("ROLLBACK")
            if isinstance(exc, duckdb.TransactionException):
                raise StoreLockedError(
                    "Another connection changed the store at the same time; this change was "
                    f"rolled back, nothing changed. Retry it ({str(exc).splitlines()[0]})."
                ) from None
            raise
        return out

    def _record(self, action: str, name: str, **log: Any) -> int:
        """Append one log row in its own transaction (a change that has no table row)."""
        return int(self._transaction(lambda: self._append(action, name, **log)))

    def _forget(self, name: str, doomed: list[int], every: bool) -> None:
        """Inside a drop's transaction: remove or prune its aliases and route, log the drop."""
        aliases = read_aliases(self.con, self._has_aliases).get(name, {})
        for alias, (version, history) in aliases.items():
            if every:
                write_alias(self.con, name, alias, None, [])
            elif any(v in doomed for v in history):
                write_alias(self.con, name, alias, version, [v for v in history if v not in doomed])
        if every and name in read_routes(self.con, self._has_routes):
            self.con.execute(f"DELETE FROM {ROUTE_TABLE} WHERE name = ?", [name])
            for fname in route_functions(name, "classification"):
                self.con.execute(f"DROP MACRO IF EXISTS {fname}")
        self._append(
            "drop", name, versions={"versions": doomed},
            detail={"aliases": sorted(aliases) if every else []},
        )

    def _check_drop(self, name: str, doomed: list[int], every: bool) -> None:
        """Refuse dropping a version an alias or a route still uses (dropping every version
        removes them)."""
        if every:
            return
        for alias, (version, _h) in read_aliases(self.con, self._has_aliases).get(name, {}).items():
            if version in doomed:
                raise InputError(
                    f"Version {version} of {name!r} is its {alias!r} alias; move the alias "
                    f"(store.set_alias) or drop it (store.drop_alias) before dropping the version."
                )
        route = read_routes(self.con, self._has_routes).get(name)
        if route and any(v in doomed for v in route["weights"]):
            raise InputError(
                f"Version(s) {doomed} of {name!r} are routed; call store.unroute({name!r}) or "
                "route to other versions first."
            )

    # ------------------------------------------------------------------ aliases
    def set_alias(self, name: str, alias: str, version: int | str) -> AliasInfo:
        """Point an alias (``champion``, ``challenger``, any name) at a version.

        The alias's SQL functions (``<name>_<alias>_predict``, and ``_proba`` for classifiers)
        call that version from now on. The row, the functions and a log row change in one
        transaction; the version it pointed at before is kept for :meth:`rollback`.

        Parameters
        ----------
        name : str
            A registered model.
        alias : str
            1-32 lowercase letters, digits and ``_``; not version-like (``v2``) nor ``routed``.
        version : int or str
            A stored version: ``3``, ``"v3"``, or another alias of the model (its version now).

        Returns
        -------
        AliasInfo

        Raises
        ------
        UnknownNameError
            Unknown model or version (the store is left unchanged).
        InputError, InputTypeError
            A bad alias name, or a reader store.
        ModelError
            If an alias function name clashes with another function.
        StoreLockedError
            If another thread or connection changes the store at the same time.
        """
        live = self._versions(name)
        alias = check_alias_name(alias)
        aliases = read_aliases(self.con).get(name, {})
        target = resolve_version(version, name, [m.version for m in live], aliases)
        with self._exclusive():
            current, history = aliases.get(alias, (None, []))
            if current == target:
                return AliasInfo(name, alias, target, history[-1] if history else None,
                                 self.catalog.alias_functions(name, alias))
            past = [*history, current] if current is not None else []
            return self._move(name, alias, target, past, current, "alias")

    def drop_alias(self, name: str, alias: str) -> AliasInfo:
        """Remove an alias and its SQL functions (logged); the versions stay.

        Parameters
        ----------
        name : str
        alias : str

        Returns
        -------
        AliasInfo
            With ``version`` None.

        Raises
        ------
        UnknownNameError
            Unknown model or alias.
        """
        self._versions(name)
        alias = check_alias_name(alias)
        aliases = read_aliases(self.con).get(name, {})
        if alias not in aliases:
            raise UnknownNameError(f"alias of model {name!r}", alias, list(aliases))
        with self._exclusive():
            return self._move(name, alias, None, [], aliases[alias][0], "alias_drop")

    def aliases(self, name: str | None = None) -> pd.DataFrame:
        """Every alias: where it points, where rollback would return it, its SQL functions.

        Parameters
        ----------
        name : str, optional
            Only this model's aliases.

        Returns
        -------
        pandas.DataFrame
            Columns name, alias, version, previous, history, functions.
        """
        found = read_aliases(self.con, self._has_aliases)
        if name is not None:
            found = {_check_name(name): found.get(name, {})}
        funcs = {f"{n}.{a}": self.catalog.alias_functions(n, a)
                 for n, by in found.items() for a in by}
        return alias_frame(found, funcs)

    def rollback(self, name: str, alias: str = "champion") -> AliasInfo:
        """Move an alias back to the version it pointed at before its last move.

        Parameters
        ----------
        name : str
        alias : str, default="champion"

        Returns
        -------
        AliasInfo

        Raises
        ------
        UnknownNameError
            Unknown model or alias.
        InputError
            If the alias has no earlier version (the store is left unchanged).
        """
        live = self._versions(name)
        alias = check_alias_name(alias)
        aliases = read_aliases(self.con).get(name, {})
        if alias not in aliases:
            raise UnknownNameError(f"alias of model {name!r}", alias, list(aliases))
        current, history = aliases[alias]
        if not history:
            raise InputError(
                f"Alias {alias!r} of {name!r} has no earlier version to roll back to (it has "
                f"pointed at v{current} since it was set); use store.set_alias to move it."
            )
        if history[-1] not in [m.version for m in live]:
            raise InputError(
                f"Alias {alias!r} would roll back to v{history[-1]}, which does not load (see "
                "store.corrupt_); move it with store.set_alias instead."
            )
        with self._exclusive():
            return self._move(name, alias, history[-1], history[:-1], current, "rollback")

    # ------------------------------------------------------------------ audit log
    def log(self, name: str | None = None) -> pd.DataFrame:
        """The audit log: one row per register, drop, alias move, promotion, rollback and route.

        Parameters
        ----------
        name : str, optional
            Only this model's rows.

        Returns
        -------
        pandas.DataFrame
            Columns seq, logged_at (UTC), os_user, action, name, alias, versions, data_rows,
            data_sha256, metrics, detail (dicts), row_sha256; oldest first. Empty for a reader
            of a file written before the log existed.
        """
        if name is not None:
            _check_name(name)
        if not self._has_log:
            return audit_log.log_frame_empty()
        return audit_log.log_frame(self.con, name)

    def log_head(self) -> dict[str, Any]:
        """Number and hash of the newest log row: keep it elsewhere to detect a rewritten log.

        Returns
        -------
        dict
            ``{"seq": int, "row_sha256": str}`` (seq 0 for an empty log).
        """
        if not self._has_log:
            return {"seq": 0, "row_sha256": audit_log.GENESIS}
        seq, digest = audit_log.read_head(self.con)
        return {"seq": seq, "row_sha256": digest}
