"""A generated customer-churn table: realistic columns, numeric and text, with a known signal.

The churn probability follows a logistic model of tenure, charges, support calls, late payments,
satisfaction and contract type, plus noise, so models have something real to learn and a
perfect score is impossible.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from workbench.core.errors import InputError, InputTypeError
from workbench.core.validation import check_positive

__all__ = ["NUMERIC_COLUMNS", "TEXT_COLUMNS", "create_customers_table", "make_customers"]

NUMERIC_COLUMNS = [
    "tenure_months",
    "monthly_charges",
    "total_charges",
    "support_calls",
    "data_gb",
    "age",
    "late_payments",
    "satisfaction",
    "discount_pct",
]
TEXT_COLUMNS = ["contract", "payment_method"]
_CONTRACTS = ["month-to-month", "one-year", "two-year"]
_PAYMENTS = ["card", "bank transfer", "invoice", "wallet"]


def make_customers(n_rows: int = 5000, *, random_state: int | None = 0) -> pd.DataFrame:
    """Generate a customer table with a ``churned`` (0/1) target.

    Parameters
    ----------
    n_rows : int, default=5000
        Number of customers.
    random_state : int, optional
        Seed.

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, nine numeric columns (:data:`NUMERIC_COLUMNS`), two text columns
        (:data:`TEXT_COLUMNS`) and ``churned``.
    """
    check_positive(n_rows, name="n_rows", integer=True)
    rng = np.random.default_rng(random_state)
    n = int(n_rows)
    contract = rng.choice(_CONTRACTS, size=n, p=[0.55, 0.25, 0.20])
    payment = rng.choice(_PAYMENTS, size=n, p=[0.4, 0.3, 0.2, 0.1])
    tenure = rng.gamma(2.0, 14.0, size=n).round().clip(1, 120).astype(np.int64)
    monthly = rng.normal(65, 25, size=n).clip(15, 150).round(2)
    support = rng.poisson(1.2, size=n).astype(np.int64)
    data_gb = rng.lognormal(2.0, 0.8, size=n).round(2)
    age = rng.integers(18, 85, size=n)
    late = rng.poisson(0.4 + 0.3 * (payment == "invoice"), size=n).astype(np.int64)
    satisfaction = (rng.normal(3.6, 0.9, size=n) - 0.25 * support).clip(1, 5).round(1)
    discount = np.where(rng.random(n) < 0.3, rng.choice([5.0, 10.0, 15.0, 20.0], size=n), 0.0)
    total = (tenure * monthly * (1 - discount / 100)).round(2)
    contract_effect = np.select(
        [contract == "month-to-month", contract == "one-year"], [1.0, -0.4], -1.3
    )
    z = (
        -1.0
        - 0.035 * (tenure - 28)
        + 0.018 * (monthly - 65)
        + 0.35 * support
        + 0.45 * late
        - 0.55 * (satisfaction - 3.6)
        - 0.02 * discount
        + contract_effect
        + 0.3 * (payment == "wallet")
        + rng.normal(0, 0.5, size=n)
    )
    churned = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(np.int64)
    return pd.DataFrame(
        {
            "customer_id": np.arange(1, n + 1, dtype=np.int64),
            "tenure_months": tenure,
            "monthly_charges": monthly,
            "total_charges": total,
            "support_calls": support,
            "data_gb": data_gb,
            "age": age.astype(np.int64),
            "late_payments": late,
            "satisfaction": satisfaction,
            "discount_pct": discount,
            "contract": contract.astype(object),
            "payment_method": payment.astype(object),
            "churned": churned,
        }
    )


def create_customers_table(
    con: Any, name: str = "customers", n_rows: int = 5000, *, random_state: int | None = 0
) -> str:
    """Create (or replace) the generated customer table in a DuckDB connection.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
    name : str, default="customers"
        Table name (letters, digits, ``_``).
    n_rows : int, default=5000
    random_state : int, optional

    Returns
    -------
    str
        The table name.
    """
    if not hasattr(con, "execute"):
        raise InputTypeError(f"con must be a duckdb connection, got {type(con).__name__}.")
    if not isinstance(name, str) or not name.isidentifier():
        raise InputError(f"Table name {name!r} must be a plain identifier.")
    frame = make_customers(n_rows, random_state=random_state)
    con.register("__workbench_customers", frame)
    try:
        con.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM __workbench_customers')
    finally:
        con.unregister("__workbench_customers")
    return name
