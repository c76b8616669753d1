"""The in-database inference panel, driven like a user would: set values, click."""

from __future__ import annotations

import pytest

from workbench.indb import ModelStore


@pytest.fixture(scope="module")
def panel():
    from workbench.indb.panel import InDBPanel

    p = InDBPanel(n_rows=800)
    yield p
    p.store.close()


def test_panel_trains_registers_and_queries(panel):
    assert panel.table.value == "customers" and panel.target.value == "churned"
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
    p = InDBPanel(store)
    assert p.table.options == ("t",) and p.target.value == "b"
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
    panel.query.value = "SELECT churn_tree_predict(tenure_months, 1, 'x') FROM customers"
    panel.query_button.click()
    assert panel.last_error is None


def test_panel_refuses_bad_constructor_arguments():
    from workbench.core.errors import InputError, InputTypeError
    from workbench.indb.panel import InDBPanel

    with pytest.raises(InputTypeError, match="store must be a ModelStore"):
        InDBPanel("models.duckdb")
    with pytest.raises(InputError, match="n_rows must lie in"):
        InDBPanel(n_rows=0)
    with pytest.raises(InputTypeError, match="random_state must be None or an integer"):
        InDBPanel(n_rows=50, random_state="x")
