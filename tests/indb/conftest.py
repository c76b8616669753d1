"""Shared fixtures of the in-database inference tests: a demo table and fitted pipelines."""

from __future__ import annotations

import pytest

from workbench.indb import ModelStore, make_customers, train_model

FEATURES = ["tenure_months", "monthly_charges", "support_calls", "satisfaction", "contract"]


@pytest.fixture(scope="session")
def customers():
    return make_customers(1500, random_state=0)


@pytest.fixture(scope="session")
def linear(customers):
    return train_model(customers, "churned", FEATURES, "linear", random_state=0)


@pytest.fixture(scope="session")
def boosting(customers):
    return train_model(customers, "churned", FEATURES, "boosting", random_state=0)


@pytest.fixture()
def store(customers):
    s = ModelStore()
    s.con.register("customers_df", customers)
    s.con.execute("CREATE TABLE customers AS SELECT * FROM customers_df")
    s.con.unregister("customers_df")
    yield s
    s.close()
