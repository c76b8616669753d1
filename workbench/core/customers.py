"""A realistic generated customer table with a ``churned`` target, shipped as Parquet.

The "Bring your own data" notebook needs a table that looks like what a user exports from a CRM:
ids with gaps, a signup date, text categories, skewed money columns, missing values that are not
missing completely at random, and a few wrong labels. :func:`make_customer_table` generates it;
``workbench/core/data/customers.parquet`` holds the default table (regenerate it with
``python -m workbench.core.customers``).

Churn follows a logistic ground truth whose best possible accuracy is about 0.84 on the clean
labels and about 0.81 on the shipped ones, where 5% of the labels are flipped at random; gradient
boosting reaches about 0.80 on a held-out split (the majority class is about 0.69).
:func:`flipped_ids` regenerates which customers were flipped, so data-valuation tools can be
scored on finding them; the table itself carries no trace of the flips.

Portability: every draw comes from :func:`numpy.random.default_rng`, the churn score uses only
``+ - * sqrt`` (correctly rounded everywhere, no BLAS), and floats are rounded to the precision a
CRM would store, so the table is the same on any CPU.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench.core.errors import InputTypeError
from workbench.core.params import check_number, check_random_state, check_size
from workbench.core.paths import atomic_write

__all__ = ["CUSTOMERS_PATH", "MAX_ROWS", "customers_path", "flipped_ids", "make_customer_table"]

#: The shipped default table: ``make_customer_table()`` written with pyarrow and zstd.
CUSTOMERS_PATH = Path(__file__).resolve().with_name("data") / "customers.parquet"

#: Largest table the generator makes; a typo such as ``10**9`` is refused instead of filling memory.
MAX_ROWS = 5_000_000

_SNAPSHOT = np.datetime64("2025-06-30", "D")
_REGIONS = ["Northeast", "Southeast", "Midwest", "Southwest", "Mountain", "Pacific"]
_REGION_P = [0.22, 0.20, 0.19, 0.14, 0.09, 0.16]
_REGION_EFFECT = [0.0, 0.2, -0.15, 0.3, -0.05, 0.15]
_PLANS = ["Basic", "Standard", "Premium", "Family"]
_PLAN_P = [0.35, 0.35, 0.15, 0.15]
_PLAN_PRICE = [35.0, 60.0, 95.0, 80.0]
_PLAN_EFFECT = [0.25, 0.0, -0.45, -0.4]
_CONTRACTS = ["month-to-month", "one-year", "two-year"]
_CONTRACT_P = [0.55, 0.25, 0.20]
_CONTRACT_EFFECT = [1.45, -0.65, -2.1]
_PAYMENTS = ["credit card", "bank transfer", "invoice", "digital wallet"]
_PAYMENT_P = [0.38, 0.27, 0.20, 0.15]
_PAYMENT_EFFECT = [0.0, -0.2, 0.3, 0.45]
_INTERCEPT = -2.6


def customers_path() -> Path:
    """Path of the shipped customer table, ``workbench/core/data/customers.parquet``.

    Returns
    -------
    pathlib.Path
        The Parquet file holding ``make_customer_table()`` with its default arguments.
    """
    return CUSTOMERS_PATH


def _check_args(n_rows: Any, random_state: Any, label_noise: Any) -> tuple[int, int, float]:
    n = check_size(
        n_rows, name="n_rows", high=MAX_ROWS, hint="Generate a larger table in several parts."
    )
    seed = check_random_state(random_state)
    if seed is None:
        # The shipped file and flipped_ids() must be regenerable, so the seed is never left open.
        raise InputTypeError(
            "random_state must be an integer seed such as 0, got None; the customer table and "
            "flipped_ids() are regenerated from the same seed."
        )
    noise = check_number(
        label_noise,
        name="label_noise",
        low=0.0,
        high=0.5,
        high_open=True,
        hint="It is the share of churned labels flipped; 0.5 or more would invert the target.",
    )
    return n, seed, noise


def _pick(rng: np.random.Generator, n: int, p: list[float]) -> np.ndarray:
    """Category codes ``0..len(p)-1`` drawn with probabilities ``p``."""
    return rng.choice(len(p), size=n, p=p)


def _text(codes: np.ndarray, names: list[str]) -> pd.Series:
    return pd.Series(np.asarray(names, dtype=object)[codes], dtype="str")


def _generate(n: int, seed: int, noise: float) -> tuple[pd.DataFrame, np.ndarray]:
    """The table and the boolean mask of flipped rows; one RNG path for both public functions."""
    rng = np.random.default_rng(seed)
    region = _pick(rng, n, _REGION_P)
    plan = _pick(rng, n, _PLAN_P)
    contract = _pick(rng, n, _CONTRACT_P)
    payment = _pick(rng, n, _PAYMENT_P)
    # Long contracts go with longer tenure; gamma gives the usual long right tail.
    tenure = (rng.gamma(1.6, 14.0, size=n) * (1.0 + 0.35 * contract)).round().clip(1, 96)
    tenure = tenure.astype(np.int64)
    days = (tenure * 30.44).round().astype(np.int64) + rng.integers(0, 30, size=n)
    signup = (_SNAPSHOT - days.astype("timedelta64[D]")).astype("datetime64[ms]")
    monthly = (np.asarray(_PLAN_PRICE)[plan] + rng.normal(0.0, 12.0, size=n)).clip(15, 160)
    monthly = monthly.round(2)
    discount = np.where(
        rng.random(n) < 0.12 + 0.2 * (contract > 0),
        rng.choice([5.0, 10.0, 15.0, 20.0], size=n),
        0.0,
    )
    # Past prices drifted around today's, so total is not an exact product of two columns.
    drift = rng.normal(1.0, 0.06, size=n).clip(0.8, 1.2)
    total = (tenure * monthly * drift * (1.0 - discount / 100.0)).round(2)
    support = rng.poisson(0.9 + 0.6 * (plan == 0), size=n).astype(np.int64)
    data_gb = (rng.lognormal(2.3, 0.9, size=n) * (1.0 + 0.5 * (plan == 3))).round(2)
    age = rng.integers(18, 86, size=n).astype(np.int64)
    late = rng.poisson(0.25 + 0.45 * (payment == 2), size=n).astype(np.int64)
    satisfaction = (rng.normal(3.7, 0.8, size=n) - 0.3 * support).clip(1.0, 5.0).round(1)
    # Logistic ground truth on the stored (rounded) values: + - * sqrt only, so it is the same
    # on every CPU; the logistic noise comes from the generator, not from numpy's SIMD log.
    score = (
        _INTERCEPT
        + np.asarray(_CONTRACT_EFFECT)[contract]
        + np.asarray(_PLAN_EFFECT)[plan]
        + np.asarray(_PAYMENT_EFFECT)[payment]
        + np.asarray(_REGION_EFFECT)[region]
        - 0.7 * (np.sqrt(tenure) - 4.5)
        + 0.024 * (monthly - 65.0)
        + 0.5 * support
        + 0.7 * late
        - 1.25 * (satisfaction - 3.5)
        - 0.05 * discount
        - 0.15 * (np.sqrt(data_gb) - 3.0)
        + 0.45 * (age < 30)
        - 0.25 * (age >= 65)
    )
    churned = (score > rng.logistic(size=n)).astype(np.int64)
    # Missing values as a CRM has them: surveys skipped more by customers who never call,
    # usage meters that failed, region never entered.
    sat_missing = rng.random(n) < np.where(support == 0, 0.07, 0.03)
    gb_missing = rng.random(n) < 0.02
    region_missing = rng.random(n) < 0.01
    # Ids were handed out in signup order, with gaps from deleted test accounts.
    order = np.argsort(-days, kind="stable")
    ids = np.empty(n, dtype=np.int64)
    ids[order] = 100_000 + np.cumsum(rng.integers(1, 5, size=n))
    region_text = _text(region, _REGIONS)
    region_text[region_missing] = None
    frame = pd.DataFrame(
        {
            "customer_id": ids,
            "signup_date": signup,
            "region": region_text,
            "plan": _text(plan, _PLANS),
            "contract": _text(contract, _CONTRACTS),
            "payment_method": _text(payment, _PAYMENTS),
            "tenure_months": tenure,
            "monthly_charges": monthly,
            "total_charges": total,
            "support_calls": support,
            "data_gb": np.where(gb_missing, np.nan, data_gb),
            "age": age,
            "late_payments": late,
            "satisfaction": np.where(sat_missing, np.nan, satisfaction),
            "discount_pct": discount,
            "churned": churned,
        }
    )
    frame = frame.iloc[order].reset_index(drop=True)
    flipped = np.zeros(n, dtype=bool)
    flipped[rng.choice(n, size=round(noise * n), replace=False)] = True
    frame["churned"] = np.where(flipped, 1 - frame["churned"].to_numpy(), frame["churned"])
    return frame, flipped


def make_customer_table(
    n_rows: int = 20_000, *, random_state: int = 0, label_noise: float = 0.05
) -> pd.DataFrame:
    """Generate a realistic customer table with a ``churned`` (0/1) target.

    Parameters
    ----------
    n_rows : int, default=20_000
        Number of customers, 1 to 5,000,000.
    random_state : int, default=0
        Seed in ``[0, 2**32 - 1]``. None is refused: the table must be regenerable.
    label_noise : float, default=0.05
        Share of rows whose ``churned`` label is flipped, in ``[0, 0.5)``; exactly
        ``round(label_noise * n_rows)`` rows. :func:`flipped_ids` says which.

    Returns
    -------
    pandas.DataFrame
        One row per customer, sorted by ``customer_id`` (ids follow signup order, with gaps):

        - ``customer_id`` (int64, unique), ``signup_date`` (datetime64[ms], whole days);
        - text (``str``): ``region`` (6 values, about 1% missing), ``plan`` (4), ``contract``
          (3), ``payment_method`` (4);
        - int64: ``tenure_months``, ``support_calls``, ``age``, ``late_payments``;
        - float64: ``monthly_charges``, ``total_charges``, ``data_gb`` (about 2% NaN),
          ``satisfaction`` (1 to 5, about 4% NaN, more often among customers with no support
          calls), ``discount_pct``;
        - ``churned`` (int64, 0/1, never missing; about 30% ones).

    Raises
    ------
    InputTypeError
        If ``n_rows`` or ``random_state`` is not an integer or ``label_noise`` not a number.
    InputError
        If any of them is out of range.

    See Also
    --------
    customers_path : the shipped default table.

    Examples
    --------
    >>> from workbench.core.customers import make_customer_table
    >>> df = make_customer_table(1000, random_state=1)
    >>> df.shape
    (1000, 16)
    """
    frame, _ = _generate(*_check_args(n_rows, random_state, label_noise))
    return frame


def flipped_ids(
    n_rows: int = 20_000, random_state: int = 0, label_noise: float = 0.05
) -> np.ndarray:
    """The ``customer_id`` values whose label :func:`make_customer_table` flipped.

    Parameters
    ----------
    n_rows : int, default=20_000
    random_state : int, default=0
    label_noise : float, default=0.05
        The same arguments as given to :func:`make_customer_table`.

    Returns
    -------
    numpy.ndarray of int64
        ``round(label_noise * n_rows)`` ids, sorted ascending.

    Raises
    ------
    InputTypeError
        If an argument has the wrong type.
    InputError
        If an argument is out of range.
    """
    frame, flipped = _generate(*_check_args(n_rows, random_state, label_noise))
    return np.sort(frame["customer_id"].to_numpy()[flipped])


def _write_shipped_file() -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(make_customer_table(), preserve_index=False)
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    CUSTOMERS_PATH.parent.mkdir(exist_ok=True)
    path = atomic_write(CUSTOMERS_PATH, buf.getvalue(), name="CUSTOMERS_PATH")
    path.chmod(0o644)  # atomic_write's temporary file is private; a package file is readable
    return path


if __name__ == "__main__":
    print(_write_shipped_file())
