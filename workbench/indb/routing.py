"""Canary and A/B routing: one SQL function that sends each row to a model version by its key.

``store.route("churn", {"v3": 0.9, "v4": 0.1}, key="customer_id")`` creates, as TEMP macros of
the store's connection (re-created when the store opens, like the model functions)::

    churn_routed_predict(key, f1, f2, ...)  -> STRUCT(version INTEGER, prediction ...)
    churn_routed_proba(key, f1, f2, ...)    -> STRUCT(version INTEGER, proba ...)  (classifiers)
    churn_routed_version(key)               -> INTEGER, the version that scores this key

The arguments after the key are the features of every routed version (first version's order,
then what later versions add). Assignment: with the versions in increasing order and their
cumulative weights ``c_1 < c_2 < ... = 1``, a row goes to the first version ``i`` with
``(hash(CAST(key AS VARCHAR)) >> 11) < round(c_i * 2**53)`` (the last version takes the rest).
DuckDB's ``hash`` has no seed, so the assignment is the same in every query, connection and
process; it depends on the key's text (an INTEGER 42 and a VARCHAR '42' go to the same version, a
DOUBLE 42.0 does not), and all NULL keys go to one version. DuckDB does not promise ``hash``
across its versions: the route records a probe hash and the store warns on opening when the
probe changed (the split is then new).

Each branch calls the version's own SQL function (``churn_v3_predict``), so a routed row gets
exactly the answer of that version's function, NaN policy included, and DuckDB runs a CASE
branch only on the rows that take it. A DuckDB batch (2,048 rows) split between two versions
becomes one call of each version's function; for a cheap model (a logistic regression on 9
columns) that per-call cost makes a 90/10 route about 1.8x one version's function, for a
100-tree HistGradientBoosting about 1.1x (``benchmarks/indb_bench.py --lifecycle``). Dispatching
inside one Python function per batch instead was measured at 1.6x and 1.15x, and would bypass
the versions' own functions; it was not kept.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import math
from collections.abc import Callable
from typing import Any

import pandas as pd

from workbench.core.errors import InputError, InputTypeError
from workbench.core.params import check_number
from workbench.core.results import Result
from workbench.indb.aliases import resolve_version
from workbench.indb.database import ensure_tables
from workbench.indb.store_integrity import StoredModel

__all__ = [
    "MAX_ROUTE_VERSIONS",
    "ROUTE_TABLE",
    "RouteInfo",
    "check_key",
    "check_weights",
    "ensure_route_schema",
    "hash_probe",
    "read_routes",
    "route_arguments",
    "route_functions",
    "route_info",
    "route_row",
    "route_statements",
]

ROUTE_TABLE = "workbench_model_routes"
#: Most versions one route may split between.
MAX_ROUTE_VERSIONS = 16
PROBE = "workbench.indb.route/1"
_SCALE = 2**53
_DDL = f"""CREATE TABLE IF NOT EXISTS {ROUTE_TABLE} (
    name VARCHAR PRIMARY KEY,
    key_column VARCHAR NOT NULL,
    weights VARCHAR NOT NULL,
    hash_probe UBIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL
)"""


@dataclasses.dataclass(repr=False)
class RouteInfo(Result):
    """A route of one model: which versions score which share of keys, and its SQL functions.

    Attributes
    ----------
    name : str
        The model.
    key : str
        The key column the route is meant for (its first SQL argument).
    weights : dict of str to float
        ``"v3"`` -> share of keys.
    functions : list of str
        The SQL functions (see the module docstring).
    arguments : list of str
        Argument names of ``<name>_routed_predict``: the key, then the features.
    example : str
        A query calling the route on a table with the key column.
    """

    name: str
    key: str
    weights: dict[str, float]
    functions: list[str]
    arguments: list[str]
    example: str

    @property
    def title(self) -> str:
        """Heading of the HTML view."""
        return f"Route of model {self.name!r} by {self.key!r}"

    def summary(self) -> dict[str, Any]:
        """Key, weights and the predict function."""
        return {"key": self.key, "weights": self.weights, "function": self.functions[0]}

    def to_frame(self) -> pd.DataFrame:
        """One row per routed version: version and weight."""
        return pd.DataFrame(
            [{"version": int(v[1:]), "weight": w} for v, w in self.weights.items()],
            columns=["version", "weight"],
        )


def ensure_route_schema(con: Any, *, read_only: bool) -> bool:
    """Create the route table (writers); return whether it exists."""
    return ensure_tables(con, [_DDL], [ROUTE_TABLE], read_only=read_only)


def hash_probe(con: Any) -> int:
    """DuckDB's hash of a fixed text: changes when DuckDB changes its hash (and so the split)."""
    return int(con.execute("SELECT hash(?)", [PROBE]).fetchall()[0][0])


def read_routes(con: Any, exists: bool = True) -> dict[str, dict[str, Any]]:
    """Model name -> ``{"key", "weights" (version -> weight), "hash_probe"}``."""
    if not exists:
        return {}
    out = {}
    for name, key, weights, probe in con.execute(
        f"SELECT name, key_column, weights, hash_probe FROM {ROUTE_TABLE} ORDER BY name"
    ).fetchall():
        try:
            parsed = {int(v): float(w) for v, w in json.loads(weights).items()}
        except (TypeError, ValueError, AttributeError):
            parsed = {}
        out[name] = {"key": key, "weights": parsed, "hash_probe": int(probe)}
    return out


def check_key(key: Any) -> str:
    """Check the key column name: a non-empty string without NUL bytes."""
    if not isinstance(key, str):
        raise InputTypeError(f"key must be a column name (a string), got {key!r}.")
    if not key.strip() or "\x00" in key or len(key) > 255:
        raise InputError(
            f"key must name a column such as 'customer_id' (1-255 characters), got {key!r}."
        )
    return key


def check_weights(
    weights: Any, name: str, versions: list[int], aliases: dict[str, tuple[int, list[int]]]
) -> dict[int, float]:
    """Check route weights: existing versions (``"v3"``, ``3`` or an alias) to shares summing to 1.

    Parameters
    ----------
    weights : dict
    name : str
        The model.
    versions : list of int
        Its stored, loadable versions.
    aliases : dict
        Its aliases (see :func:`workbench.indb.aliases.read_aliases`).

    Returns
    -------
    dict of int to float
        Version -> weight, in increasing version order.

    Raises
    ------
    InputTypeError, InputError, UnknownNameError
        Not a dict, unknown versions, a version twice, weights outside [0, 1] or not summing to
        1 within 1e-9, or more than :data:`MAX_ROUTE_VERSIONS` versions.
    """
    if not isinstance(weights, dict) or not weights:
        raise InputTypeError(
            f"weights must be a non-empty dict of version to share, e.g. {{'v3': 0.9, 'v4': 0.1}}"
            f", got {weights!r}."
        )
    if len(weights) > MAX_ROUTE_VERSIONS:
        raise InputError(f"A route splits between at most {MAX_ROUTE_VERSIONS} versions.")
    out: dict[int, float] = {}
    for spec, w in weights.items():
        version = resolve_version(spec, name, versions, aliases)
        if version in out:
            raise InputError(f"Version {version} of {name!r} appears twice in weights ({spec!r}).")
        out[version] = check_number(w, name=f"weights[{spec!r}]", low=0, high=1)
    total = math.fsum(out.values())
    if abs(total - 1.0) > 1e-9:
        raise InputError(
            f"Route weights must sum to 1 (within 1e-9), got {total!r}; e.g. {{'v3': 0.9, "
            "'v4': 0.1}."
        )
    if not any(out.values()):
        raise InputError("At least one route weight must be above 0.")
    return dict(sorted(out.items()))


def route_functions(name: str, task: str) -> list[str]:
    """Names of the route functions of a model with this task."""
    funcs = [f"{name}_routed_predict"]
    if task == "classification":
        funcs.append(f"{name}_routed_proba")
    return [*funcs, f"{name}_routed_version"]


def route_arguments(models: list[StoredModel]) -> tuple[str, list[str]]:
    """The key parameter's name and the feature arguments shared by the routed versions.

    Raises
    ------
    InputError
        If the versions differ in task, class labels, or a feature's SQL type.
    """
    first = models[0]
    kinds = {}
    for m in models:
        if m.task != first.task or m.classes != first.classes:
            raise InputError(
                f"v{first.version} and v{m.version} of {first.name!r} differ in task or class "
                "labels, so one SQL function cannot return both; route between versions of one "
                "kind."
            )
        for f in m.features:
            if kinds.setdefault(f.name, f.sql_type) != f.sql_type:
                raise InputError(
                    f"Feature {f.name!r} is {kinds[f.name]} in one routed version and "
                    f"{f.sql_type} in v{m.version}; route between versions that agree on it."
                )
    key = "route_key"
    while key in kinds:
        key += "_"
    return key, list(kinds)


def route_statements(name: str, weights: dict[int, float], models: list[StoredModel]) -> list[str]:
    """``CREATE OR REPLACE TEMP MACRO`` statements of a route (see the module docstring).

    Parameters
    ----------
    name : str
    weights : dict of int to float
        As returned by :func:`check_weights`.
    models : list of StoredModel
        The versions with a weight above 0, in the order of ``weights``.

    Returns
    -------
    list of str
    """
    key, feats = route_arguments(models)
    by_version = {m.version: m for m in models}
    live = [m.version for m in models]
    bucket = f"(hash(CAST({key} AS VARCHAR)) >> 11)"
    bounds, cum = [], 0.0
    for v in live[:-1]:
        cum += weights[v]
        bounds.append((v, min(round(cum * _SCALE), _SCALE)))

    def switch(value: Callable[[int], str]) -> str:
        if not bounds:
            return value(live[-1])
        whens = " ".join(f"WHEN {bucket} < {b} THEN {value(v)}" for v, b in bounds)
        return f"CASE {whens} ELSE {value(live[-1])} END"

    out = [f"CREATE OR REPLACE TEMP MACRO {name}_routed_version({key}) AS {switch(str)}"]
    params = ", ".join([key, *feats])
    for fname in route_functions(name, models[0].task)[:-1]:
        suffix = fname.rsplit("_", 1)[1]
        field = "proba" if suffix == "proba" else "prediction"

        def call(v: int, suffix: str = suffix, field: str = field) -> str:
            args = ", ".join(f.name for f in by_version[v].features)
            return f"{{'version': {v}, '{field}': {name}_v{v}_{suffix}({args})}}"

        out.append(f"CREATE OR REPLACE TEMP MACRO {fname}({params}) AS {switch(call)}")
    return out


def route_info(
    name: str, key: str, weights: dict[int, float], models: list[StoredModel]
) -> RouteInfo:
    """The :class:`RouteInfo` of a route."""
    key_param, feats = route_arguments(models)
    quoted = '"' + key.replace('"', '""') + '"'
    fname = f"{name}_routed_predict"
    return RouteInfo(
        name=name,
        key=key,
        weights={f"v{v}": w for v, w in weights.items()},
        functions=route_functions(name, models[0].task),
        arguments=[key_param, *feats],
        example=f"SELECT {quoted}, {fname}({', '.join([quoted, *feats])}) AS scored FROM <table>",
    )


def route_row(name: str, key: str, weights: dict[int, float], probe: int) -> list[Any]:
    """The values of a route's row in :data:`ROUTE_TABLE`."""
    return [
        name,
        key,
        json.dumps({str(v): w for v, w in weights.items()}),
        probe,
        _dt.datetime.now(_dt.UTC).replace(tzinfo=None),
    ]
