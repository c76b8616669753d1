"""Shared fixtures of the cold-start tests: one simulated dataset split by launch date."""

from __future__ import annotations

import pandas as pd
import pytest

from workbench.coldstart import ColdStartForecaster, make_launches

ORIGIN = "2025-03-03"


@pytest.fixture(scope="session")
def launches():
    return make_launches(n_items=400, n_periods=120, random_state=3)


@pytest.fixture(scope="session")
def split(launches):
    """Known items' sales before ORIGIN, and the items launched in the 13 weeks from it."""
    hist = launches.history
    lau = launches.launch_dates
    known_ids = lau.index[lau < ORIGIN]
    new_ids = lau.index[(lau >= ORIGIN) & (lau < pd.Timestamp(ORIGIN) + pd.Timedelta(weeks=13))]
    train = hist[hist["item_id"].isin(known_ids) & (hist["date"] < ORIGIN)].reset_index(drop=True)
    attrs = launches.attributes.set_index("item_id")
    known = attrs.loc[known_ids].reset_index()
    new = attrs.loc[new_ids].reset_index()
    new_launch = lau.loc[new_ids]
    return train, known, new, new_launch


@pytest.fixture(scope="session")
def fitted(split):
    train, known, _, _ = split
    return ColdStartForecaster(method="ensemble", random_state=0).fit(train, known)
