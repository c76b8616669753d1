"""Fuzz cases of ``workbench.indb``: one valid call per public name."""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

from tests.fuzz.harness import Case
from workbench import indb

FEATURES = ["tenure_months", "monthly_charges", "support_calls", "satisfaction", "contract"]
# Constants and an exception class: nothing to call with input.
CONSTANTS = {
    "indb.MODEL_TYPES", "indb.TABLE", "indb.StoreLockedError", "indb.PromotionRejectedError",
}


@functools.cache
def _customers():
    return indb.make_customers(300, random_state=0)


@functools.cache
def _trained():
    return indb.train_model(_customers(), "churned", FEATURES, "linear", random_state=0)


@functools.cache
def _store():
    store = indb.ModelStore()
    t = _trained()
    store.register("churn", t.model, t.X_sample)
    store.con.register("customers_df", _customers())
    store.con.execute("CREATE TABLE customers AS SELECT * FROM customers_df")
    store.con.unregister("customers_df")
    return store


@functools.cache
def _life():
    """'churn' v1 and v2 (two linear models), a customers table, champion v1 and a route."""
    store = indb.ModelStore()
    for seed in (0, 1):
        t = indb.train_model(_customers(), "churned", FEATURES, "linear", random_state=seed)
        store.register("churn", t.model, t.X_sample, compile=False)
    store.con.register("customers_df", _customers())
    store.con.execute("CREATE TABLE customers AS SELECT * FROM customers_df")
    store.con.unregister("customers_df")
    store.set_alias("churn", "champion", 1)
    return store


def _promote(**kw):
    store = _life()
    store.set_alias("churn", "champion", 1)  # each valid call starts from v1
    return store.promote(**kw).to_dict()


def _rollback(**kw):
    store = _life()
    store.set_alias("churn", "champion", 2)
    store.set_alias("churn", "champion", 1)  # something to roll back to
    return store.rollback(**kw).to_dict()


def _shell():
    from IPython.core.interactiveshell import InteractiveShell

    return InteractiveShell.instance()


def _tmp() -> Path:
    return Path(tempfile.mkdtemp(prefix="wb-fuzz-"))


def _register(store, **kw):
    # A fresh store per call: a refused write must leave it as it was, an accepted one must work.
    s = indb.ModelStore()
    try:
        return s.register(**kw).to_dict()
    finally:
        s.close()


def _connect(**kw):
    store = indb.connect(**kw)
    store.close()
    return "ok"


def _sql(**kw):
    return _store().sql(**kw)


def _info_to_json(path):
    return _store().describe("churn").to_json(path)


CASES = [
    Case("indb.make_customers", indb.make_customers,
         lambda: {"n_rows": 50, "random_state": 0}, ("indb.make_customers",)),
    Case("indb.train_model", indb.train_model,
         lambda: {"frame": _customers(), "target": "churned", "features": FEATURES,
                  "model": "linear", "test_size": 0.25, "random_state": 0, "n_jobs": 1},
         ("indb.train_model", "indb.TrainResult")),
    Case("indb.create_customers_table",
         lambda **kw: indb.create_customers_table(_store().con, **kw),
         lambda: {"name": "cust_fuzz", "n_rows": 50, "random_state": 0},
         ("indb.create_customers_table",), max_examples=15),
    Case("indb.compile_sql", indb.compile_sql,
         lambda: {"model": _trained().model, "features": None, "output": "predict",
                  "max_nodes": 2000}, ("indb.compile_sql",)),
    Case("indb.ModelStore", lambda **kw: indb.ModelStore(**kw).close(),
         lambda: {"database": ":memory:", "on_corrupt": "skip", "onnx_threads": 1},
         ("indb.ModelStore",)),
    Case("indb.connect", _connect, lambda: {"database": str(_tmp() / "s.duckdb")},
         ("indb.connect", "indb.get_store", "indb.set_store")),
    Case("indb.ModelStore.register", lambda **kw: _register(None, **kw),
         lambda: {"name": "m", "model": _trained().model, "X": _trained().X_sample,
                  "tolerance": 1e-4, "parity_rows": 100, "random_state": 0},
         ("indb.ModelStore",), max_examples=30),
    Case("indb.ModelStore.describe", lambda **kw: _store().describe(**kw).to_dict(),
         lambda: {"name": "churn", "version": None}, ("indb.ModelInfo",)),
    Case("indb.ModelStore.to_sql", lambda **kw: _store().to_sql(**kw),
         lambda: {"name": "churn", "version": None, "output": "predict"}, ("indb.ModelStore",)),
    Case("indb.ModelStore.sql", _sql,
         lambda: {"query": "SELECT churn_predict(tenure_months, monthly_charges, support_calls, "
                           "satisfaction, contract) AS p FROM customers LIMIT 5",
                  "params": None}, ("indb.ModelStore",)),
    Case("indb.ModelInfo.to_json", _info_to_json, lambda: {"path": str(_tmp() / "i.json")},
         ("indb.ModelInfo",), max_examples=15),
    Case("indb.ModelStore.set_alias", lambda **kw: _life().set_alias(**kw).to_dict(),
         lambda: {"name": "churn", "alias": "challenger", "version": "v2"},
         ("indb.ModelStore", "indb.AliasInfo")),
    Case("indb.ModelStore.promote", _promote,
         lambda: {"name": "churn", "candidate": 2, "on": _customers(), "target": "churned",
                  "metric": "accuracy", "min_gain": 0.0, "alias": "champion",
                  "on_loss": "return"},
         ("indb.ModelStore", "indb.PromotionResult"), max_examples=40),
    Case("indb.ModelStore.rollback", _rollback, lambda: {"name": "churn", "alias": "champion"},
         ("indb.ModelStore",), max_examples=15),
    Case("indb.ModelStore.route", lambda **kw: _life().route(**kw).to_dict(),
         lambda: {"name": "churn", "weights": {"v1": 0.9, "v2": 0.1}, "key": "customer_id",
                  "on": _customers()},
         ("indb.ModelStore", "indb.RouteInfo"), max_examples=40),
    Case("indb.ModelStore.log", lambda **kw: len(_life().log(**kw)), lambda: {"name": "churn"},
         ("indb.ModelStore",), max_examples=10),
    Case("indb.Feature.from_dict", indb.Feature.from_dict,
         lambda: {"data": {"name": "a", "kind": "numeric"}}, ("indb.Feature",)),
    Case("indb.load_ipython_extension", indb.load_ipython_extension,
         lambda: {"ipython": _shell()}, ("indb.load_ipython_extension",), max_examples=5),
]


# ---------------------------------------------------------------- trees in SQL, backend, explain
# choose_backend / make_explainer / register_explain live in workbench.indb.backend and
# workbench.indb.explain; each case covers its names once the package exports them.
def _public(*names):
    return tuple(n for n in names if n.split(".", 1)[1] in indb.__all__)


@functools.cache
def _hgb():
    from sklearn.ensemble import HistGradientBoostingClassifier

    X = _customers()[["tenure_months", "monthly_charges", "support_calls", "satisfaction"]]
    return HistGradientBoostingClassifier(max_iter=10, random_state=0).fit(
        X.astype(float), _customers()["churned"]), X.astype(float)


def _choose(**kw):
    import duckdb

    from workbench.indb.backend import choose_backend

    with duckdb.connect() as con:
        return choose_backend(con, **kw).to_dict()


def _explain(**kw):
    from workbench.indb.explain import make_explainer

    return make_explainer(**kw).explain(_trained().X_sample.iloc[:5]).to_dict()


def _explain_sql(**kw):
    import duckdb

    from workbench.indb.explain import register_explain

    with duckdb.connect() as con:
        con.register("t", _trained().X_sample.iloc[:5])
        register_explain(con, model=_trained().model, X=_trained().X_sample, **kw)
        args = ", ".join(FEATURES)
        rows = con.execute(f"SELECT {kw['name']}_explain({args}) AS e FROM t").fetchall()
        return [r[0]["output"] for r in rows]


def _from_dict(**kw):
    from workbench.indb.explain import Explainer

    return Explainer.from_dict(**kw).explain(_trained().X_sample.iloc[:5]).to_dict()


def _spec():
    from workbench.indb.explain import make_explainer

    return make_explainer(_hgb()[0], _hgb()[1]).to_dict()


CASES += [
    Case("indb.compile_sql trees", indb.compile_sql,
         lambda: {"model": _hgb()[0], "features": None, "output": "proba", "max_nodes": 10_000,
                  "dialect": "duckdb"}, ("indb.compile_sql",)),
    Case("indb.choose_backend", _choose,
         lambda: {"model": _trained().model, "X_sample": _trained().X_sample, "rows": 10_000,
                  "timing_rows": 500, "max_nodes": 2000, "tolerance": 1e-6, "repeats": 1},
         _public("indb.choose_backend", "indb.BackendChoice"), max_examples=30),
    Case("indb.make_explainer", _explain,
         lambda: {"model": _trained().model, "X": _trained().X_sample, "max_background": 200,
                  "random_state": 0},
         _public("indb.make_explainer", "indb.Explanation"), max_examples=30),
    Case("indb.register_explain", _explain_sql, lambda: {"name": "churn"},
         _public("indb.register_explain"), max_examples=10),
    Case("indb.Explainer.from_dict", _from_dict, lambda: {"spec": _spec()},
         _public("indb.Explainer"), max_examples=15),
]
