"""Budgets, determinism across backends, failed-fit reporting, results and evaluation helpers."""

from __future__ import annotations

import json
import time

import joblib
import matplotlib
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB

from workbench.core.errors import ModelError
from workbench.valuation import (
    DataOOB,
    MSRBanzhaf,
    RankEnsemble,
    TMCShapley,
    ValuationResult,
    detection_scores,
    list_methods,
    point_addition_curve,
    point_removal_curve,
    value,
)

matplotlib.use("Agg")


class AlwaysFails(LogisticRegression):
    """A model whose fit always raises, to check that failures are reported."""

    def fit(self, X, y, sample_weight=None):
        raise RuntimeError("boom")


#: Simulated seconds one fit takes in the time-budget tests (see the simulated_clock fixture).
FIT_S = 0.01


class CountingModel(GaussianNB):
    """GaussianNB that records when each fit starts; on a simulated clock each fit takes FIT_S."""

    calls: list[float] = []  # noqa: RUF012
    clock = None

    def fit(self, X, y, sample_weight=None):
        CountingModel.calls.append(time.time())
        if CountingModel.clock is not None:
            CountingModel.clock.advance(FIT_S)
        return super().fit(X, y, sample_weight=sample_weight)


class TimedLR(LogisticRegression):
    """LogisticRegression whose fits take FIT_S each on the simulated clock (a subclass: never
    the batched fast path)."""

    clock = None

    def fit(self, X, y, sample_weight=None):
        TimedLR.clock.advance(FIT_S)
        return super().fit(X, y, sample_weight=sample_weight)


def test_every_method_runs_and_finds_flipped_labels(noisy_cancer):
    X, y, Xt, yt, flipped = noisy_cancer
    budgets = {"tmc_shapley": 3, "beta_shapley": 3, "banzhaf": 200, "data_oob": 60}
    aurocs = {}
    for method in list_methods():
        res = value(
            X,
            y,
            method=method,
            X_test=Xt,
            y_test=yt,
            model=None if method == "knn_shapley" else GaussianNB(),
            n_samples=budgets.get(method),
            random_state=0,
        )
        assert isinstance(res, ValuationResult)
        assert res.values.shape == (150,) and np.isfinite(res.values).all()
        aurocs[method] = res.detect(flipped)["auroc"]
    # The cheap detectors are strong on this easy problem; the others beat chance.
    assert aurocs["knn_shapley"] > 0.9
    assert aurocs["confidence"] > 0.9
    assert aurocs["data_oob"] > 0.9
    assert aurocs["ensemble"] > 0.9
    assert aurocs["banzhaf"] > 0.5


def test_fixed_seed_is_reproducible_and_seed_matters(noisy_cancer):
    X, y, Xt, yt, _ = noisy_cancer
    a = MSRBanzhaf(GaussianNB(), n_samples=40, random_state=7).fit(X, y, Xt, yt).values_
    b = MSRBanzhaf(GaussianNB(), n_samples=40, random_state=7).fit(X, y, Xt, yt).values_
    c = MSRBanzhaf(GaussianNB(), n_samples=40, random_state=8).fit(X, y, Xt, yt).values_
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_same_values_with_two_loky_workers(noisy_cancer):
    X, y, Xt, yt, _ = noisy_cancer
    seq = TMCShapley(GaussianNB(), n_samples=4, random_state=3).fit(X, y, Xt, yt).result_
    par = TMCShapley(GaussianNB(), n_samples=4, random_state=3, n_jobs=2).fit(X, y, Xt, yt).result_
    np.testing.assert_array_equal(seq.values, par.values)
    assert seq.n_fits == par.n_fits


def test_dask_local_cluster_gives_identical_values(noisy_cancer):
    distributed = pytest.importorskip("dask.distributed")
    X, y, Xt, yt, _ = noisy_cancer
    methods = [
        lambda: TMCShapley(GaussianNB(), n_samples=3, random_state=11),
        lambda: MSRBanzhaf(GaussianNB(), n_samples=60, random_state=11),
        lambda: DataOOB(GaussianNB(), n_samples=30, random_state=11),
        # the batched LogisticRegression path (utility_backend "numpy-batched-logistic")
        lambda: TMCShapley(LogisticRegression(), n_samples=3, random_state=11),
        lambda: MSRBanzhaf(LogisticRegression(), n_samples=60, random_state=11),
        lambda: DataOOB(LogisticRegression(), n_samples=40, random_state=11),
    ]
    sequential = [m().fit(X, y, Xt, yt).result_ for m in methods]
    assert [r.utility_backend for r in sequential] == ["sklearn"] * 3 + [
        "numpy-batched-logistic"
    ] * 3
    with (
        distributed.LocalCluster(
            n_workers=1,
            threads_per_worker=2,
            processes=False,
            host="127.0.0.1",
            protocol="tcp",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
        joblib.parallel_config(backend="dask"),
    ):
        on_dask = [m().fit(X, y, Xt, yt).result_ for m in methods]
        assert client.scheduler_info()["address"].startswith("tcp://127.0.0.1")
    for s, d in zip(sequential, on_dask, strict=True):
        np.testing.assert_array_equal(s.values, d.values)
        np.testing.assert_array_equal(s.stderr, d.stderr)
        assert s.n_fits == d.n_fits


@pytest.mark.parametrize("cls", [MSRBanzhaf, TMCShapley])
def test_time_budget_is_honoured_and_counts_from_fit(
    noisy_cancer, cls, simulated_clock, monkeypatch
):
    # On a simulated clock where each fit takes FIT_S, so that the test does not depend on how
    # busy the machine is.
    X, y, Xt, yt, _ = noisy_cancer
    budget = 2.0
    monkeypatch.setattr(CountingModel, "clock", simulated_clock)
    monkeypatch.setattr(CountingModel, "calls", [])
    est = cls(CountingModel(), max_time=budget, random_state=0)
    simulated_clock.advance(1000.0)  # the budget must count from fit(), not from construction
    t0 = time.time()
    res = est.fit(X, y, Xt, yt).result_
    elapsed = time.time() - t0
    assert res.n_samples > 0
    assert "time budget" in res.stop_reason
    assert elapsed == pytest.approx(FIT_S * len(CountingModel.calls))  # only fits take time
    # The deadline is checked before every fit: none starts after it, and the run ends at most
    # one fit after it.
    assert max(CountingModel.calls) - t0 < budget
    assert elapsed <= budget + FIT_S + 1e-9
    if cls is MSRBanzhaf:  # a subset is one fit: the budget is used, not wasted
        # (the sampler stops early only when less than half a sample's cost is left)
        assert elapsed >= budget - FIT_S


def test_partial_permutations_only_on_request(noisy_cancer, simulated_clock, monkeypatch):
    X, y, Xt, yt, _ = noisy_cancer
    monkeypatch.setattr(TimedLR, "clock", simulated_clock)
    # A 150-fit permutation takes 150 FIT_S = 1.5 s on the simulated clock: none can finish
    # within 0.1 s.
    kw = {"max_time": 0.1, "truncation_rtol": 0.0, "scorer": "neg_log_loss"}
    with pytest.raises(ModelError, match="keep_partial=True"):
        TMCShapley(TimedLR(), **kw).fit(X, y, Xt, yt)
    res = TMCShapley(TimedLR(), keep_partial=True, **kw).fit(X, y, Xt, yt).result_
    assert res.n_samples >= 1
    assert 0 < (res.counts > 0).sum() < 150  # only the evaluated prefixes were updated


def test_convergence_criterion_stops_early(noisy_cancer):
    X, y, Xt, yt, _ = noisy_cancer
    res = (
        MSRBanzhaf(GaussianNB(), n_samples=5000, tol=0.05, random_state=0).fit(X, y, Xt, yt).result_
    )
    assert res.stop_reason.startswith("converged")
    assert res.n_samples < 5000
    assert res.stderr.max() <= 0.05


def test_failed_fits_are_counted_and_total_failure_raises(tiny):
    X, y, Xt, yt = tiny
    res = MSRBanzhaf(GaussianNB(), n_samples=100, random_state=0).fit(X, y, Xt, yt).result_
    assert res.n_failed_fits == res.failures["subset has a single class"] > 0
    assert res.summary()["n_failed_fits"] == res.n_failed_fits
    with pytest.raises(ModelError, match="boom"):
        MSRBanzhaf(AlwaysFails(), n_samples=10, random_state=0).fit(X, y, Xt, yt)
    with pytest.raises(ModelError, match="failed"):
        value(X, y, method="loo", model=AlwaysFails(), X_test=Xt, y_test=yt)


def test_warnings_of_fits_are_counted_not_printed(noisy_cancer, recwarn):
    X, y, _, _, _ = noisy_cancer
    res = value(
        X, y, method="data_oob", model=LogisticRegression(max_iter=1), n_samples=5, random_state=0
    )
    assert res.n_warned_fits == 5
    assert not [w for w in recwarn if "converge" in str(w.message).lower()]


def test_result_table_json_plot_and_ranking(noisy_cancer):
    X, y, Xt, yt, flipped = noisy_cancer
    res = value(X, y, method="knn_shapley", X_test=Xt, y_test=yt)
    frame = res.to_frame()
    assert list(frame.columns) == ["index", "value", "stderr", "count", "rank"]
    assert frame.loc[res.ranking[0], "rank"] == 1
    assert res.values[res.ranking[0]] == res.values.max()
    assert res.values[res.lowest(5)].max() <= np.sort(res.values)[4]
    data = json.loads(res.to_json())
    assert data["method"] == "knn_shapley" and len(data["values"]) == 150
    assert "0x" not in repr(res) and "knn_shapley" in res._repr_html_()
    ax = res.plot(noisy=flipped)
    assert ax.get_xlabel() == "value"
    ens = RankEnsemble(GaussianNB(), random_state=0, n_samples=20).fit(X, y, Xt, yt)
    assert set(ens.member_results_) == {"knn_shapley", "data_oob", "confidence"}
    assert json.loads(ens.result_.to_json())["stderr"][0] is None  # NaN: not estimated


def test_detection_scores_on_known_cases():
    noisy = np.array([True, True, False, False, False, False])
    perfect = detection_scores(np.array([-1.0, -0.9, 1, 1.1, 0.9, 1.2]), noisy)
    assert perfect == {"auroc": 1.0, "precision_at_k": 1.0, "k": 2, "f1_2means": 1.0}
    worst = detection_scores(np.array([2.0, 3.0, 0, 0.1, 0.2, 0.3]), noisy, k=1)
    assert worst["auroc"] == 0.0 and worst["precision_at_k"] == 0.0


def test_removal_and_addition_curves(noisy_cancer):
    X, y, Xt, yt, flipped = noisy_cancer
    values = np.where(flipped, -1.0, 1.0)  # an oracle valuation
    low = point_removal_curve(values, X, y, Xt, yt, fractions=[0.0, 0.1], model=GaussianNB())
    high = point_removal_curve(
        values, X, y, Xt, yt, fractions=[0.0, 0.1], model=GaussianNB(), order="highest"
    )
    assert low.scores[0] == high.scores[0]
    assert low.scores[1] >= high.scores[1]
    add = point_addition_curve(values, X, y, Xt, yt, fractions=[0.2, 0.5], model=GaussianNB())
    assert add.scores.shape == (2,) and add.kind == "addition"
    rnd = point_removal_curve(
        values, X, y, Xt, yt, fractions=[0.5], order="random", random_state=0, model=GaussianNB()
    )
    assert 0.5 < rnd.scores[0] <= 1.0
    assert low.plot().get_ylabel() == "test score"
    assert list(low.to_frame().columns) == ["fraction", "score"]
