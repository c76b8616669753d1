"""store.sql (the %%sql magic and the panel's query box) cannot change the store's own tables."""

from __future__ import annotations

import pytest

from tests.indb.conftest import FEATURES
from workbench.core.errors import InputError
from workbench.indb import TABLE

ARGS = ", ".join(FEATURES)
CALL = "SELECT churn_proba(12.0, 70.0, 1.0, 3.0, 'one-year') AS p"

ATTACKS = [
    f"DROP TABLE {TABLE}",
    'DROP TABLE "WORKBENCH_MODELS"',
    f"DROP TABLE main.{TABLE}",
    f"DELETE FROM {TABLE}",
    f"UPDATE {TABLE} SET task = 'bogus'",
    f"ALTER TABLE {TABLE} RENAME TO old_models",
    f"ALTER TABLE {TABLE} ADD COLUMN x INTEGER",
    f"CREATE OR REPLACE TABLE {TABLE} AS SELECT 1 AS a",
    f"INSERT INTO {TABLE} SELECT * REPLACE (9 AS version) FROM {TABLE}",
    f"SELECT 1; DROP TABLE {TABLE}",
    f"CREATE TABLE copy AS SELECT * FROM {TABLE}; DELETE FROM {TABLE} WHERE version = 1",
    "CREATE TABLE workbench_extra (a INTEGER)",
]


@pytest.mark.parametrize("query", ATTACKS)
def test_changes_to_workbench_tables_are_rolled_back(store, linear, query):
    store.register("churn", linear.model, linear.X_sample)
    before = store.sql(f"SELECT * FROM {TABLE}")
    p = store.sql(CALL)["p"][0]
    with pytest.raises(InputError, match=r"changes the store's own table\(s\) workbench_"):
        store.sql(query)
    assert store.sql(f"SELECT * FROM {TABLE}").equals(before)
    assert store.sql(CALL)["p"][0] == p
    tables = store.sql("SELECT table_name FROM duckdb_tables()")["table_name"].tolist()
    assert "copy" not in tables and "old_models" not in tables  # the whole query was undone
    assert store.describe("churn").version == 1


def test_other_statements_still_work(store, linear):
    store.register("churn", linear.model, linear.X_sample)
    store.sql(f"CREATE TABLE scored AS SELECT churn_proba({ARGS}) AS p FROM customers")
    assert len(store.sql("SELECT * FROM scored")) == 1500
    store.sql("INSERT INTO scored VALUES (0.5); DELETE FROM scored WHERE p > 0.9")
    store.sql("DROP TABLE scored")
    store.sql(f"CREATE VIEW v AS SELECT count(*) AS n FROM {TABLE}")
    assert store.sql("SELECT n FROM v")["n"].tolist() == [1]
    with pytest.raises(InputError, match="BEGIN, COMMIT and ROLLBACK are not accepted"):
        store.sql("BEGIN TRANSACTION")
    with pytest.raises(InputError, match="SQL failed"):  # a failing statement undoes the rest
        store.sql("CREATE TABLE half AS SELECT 1 AS a; SELECT * FROM nowhere")
    assert "half" not in store.sql("SELECT table_name FROM duckdb_tables()")["table_name"].tolist()


def test_the_magic_is_protected_too(store, linear, monkeypatch):
    import workbench.indb.session
    from workbench.indb.magic import sql_magic

    monkeypatch.setattr(workbench.indb.session, "_default", store)
    store.register("churn", linear.model, linear.X_sample)
    with pytest.raises(InputError, match="store's own table"):
        sql_magic("", f"DROP TABLE {TABLE}")
    assert store.describe("churn").version == 1
