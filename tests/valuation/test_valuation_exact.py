"""Values checked against brute-force enumeration on problems small enough to enumerate."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from sklearn.naive_bayes import GaussianNB

from workbench.valuation import (
    BetaShapley,
    KNNShapley,
    LeaveOneOut,
    MSRBanzhaf,
    TMCShapley,
    Utility,
    beta_weights,
    knn_shapley_values,
)
from workbench.valuation.utility import FitLog


def _subset_utilities(util: Utility) -> dict[frozenset, float]:
    log = FitLog()
    n = util.n
    return {
        frozenset(s): util.score(np.array(sorted(s), dtype=int), log)
        for r in range(n + 1)
        for s in itertools.combinations(range(n), r)
    }


def _exact_semivalue(u: dict[frozenset, float], n: int, weight) -> np.ndarray:
    """sum_k weight(k) * mean over |S|=k, i not in S of u(S+i)-u(S)."""
    out = np.zeros(n)
    for i in range(n):
        others = [j for j in range(n) if j != i]
        for k in range(n):
            margs = [
                u[frozenset(s) | {i}] - u[frozenset(s)] for s in itertools.combinations(others, k)
            ]
            out[i] += weight(k) * np.mean(margs)
    return out


def _knn_utility(X, y, Xt, yt, K, subset):
    """Likelihood of the right label under a KNN classifier trained on ``subset``."""
    if not subset:
        return 0.0
    idx = np.array(sorted(subset))
    total = 0.0
    for x, label in zip(Xt, yt, strict=True):
        d = ((X[idx] - x) ** 2).sum(1)
        near = idx[np.argsort(d, kind="stable")[:K]]
        total += (y[near] == label).sum() / K
    return total / len(yt)


@pytest.mark.parametrize("K", [1, 2, 3])
def test_knn_shapley_equals_enumerated_shapley(K):
    rng = np.random.default_rng(K)
    X = rng.normal(size=(6, 3))
    y = rng.integers(0, 2, 6)
    Xt = rng.normal(size=(4, 3))
    yt = rng.integers(0, 2, 4)
    n = 6
    u = {
        frozenset(s): _knn_utility(X, y, Xt, yt, K, set(s))
        for r in range(n + 1)
        for s in itertools.combinations(range(n), r)
    }
    exact = _exact_semivalue(u, n, lambda k: 1.0 / n)
    fast = knn_shapley_values(X, y, Xt, yt, K, batch_size=3, show_progress=False)
    np.testing.assert_allclose(fast, exact, atol=1e-12)
    # Efficiency: values add up to u(N) - u(empty).
    assert fast.sum() == pytest.approx(u[frozenset(range(n))])


def _loop_reference(X, y, Xt, yt, K):
    """The Jia et al. recursion written as a plain loop (the shape of pyDVL's code)."""
    n = len(y)
    total = np.zeros(n)
    for x, label in zip(Xt, yt, strict=True):
        order = np.argsort(((X - x) ** 2).sum(1), kind="stable")
        s = np.zeros(n)
        s[order[-1]] = float(y[order[-1]] == label) / n
        for i in range(n - 1, 0, -1):
            s[order[i - 1]] = s[order[i]] + (
                int(y[order[i - 1]] == label) - int(y[order[i]] == label)
            ) / max(K, i)
        total += s
    return total / len(yt)


@pytest.mark.parametrize("batch_size", [1, 7, None])
def test_knn_shapley_matches_loop_for_every_batch_size(batch_size):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 5))
    y = rng.integers(0, 3, 300)
    Xt = rng.normal(size=(40, 5))
    yt = rng.integers(0, 3, 40)
    ref = _loop_reference(X, y, Xt, yt, 5)
    got = knn_shapley_values(X, y, Xt, yt, 5, batch_size=batch_size, show_progress=False)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12)
    est = KNNShapley(n_neighbors=5, batch_size=batch_size).fit(X, y, Xt, yt)
    np.testing.assert_allclose(est.values_, ref, atol=1e-12)
    assert est.result_.stop_reason.startswith("exact")


def test_knn_shapley_memory_bound_sets_batch():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(2000, 4)), rng.integers(0, 2, 2000)
    Xt, yt = rng.normal(size=(50, 4)), rng.integers(0, 2, 50)
    tiny_mem = knn_shapley_values(X, y, Xt, yt, 3, max_memory_mb=0.2, show_progress=False)
    one_batch = knn_shapley_values(X, y, Xt, yt, 3, batch_size=50, show_progress=False)
    np.testing.assert_allclose(tiny_mem, one_batch, atol=1e-12)


def test_beta_weights():
    np.testing.assert_allclose(beta_weights(20, 1.0, 1.0), np.ones(20))
    w = beta_weights(50, 16.0, 1.0)
    assert np.mean(w) == pytest.approx(1.0)  # a probability-weighted average of marginals
    assert w[0] > w[10] > w[49]  # alpha > beta favours small subsets


def test_loo_matches_manual_refits(tiny):
    X, y, Xt, yt = tiny
    res = LeaveOneOut(GaussianNB()).fit(X, y, Xt, yt).result_
    full = GaussianNB().fit(X, y).score(Xt, yt)
    manual = [
        full - GaussianNB().fit(np.delete(X, i, 0), np.delete(y, i)).score(Xt, yt)
        for i in range(len(y))
    ]
    np.testing.assert_allclose(res.values, manual)
    assert res.n_fits == len(y) + 1 and res.n_failed_fits == 0


def test_tmc_shapley_approaches_exact_shapley(tiny):
    X, y, Xt, yt = tiny
    util = Utility(GaussianNB(), X, y, Xt, yt)
    n = len(y)
    exact = _exact_semivalue(_subset_utilities(util), n, lambda k: 1.0 / n)
    res = (
        TMCShapley(GaussianNB(), n_samples=300, truncation_rtol=0.0, random_state=0)
        .fit(X, y, Xt, yt)
        .result_
    )
    assert np.all(np.abs(res.values - exact) <= 4 * res.stderr + 1e-9)
    # Single-class subsets cannot be fitted: counted, never hidden.
    assert res.n_failed_fits > 0
    assert res.failures["subset has a single class"] == res.n_failed_fits


def test_beta_shapley_approaches_exact_beta_value(tiny):
    X, y, Xt, yt = tiny
    util = Utility(GaussianNB(), X, y, Xt, yt)
    n = len(y)
    w = beta_weights(n, 4.0, 1.0)
    exact = _exact_semivalue(_subset_utilities(util), n, lambda k: w[k] / n)
    res = (
        BetaShapley(
            GaussianNB(), alpha=4.0, beta=1.0, n_samples=400, truncation_rtol=0.0, random_state=1
        )
        .fit(X, y, Xt, yt)
        .result_
    )
    assert np.all(np.abs(res.values - exact) <= 4 * res.stderr + 1e-9)


def test_msr_banzhaf_approaches_exact_banzhaf(tiny):
    X, y, Xt, yt = tiny
    util = Utility(GaussianNB(), X, y, Xt, yt)
    n = len(y)
    exact = _exact_semivalue(
        _subset_utilities(util), n, lambda k: math.comb(n - 1, k) / 2 ** (n - 1)
    )
    res = MSRBanzhaf(GaussianNB(), n_samples=1500, random_state=0).fit(X, y, Xt, yt).result_
    assert np.all(np.abs(res.values - exact) <= 4 * res.stderr + 1e-9)
    assert res.n_samples == 1500
    assert (res.counts == 1500).all()
    assert 1400 < res.n_fits <= 1500  # empty subsets need no fit (about 1 in 64)


def test_mean_accumulator_add_constant_equals_add():
    from workbench.valuation.sampling import MeanAccumulator

    rng = np.random.default_rng(0)
    gather, whole = MeanAccumulator(50), MeanAccumulator(50)
    for _ in range(200):
        mask, u = rng.random(50) < 0.3, float(rng.random())
        gather.add((np.full(int(mask.sum()), u), mask))
        whole.add_constant(u, mask)
    assert gather.n == whole.n == 200
    for name in ("count", "mean", "m2"):
        np.testing.assert_array_equal(getattr(gather, name), getattr(whole, name))
    assert (whole.count > 0).all() and np.isfinite(whole.stderr()).all()
