"""The generated customer table and its shipped Parquet copy."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import train_test_split

from workbench.core.customers import (
    CUSTOMERS_PATH,
    customers_path,
    flipped_ids,
    make_customer_table,
)
from workbench.core.errors import InputError, InputTypeError

TEXT = ["region", "plan", "contract", "payment_method"]
INTS = ["customer_id", "tenure_months", "support_calls", "age", "late_payments", "churned"]
FLOATS = ["monthly_charges", "total_charges", "data_gb", "satisfaction", "discount_pct"]


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return make_customer_table()


def test_shipped_file_holds_the_default_table(table):
    assert customers_path() == CUSTOMERS_PATH
    assert CUSTOMERS_PATH.is_file()
    assert CUSTOMERS_PATH.stat().st_size < 1.5 * 2**20
    pd.testing.assert_frame_equal(pd.read_parquet(CUSTOMERS_PATH), table)


def test_shipped_file_stores_text_as_strings_with_zstd():
    meta = pq.ParquetFile(CUSTOMERS_PATH).metadata
    schema = meta.schema.to_arrow_schema()
    for name in TEXT:
        assert pa.types.is_string(schema.field(name).type) or pa.types.is_large_string(
            schema.field(name).type
        )
    codecs = {meta.row_group(0).column(i).compression for i in range(meta.num_columns)}
    assert codecs == {"ZSTD"}


def test_columns_and_dtypes(table):
    assert len(table) == 20_000
    assert list(table.columns) == [
        "customer_id", "signup_date", "region", "plan", "contract", "payment_method",
        "tenure_months", "monthly_charges", "total_charges", "support_calls", "data_gb", "age",
        "late_payments", "satisfaction", "discount_pct", "churned",
    ]  # fmt: skip
    assert all(table[c].dtype == np.int64 for c in INTS)
    assert all(table[c].dtype == np.float64 for c in FLOATS)
    assert all(pd.api.types.is_string_dtype(table[c]) for c in TEXT)
    assert pd.api.types.is_datetime64_dtype(table["signup_date"])
    assert table["customer_id"].is_unique and table["customer_id"].is_monotonic_increasing
    assert table["region"].nunique() == 6
    assert table["satisfaction"].dropna().between(1, 5).all()
    # Tenure and signup date tell the same story (a month is about 30.44 days).
    days = (pd.Timestamp("2025-06-30") - table["signup_date"]).dt.days
    assert (days - table["tenure_months"] * 30.44).abs().max() <= 31


def test_missing_values_are_where_a_crm_has_them(table):
    rates = table.isna().mean()
    # Designed rates 4%, 2%, 1%; with 20,000 rows each bound is over 5 standard errors away.
    assert 0.03 <= rates["satisfaction"] <= 0.055
    assert 0.01 <= rates["data_gb"] <= 0.03
    assert 0.004 <= rates["region"] <= 0.016
    assert rates.drop(["satisfaction", "data_gb", "region"]).eq(0).all()
    # Surveys are skipped more by customers who never call support (7% against 3%).
    skipped = table["satisfaction"].isna()
    no_calls = table["support_calls"] == 0
    assert skipped[no_calls].mean() > skipped[~no_calls].mean() + 0.02


def test_target_is_binary_without_gaps(table):
    assert set(table["churned"].unique()) == {0, 1}
    assert 0.2 <= table["churned"].mean() <= 0.4


def test_flipped_ids_are_exactly_the_changed_labels(table):
    ids = flipped_ids()
    assert len(ids) == round(0.05 * 20_000) and len(np.unique(ids)) == len(ids)
    assert np.isin(ids, table["customer_id"]).all()
    clean = make_customer_table(label_noise=0.0)
    pd.testing.assert_frame_equal(clean.drop(columns="churned"), table.drop(columns="churned"))
    changed = table.loc[table["churned"] != clean["churned"], "customer_id"].to_numpy()
    np.testing.assert_array_equal(np.sort(changed), ids)


def test_small_and_seeded_tables():
    one = make_customer_table(1, random_state=3)
    assert len(one) == 1 and one["churned"].notna().all()
    assert flipped_ids(1, 3, 0.0).size == 0
    assert flipped_ids(100, 3, 0.1).size == 10
    a = make_customer_table(500, random_state=1, label_noise=0.1)
    pd.testing.assert_frame_equal(a, make_customer_table(500, random_state=1, label_noise=0.1))
    assert not a.equals(make_customer_table(500, random_state=2, label_noise=0.1))


def test_a_model_learns_churn_but_not_more_than_the_noise_allows(table):
    X = table.drop(columns=["customer_id", "signup_date", "churned"]).copy()
    for name in TEXT:  # ordinal codes; a missing region becomes its own code -1
        X[name] = X[name].astype("category").cat.codes
    y = table["churned"].to_numpy()
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    model = HistGradientBoostingClassifier(random_state=0).fit(X_tr, y_tr)
    accuracy = float((model.predict(X_te) == y_te).mean())
    majority = max(y_te.mean(), 1 - y_te.mean())
    # The ground truth's Bayes accuracy is about 0.84 on clean labels, so about
    # 0.95 * 0.84 + 0.05 * 0.16 = 0.81 after 5% random flips, against a majority rate near 0.69.
    # One test split of 5,000 rows has a standard error near 0.006: a margin of 0.05 over the
    # majority is far inside what a decent model reaches, and 0.9 is out of reach unless a
    # column leaks the target.
    assert majority + 0.05 < accuracy < 0.9


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"n_rows": 0}, InputError),
        ({"n_rows": -5}, InputError),
        ({"n_rows": 5_000_001}, InputError),
        ({"n_rows": "x"}, InputTypeError),
        ({"n_rows": 10.0}, InputTypeError),
        ({"label_noise": 0.7}, InputError),
        ({"label_noise": 0.5}, InputError),
        ({"label_noise": -0.1}, InputError),
        ({"label_noise": math.nan}, InputError),
        ({"label_noise": "0.1"}, InputTypeError),
        ({"random_state": -1}, InputError),
        ({"random_state": 2**32}, InputError),
        ({"random_state": None}, InputTypeError),
        ({"random_state": 1.5}, InputTypeError),
    ],
)
@pytest.mark.parametrize("func", [make_customer_table, flipped_ids])
def test_bad_arguments_are_refused(func, kwargs, error):
    name = next(iter(kwargs))
    with pytest.raises(error, match=name):
        func(**kwargs)
