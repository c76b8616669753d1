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
from workbench.core.params import check_random_state, check_size
from workbench.indb.checks import check_table_name

__all__ = [
    "MAX_ROWS",
    "NUMERIC_COLUMNS",
    "TEXT_COLUMNS",
    "create_customers_table",
    "make_customers",
]

#: Most rows generated at once (about 1.5 GB while generating).
MAX_ROWS = 5_000_000

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


def _check_rows(n_rows: Any) -> int:
    return check_size(
        n_rows, name="n_rows", high=MAX_ROWS,
        hint="Generate bigger tables in chunks, or repeat rows in SQL (CROSS JOIN range(k)).",
    )


def make_customers(n_rows: int = 5000, *, random_state: int | None = 0) -> pd.DataFrame:
    """Generate a customer table with a ``churned`` (0/1) target.

    Parameters
    ----------
    n_rows : int, default=5000
        Number of customers, 1 to 5,000,000.
    random_state : int, optional
        Seed, in ``[0, 2**32 - 1]``.

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, nine numeric columns (:data:`NUMERIC_COLUMNS`), two text columns
        (:data:`TEXT_COLUMNS`) and ``churned``.

    Raises
    ------
    InputTypeError
        If ``n_rows`` or ``random_state`` is not an integer.
    InputError
        If either is out of range.
    """
    n = _check_rows(n_rows)
    rng = np.random.default_rng(check_random_state(random_state))
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
    con : duckdb.DuckDBPyConnection or ModelStore
        A writable connection (a store's ``con``, or the store itself).
    name : str, default="customers"
        Table name: ASCII letters, digits and ``_``, not starting with ``workbench_``.
    n_rows : int, default=5000
        1 to 5,000,000.
    random_state : int, optional
        Seed, in ``[0, 2**32 - 1]``.

    Returns
    -------
    str
        The table name.

    Raises
    ------
    InputTypeError
        If ``con`` is not a DuckDB connection or store.
    InputError
        Bad name, size or seed, or a connection that cannot write (a reader).
    """
    import duckdb

    con = getattr(con, "con", con)  # a ModelStore
    if not isinstance(con, duckdb.DuckDBPyConnection):
        raise InputTypeError(
            f"con must be a duckdb connection or a ModelStore, got {type(con).__name__}."
        )
    name = check_table_name(name)
    _check_rows(n_rows)
    check_random_state(random_state)
    frame = make_customers(n_rows, random_state=random_state)
    try:
        con.register("__workbench_customers", frame)
        try:
            con.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM __workbench_customers')
        finally:
            con.unregister("__workbench_customers")
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0]
        hint = " (the connection is read-only: use a writer)" if "read-only" in first else ""
        raise InputError(f"Cannot create table {name!r}{hint}: {first}") from None
    return name
