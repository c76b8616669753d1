"""A stored model's life cycle: aliases, promotion in SQL, rollback, routing and the audit log."""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from tests.indb.conftest import FEATURES
from tests.indb.helpers import Tripwire
from workbench.core.errors import (
    InputError,
    InputTypeError,
    ModelError,
    UnknownNameError,
    WorkbenchError,
)
from workbench.indb import ModelStore, PromotionRejectedError, train_model
from workbench.indb.audit_log import GENESIS, LOG_SCHEME

ARGS = ", ".join(FEATURES)
TABLES = ["workbench_models", "workbench_model_aliases", "workbench_model_routes",
          "workbench_model_log", "workbench_model_log_head"]


def snapshot(store, *, log=True):
    """Every life-cycle table's rows and every model function: equal means "unchanged"."""
    out = {}
    for t in TABLES if log else TABLES[:3]:
        out[t] = sorted(map(repr, store.con.execute(f"SELECT * FROM {t}").fetchall()))
    out["functions"] = sorted(store.con.execute(
        "SELECT function_name, function_type FROM duckdb_functions() WHERE function_name LIKE "
        "'churn%'").fetchall())
    out["champion"] = store.sql(
        f"SELECT churn_champion_proba({ARGS}) p FROM customers ORDER BY customer_id LIMIT 50"
    )["p"].tolist() if any(f == "churn_champion_proba" for f, _ in out["functions"]) else None
    return out


@pytest.fixture()
def life(store, linear, boosting):
    """'churn' v1 (logistic regression, champion) and v2 (boosting, challenger)."""
    store.register("churn", linear.model, linear.X_sample, compile=False)
    store.register("churn", boosting.model, boosting.X_sample, compile=False)
    store.set_alias("churn", "champion", 1)
    store.set_alias("churn", "challenger", "v2")
    return store


def _scores(store, version, output="proba"):
    return store.sql(
        f"SELECT churn_v{version}_{output}({ARGS}) s FROM customers ORDER BY customer_id"
    )["s"].to_numpy()


# ---------------------------------------------------------------- aliases
def test_alias_functions_call_their_version_and_move_together(life, customers):
    got = life.sql(f"SELECT churn_champion_proba({ARGS}) a, churn_challenger_predict({ARGS}) b "
                   "FROM customers ORDER BY customer_id")
    np.testing.assert_array_equal(got["a"], _scores(life, 1))
    np.testing.assert_array_equal(got["b"], _scores(life, 2, "predict"))
    assert set(life.describe("churn", 1).functions) == {
        "churn_champion_predict", "churn_champion_proba", "churn_v1_predict", "churn_v1_proba",
        "churn_champion_explain", "churn_v1_explain"}
    info = life.set_alias("churn", "champion", "challenger")  # another alias names a version
    assert (info.version, info.previous) == (2, 1)
    assert info.functions == [
        "churn_champion_explain", "churn_champion_predict", "churn_champion_proba"]
    np.testing.assert_array_equal(
        life.sql(f"SELECT churn_champion_proba({ARGS}) a FROM customers ORDER BY customer_id")["a"],
        _scores(life, 2))
    table = life.aliases("churn").set_index("alias")
    assert table.loc["champion", "version"] == 2 and table.loc["champion", "previous"] == 1
    assert table.loc["champion", "history"] == [1]
    before = snapshot(life)
    assert life.set_alias("churn", "champion", 2).log_seq == 0  # already there: no change
    assert snapshot(life) == before


def test_alias_move_is_one_transaction(life):
    before = snapshot(life)
    real = life.con

    def fail():
        raise RuntimeError("simulated failure before COMMIT")

    life.con = Tripwire(real, "COMMIT", "before", fail)
    with pytest.raises(RuntimeError, match="simulated failure"):
        life.set_alias("churn", "champion", 2)
    life.con = real
    assert snapshot(life) == before

    def taken():  # a real DuckDB error inside the transaction: the row is taken meanwhile
        real.execute("INSERT INTO workbench_model_aliases VALUES "
                     "('churn', 'fresh', 1, '[]', now()::TIMESTAMP)")

    life.con = Tripwire(real, "INSERT", "before", taken)
    with pytest.raises(ModelError, match=r"(?i)rolled back, nothing changed.*constraint"):
        life.set_alias("churn", "fresh", 2)
    life.con = real
    assert snapshot(life) == before
    with pytest.raises(InputError, match="churn_fresh_proba"):
        life.sql(f"SELECT churn_fresh_proba({ARGS}) FROM customers")


def test_aliases_survive_reopening_and_readers(tmp_path, linear, boosting, customers):
    path = tmp_path / "s.duckdb"
    with ModelStore(path) as s:
        s.register("churn", linear.model, linear.X_sample, compile=False)
        s.register("churn", boosting.model, boosting.X_sample, compile=False)
        s.set_alias("churn", "champion", 2)
        s.route("churn", {"v1": 0.5, "v2": 0.5}, key="customer_id")
        s.con.register("c", customers)
        want = s.sql(f"SELECT churn_champion_proba({ARGS}) p, "
                     f"churn_routed_version(customer_id) v FROM c ORDER BY customer_id")
    for read_only in (True, False):
        with ModelStore(path, read_only=read_only) as s:
            s.con.register("c", customers)
            got = s.sql(f"SELECT churn_champion_proba({ARGS}) p, "
                        f"churn_routed_version(customer_id) v FROM c ORDER BY customer_id")
            pd.testing.assert_frame_equal(got, want)
            if read_only:
                with pytest.raises(InputError, match="read-only"):
                    s.set_alias("churn", "champion", 1)


@pytest.mark.parametrize(("alias", "error"), [
    ("Champion", InputError), ("v2", InputError), ("best_v3", InputError),
    ("routed", InputError), ("", InputError), (3, InputTypeError), ("a-b", InputError),
])
def test_bad_alias_names(life, alias, error):
    before = snapshot(life)
    with pytest.raises(error):
        life.set_alias("churn", alias, 1)
    assert snapshot(life) == before


@pytest.mark.parametrize("version", [3, "v9", "nobody", 0, -1, 2.5, None])
def test_alias_to_a_missing_version_changes_nothing(life, version):
    before = snapshot(life)
    with pytest.raises(WorkbenchError):
        life.set_alias("churn", "champion", version)
    with pytest.raises(UnknownNameError):
        life.set_alias("nomodel", "champion", 1)
    assert snapshot(life) == before


# ---------------------------------------------------------------- promotion
METRIC_REFS = {
    "accuracy": ("predict", skm.accuracy_score),
    "f1": ("predict", skm.f1_score),
    "roc_auc": ("proba", skm.roc_auc_score),
    "log_loss": ("proba", lambda y, p: skm.log_loss(y, np.clip(p, 1e-15, 1 - 1e-15))),
}


@pytest.mark.parametrize("metric", list(METRIC_REFS))
def test_promotion_scores_both_versions_in_sql_like_sklearn(life, customers, metric):
    output, ref = METRIC_REFS[metric]
    y = customers.sort_values("customer_id")["churned"].to_numpy()
    want = {v: ref(y, _scores(life, v, output)) for v in (1, 2)}
    result = life.promote("churn", "challenger", on="customers", target="churned",
                          metric=metric, on_loss="return")
    assert result.candidate == 2 and result.incumbent == 1 and result.n_rows == len(customers)
    assert result.candidate_score == pytest.approx(want[2], abs=1e-9)
    assert result.incumbent_score == pytest.approx(want[1], abs=1e-9)
    better = want[2] > want[1] if metric != "log_loss" else want[2] < want[1]
    assert result.promoted == better
    assert life.aliases("churn").set_index("alias").loc["champion", "version"] == (
        2 if better else 1)


def test_regression_metrics_like_sklearn(store, customers):
    reg1 = train_model(customers, "monthly_charges", ["tenure_months", "contract"], "linear",
                       random_state=0)
    reg2 = train_model(customers, "monthly_charges", ["tenure_months", "contract"], "forest",
                       random_state=0)
    store.register("charges", reg1.model, reg1.X_sample, compile=False)
    store.register("charges", reg2.model, reg2.X_sample, compile=False)
    store.set_alias("charges", "champion", 1)
    y = customers["monthly_charges"].to_numpy()
    preds = {v: store.sql(f"SELECT charges_v{v}_predict(tenure_months, contract) p "
                          "FROM customers")["p"].to_numpy() for v in (1, 2)}
    refs = {"r2": skm.r2_score, "mae": skm.mean_absolute_error,
            "rmse": lambda a, b: np.sqrt(skm.mean_squared_error(a, b))}
    for metric, ref in refs.items():
        r = store.promote("charges", 2, on="SELECT * FROM customers", target="monthly_charges",
                          metric=metric, on_loss="return")
        assert r.candidate_score == pytest.approx(ref(y, preds[2]), rel=1e-9, abs=1e-9)
        assert r.incumbent_score == pytest.approx(ref(y, preds[1]), rel=1e-9, abs=1e-9)
        if r.promoted:
            store.rollback("charges")
    with pytest.raises(InputError, match="needs a binary classification model"):
        store.promote("charges", 2, on="customers", target="monthly_charges", metric="roc_auc")


def test_promotion_wins_moves_alias_and_logs_why(life, customers):
    result = life.promote("churn", "challenger", on=customers, target="churned",
                          metric="roc_auc", min_gain=0.01)
    assert result.promoted and result.gain > 0.01 and "reaches min_gain" in result.reason
    np.testing.assert_array_equal(
        life.sql(f"SELECT churn_champion_proba({ARGS}) a FROM customers ORDER BY customer_id")["a"],
        _scores(life, 2))
    row = life.log("churn").iloc[-1]
    assert row["action"] == "promote" and row["seq"] == result.log_seq
    assert row["versions"] == {"candidate": 2, "from": 1, "to": 2}
    assert row["metrics"] == {"v1": result.incumbent_score, "v2": result.candidate_score}
    assert row["data_rows"] == len(customers) and row["data_sha256"] == result.data_sha256
    assert row["detail"]["reason"] == result.reason and row["os_user"] == getpass.getuser()
    frame = result.to_frame()
    assert frame["version"].tolist() == [1, 2] and "promoted" in result._repr_html_()


def test_data_fingerprint_follows_the_documented_scheme(life, customers):
    result = life.promote("churn", 2, on="customers", target="churned", on_loss="return")
    cols = ["churned", *FEATURES]
    n, total = life.con.execute(
        f"SELECT count(*), sum(hash({', '.join(cols)})::HUGEINT) % (2::HUGEINT ** 64)::HUGEINT "
        "FROM customers").fetchall()[0]
    text = f"workbench.indb.data/1\n{n}\n{json.dumps(cols)}\n{int(total)}"
    assert result.data_sha256 == hashlib.sha256(text.encode()).hexdigest()
    # The same rows in another order give the same fingerprint; one changed label does not.
    shuffled = customers.sample(frac=1.0, random_state=1)
    life.rollback("churn") if result.promoted else None
    again = life.promote("churn", 2, on=shuffled, target="churned", on_loss="return")
    assert again.data_sha256 == result.data_sha256
    flipped = customers.assign(churned=customers["churned"].where(customers.index != 0,
                                                                  1 - customers["churned"]))
    life.rollback("churn") if again.promoted else None
    other = life.promote("churn", 2, on=flipped, target="churned", on_loss="return")
    assert other.data_sha256 != result.data_sha256


def test_losing_promotion_raises_and_leaves_the_alias(life):
    life.set_alias("churn", "champion", 2)
    before = snapshot(life, log=False)
    n_log = len(life.log())
    with pytest.raises(PromotionRejectedError, match=r"Not promoted: v1 scored roc_auc .* "
                       r"not better than v2's .*'champion' stays at v2") as err:
        life.promote("churn", 1, on="customers", target="churned", metric="roc_auc")
    assert not err.value.result.promoted and err.value.result.gain < 0
    assert snapshot(life, log=False) == before
    log = life.log()
    assert len(log) == n_log + 1 and log.iloc[-1]["action"] == "promote_rejected"
    assert log.iloc[-1]["versions"] == {"candidate": 1, "from": 2, "to": 2}
    # A win smaller than min_gain is a loss too.
    life.set_alias("churn", "champion", 1)
    r = life.promote("churn", 2, on="customers", target="churned", metric="roc_auc",
                     min_gain=0.9, on_loss="return")
    assert not r.promoted and r.gain > 0 and "is below min_gain 0.9" in r.reason
    assert life.aliases("churn").set_index("alias").loc["champion", "version"] == 1


BAD_PROMOTIONS = {
    "no label column": (dict(target="label"), InputError, "no column 'label'"),
    "text labels": (dict(on="SELECT *, churned::VARCHAR AS lab FROM customers", target="lab"),
                    InputError, "needs an integer target"),
    "null labels": (dict(on="SELECT * REPLACE (CASE WHEN customer_id = 1 THEN NULL "
                         "ELSE churned END AS churned) FROM customers"), InputError,
                    "1 labelled row"),
    "missing feature": (dict(on="SELECT * EXCLUDE (contract) FROM customers"), InputError,
                        r"feature column\(s\) \['contract'\]"),
    "no rows": (dict(on="SELECT * FROM customers WHERE false"), InputError, "empty"),
    "one class for auc": (dict(on="SELECT * FROM customers WHERE churned = 1",
                               metric="roc_auc"), InputError, "both classes"),
    "unknown table": (dict(on="nosuchtable"), WorkbenchError, "nosuchtable"),
    "unknown metric": (dict(metric="precision"), UnknownNameError, "metric"),
    "regression metric": (dict(metric="r2"), InputError, "needs a regression model"),
    "champion itself": (dict(candidate=1), InputError, "already is the 'champion'"),
    "unknown candidate": (dict(candidate=7), UnknownNameError, "version"),
    "no such alias": (dict(alias="prod"), InputError, "no alias 'prod'"),
    "negative gain": (dict(min_gain=-0.1), InputError, "min_gain"),
    "bad on_loss": (dict(on_loss="ignore"), UnknownNameError, "on_loss"),
}


@pytest.mark.parametrize("case", list(BAD_PROMOTIONS))
def test_bad_promotions_change_nothing(life, case):
    kw, error, match = BAD_PROMOTIONS[case]
    args = {"name": "churn", "candidate": 2, "on": "customers", "target": "churned", **kw}
    before = snapshot(life)
    with pytest.raises(error, match=match):
        life.promote(**args)
    assert snapshot(life) == before


# ---------------------------------------------------------------- rollback
def test_rollback_walks_back_the_alias_history(life):
    life.promote("churn", 2, on="customers", target="churned", metric="roc_auc")
    info = life.rollback("churn")
    assert info.version == 1 and info.previous is None
    np.testing.assert_array_equal(
        life.sql(f"SELECT churn_champion_proba({ARGS}) a FROM customers ORDER BY customer_id")["a"],
        _scores(life, 1))
    before = snapshot(life)
    with pytest.raises(InputError, match="no earlier version to roll back to"):
        life.rollback("churn")
    with pytest.raises(InputError, match="no earlier version"):
        life.rollback("churn", alias="challenger")
    with pytest.raises(UnknownNameError, match="alias"):
        life.rollback("churn", alias="prod")
    assert snapshot(life) == before
    actions = life.log("churn")["action"].tolist()
    assert actions[-2:] == ["promote", "rollback"]
    assert life.log("churn").iloc[-1]["versions"] == {"from": 2, "to": 1}


# ---------------------------------------------------------------- audit log
def test_every_change_is_logged_with_user_time_and_a_valid_chain(store, linear, boosting):
    t0 = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    store.register("churn", linear.model, linear.X_sample, compile=False)
    store.register("churn", boosting.model, boosting.X_sample, compile=False)
    store.set_alias("churn", "champion", 1)
    store.promote("churn", 2, on="customers", target="churned", metric="roc_auc")
    store.rollback("churn")
    store.route("churn", {"v1": 0.9, "v2": 0.1}, key="customer_id")
    store.unroute("churn")
    store.drop_alias("churn", "champion")
    store.drop("churn", version=1)
    store.drop("churn")
    t1 = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    log = store.log()
    assert log["action"].tolist() == ["register", "register", "alias", "promote", "rollback",
                                      "route", "unroute", "alias_drop", "drop", "drop"]
    assert log["seq"].tolist() == list(range(1, 11))
    assert set(log["os_user"]) == {getpass.getuser()}
    assert all(t0 <= t <= t1 for t in log["logged_at"])
    assert log.iloc[0]["data_rows"] == len(linear.X_sample)
    hashed = pd.util.hash_pandas_object(linear.X_sample[FEATURES], index=False).to_numpy()
    text = (f"workbench.indb.frame/1\n{len(hashed)}\n{json.dumps(FEATURES)}\n"
            f"{sum(int(h) for h in hashed) % 2**64}")
    assert log.iloc[0]["data_sha256"] == hashlib.sha256(text.encode()).hexdigest()
    assert log.iloc[5]["versions"] == {"weights": {"v1": 0.9, "v2": 0.1}}
    assert log.iloc[8]["versions"] == {"versions": [1]} and log.iloc[9]["versions"] == {
        "versions": [2]}
    # The documented chain, recomputed independently from the raw rows.
    cols = [r[0] for r in store.con.execute("DESCRIBE workbench_model_log").fetchall()]
    prev = GENESIS
    for raw in store.con.execute("SELECT * FROM workbench_model_log ORDER BY seq").fetchall():
        row = dict(zip(cols, raw, strict=True))
        content = {c: row[c] for c in cols if c not in ("prev_sha256", "row_sha256")}
        content["logged_at"] = row["logged_at"].isoformat(timespec="microseconds")
        text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        assert row["prev_sha256"] == prev
        assert hashlib.sha256(f"{LOG_SCHEME}\n{prev}\n{text}".encode()).hexdigest() == row[
            "row_sha256"]
        prev = row["row_sha256"]
    assert store.log_head() == {"seq": 10, "row_sha256": prev}


TAMPER = {
    "edited": ("UPDATE workbench_model_log SET metrics = '{\"v2\": 0.99}' WHERE seq = 4",
               "row 4 was edited"),
    "user changed": ("UPDATE workbench_model_log SET os_user = 'someone' WHERE seq = 2",
                     "row 2 was edited"),
    "deleted middle": ("DELETE FROM workbench_model_log WHERE seq = 3", "row 3 was deleted"),
    "deleted last": ("DELETE FROM workbench_model_log WHERE seq = 5", "row 5 was deleted"),
    "deleted two last": ("DELETE FROM workbench_model_log WHERE seq >= 4",
                         "rows 4-5 were deleted"),
    "head changed": ("UPDATE workbench_model_log_head SET row_sha256 = 'x'", "head"),
    "head deleted": ("DELETE FROM workbench_model_log_head", "head"),
}
# After a new row chained onto a changed head, the break shows between the rows.
LATER = {"head changed": "row 5 or row 6 was changed", "head deleted": "row 5 or row 6"}


@pytest.fixture(scope="module")
def logged_file(tmp_path_factory, linear, boosting, customers):
    path = tmp_path_factory.mktemp("log") / "logged.duckdb"
    with ModelStore(path) as s:
        s.con.register("c", customers)
        s.con.execute("CREATE TABLE customers AS SELECT * FROM c")
        s.register("churn", linear.model, linear.X_sample, compile=False)
        s.register("churn", boosting.model, boosting.X_sample, compile=False)
        s.set_alias("churn", "champion", 1)
        s.promote("churn", 2, on="customers", target="churned", metric="roc_auc")
        s.rollback("churn")
        assert len(s.log()) == 5
    return path


@pytest.mark.parametrize("tamper", list(TAMPER))
def test_an_edited_or_deleted_log_row_is_detected_on_open(logged_file, tmp_path, linear, tamper):
    import duckdb

    path = tmp_path / "t.duckdb"
    path.write_bytes(logged_file.read_bytes())
    sql, problem = TAMPER[tamper]
    con = duckdb.connect(str(path))
    con.execute(sql)
    con.close()
    with pytest.raises(WorkbenchError, match=rf"workbench_model_log was changed.*{problem}"):
        ModelStore(path)
    with pytest.raises(WorkbenchError, match=problem):
        ModelStore(path, read_only=True)
    with ModelStore(path, on_corrupt="skip") as s:  # usable; the damage is reported...
        assert any(problem in p for p in s.log_problems_)
        s.register("churn", linear.model, linear.X_sample, compile=False)
    later = LATER.get(tamper, problem)
    with ModelStore(path, on_corrupt="skip", read_only=True) as s:  # ...and stays detectable
        assert any(later in p for p in s.log_problems_), s.log_problems_
        assert s.log()["action"].iloc[-1] == "register"


def test_an_intact_log_opens_cleanly(logged_file):
    with ModelStore(logged_file, read_only=True) as s:
        assert s.log_problems_ == [] and s.log()["seq"].tolist() == [1, 2, 3, 4, 5]


# ---------------------------------------------------------------- routing
def test_route_assigns_each_key_by_its_hash_as_documented(life, customers):
    info = life.route("churn", {"v1": 0.9, "challenger": 0.1}, key="customer_id", on="customers")
    assert info.weights == {"v1": 0.9, "v2": 0.1} and info.arguments == ["route_key", *FEATURES]
    assert info.functions == ["churn_routed_predict", "churn_routed_proba", "churn_routed_version"]
    got = life.sql(
        f"SELECT customer_id, churn_routed_predict(customer_id, {ARGS}) AS r, "
        f"churn_routed_proba(customer_id, {ARGS}) AS q, churn_routed_version(customer_id) AS v, "
        "CASE WHEN (hash(CAST(customer_id AS VARCHAR)) >> 11) < round(0.9 * 2::DOUBLE ** 53) "
        "THEN 1 ELSE 2 END AS want FROM customers ORDER BY customer_id")
    assert (got["v"] == got["want"]).all()
    assert got["r"].map(lambda r: r["version"]).tolist() == got["v"].tolist()
    p = {v: _scores(life, v) for v in (1, 2)}
    y = {v: _scores(life, v, "predict") for v in (1, 2)}
    chosen = got["v"].to_numpy()
    np.testing.assert_array_equal(got["q"].map(lambda r: r["proba"]),
                                  np.where(chosen == 1, p[1], p[2]))
    np.testing.assert_array_equal(got["r"].map(lambda r: r["prediction"]),
                                  np.where(chosen == 1, y[1], y[2]))
    n2 = int((chosen == 2).sum())
    assert abs(n2 - 0.1 * len(chosen)) < 4 * np.sqrt(len(chosen) * 0.09)  # binomial, 4 sd
    # The same keys in another query, order and grouping: the same versions.
    again = life.sql("SELECT customer_id, churn_routed_version(customer_id) v FROM customers "
                     "WHERE customer_id % 3 = 0 ORDER BY customer_id DESC")
    want = got.set_index("customer_id").loc[again["customer_id"], "v"].to_numpy()
    np.testing.assert_array_equal(again["v"].to_numpy(), want)
    # The key's text decides: an integer and its text go to the same version.
    same = life.sql("SELECT churn_routed_version(i) a, churn_routed_version(i::VARCHAR) b "
                    "FROM range(2000) t(i)")
    assert (same["a"] == same["b"]).all()


def test_route_between_versions_with_different_features(life, customers):
    extra = train_model(customers, "churned", ["tenure_months", "age"], "linear", random_state=0)
    life.register("churn", extra.model, extra.X_sample, compile=False)
    info = life.route("churn", {3: 0.5, "v1": 0.5}, key="customer_id")
    assert info.arguments == ["route_key", *FEATURES, "age"]
    got = life.sql(f"SELECT churn_routed_proba(customer_id, {ARGS}, age) r "
                   "FROM customers ORDER BY customer_id")["r"]
    v3 = life.sql("SELECT churn_v3_proba(tenure_months, age) p FROM customers "
                  "ORDER BY customer_id")["p"].to_numpy()
    version = got.map(lambda r: r["version"]).to_numpy()
    want = np.where(version == 1, _scores(life, 1), v3)
    np.testing.assert_array_equal(got.map(lambda r: r["proba"]).to_numpy(), want)
    assert {1, 3} == set(version)


CHILD_ROUTE = """
    import json, sys
    from workbench.indb import ModelStore
    with ModelStore(sys.argv[1], read_only=True) as s:
        v = s.sql("SELECT churn_routed_version(i) v FROM range(3000) t(i) ORDER BY i")["v"]
    print(json.dumps(v.tolist()))
"""


def test_route_is_the_same_in_another_process(tmp_path, linear, boosting):
    from tests.indb.test_indb_faults import _child

    path = tmp_path / "r.duckdb"
    with ModelStore(path) as s:
        s.register("churn", linear.model, linear.X_sample, compile=False)
        s.register("churn", boosting.model, boosting.X_sample, compile=False)
        s.route("churn", {"v1": 0.7, "v2": 0.3}, key="customer_id")
        mine = s.sql("SELECT churn_routed_version(i) v FROM range(3000) t(i) ORDER BY i")["v"]
    proc = _child(CHILD_ROUTE, str(path))
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-2000:]
    assert json.loads(out.strip().splitlines()[-1]) == mine.tolist()
    assert 0.25 < (mine == 2).mean() < 0.35


BAD_ROUTES = {
    "sum above 1": ({"v1": 0.9, "v2": 0.2}, {}, InputError, "sum to 1"),
    "sum below 1": ({"v1": 0.5}, {}, InputError, "sum to 1"),
    "off by 1e-6": ({"v1": 0.9, "v2": 0.100001}, {}, InputError, "sum to 1"),
    "negative": ({"v1": 1.1, "v2": -0.1}, {}, InputError, "weights"),
    "nan": ({"v1": float("nan"), "v2": 1.0}, {}, InputError, "weights"),
    "unknown version": ({"v1": 0.5, "v7": 0.5}, {}, UnknownNameError, "v7"),
    "unknown alias": ({"v1": 0.5, "prod": 0.5}, {}, UnknownNameError, "prod"),
    "twice": ({"v1": 0.5, 1: 0.5}, {}, InputError, "twice"),
    "empty": ({}, {}, InputTypeError, "non-empty dict"),
    "not a dict": ([("v1", 1.0)], {}, InputTypeError, "dict"),
    "all zero": ({"v1": 0.0, "v2": 0.0}, {}, InputError, "sum to 1"),
    "key not in table": ({"v1": 0.9, "v2": 0.1}, {"key": "client_id", "on": "customers"},
                         InputError, r"no column\(s\) \['client_id'\]"),
    "key not a string": ({"v1": 1.0}, {"key": 7}, InputTypeError, "key"),
    "unknown model": ({"v1": 1.0}, {"name": "nomodel"}, UnknownNameError, "nomodel"),
}


@pytest.mark.parametrize("case", list(BAD_ROUTES))
def test_bad_routes_change_nothing(life, case):
    life.route("churn", {"v1": 1.0}, key="customer_id")
    weights, kw, error, match = BAD_ROUTES[case]
    args = {"name": "churn", "weights": weights, "key": "customer_id", **kw}
    before = snapshot(life)
    with pytest.raises(error, match=match):
        life.route(**args)
    assert snapshot(life) == before


def test_route_replaced_unrouted_and_clashes(life):
    life.route("churn", {"v1": 0.5, "v2": 0.5}, key="customer_id")
    life.route("churn", {"v2": 1.0}, key="customer_id")
    assert set(life.sql("SELECT churn_routed_version(i) v FROM range(500) t(i)")["v"]) == {2}
    assert life.routes()["weights"].tolist() == [{"v2": 1.0}]
    life.unroute("churn")
    assert life.routes().empty
    with pytest.raises(InputError, match="churn_routed_version"):
        life.sql("SELECT churn_routed_version(1)")
    with pytest.raises(UnknownNameError, match="route"):
        life.unroute("churn")
    life.con.execute("CREATE MACRO churn_routed_version(a) AS a")
    before = snapshot(life)
    with pytest.raises(ModelError, match="already exist"):
        life.route("churn", {"v2": 1.0}, key="customer_id")
    assert snapshot(life) == before


# ---------------------------------------------------------------- drop
def test_drop_refuses_versions_in_use_and_cleans_up_a_whole_model(life):
    life.route("churn", {"v1": 0.5, "v2": 0.5}, key="customer_id")
    before = snapshot(life)
    with pytest.raises(InputError, match=r"'champion' alias.*set_alias"):
        life.drop("churn", version=1)
    life.set_alias("churn", "champion", 2)
    life.drop_alias("churn", "challenger")
    before = snapshot(life)
    with pytest.raises(InputError, match=r"routed.*unroute"):
        life.drop("churn", version=1)
    assert snapshot(life) == before
    life.unroute("churn")
    assert life.drop("churn", version=1) == 1  # only in champion's history: pruned
    assert life.aliases("churn")["history"].tolist() == [[]]
    with pytest.raises(InputError, match="no earlier version"):
        life.rollback("churn")
    life.route("churn", {"v2": 1.0}, key="customer_id")
    assert life.drop("churn") == 1
    assert life.aliases().empty and life.routes().empty
    assert snapshot(life)["functions"] == []
    assert life.log().iloc[-1]["detail"] == {"aliases": ["champion"]}


# ---------------------------------------------------------------- concurrency
def _during_evaluation(monkeypatch, action):
    """Run ``action`` while promote scores the versions (before its transaction)."""
    import workbench.indb.lifecycle_promote as promote_module

    real = promote_module.evaluation_sql

    def wrapped(*args, **kw):
        action()
        return real(*args, **kw)

    monkeypatch.setattr(promote_module, "evaluation_sql", wrapped)


def test_alias_moved_by_another_connection_meanwhile(life, monkeypatch):
    from workbench.indb import StoreLockedError

    _during_evaluation(monkeypatch, lambda: life.con.execute(
        "UPDATE workbench_model_aliases SET version = 2 WHERE alias = 'champion'"))
    before_log = len(life.log())
    with pytest.raises(StoreLockedError, match="moved by another connection"):
        life.promote("churn", 2, on="customers", target="churned", metric="roc_auc")
    assert len(life.log()) == before_log


def test_one_change_at_a_time_per_store(life, monkeypatch):
    import threading

    from workbench.indb import StoreLockedError

    seen = []

    def other_thread():
        def attempt():
            try:
                life.rollback("churn")
            except StoreLockedError as exc:
                seen.append(str(exc))

        t = threading.Thread(target=attempt)
        t.start()
        t.join()

    _during_evaluation(monkeypatch, other_thread)
    life.set_alias("churn", "champion", 2)
    life.set_alias("churn", "champion", 1)  # rollback would have somewhere to go
    life.promote("churn", 2, on="customers", target="churned", metric="roc_auc")
    assert len(seen) == 1 and "another thread" in seen[0]
    assert life.aliases("churn").set_index("alias").loc["champion", "history"] == [1, 2, 1]


PROMOTER = """
    import sys, time
    from pathlib import Path
    from workbench.indb import ModelStore, StoreLockedError

    path, flags, me = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    (flags / f"ready{me}").touch()
    while len(list(flags.glob("ready*"))) < 2:
        time.sleep(0.01)
    try:
        store = ModelStore(path)
    except StoreLockedError as exc:
        print("locked:", exc, flush=True)
        sys.exit(0)
    r = store.promote("churn", 2, on="customers", target="churned", metric="roc_auc")
    print("won:", r.promoted, flush=True)
    while not (flags / "release").exists():
        time.sleep(0.05)
    store.close()
"""


def test_two_processes_promoting_at_once(logged_file, tmp_path):
    from tests.indb.test_indb_faults import _child

    path = tmp_path / "race.duckdb"
    path.write_bytes(logged_file.read_bytes())  # champion v1 after a rollback
    flags = tmp_path / "flags"
    flags.mkdir()
    procs = [_child(PROMOTER, str(path), str(flags), str(i)) for i in range(2)]
    lines = []
    try:
        for p in procs:
            lines.append(p.stdout.readline().strip())
    finally:
        (flags / "release").touch()
    for p in procs:
        _out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-2000:]
    assert sorted(line.split(":")[0] for line in lines) == ["locked", "won"], lines
    locked = next(line for line in lines if line.startswith("locked"))
    assert "is locked by" in locked and "store.close()" in locked
    with ModelStore(path, read_only=True) as s:
        assert s.log()["action"].tolist().count("promote") == 2  # one before, one now
        assert s.aliases("churn").set_index("alias").loc["champion", "version"] == 2
        assert s.log_problems_ == []


def test_routed_answers_for_every_output_type(store, customers):
    feats = ["tenure_months", "monthly_charges"]
    for seed in (0, 1):
        multi = train_model(customers, "contract", feats, "tree", random_state=seed)
        store.register("plan", multi.model, multi.X_sample, compile=False)
        reg = train_model(customers, "total_charges", ["tenure_months", "contract"], "linear",
                          random_state=seed)
        store.register("spend", reg.model, reg.X_sample.iloc[seed:], compile=False)
    store.route("plan", {"v1": 0.6, "v2": 0.4}, key="customer_id")
    store.route("spend", {"v1": 0.3, "v2": 0.7}, key="customer_id")
    got = store.sql(
        "SELECT plan_routed_predict(customer_id, tenure_months, monthly_charges) y, "
        "plan_routed_proba(customer_id, tenure_months, monthly_charges) p, "
        "spend_routed_predict(customer_id, tenure_months, contract) s, "
        "plan_v1_predict(tenure_months, monthly_charges) y1, "
        "plan_v2_predict(tenure_months, monthly_charges) y2, "
        "plan_v1_proba(tenure_months, monthly_charges) p1, "
        "plan_v2_proba(tenure_months, monthly_charges) p2, "
        "spend_v1_predict(tenure_months, contract) s1, "
        "spend_v2_predict(tenure_months, contract) s2 FROM customers")
    for col, field in (("y", "prediction"), ("p", "proba"), ("s", "prediction")):
        version = got[col].map(lambda r: r["version"])
        assert set(version) == {1, 2}
        want = [row[f"{col}{v}"] for v, (_, row) in zip(version, got.iterrows(), strict=True)]
        answers = got[col].map(lambda r, f=field: r[f]).tolist()
        if col == "p":
            np.testing.assert_array_equal(np.stack(answers), np.stack(want))
        else:
            assert answers == want


def test_a_nan_is_judged_by_the_version_that_scores_its_row(life):
    life.route("churn", {"v1": 0.5, "v2": 0.5}, key="customer_id")
    assert life.describe("churn", 1).nan_policy == "error"
    assert life.describe("churn", 2).nan_policy == "pass"
    keys = life.sql("SELECT i, churn_routed_version(i) v FROM range(50) t(i)")
    k1 = int(keys[keys["v"] == 1]["i"].iloc[0])
    k2 = int(keys[keys["v"] == 2]["i"].iloc[0])
    rows = "(VALUES ({k}, 'nan'::DOUBLE, 70.0, 1.0, 3.0, 'one-year')) t(k, " + ARGS + ")"
    got = life.sql(f"SELECT churn_routed_proba(k, {ARGS}) r FROM {rows.format(k=k2)}")["r"][0]
    assert got["version"] == 2 and 0 <= got["proba"] <= 1
    with pytest.raises(InputError, match="got NaN"):
        life.sql(f"SELECT churn_routed_proba(k, {ARGS}) r FROM {rows.format(k=k1)}")
    nulls = life.sql(f"SELECT churn_routed_proba(k, {ARGS}) r FROM (VALUES ({k1}, NULL::DOUBLE, "
                     f"70.0, 1.0, 3.0, 'one-year')) t(k, {ARGS})")["r"][0]
    assert nulls["version"] == 1 and nulls["proba"] is None


def test_listing_arguments_are_checked(life):
    for bad in (5, ["churn"], b"churn"):
        with pytest.raises(InputTypeError, match="Model name must be a string"):
            life.log(bad)
        with pytest.raises(InputTypeError, match="Model name must be a string"):
            life.aliases(bad)
    assert life.aliases("other").empty and life.log("other").empty
    assert len(life.log()) == 4 and life.log_head()["seq"] == 4
