"""Per-column statistics: PSI, KS and chi-square, with hand-computed values and bad input."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from workbench_drift.statistics import (
    bin_counts,
    categorical_proportions,
    chi_square_test,
    ks_test,
    numeric_bin_edges,
    population_stability_index,
    psi_from_proportions,
    sorted_bin_counts,
)

from workbench.core.errors import InputError, InputTypeError


def test_psi_from_proportions_matches_hand_computation():
    expected = (0.25 - 0.5) * math.log(0.25 / 0.5) + (0.75 - 0.5) * math.log(0.75 / 0.5)
    assert psi_from_proportions([50, 50], [25, 75]) == pytest.approx(expected)
    assert psi_from_proportions([1, 2, 3], [1, 2, 3]) == 0.0


def test_psi_floors_empty_bins_so_it_stays_finite():
    psi = psi_from_proportions([100, 0], [50, 50], eps=1e-4)
    expected = (0.5 - 1.0) * math.log(0.5 / 1.0) + (0.5 - 1e-4) * math.log(0.5 / 1e-4)
    assert psi == pytest.approx(expected)


def test_numeric_bins_are_reference_deciles_and_open_ended():
    ref = np.arange(1000, dtype=float)
    edges = numeric_bin_edges(ref, bins=10)
    assert len(edges) == 9
    counts = bin_counts(ref, edges)
    assert counts.tolist() == [100] * 10
    # values outside the reference range land in the outer bins
    assert bin_counts([-5.0, 5000.0], edges).tolist() == [1, 0, 0, 0, 0, 0, 0, 0, 0, 1]


def test_repeated_values_merge_bins():
    ref = np.r_[np.zeros(700), np.ones(300)]
    edges = numeric_bin_edges(ref, bins=10)
    assert edges.tolist() == [0.0, 1.0]
    assert bin_counts(ref, edges).tolist() == [700, 300, 0]


def test_psi_small_for_same_distribution_large_for_shift():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=5000), rng.normal(size=5000)
    assert population_stability_index(a, b) < 0.02
    assert population_stability_index(a, rng.normal(1.0, 1.0, 5000)) > 0.5


def test_psi_ignores_missing_values():
    ref = np.r_[np.arange(100.0), [np.nan] * 10]
    assert population_stability_index(ref, np.arange(100.0)) == pytest.approx(0.0)


def test_categorical_psi_counts_new_categories():
    cats, r, c = categorical_proportions(["a", "a", "b"], ["a", "c", "c", None])
    assert cats == ["a", "b", "c"]
    assert r.tolist() == [2, 1, 0]
    assert c.tolist() == [1, 0, 2]
    psi = population_stability_index(["a", "a", "b"], ["a", "c", "c"], categorical=True)
    assert psi == pytest.approx(psi_from_proportions([2, 1, 0], [1, 0, 2]))
    assert psi > 1.0


def test_ks_test_extremes():
    stat, p = ks_test([1, 2, 3, 4, 5], [6, 7, 8, 9, 10])
    assert stat == 1.0
    assert p < 0.01
    stat, p = ks_test(np.arange(50.0), np.arange(50.0))
    assert stat == 0.0
    assert p == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("n1", "n2", "shift"),
    [
        (300, 200, 0.03),
        (30_000, 12_000, 0.03),
        (8_000, 50_000, 0.03),
        (20_000, 11_000, 0.0),
        (15_000, 15_000, 3.0),
    ],
)
def test_ks_matches_scipy_on_small_and_large_samples_with_ties(n1, n2, shift):
    rng = np.random.default_rng(n1)
    ref = rng.normal(0.0, 1.0, n1).round(2)  # rounding makes ties
    cur = rng.normal(shift, 1.0, n2).round(2)
    expected = stats.ks_2samp(ref, cur)
    stat, p = ks_test(ref, cur)
    assert stat == pytest.approx(expected.statistic, abs=1e-12)
    assert p == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)


def test_sorted_bin_counts_agree_with_bin_counts():
    rng = np.random.default_rng(5)
    ref = rng.normal(size=1000).round(1)
    edges = numeric_bin_edges(ref)
    cur = rng.normal(0.5, 2, 700).round(1)
    assert sorted_bin_counts(np.sort(cur), edges).tolist() == bin_counts(cur, edges).tolist()


def test_chi_square_matches_hand_computation():
    ref = ["a"] * 50 + ["b"] * 50
    cur = ["a"] * 30 + ["b"] * 70
    stat, p = chi_square_test(ref, cur)
    # expected counts 40/60 in each row
    assert stat == pytest.approx(2 * (10**2 / 40 + 10**2 / 60))
    assert 0.003 < p < 0.005


def test_chi_square_single_category_is_no_evidence():
    assert chi_square_test(["a"] * 10, ["a"] * 5) == (0.0, 1.0)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: ks_test(None, [1.0]), InputTypeError, "reference is None"),
        (lambda: ks_test(["x", "y"], [1.0]), InputTypeError, "must be numeric"),
        (lambda: ks_test(np.ones((3, 2)), [1.0]), InputError, "1-dimensional"),
        (lambda: ks_test([np.nan, np.nan], [1.0]), InputError, "no non-missing"),
        (lambda: ks_test([1.0, np.inf], [1.0]), InputError, "infinite"),
        (lambda: ks_test(pd.DataFrame({"a": [1.0]}), [1.0]), InputError, "is a DataFrame"),
        (lambda: chi_square_test(None, ["a"]), InputTypeError, "reference is None"),
        (lambda: chi_square_test(["a"], [None, None]), InputError, "no non-missing"),
        (lambda: chi_square_test([["a", "b"]], ["a"]), InputError, "1-dimensional"),
        (lambda: numeric_bin_edges([1.0, 2.0], bins=1), InputError, r"bins must lie in \[2, "),
        (lambda: numeric_bin_edges([1.0, 2.0], bins=2.5), InputTypeError, "integer"),
        (lambda: psi_from_proportions([1, 1], [1, 1], eps=0), InputError, "eps"),
        (lambda: psi_from_proportions([1, 1], [1, 1, 1]), InputError, "same 1-D shape"),
        (lambda: psi_from_proportions([1, -1], [1, 1]), InputError, "non-negative"),
        (lambda: psi_from_proportions([0, 0], [1, 1]), InputError, "not all zero"),
        (
            lambda: population_stability_index([1.0, 2.0], ["a", "b"]),
            InputTypeError,
            "must be numeric",
        ),
    ],
)
def test_bad_input(call, error, message):
    with pytest.raises(error, match=message):
        call()
