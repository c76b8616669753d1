"""Bad input found by fuzzing every public name: each case is refused with a WorkbenchError.

One test per kind of wrong input a public function checks: seeds, numbers out of range or
overflowing, sizes that would hang, continuous or mismatched labels, wrong estimator kinds,
models a method cannot use, wrong plot arguments.
"""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.cluster import KMeans
from sklearn.linear_model import LinearRegression
from sklearn.naive_bayes import GaussianNB

from workbench.core.errors import InputError, InputTypeError, ModelError, UnknownNameError
from workbench.valuation import (
    CurveResult,
    DataOOB,
    KNNShapley,
    LabelConfidence,
    TMCShapley,
    Utility,
    ValuationResult,
    beta_weights,
    detection_scores,
    knn_shapley_values,
    make_method,
    noisy_split,
    point_removal_curve,
    score_without,
    value,
)
from workbench.valuation.utility import FitLog

matplotlib.use("Agg")


@pytest.fixture
def data(tiny):
    return tiny


class _NoTags:
    """Has fit and predict but is no scikit-learn estimator."""

    def fit(self, X, y):
        return self

    def predict(self, X):
        return np.zeros(len(X))


class _MixinLast(BaseEstimator, ClassifierMixin):
    """ClassifierMixin after BaseEstimator: scikit-learn does not see a classifier."""

    def fit(self, X, y):
        return self

    def predict(self, X):
        return np.zeros(len(X))


# -- targets and estimator kinds --------------------------------------------------------------
def test_continuous_target_is_not_taken_for_labels(data):
    X, y, Xt, yt = data
    y_cont = np.linspace(0.1, 0.9, y.size)
    with pytest.raises(InputError, match="looks continuous"):
        value(X, y_cont, X_test=Xt, y_test=yt)
    with pytest.raises(InputError, match="looks continuous"):
        value(X, y, X_test=Xt, y_test=np.linspace(0.1, 0.9, yt.size))


def test_clusterer_is_refused(data):
    X, y, Xt, yt = data
    with pytest.raises(ModelError, match="neither a classifier nor a regressor"):
        value(X, y, method="loo", model=KMeans(n_clusters=2, n_init=1), X_test=Xt, y_test=yt)


def test_regressor_needs_a_regression_scorer(data):
    X, _, Xt, _ = data
    target = X[:, 0] * 2.0
    with pytest.raises(ModelError, match="regressor; pass a regression scorer such as"):
        value(X, target, method="loo", model=LinearRegression(), X_test=Xt, y_test=Xt[:, 0])
    res = value(
        X, target, method="loo", model=LinearRegression(), scorer="r2", X_test=Xt, y_test=Xt[:, 0]
    )
    assert np.isfinite(res.values).all()


def test_model_is_refused_where_no_model_is_trained(data):
    X, y, Xt, yt = data
    with pytest.raises(InputError, match=r"trains no model.*'tmc_shapley'"):
        value(X, y, model=GaussianNB(), X_test=Xt, y_test=yt)
    with pytest.raises(InputError, match="trains no model"):
        make_method("knn_shapley", model=GaussianNB())


def test_estimators_without_tags_or_with_mixin_last(data):
    X, y, Xt, yt = data
    with pytest.raises(InputTypeError, match="no estimator tags"):
        value(X, y, method="loo", model=_NoTags(), X_test=Xt, y_test=yt)
    with pytest.raises(ModelError, match="list the mixin first"):
        value(X, y, method="loo", model=_MixinLast(), X_test=Xt, y_test=yt)


def test_test_labels_must_share_a_class_with_y(data):
    X, y, Xt, yt = data
    with pytest.raises(InputError, match="shares no label"):
        value(X, y, X_test=Xt, y_test=np.where(yt == 0, "a", "b"))


def test_features_that_overflow_float32(data):
    X, y, Xt, yt = data
    with pytest.raises(InputError, match="overflow float32"):
        value(X * 1e300, y, X_test=Xt, y_test=yt)
    with pytest.raises(InputError, match="overflow float32"):
        value(X, y, X_test=Xt * 1e300, y_test=yt)


# -- numbers, seeds and sizes -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"random_state": "x"}, InputTypeError, "random_state must be None or an integer"),
        ({"random_state": -1}, InputError, r"random_state must lie in \[0, 2\*\*32 - 1\]"),
        ({"n_samples": 10**9}, InputError, "Use at most 1,000,000 samples"),
        ({"max_time": 1e308}, InputError, "at most one day"),
        ({"show_progress": "yes"}, InputTypeError, "show_progress must be True, False or None"),
    ],
)
def test_common_parameters_are_checked_even_when_unused(data, kwargs, exc, match):
    X, y, Xt, yt = data
    with pytest.raises(exc, match=match):
        value(X, y, X_test=Xt, y_test=yt, **kwargs)  # knn_shapley uses none of them


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"burn_in_fraction": 1e308}, InputError, r"burn_in_fraction must lie in \[0, 1\]"),
        ({"default_score": "x"}, InputTypeError, "default_score must be a number"),
        ({"default_score": float("nan")}, InputError, "default_score must be a finite number"),
        ({"truncation_rtol": float("inf")}, InputError, "truncation_rtol must be a finite"),
        ({"keep_partial": "no"}, InputTypeError, "keep_partial must be True or False"),
    ],
)
def test_tmc_parameters(data, kwargs, exc, match):
    X, y, Xt, yt = data
    with pytest.raises(exc, match=match):
        TMCShapley(GaussianNB(), n_samples=2, **kwargs).fit(X, y, Xt, yt)


def test_data_oob_bag_size_and_confidence_folds(data):
    X, y, _, _ = data
    with pytest.raises(InputError, match=r"max_samples must lie in \(0, 10\]"):
        DataOOB(GaussianNB(), n_samples=2, max_samples=1e308).fit(X, y)
    with pytest.raises(InputError, match=r"cv must lie in \[2, 1000\]"):
        LabelConfidence(GaussianNB(), cv=10**9).fit(X, y)


def test_knn_parameters_have_bounds(data):
    X, y, Xt, yt = data
    with pytest.raises(InputError, match=r"max_memory_mb must lie in \(0, 65536\]"):
        KNNShapley(max_memory_mb=1e308).fit(X, y, Xt, yt)
    with pytest.raises(InputError, match=r"n_neighbors must lie in \[1, 100000\]"):
        KNNShapley(n_neighbors=10**30).fit(X, y, Xt, yt)


@pytest.mark.parametrize(
    ("n", "alpha", "beta", "exc", "match"),
    [
        (10, 0.0, 1.0, InputError, r"alpha must lie in \[0.01, 10000\]"),
        (10, -1.0, 1.0, InputError, "alpha must lie in"),
        (10, 1.0, 0.0, InputError, r"beta must lie in \[0.01, 10000\]"),
        (10, float("nan"), 1.0, InputError, "alpha must be a finite number"),
        (10, "x", 1.0, InputTypeError, "alpha must be a number"),
        (0, 1.0, 1.0, InputError, "n must lie in"),
        (10**9, 1.0, 1.0, InputError, "n must lie in"),
        (None, 1.0, 1.0, InputTypeError, "n must be an integer"),
    ],
)
def test_beta_weights_arguments(n, alpha, beta, exc, match):
    with pytest.raises(exc, match=match):
        beta_weights(n, alpha, beta)


@pytest.mark.parametrize("alpha", [0.01, 1.0, 16.0, 10_000.0])
@pytest.mark.parametrize("n", [1, 2, 500, 100_000])
def test_beta_weights_are_finite_over_the_whole_range(n, alpha):
    for beta in (0.01, 1.0, 10_000.0):
        w = beta_weights(n, alpha, beta)
        assert np.isfinite(w).all() and (w >= 0).all()


# -- knn_shapley_values -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "exc", "match"),
    [
        ({"X": None}, InputTypeError, "X is None"),
        ({"y": None}, InputTypeError, "y is None"),
        ({"X_test": "x"}, InputTypeError, "X_test must be numeric"),
        ({"y_test": [0, 1]}, InputError, "different numbers of rows"),
        ({"n_neighbors": 0}, InputError, "n_neighbors must lie in"),
        ({"max_memory_mb": float("nan")}, InputError, "max_memory_mb must be a finite"),
        ({"batch_size": 2.5}, InputTypeError, "batch_size must be an integer"),
    ],
)
def test_knn_shapley_values_checks_its_arguments(data, change, exc, match):
    X, y, Xt, yt = data
    kw = {"X": X, "y": y, "X_test": Xt, "y_test": yt, **change}
    with pytest.raises(exc, match=match):
        knn_shapley_values(**kw)


def test_knn_shapley_values_accepts_lists(data):
    X, y, Xt, yt = data
    v = knn_shapley_values(X.tolist(), y.tolist(), Xt.tolist(), yt.tolist(), 3)
    assert v.shape == (6,) and np.isfinite(v).all()


# -- demo data, evaluation and results --------------------------------------------------------
def test_noisy_split_seed_name_and_test_size():
    with pytest.raises(InputError, match="random_state must lie in"):
        noisy_split("wine", random_state=-1)
    with pytest.raises(InputTypeError, match="random_state must be None or an integer"):
        noisy_split("wine", random_state="x")
    with pytest.raises(InputTypeError, match="name must be a string"):
        noisy_split(None)
    with pytest.raises(InputError, match="both sets need at least 3"):
        noisy_split("wine", test_size=0.001)


def test_scorer_giving_nan_is_reported(data):
    X, y, Xt, yt = data
    with pytest.raises(ModelError, match="NaN or infinite value"):
        value(X, y, method="loo", model=GaussianNB(), scorer=lambda e, a, b: float("nan"),
              X_test=Xt, y_test=yt)  # fmt: skip


def test_evaluation_arguments(data):
    X, y, Xt, yt = data
    v = np.arange(6.0)
    with pytest.raises(InputError, match="noisy must be a boolean mask"):
        detection_scores(v, np.array(list("abcdef")))
    with pytest.raises(InputError, match="each is a model fit"):
        point_removal_curve(v, X, y, Xt, yt, model=GaussianNB(), fractions=[0.1] * 2000)
    with pytest.raises(UnknownNameError, match="order"):
        point_removal_curve(v, X, y, Xt, yt, model=GaussianNB(), order=np.array([1.0, 2.0]))
    with pytest.raises(InputError, match="random_state must lie in"):
        point_removal_curve(v, X, y, Xt, yt, model=GaussianNB(), order="random", random_state=-1)


def test_score_without_drop(data):
    X, y, Xt, yt = data
    with pytest.raises(InputTypeError, match="drop must hold row indices"):
        score_without(["a", "b"], X, y, Xt, yt, model=GaussianNB())
    with pytest.raises(InputError, match="drop lists every training point"):
        score_without(np.arange(6), X, y, Xt, yt, model=GaussianNB())
    with pytest.raises(InputError, match="looks continuous"):
        score_without([0], X, y + 0.5, Xt, yt, model=GaussianNB())
    mask = np.zeros(6, dtype=bool)
    mask[[0, 3]] = True
    assert score_without(mask, X, y, Xt, yt, model=GaussianNB())["n_dropped"] == 2


def test_utility_checks_its_inputs_and_calls(data):
    X, y, Xt, yt = data
    with pytest.raises(InputTypeError, match="estimator instance"):
        Utility(None, X, y, Xt, yt)
    with pytest.raises(UnknownNameError, match="scorer"):
        Utility(GaussianNB(), X, y, Xt, yt, scorer="acuracy")
    util = Utility(GaussianNB(), X, y, Xt, yt)
    with pytest.raises(InputError, match=r"outside 0\.\.5"):
        util.score(np.array([0, 9]), FitLog())
    with pytest.raises(InputTypeError, match="log must be a FitLog"):
        util.score(np.array([0, 5]), None)


def test_result_methods_and_construction():
    res = ValuationResult("m", np.arange(3.0), np.zeros(3), np.ones(3))
    with pytest.raises(InputTypeError, match="ax must be a matplotlib Axes"):
        res.plot(ax="x")
    with pytest.raises(InputError, match=r"bins must lie in \[1, 10000\]"):
        res.plot(bins=10**9)
    with pytest.raises(InputError, match="noisy must be a boolean mask"):
        res.plot(noisy=["a", "b", "c"])
    with pytest.raises(ModelError, match="NaN or infinite"):
        ValuationResult("m", np.array([0.0, np.nan]), np.zeros(2), np.ones(2))
    with pytest.raises(InputError, match="one entry per point"):
        ValuationResult("m", np.arange(3.0), np.zeros(2), np.ones(3))
    assert np.isnan(ValuationResult("m", np.zeros(2), np.full(2, np.inf), np.ones(2)).stderr).all()
    curve = CurveResult("removal", "lowest", np.array([0.0, 0.5]), np.array([0.9, 0.8]))
    with pytest.raises(InputTypeError, match="ax must be a matplotlib Axes"):
        curve.plot(ax=1)
    with pytest.raises(InputError, match="refused the arguments"):
        curve.plot(no_such_style=3)


# -- panel ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "widget", "bad", "match"),
    [
        ("knn_shapley", "seed", -1, "random_state must lie in"),
        ("knn_shapley", "seed", 2**40, "random_state must lie in"),
        ("banzhaf", "max_time", 1e308, "at most one day"),
        ("banzhaf", "max_time", float("nan"), "max_time must be a finite number"),
    ],
)
def test_panel_shows_what_a_user_typed_wrong(method, widget, bad, match):
    from workbench.valuation.panel import ValuationPanel

    panel = ValuationPanel()
    panel.method.value = method
    getattr(panel, widget).value = bad
    panel.run_button.click()
    assert panel.result is None
    assert panel.last_error is not None and "Unexpected error" not in panel.last_error
    assert match in panel.last_error


def test_panel_model_picker_follows_the_method():
    from workbench.valuation.panel import ValuationPanel

    panel = ValuationPanel()
    panel.method.value = "knn_shapley"
    assert panel.model.disabled
    panel.method.value = "data_oob"
    assert not panel.model.disabled


def test_curve_summary_when_every_fit_failed():
    curve = CurveResult("removal", "lowest", np.array([0.0, 0.5]), np.array([np.nan, np.nan]))
    assert curve.summary()["best_score"] is None and curve.summary()["first_score"] is None


def test_make_method_checks_a_given_model():
    with pytest.raises(InputTypeError, match="estimator instance"):
        make_method("banzhaf", model="x")
    with pytest.raises(ModelError, match="neither a classifier nor a regressor"):
        make_method("tmc_shapley", model=KMeans(n_clusters=2, n_init=1))


def test_float_labels_too_large_to_be_classes(data):
    X, y, _, _ = data
    with pytest.raises(InputError, match=r"beyond 2\*\*53"):
        LabelConfidence(GaussianNB(), cv=2).fit(X, y * 1e30 + 1e30)


def test_huge_features_leave_the_batched_solver(data):
    from sklearn.linear_model import LogisticRegression

    from workbench.valuation import MSRBanzhaf

    X, y, Xt, yt = data
    res = MSRBanzhaf(LogisticRegression(), n_samples=5, random_state=0).fit(
        X * 1e30 + 1e30, y, Xt * 1e30 + 1e30, yt
    )
    assert res.utility_backend_ == "sklearn" and np.isfinite(res.values_).all()


def test_result_fields_must_have_the_right_types(data):
    X, y, Xt, yt = data
    with pytest.raises(InputTypeError, match="values must hold numbers"):
        ValuationResult("m", ["a", "b"], np.zeros(2), np.ones(2))
    with pytest.raises(InputTypeError, match="method must be a string"):
        ValuationResult(float("nan"), np.zeros(2), np.zeros(2), np.ones(2))
    with pytest.raises(InputError, match="counts must be finite"):
        ValuationResult("m", np.zeros(2), np.zeros(2), np.array([1.0, np.inf]))
    with pytest.raises(UnknownNameError, match="curve kind"):
        CurveResult("sideways", "lowest", np.array([0.0]), np.array([0.5]))
    with pytest.raises(InputError, match="default_score must be finite"):
        Utility(GaussianNB(), X, y, Xt, yt, default_score=10**30 * 10**300)
