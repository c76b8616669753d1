"""The launch generator and the accuracy metrics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.coldstart import coverage, make_launches, mase, pinball_loss, wape
from workbench.coldstart.data import bass_increments
from workbench.core.errors import InputError, InputTypeError


def test_generator_shapes_and_documented_structure():
    d = make_launches(n_items=50, n_periods=60, random_state=1)
    assert len(d.attributes) == 50
    assert set(d.attributes.columns) == {
        "item_id",
        "category",
        "brand",
        "price",
        "pack_size",
        "launch_support",
    }
    assert list(d.history.columns) == ["item_id", "date", "quantity"]
    # every item runs without gaps from its launch to the end of the calendar
    per_item = d.history.groupby("item_id")["date"].agg(["min", "max", "count"])
    assert (per_item["min"] == d.launch_dates.loc[per_item.index]).all()
    assert (per_item["max"] == d.history["date"].max()).all()
    weeks = (per_item["max"] - per_item["min"]).dt.days // 7 + 1
    assert (weeks == per_item["count"]).all()
    assert (d.history["quantity"] >= 0).all()
    assert d.truth.shape == (50, 3)
    assert "Bass" in d.description and repr(d).startswith("LaunchData(n_items=50")


def test_generator_is_reproducible_and_seeded():
    a = make_launches(n_items=30, n_periods=40, random_state=7)
    b = make_launches(n_items=30, n_periods=40, random_state=7)
    c = make_launches(n_items=30, n_periods=40, random_state=8)
    pd.testing.assert_frame_equal(a.history, b.history)
    assert not a.history["quantity"].equals(c.history["quantity"])


def test_generator_levels_follow_attributes():
    d = make_launches(n_items=600, n_periods=80, random_state=0, item_noise=0.1)
    mean_qty = d.history.groupby("item_id")["quantity"].mean()
    a = d.attributes.set_index("item_id")
    # bigger packs sell more units at the same relative price (elasticity 0.6 on pack size)
    big = mean_qty[a["pack_size"] == 6].median()
    small = mean_qty[a["pack_size"] == 1].median()
    assert big > 1.5 * small


def test_full_panel_option():
    d = make_launches(n_items=20, n_periods=30, launch_window=1, random_state=0)
    assert len(d.history) == 20 * 30


def test_split_by_launch():
    d = make_launches(n_items=40, n_periods=50, random_state=0)
    known, new = d.split_by_launch("2024-06-03")
    assert len(known) + len(new) == 40
    assert (d.launch_dates.loc[new["item_id"]] >= "2024-06-03").all()
    for bad, exc in (("someday", InputError), (None, InputTypeError), (123, InputTypeError)):
        with pytest.raises(exc, match="date"):
            d.split_by_launch(bad)


def test_bass_increments_sum_to_at_most_one():
    inc = bass_increments(np.arange(2000), 0.03, 0.4)
    assert inc.min() >= 0
    assert inc.sum() == pytest.approx(1.0, abs=1e-6)
    assert np.argmax(inc) > 0  # imitation makes the hump peak after launch


@pytest.mark.parametrize(
    ("kwargs", "exc", "text"),
    [
        ({"n_items": 0}, InputError, "n_items"),
        ({"n_items": 2.5}, InputTypeError, "n_items"),
        ({"n_periods": -1}, InputError, "n_periods"),
        ({"n_categories": 9}, InputError, "n_categories"),
        ({"n_brands": 20}, InputError, "n_brands"),
        ({"dispersion": 0}, InputError, "dispersion"),
        ({"item_noise": -0.1}, InputError, "item_noise"),
        ({"launch_window": 500}, InputError, "launch_window"),
        ({"start": "not a date"}, InputError, "start"),
        ({"random_state": "x"}, InputTypeError, "random_state"),
    ],
)
def test_generator_bad_input(kwargs, exc, text):
    with pytest.raises(exc, match=text):
        make_launches(**{"n_items": 10, "n_periods": 20, **kwargs})


def test_metric_values():
    y = np.array([10.0, 0.0, 5.0])
    f = np.array([8.0, 1.0, 5.0])
    assert wape(y, f) == pytest.approx(3 / 15)
    assert mase(y, f, 2.0) == pytest.approx(np.mean([1.0, 0.5, 0.0]))
    assert pinball_loss(y, f, 0.9) == pytest.approx(np.mean([0.9 * 2, 0.1 * 1, 0.0]))
    assert pinball_loss(y, f, 0.5, scale=0.5) == pytest.approx(np.mean([1, 0.5, 0]) * 2)
    assert coverage(y, f - 1, f + 1) == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    ("call", "exc", "text"),
    [
        (lambda: wape([0, 0], [1, 1]), InputError, "every actual value is zero"),
        (lambda: wape([1, 2], [1]), InputError, "different numbers of rows"),
        (lambda: wape([1, np.nan], [1, 1]), InputError, "NaN"),
        (lambda: wape(["a"], [1]), InputTypeError, "numeric"),
        (lambda: mase([1], [1], 0.0), InputError, "scale"),
        (lambda: pinball_loss([1], [1], 1.5), InputError, "quantile"),
        (lambda: pinball_loss([1], [1], 0.5, scale=-1), InputError, "scale"),
        (lambda: coverage([1], [2], [1]), InputError, "lower must not exceed"),
    ],
)
def test_metric_bad_input(call, exc, text):
    with pytest.raises(exc, match=text):
        call()
