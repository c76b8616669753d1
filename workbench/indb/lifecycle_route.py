"""``ModelStore.route``, ``unroute`` and ``routes``: canary and A/B splits of a model's keys between
its versions, as SQL functions (how a key is assigned is in :mod:`workbench.indb.routing`).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from workbench.core.errors import InputError, ModelError, UnknownNameError
from workbench.indb.aliases import read_aliases
from workbench.indb.lifecycle import ModelLifecycle
from workbench.indb.routing import (
    ROUTE_TABLE,
    RouteInfo,
    check_key,
    check_weights,
    hash_probe,
    read_routes,
    route_arguments,
    route_functions,
    route_info,
    route_row,
    route_statements,
)

__all__ = ["RoutingMethods"]


class RoutingMethods(ModelLifecycle):
    """The routing methods of :class:`workbench.indb.ModelStore`."""

    def route(
        self, name: str, weights: dict[Any, float], *, key: str, on: Any = None
    ) -> RouteInfo:
        """Split a model's rows between versions by a hash of a key column, in one SQL function.

        Creates ``<name>_routed_predict(key, features...)`` returning
        ``{'version': k, 'prediction': ...}``, ``<name>_routed_proba`` (classifiers) and
        ``<name>_routed_version(key)``. The same key always goes to the same version, in every
        query and process (see :mod:`workbench.indb.routing`). A model has one route; routing
        again replaces it. The route row, the functions and a log row change in one transaction.

        Parameters
        ----------
        name : str
            A registered model.
        weights : dict
            Version (``"v3"``, ``3`` or an alias, resolved now) -> share of keys in [0, 1];
            the shares sum to 1 (within 1e-9). E.g. ``{"v3": 0.9, "v4": 0.1}``.
        key : str
            The key column (e.g. ``"customer_id"``), passed as the first argument.
        on : str, DataFrame or relation, optional
            A table or query the route will score: checked to hold the key and every feature
            column now, so a typo fails here rather than in the first query.

        Returns
        -------
        RouteInfo

        Raises
        ------
        InputError
            Weights not summing to 1, outside [0, 1], a version twice; versions that differ in
            task or a feature's type; ``on`` without the key or a feature column.
        UnknownNameError
            Unknown model, version or alias.
        ModelError
            If a route function name is taken by another function.
        """
        from workbench.core.sources import open_source

        live = self._versions(name)
        by_version = {m.version: m for m in live}
        split = check_weights(weights, name, list(by_version), read_aliases(self.con).get(name, {}))
        key = check_key(key)
        models = [by_version[v] for v in split]
        _param, feats = route_arguments(models)
        if on is not None:
            columns = open_source(on, con=self.con).columns
            missing = [c for c in [key, *feats] if c not in columns]
            if missing:
                raise InputError(
                    f"The table to route has no column(s) {missing}; its columns are "
                    f"{columns[:20]}. Pass key= the id column the table has."
                )
        live_models = [m for m in models if split[m.version] > 0]
        statements = route_statements(name, split, live_models)
        funcs = route_functions(name, models[0].task)
        old = read_routes(self.con).get(name)
        mine = set(route_functions(name, "classification")) if old else set()
        taken = {r[0] for r in self.con.execute(
            "SELECT DISTINCT function_name FROM duckdb_functions()").fetchall()}
        clash = sorted((set(funcs) & taken) - mine)
        if clash:
            raise ModelError(
                f"SQL function(s) {clash} already exist in this database; drop them or route "
                "another model name."
            )
        info = route_info(name, key, split, live_models)

        def dml() -> None:
            self.con.execute(f"DELETE FROM {ROUTE_TABLE} WHERE name = ?", [name])
            self.con.execute(f"INSERT INTO {ROUTE_TABLE} VALUES (?, ?, ?, ?, ?)",
                             route_row(name, key, split, hash_probe(self.con)))
            for fname in sorted(mine - set(funcs)):
                self.con.execute(f"DROP MACRO IF EXISTS {fname}")
            for stmt in statements:
                self.con.execute(stmt)
            self._append("route", name, versions={"weights": info.weights},
                         detail={"key": key, "functions": funcs})

        with self._exclusive():
            self._transaction(dml)
        return info

    def unroute(self, name: str) -> None:
        """Remove a model's route and its functions (logged); the versions stay.

        Parameters
        ----------
        name : str

        Raises
        ------
        UnknownNameError
            If the model has no route.
        """
        self._versions(name)
        routes = read_routes(self.con)
        if name not in routes:
            raise UnknownNameError("route", name, list(routes))
        weights = {f"v{v}": w for v, w in routes[name]["weights"].items()}

        def dml() -> None:
            self.con.execute(f"DELETE FROM {ROUTE_TABLE} WHERE name = ?", [name])
            for fname in route_functions(name, "classification"):
                self.con.execute(f"DROP MACRO IF EXISTS {fname}")
            self._append("unroute", name, versions={"weights": weights})

        with self._exclusive():
            self._transaction(dml)

    def routes(self) -> pd.DataFrame:
        """Every route: model, key, weights and its SQL functions.

        Returns
        -------
        pandas.DataFrame
            Columns name, key, weights (``{"v3": 0.9, ...}``), functions.
        """
        rows = []
        have = {r[0] for r in self.con.execute(
            "SELECT DISTINCT function_name FROM duckdb_functions()").fetchall()}
        for name, r in read_routes(self.con, self._has_routes).items():
            rows.append({
                "name": name,
                "key": r["key"],
                "weights": {f"v{v}": w for v, w in r["weights"].items()},
                "functions": [f for f in route_functions(name, "classification") if f in have],
            })
        return pd.DataFrame(rows, columns=["name", "key", "weights", "functions"])
