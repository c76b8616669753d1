"""The in-database inference panel, driven like a user would: set values, click."""

from __future__ import annotations

import base64
import io

import numpy as np
import pandas as pd
import pytest

from tests.ui.picking import bad_picks, upload_value
from workbench.core.errors import InputError
from workbench.core.workspace import Workspace
from workbench.indb import ModelStore


@pytest.fixture(scope="module")
def panel():
    from workbench.indb.panel import InDBPanel

    ws = Workspace(":memory:")
    p = InDBPanel(n_rows=800, workspace=ws)
    yield p
    ws.close()


def test_panel_trains_registers_and_queries(panel):
    assert panel.data_picker.source.value == "demo" and panel.target.value == "churned"
    assert "customer_id" not in panel.features.value
    panel.features.value = ("tenure_months", "monthly_charges", "contract")
    panel.model_type.value = "tree"
    panel.name.value = "churn_tree"
    panel.train_button.click()
    assert panel.last_error is None
    assert panel.result.name == "churn_tree" and panel.result.version == 1
    assert panel.last_sql.startswith("CASE WHEN") and "CAST(" in panel.sql_view.value
    assert "churn_tree_proba(tenure_months, monthly_charges, contract)" in panel.query.value
    panel.query_button.click()
    assert panel.last_error is None
    assert len(panel.last_frame) == 10 and "probability" in panel.last_frame.columns


def test_panel_uncompilable_model_shows_reason(panel):
    panel.features.value = ("tenure_months", "contract")
    panel.model_type.value = "boosting"
    panel.name.value = "churn_hgb"
    panel.train_button.click()
    assert panel.last_error is None
    assert panel.last_sql is None and panel.sql_view.value.startswith("-- no compiled SQL")


def test_panel_shows_errors(panel):
    panel.name.value = "Bad Name"
    panel.train_button.click()
    assert "not valid" in panel.last_error
    panel.query.value = "SELECT churn_tree_predict(1)"
    panel.query_button.click()
    assert "takes 3 argument(s)" in panel.last_error
    panel.features.value = ()
    panel.name.value = "x"
    panel.train_button.click()
    assert "features is empty" in panel.last_error


def test_panel_on_existing_store():
    from workbench.indb.panel import InDBPanel

    store = ModelStore()
    store.con.execute("CREATE TABLE t AS SELECT range AS a, range % 2 AS b FROM range(40)")
    p = InDBPanel(store=store)
    assert p.data_picker.table.options == ("t",) and p.target.value == "b"
    assert repr(p) == "InDBPanel(store=ModelStore(models=[]), table='t')"
    store.close()


def test_panel_seed_box_shows_the_workbench_message(panel):
    panel.features.value = ("tenure_months", "contract")
    panel.model_type.value = "forest"
    panel.name.value = "seeded"
    for bad in (-1, 2**32):
        panel.seed.value = bad
        panel.train_button.click()
        assert panel.last_error.startswith("Seed must lie in [0, 2**32 - 1]"), panel.last_error
        assert "Unexpected error" not in panel.status.value
    panel.seed.value = 7
    panel.train_button.click()
    assert panel.last_error is None and panel.result.name == "seeded"


def test_panel_query_cannot_drop_the_store_tables(panel):
    before = panel.store.list_models()
    for query in ("DROP TABLE workbench_models", "DELETE FROM workbench_models",
                  'ALTER TABLE "workbench_models" RENAME TO gone'):
        panel.query.value = query
        panel.query_button.click()
        assert "changes the store's own table(s) workbench_models" in panel.last_error
    assert panel.store.list_models().equals(before)
    panel.query.value = "SELECT count(*) AS n FROM workbench_models"
    panel.query_button.click()
    assert panel.last_error is None and panel.last_frame["n"][0] == len(before)
    panel.query.value = "SELECT churn_tree_predict(tenure_months, 1, 'x') FROM demo_customers"
    panel.query_button.click()
    assert panel.last_error is None


def test_panel_refuses_bad_constructor_arguments():
    from workbench.core.errors import InputError, InputTypeError
    from workbench.indb.panel import InDBPanel

    with pytest.raises(InputTypeError, match="store must be a ModelStore"):
        InDBPanel(store="models.duckdb")
    with pytest.raises(InputError, match="n_rows must lie in"):
        InDBPanel(n_rows=0)
    with pytest.raises(InputTypeError, match="random_state must be None or an integer"):
        InDBPanel(n_rows=50, random_state="x")


# ------------------------------------------------------------------ the user's own data


def _user_frame(n: int = 150, seed: int = 0) -> pd.DataFrame:
    """A user's table with its own ids (1000, 1001, ...), numbers, a text column and a label."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n).round(3)
    b = rng.integers(0, 10, n)
    plan = rng.choice(["basic", "pro"], n)
    label = ((a + 0.3 * b + (plan == "pro") + rng.normal(0, 0.5, n)) > 1.5).astype(int)
    return pd.DataFrame(
        {"customer_id": np.arange(1000, 1000 + n), "a": a, "b": b, "plan": plan, "label": label}
    )


@pytest.fixture
def ws():
    w = Workspace(":memory:")
    yield w
    w.close()


def test_main_button_adds_the_table_once_and_scores_the_users_rows(ws):
    from workbench.indb.panel import InDBPanel

    df = _user_frame()
    p = InDBPanel(df, target="label", workspace=ws)
    assert p.store.con is ws.con and p.data_picker.source.value == "given"
    assert p.table_name.value == "my_data" and p.features.value == ("a", "b", "plan")
    p.model_type.value = "tree"
    p.name.value = "mine"
    p.main_button.click()
    assert p.last_error is None, p.last_error
    scores = p.scores
    assert list(scores.columns) == ["customer_id", "prediction", "probability"]
    assert scores["customer_id"].tolist() == df["customer_id"].tolist()
    assert ws.tables() == ["my_data"] and "FROM my_data" in p.query.value
    p.main_button.click()  # again: the table is not added twice, the model gets version 2
    assert p.last_error is None and p.result.version == 2 and ws.tables() == ["my_data"]
    # Save to the workspace, and download the same rows as CSV.
    assert p.export.name.value == "indb_scores"
    p.export.save_button.click()
    assert p.last_error is None and ws.tables() == ["indb_scores", "my_data"]
    saved = ws.sql("SELECT * FROM indb_scores ORDER BY customer_id").df()
    assert saved["customer_id"].tolist() == df["customer_id"].tolist()
    payload = p.export.download.value.split("base64,")[1].split("'")[0]
    csv = pd.read_csv(io.BytesIO(base64.b64decode(payload)))
    pd.testing.assert_frame_equal(csv, p.scores.reset_index(drop=True), check_dtype=False)


def test_users_fitted_pipeline_is_registered_as_given(ws):
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    from workbench.indb.panel import InDBPanel

    df = _user_frame()
    cols = ["a", "b", "plan"]
    pre = ColumnTransformer(
        [("num", "passthrough", ["a", "b"]), ("cat", OneHotEncoder(), ["plan"])]
    )
    pipe = Pipeline([("prepare", pre), ("model", LogisticRegression())]).fit(df[cols], df.label)
    p = InDBPanel(df, target="label", model=pipe, workspace=ws)
    assert p.model_picker.source.value == "given"
    p.name.value = "theirs"
    p.main_button.click()
    assert p.last_error is None, p.last_error
    assert [f["name"] for f in p.result.features] == cols and p.result.metrics == {}
    assert p.last_train is None
    np.testing.assert_array_equal(p.scores["prediction"], pipe.predict(df[cols]))
    np.testing.assert_allclose(
        p.scores["probability"], pipe.predict_proba(df[cols])[:, 1], atol=1e-4
    )
    assert p.scores["customer_id"].tolist() == df["customer_id"].tolist()


def test_users_model_on_numeric_columns_without_names(ws):
    from sklearn.tree import DecisionTreeClassifier

    from workbench.core.tables import load_table
    from workbench.indb.panel import InDBPanel

    df = _user_frame()[["customer_id", "a", "b", "label"]]
    table = load_table(df, target="label")
    tree = DecisionTreeClassifier(max_depth=3, random_state=0).fit(table.X, table.y)
    p = InDBPanel(df, target="label", model=tree, workspace=ws)
    p.name.value = "arr"
    p.main_button.click()
    assert p.last_error is None, p.last_error
    np.testing.assert_array_equal(p.scores["prediction"], tree.predict(table.X))


def test_workspace_table_is_scored_in_place(ws):
    from workbench.indb.panel import InDBPanel

    df = _user_frame()
    ws.add("clients", df, target="label")
    p = InDBPanel(workspace=ws)
    p.data_picker.source.value = "table"
    assert p.data_picker.table.value == "clients" and p.table_name.disabled
    p.target.value = "label"
    p.name.value = "inplace"
    p.main_button.click()
    assert p.last_error is None, p.last_error
    assert ws.tables() == ["clients"]
    assert p.scores["customer_id"].tolist() == df["customer_id"].tolist()
    # One store per workspace: a second panel shares it (and its SQL functions).
    assert InDBPanel(workspace=ws).store is p.store


def _bad_panels():
    from sklearn.linear_model import LogisticRegression

    from workbench.core.tables import load_table
    from workbench.indb.panel import InDBPanel

    def nan_target(ws):
        df = _user_frame()
        df["label"] = df["label"].astype(float)
        df.loc[3, "label"] = np.nan
        return InDBPanel(df, target="label", workspace=ws), "missing value"

    def not_fitted(ws):
        return InDBPanel(_user_frame(), model=LogisticRegression(), workspace=ws), "not fitted"

    def other_columns(ws):
        df = _user_frame()
        other = df.rename(columns={"a": "zzz"})
        clf = LogisticRegression().fit(other[["zzz", "b"]], other["label"])
        return InDBPanel(df, target="label", model=clf, workspace=ws), "['zzz']"

    def one_hot(ws):
        df = _user_frame()
        table = load_table(df, target="label")
        clf = LogisticRegression().fit(table.X, table.y)
        return InDBPanel(df, target="label", model=clf, workspace=ws), "one-hot"

    def one_hot_names(ws):
        df = _user_frame()
        table = load_table(df, target="label")
        X = pd.DataFrame(table.X, columns=table.feature_names_out)
        clf = LogisticRegression().fit(X, table.y)
        return InDBPanel(df, target="label", model=clf, workspace=ws), "one-hot"

    def name_taken(ws):
        ws.add("my_data", _user_frame().head(5))
        return InDBPanel(_user_frame(), target="label", workspace=ws), "already has a table"

    return {f.__name__: f for f in (nan_target, not_fitted, other_columns, one_hot,
                                    one_hot_names, name_taken)}


@pytest.mark.parametrize("case", sorted(_bad_panels()))
def test_bad_table_or_model_shows_a_message_and_writes_nothing(case, ws):
    p, words = _bad_panels()[case](ws)
    before = ws.tables()
    p.main_button.click()
    assert p.last_error is not None and words in p.last_error, p.last_error
    assert not p.last_error.startswith("Unexpected error")
    assert p.result is None and p.scores is None
    assert ws.tables() == before and p.store.list_models().empty


def test_bad_picks_keep_the_last_result_and_write_nothing(ws):
    from workbench.indb.panel import InDBPanel

    df = _user_frame()
    ns = {"frame": df}
    p = InDBPanel(df, target="label", workspace=ws, namespace=ns)
    p.name.value = "first"
    p.main_button.click()
    assert p.last_error is None, p.last_error
    before, scores, tables = p.result, p.scores, ws.tables()
    picker = p.data_picker

    for pick, words in bad_picks(picker, ns, "frame"):
        pick()
        p.main_button.click()
        assert p.last_error is not None and words in p.last_error, (words, p.last_error)
        assert p.result is before and p.scores is scores
        assert ws.tables() == tables and len(p.store.list_models()) == 1


def test_upload_is_added_under_its_name(ws):
    from workbench.indb.panel import InDBPanel

    df = _user_frame()
    p = InDBPanel(workspace=ws)
    p.data_picker.source.value = "upload"
    p.data_picker.upload.value = upload_value("My Clients.csv", df.to_csv(index=False).encode())
    assert p.table_name.value == "My_Clients"
    p.target.value = "label"
    p.name.value = "up"
    p.main_button.click()
    assert p.last_error is None, p.last_error
    assert ws.tables() == ["My_Clients"]
    assert p.scores["customer_id"].tolist() == df["customer_id"].tolist()


def test_store_without_workspace_holds_the_tables():
    from workbench.indb.panel import InDBPanel

    df = _user_frame()
    with ModelStore() as store:
        assert InDBPanel(store).store is store  # the call before data= came first
        p = InDBPanel(df, target="label", store=store)
        p.name.value = "kept"
        p.main_button.click()
        assert p.last_error is None, p.last_error
        assert store.sql("SELECT count(*) AS n FROM my_data")["n"][0] == len(df)
        p.export.save_button.click()
        assert p.last_error is None
        saved = store.sql("SELECT customer_id FROM indb_scores ORDER BY customer_id")
        assert saved["customer_id"].tolist() == df["customer_id"].tolist()
        with pytest.raises(InputError, match="different databases"):
            InDBPanel(store=store, workspace=Workspace(":memory:"))


# ------------------------------------------------------------------ aliases and the audit log


def _actions(p):
    return p.log_frame["action"].tolist()


def test_panel_moves_aliases_rolls_back_and_shows_the_log(ws):
    from workbench.indb.panel import InDBPanel

    df = _user_frame()
    p = InDBPanel(df, target="label", workspace=ws)
    assert "none yet" in p.lifecycle.value and p.log_frame.empty
    p.model_type.value = "tree"
    p.name.value = "churn"
    for _ in range(2):
        p.main_button.click()
        assert p.last_error is None, p.last_error
    assert _actions(p) == ["register", "register"] and p.aliases_frame.empty
    # Each version with the backend serving it and why (the store's own record).
    assert p.versions_frame["version"].tolist() == [1, 2]
    for row in p.versions_frame.itertuples():
        info = p.store.describe("churn", row.version)
        assert row.backend == info.backend and row.why == info.backend_reason != ""
    assert "Versions of model" in p.lifecycle.value and "backend" in p.lifecycle.value
    # Only portable, readable columns: no hashes, but when and who.
    assert list(p.log_frame.columns) == [
        "seq", "logged_at", "os_user", "action", "alias", "versions", "data_rows", "metrics"]
    assert len(p.log_frame["logged_at"].iloc[0]) == 19  # YYYY-MM-DD HH:MM:SS

    p.alias.value, p.alias_version.value = "champion", "1"
    p.alias_button.click()
    assert p.last_error is None, p.last_error
    assert (p.last_alias.version, p.last_alias.previous) == (1, None)
    p.alias_version.value = "v2"
    p.alias_button.click()
    assert p.last_error is None and (p.last_alias.version, p.last_alias.previous) == (2, 1)
    assert p.aliases_frame.to_dict("records") == [
        {"alias": "champion", "version": 2, "previous": 1}]
    cols = ", ".join(f'"{c}"' for c in ("a", "b", "plan"))
    same = p.store.sql(f"SELECT count(*) FILTER (WHERE churn_champion_proba({cols}) = "
                       f"churn_v2_proba({cols})) AS n FROM my_data")["n"][0]
    assert same == len(df)

    p.rollback_button.click()
    assert p.last_error is None and p.last_alias.version == 1
    assert p.store.aliases("churn").set_index("alias").loc["champion", "version"] == 1
    assert _actions(p) == ["register", "register", "alias", "alias", "rollback"]
    assert p.log_frame["versions"].iloc[-1] == {"from": 2, "to": 1}
    assert "rollback" in p.lifecycle.value and "champion" in p.lifecycle.value
    # The same rows as the store's own log, newest last.
    assert p.log_frame["seq"].tolist() == p.store.log("churn")["seq"].tolist()[-5:]


@pytest.mark.parametrize(
    ("alias", "version", "button", "words"),
    [
        ("champion", "v9", "alias_button", "'v9'. Choose one of: v1."),
        ("champion", "", "alias_button", "Unknown version or alias of model 'churn' ''"),
        ("Champion!", "1", "alias_button", "Alias 'Champion!' is not valid"),
        ("champion", "1", "rollback_button", "no earlier version to roll back to"),
        ("challenger", "1", "rollback_button", "Unknown alias of model 'churn'"),
    ],
)
def test_bad_alias_actions_show_a_message_and_change_nothing(ws, alias, version, button, words):
    from workbench.indb.panel import InDBPanel

    p = InDBPanel(_user_frame(), target="label", workspace=ws)
    p.model_type.value = "tree"
    p.name.value = "churn"
    p.main_button.click()
    p.store.set_alias("churn", "champion", 1)
    before = (p.store.aliases().to_dict("records"), p.store.log()["row_sha256"].tolist())
    p.alias.value, p.alias_version.value = alias, version
    getattr(p, button).click()
    assert p.last_error is not None and words in p.last_error, p.last_error
    assert not p.last_error.startswith("Unexpected error")
    assert (p.store.aliases().to_dict("records"), p.store.log()["row_sha256"].tolist()) == before
    assert p.last_alias is None and _actions(p) == ["register", "alias"]


def test_lifecycle_view_follows_the_model_name_and_keeps_the_newest_rows(ws):
    from sklearn.tree import DecisionTreeClassifier

    from workbench.indb.panel import LOG_ROWS, InDBPanel

    df = _user_frame()
    model = DecisionTreeClassifier(max_depth=2, random_state=0).fit(df[["a", "b"]], df["label"])
    p = InDBPanel(df, target="label", workspace=ws)
    for name in ("one", "two"):
        p.store.register(name, model, df[["a", "b"]], compile=False)
    for k in range(LOG_ROWS):  # more moves than the view shows
        p.store.set_alias("two", "champion" if k % 2 else "challenger", 1)
        p.store.drop_alias("two", "champion" if k % 2 else "challenger")
    p.name.value = "one"
    assert _actions(p) == ["register"]  # only this model's rows
    p.name.value = "two"
    seqs = p.store.log("two")["seq"].tolist()
    assert len(seqs) > LOG_ROWS and p.log_frame["seq"].tolist() == seqs[-LOG_ROWS:]
    assert p.aliases_frame.empty  # every alias was dropped again
    p.name.value = "no_such_model"
    assert p.log_frame.empty and p.aliases_frame.empty and "none yet" in p.lifecycle.value
