"""Aliases of stored model versions (``champion``, ``challenger``, any name) and their history.

Table ``workbench_model_aliases`` holds one row per (model, alias): the version it points at now
and ``history``, the versions it pointed at before (JSON list, newest last, at most
:data:`MAX_HISTORY`), which :meth:`ModelStore.rollback` pops. Each alias gets SQL functions
``<model>_<alias>_predict`` (and ``_proba`` for classifiers), created by
:class:`workbench.indb.catalog.FunctionCatalog` and re-pointed in the same transaction as the
row changes.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import numbers
import re
from typing import Any

import pandas as pd

from workbench.core.errors import InputError, InputTypeError, UnknownNameError
from workbench.core.results import Result
from workbench.indb.database import ensure_tables

__all__ = [
    "ALIAS_TABLE",
    "MAX_HISTORY",
    "AliasInfo",
    "alias_frame",
    "check_alias_name",
    "ensure_alias_schema",
    "read_aliases",
    "resolve_version",
    "write_alias",
]

ALIAS_TABLE = "workbench_model_aliases"
#: Earlier versions remembered per alias (rollback steps).
MAX_HISTORY = 100
_DDL = f"""CREATE TABLE IF NOT EXISTS {ALIAS_TABLE} (
    name VARCHAR NOT NULL,
    alias VARCHAR NOT NULL,
    version INTEGER NOT NULL,
    history VARCHAR NOT NULL,
    moved_at TIMESTAMP NOT NULL,
    PRIMARY KEY (name, alias)
)"""
_ALIAS = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_VERSION_LIKE = re.compile(r"(^|_)v\d+$")
#: Alias names taken by other SQL functions of a model.
RESERVED = ("routed",)


@dataclasses.dataclass(repr=False)
class AliasInfo(Result):
    """Where one alias of a model points now, after a change.

    Attributes
    ----------
    name, alias : str
    version : int or None
        The version it points at (None: the alias was dropped).
    previous : int or None
        Where :meth:`ModelStore.rollback` would move it back to.
    functions : list of str
        Its SQL functions (``churn_champion_predict``, ...).
    log_seq : int
        The audit log row that records the change (0 when nothing changed).
    """

    name: str
    alias: str
    version: int | None
    previous: int | None
    functions: list[str]
    log_seq: int = 0

    @property
    def title(self) -> str:
        """Heading of the HTML view."""
        where = f"v{self.version}" if self.version is not None else "nothing (dropped)"
        return f"Alias {self.alias!r} of {self.name!r} -> {where}"

    def summary(self) -> dict[str, Any]:
        """Version, previous version and functions."""
        return {"version": self.version, "previous": self.previous,
                "functions": ", ".join(self.functions)}


def ensure_alias_schema(con: Any, *, read_only: bool) -> bool:
    """Create the alias table (writers); return whether it exists."""
    return ensure_tables(con, [_DDL], [ALIAS_TABLE], read_only=read_only)


def check_alias_name(alias: Any) -> str:
    """Check an alias name: it becomes part of SQL function names.

    Parameters
    ----------
    alias : str

    Returns
    -------
    str

    Raises
    ------
    InputTypeError
        If it is not a string.
    InputError
        If it is not 1-32 lowercase letters, digits and ``_`` starting with a letter, looks like
        a version (``v2``, ``best_v2``) or is reserved (``routed``).
    """
    if not isinstance(alias, str):
        raise InputTypeError(f"Alias must be a string such as 'champion', got {alias!r}.")
    if not _ALIAS.match(alias):
        raise InputError(
            f"Alias {alias!r} is not valid: use 1-32 lowercase letters, digits and '_', starting "
            "with a letter (it becomes part of SQL function names, e.g. churn_champion_predict)."
        )
    if _VERSION_LIKE.search(alias) or alias in RESERVED:
        raise InputError(
            f"Alias {alias!r} would clash with the functions of a version or of a route "
            "(churn_v2_predict, churn_routed_predict); choose another name, e.g. 'champion'."
        )
    return alias


def read_aliases(con: Any, exists: bool = True) -> dict[str, dict[str, tuple[int, list[int]]]]:
    """Every alias: model name -> alias -> (version, history).

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
    exists : bool, default=True
        Whether the table exists (a reader of an older file has none: no aliases).

    Returns
    -------
    dict
    """
    if not exists:
        return {}
    out: dict[str, dict[str, tuple[int, list[int]]]] = {}
    rows = con.execute(
        f"SELECT name, alias, version, history FROM {ALIAS_TABLE} ORDER BY name, alias"
    ).fetchall()
    for name, alias, version, history in rows:
        try:
            past = [int(v) for v in json.loads(history)]
        except (TypeError, ValueError):
            past = []
        out.setdefault(name, {})[alias] = (int(version), past)
    return out


def write_alias(
    con: Any, name: str, alias: str, version: int | None, history: list[int]
) -> None:
    """Point ``alias`` at ``version`` (None deletes the alias); call inside a transaction."""
    con.execute(f"DELETE FROM {ALIAS_TABLE} WHERE name = ? AND alias = ?", [name, alias])
    if version is not None:
        con.execute(
            f"INSERT INTO {ALIAS_TABLE} VALUES (?, ?, ?, ?, ?)",
            [name, alias, int(version), json.dumps(history[-MAX_HISTORY:]),
             _dt.datetime.now(_dt.UTC).replace(tzinfo=None)],
        )


def resolve_version(
    spec: Any, name: str, versions: list[int], aliases: dict[str, tuple[int, list[int]]]
) -> int:
    """A version given as ``3``, ``"v3"`` or an alias name of ``name``, checked to exist.

    Parameters
    ----------
    spec : int or str
    name : str
        The model.
    versions : list of int
        Versions of ``name`` that are stored and load.
    aliases : dict
        The model's aliases (see :func:`read_aliases`).

    Returns
    -------
    int

    Raises
    ------
    InputTypeError
        Neither an integer nor a string.
    UnknownNameError
        No such version or alias.
    """
    if isinstance(spec, str) and re.fullmatch(r"v\d{1,9}", spec):
        spec = int(spec[1:])
    if isinstance(spec, str):
        if spec not in aliases:
            choices = [f"v{v}" for v in versions] + sorted(aliases)
            raise UnknownNameError(f"version or alias of model {name!r}", spec, choices)
        spec = aliases[spec][0]
    if isinstance(spec, bool) or not isinstance(spec, numbers.Integral):
        raise InputTypeError(
            f"A version is an integer, 'v<k>' or an alias name of {name!r}, got {spec!r}."
        )
    if spec not in versions:
        raise UnknownNameError(
            f"version of model {name!r} (stored and loadable)", f"v{spec}",
            [f"v{v}" for v in versions],
        )
    return int(spec)


def alias_frame(
    aliases: dict[str, dict[str, tuple[int, list[int]]]], functions: dict[str, list[str]]
) -> pd.DataFrame:
    """The table of ``ModelStore.aliases``.

    Parameters
    ----------
    aliases : dict
        See :func:`read_aliases`.
    functions : dict
        ``"name.alias"`` -> SQL functions of that alias.

    Returns
    -------
    pandas.DataFrame
        Columns name, alias, version, previous (what rollback returns to, or None), history,
        functions.
    """
    rows = [
        {
            "name": name,
            "alias": alias,
            "version": version,
            "previous": history[-1] if history else None,
            "history": list(history),
            "functions": functions.get(f"{name}.{alias}", []),
        }
        for name, by_alias in sorted(aliases.items())
        for alias, (version, history) in sorted(by_alias.items())
    ]
    cols = ["name", "alias", "version", "previous", "history", "functions"]
    return pd.DataFrame(rows, columns=cols).astype({"previous": "object"})
