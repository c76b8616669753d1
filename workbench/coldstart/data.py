"""A documented generator of product launches: the demo and test data of the cold-start tool.

Each simulated product has attributes (category, brand, price, pack size, launch support) that
drive its sales level, a launch curve from the Bass diffusion model plus a repeat-purchase floor,
yearly seasonality of its category, and negative-binomial noise. Part of the level is left
unexplained by the attributes (an item random effect), so no method can forecast a new item
perfectly: the generator keeps the problem honest.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from workbench.core.errors import InputError
from workbench.core.params import check_number, check_random_state, check_size, check_timestamp

__all__ = ["LaunchData", "bass_increments", "make_launches"]

_CATEGORIES = ("snacks", "beverages", "household", "personal_care", "frozen", "pet", "baby", "deli")
_BRANDS = ("acme", "borealis", "corvid", "dunmore", "elmwood", "fjord", "granite", "harbor")
MAX_ITEMS = 100_000
MAX_PERIODS = 1040
MAX_ROWS = 5_000_000


@dataclasses.dataclass(frozen=True)
class LaunchData:
    """Simulated launches: long-format sales plus one attribute row per item.

    Attributes
    ----------
    history : pandas.DataFrame
        Columns ``item_id``, ``date``, ``quantity``: one row per item and period from the item's
        launch to the end of the calendar (no gaps).
    attributes : pandas.DataFrame
        Columns ``item_id``, ``category``, ``brand``, ``price``, ``pack_size``,
        ``launch_support``: what is known about a product before it sells.
    launch_dates : pandas.Series
        Launch date per item (index ``item_id``).
    truth : pandas.DataFrame
        The generator's hidden parameters per item (``level``, ``p``, ``q``), for checks only.
    freq : str
        The pandas frequency of ``history`` (``"W-MON"``).
    description : str
        How the data were made.
    """

    history: pd.DataFrame
    attributes: pd.DataFrame
    launch_dates: pd.Series
    truth: pd.DataFrame
    freq: str
    description: str

    def split_by_launch(self, date: str | pd.Timestamp) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Split the item ids into those launched before ``date`` and those launched from it on.

        Parameters
        ----------
        date : str or pandas.Timestamp

        Returns
        -------
        known, new : pandas.DataFrame
            Attribute rows of the two groups.

        Raises
        ------
        InputError
            If ``date`` is not a date.
        InputTypeError
            If ``date`` is a number or None.
        """
        ts = check_timestamp(date, name="date")
        launched = self.attributes["item_id"].map(self.launch_dates)
        return (
            self.attributes[launched < ts].reset_index(drop=True),
            self.attributes[launched >= ts].reset_index(drop=True),
        )

    def __repr__(self) -> str:
        return (
            f"LaunchData(n_items={len(self.attributes)}, n_rows={len(self.history)}, "
            f"freq={self.freq!r})"
        )


def bass_increments(ages: np.ndarray, p: np.ndarray | float, q: np.ndarray | float) -> np.ndarray:
    """Share of the Bass-model market adopting in period ``age`` (``F(age+1) - F(age)``).

    Parameters
    ----------
    ages : numpy.ndarray
        Periods since launch (0 is the launch period).
    p, q : float or numpy.ndarray
        Coefficients of innovation and imitation (per period), broadcast against ``ages``.

    Returns
    -------
    numpy.ndarray
        The adoption share of each period; sums to at most 1 over all ages.
    """

    def cdf(t: np.ndarray) -> np.ndarray:
        e = np.exp(-(p + q) * t)
        return (1.0 - e) / (1.0 + (q / p) * e)

    a = np.asarray(ages, dtype=float)
    return cdf(a + 1.0) - cdf(a)


def make_launches(
    n_items: int = 300,
    n_periods: int = 104,
    *,
    start: str = "2024-01-01",
    n_categories: int = 4,
    n_brands: int = 6,
    launch_window: int | None = None,
    item_noise: float = 0.3,
    dispersion: float = 8.0,
    random_state: int | None = 0,
) -> LaunchData:
    """Simulate weekly sales of ``n_items`` products launched during ``n_periods`` weeks.

    The model behind each item ``i`` of category ``c`` launched in week ``L_i``:

    * level ``= base_c * brand_b * (price_i / ref_c) ** -1.4 * (pack_i / 2) ** 0.6 * exp(u_i)``,
      with ``u_i ~ Normal(0, item_noise)`` (the part no attribute explains);
    * launch curve at age ``a``: ``floor_c + (1 - floor_c) * B(a; p_i, q_i) / max B``, a Bass
      diffusion hump (``p_i`` grows with ``launch_support``) settling on a repeat-purchase floor;
    * seasonality ``1 + amp_c * sin(2 pi (week - phase_c) / 52)``;
    * weekly quantity ``~ NegativeBinomial(mean = level * curve * season, size = dispersion)``.

    Launch weeks are uniform over the first ``launch_window`` weeks (the whole calendar by
    default), so young and mature items coexist.

    Parameters
    ----------
    n_items : int, default=300
        Number of products (at most 100,000).
    n_periods : int, default=104
        Number of weeks in the calendar (at most 1,040); ``n_items * n_periods`` is at most
        5 million.
    start : str, default="2024-01-01"
        First week (a Monday; weeks are ``W-MON``).
    n_categories : int, default=4
        Number of categories (at most 8).
    n_brands : int, default=6
        Number of brands (at most 8).
    launch_window : int, optional
        Launches fall in the first ``launch_window`` weeks (``1``: every item launches in week 0,
        giving a full ``n_items x n_periods`` panel). Defaults to ``n_periods``.
    item_noise : float, default=0.3
        Standard deviation of the unexplained log-level of each item (at most 5).
    dispersion : float, default=8.0
        Negative-binomial size in [0.01, 1e6]; larger means less week-to-week noise.
    random_state : int or None, default=0
        Seed of the generator.

    Returns
    -------
    LaunchData

    Raises
    ------
    InputTypeError
        If a count is not an integer, ``random_state`` not an integer seed, or ``start`` a
        number.
    InputError
        If a count or scale is out of range, or ``start`` is not a date.
    """
    check_size(n_items, name="n_items", high=MAX_ITEMS)
    check_size(n_periods, name="n_periods", high=MAX_PERIODS, hint="(20 years)")
    check_size(n_categories, name="n_categories", high=len(_CATEGORIES))
    check_size(n_brands, name="n_brands", high=len(_BRANDS))
    if n_items * n_periods > MAX_ROWS:
        raise InputError(
            f"n_items * n_periods = {n_items * n_periods:,} rows is more than {MAX_ROWS:,}; "
            "simulate fewer items or weeks."
        )
    if launch_window is None:
        launch_window = n_periods
    check_size(
        launch_window,
        name="launch_window",
        high=n_periods,
        hint=f"Launches must fall inside the n_periods={n_periods} weeks.",
    )
    check_number(item_noise, name="item_noise", low=0.0, high=5.0, hint="(log scale)")
    # Below 0.01 the negative binomial's success probability rounds to 0 and numpy refuses it.
    check_number(dispersion, name="dispersion", low=0.01, high=1e6)
    random_state = check_random_state(random_state)
    start_ts = check_timestamp(start, name="start")
    rng = np.random.default_rng(random_state)
    freq = "W-MON"
    calendar = pd.date_range(start_ts, periods=n_periods, freq=freq)

    cats = np.array(_CATEGORIES[:n_categories])
    base = rng.uniform(15.0, 60.0, n_categories)
    ref_price = np.exp(rng.uniform(np.log(2.0), np.log(12.0), n_categories))
    p_cat = rng.uniform(0.02, 0.08, n_categories)
    q_cat = rng.uniform(0.10, 0.35, n_categories)
    floor_cat = rng.uniform(0.25, 0.55, n_categories)
    amp_cat = rng.uniform(0.05, 0.35, n_categories)
    phase_cat = rng.uniform(0.0, 52.0, n_categories)
    brands = np.array(_BRANDS[:n_brands])
    brand_eff = np.exp(rng.normal(0.0, 0.35, n_brands))

    c = rng.integers(0, n_categories, n_items)
    b = rng.integers(0, n_brands, n_items)
    price = np.round(ref_price[c] * np.exp(rng.normal(0.0, 0.3, n_items)), 2)
    pack = rng.choice(np.array([1.0, 2.0, 4.0, 6.0]), n_items)
    support = np.round(rng.uniform(0.0, 1.0, n_items), 3)
    u = rng.normal(0.0, item_noise, n_items)
    level = (
        base[c] * brand_eff[b] * (price / ref_price[c]) ** -1.4 * (pack / 2.0) ** 0.6 * np.exp(u)
    )
    p_i = p_cat[c] * (0.5 + 1.5 * support) * np.exp(rng.normal(0.0, 0.15, n_items))
    q_i = q_cat[c] * np.exp(rng.normal(0.0, 0.15, n_items))
    launch = rng.integers(0, launch_window, n_items)

    ids = np.array([f"P{i:04d}" for i in range(n_items)])
    n_obs = n_periods - launch
    item_idx = np.repeat(np.arange(n_items), n_obs)
    age = np.arange(n_obs.sum()) - np.repeat(np.cumsum(n_obs) - n_obs, n_obs)
    t = launch[item_idx] + age
    ages_grid = np.arange(n_periods)
    peak = bass_increments(ages_grid[None, :], p_i[:, None], q_i[:, None]).max(axis=1)
    bass = bass_increments(age, p_i[item_idx], q_i[item_idx]) / peak[item_idx]
    fl = floor_cat[c][item_idx]
    curve = fl + (1.0 - fl) * bass
    week = calendar[t].isocalendar().week.to_numpy().astype(float)
    season = 1.0 + amp_cat[c][item_idx] * np.sin(2 * np.pi * (week - phase_cat[c][item_idx]) / 52.0)
    mu = level[item_idx] * curve * season
    qty = rng.negative_binomial(dispersion, dispersion / (dispersion + mu))

    history = pd.DataFrame(
        {"item_id": ids[item_idx], "date": calendar[t], "quantity": qty.astype(float)}
    )
    attributes = pd.DataFrame(
        {
            "item_id": ids,
            "category": cats[c],
            "brand": brands[b],
            "price": price,
            "pack_size": pack,
            "launch_support": support,
        }
    )
    launch_dates = pd.Series(calendar[launch], index=pd.Index(ids, name="item_id"), name="launch")
    truth = pd.DataFrame({"level": level, "p": p_i, "q": q_i}, index=pd.Index(ids, name="item_id"))
    description = (
        f"{n_items} simulated products over {n_periods} weeks from {calendar[0].date()} "
        f"(make_launches, random_state={random_state}): attribute-driven levels, Bass launch "
        "curves with a repeat-purchase floor, yearly category seasonality, negative-binomial noise."
    )
    return LaunchData(history, attributes, launch_dates, truth, freq, description)
