"""Bad input found by fuzzing every public name of the privacy tool: each is a WorkbenchError.

One test per kind of wrong input a public function checks: seeds, numbers that overflow float32
or are out of range, wrong estimator kinds (regressors, clusterers, non-estimators), continuous
or mixed labels, records that do not fit a given model, and wrong plot arguments.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.cluster import KMeans
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.tree import DecisionTreeClassifier

from workbench.core.errors import InputError, InputTypeError, ModelError, UnknownNameError
from workbench.privacy import (
    auc,
    audit,
    demo_model,
    dp_variants,
    mitigation_variants,
    outlier_scores,
    roc_points,
)
from workbench.privacy.panel import PrivacyPanel

FAST = {"n_shadows": 4, "attacks": ["loss", "lira_offline"], "show_progress": False}


def _tree(seed=0):
    return DecisionTreeClassifier(max_depth=3, random_state=seed)


@pytest.fixture(scope="module")
def small(cancer_small):
    X, y = cancer_small
    return X[:60], y[:60]


@pytest.fixture(scope="module")
def report(small):
    X, y = small
    return audit(_tree(), X, y, mitigations=["regularize"], random_state=0, **FAST)


class _MixinLast(BaseEstimator, ClassifierMixin):
    def fit(self, X, y):
        return self

    def predict(self, X):
        return np.zeros(len(X))


# -- estimators -------------------------------------------------------------------------------
def test_regressor_is_refused_up_front_with_the_right_fix(small):
    X, y = small
    for attacks in (None, ["label_only"]):  # the old advice led from one error to a worse one
        with pytest.raises(ModelError, match=r"is a regressor.*needs a classifier"):
            audit(Ridge(), X, y, n_shadows=4, attacks=attacks, show_progress=False)


def test_clusterer_and_non_estimators_are_refused(small):
    X, y = small
    with pytest.raises(ModelError, match="neither a classifier nor a regressor"):
        audit(KMeans(n_clusters=2, n_init=1), X, y, **FAST)
    with pytest.raises(InputTypeError, match="estimator instance"):
        audit(LogisticRegression, X, y, **FAST)  # the class, not an instance
    with pytest.raises(ModelError, match="list the mixin first"):
        audit(_MixinLast(), X, y, **FAST)


def test_given_model_must_match_the_records(small):
    X, y = small
    model = _tree().fit(X[:30, :5], y[:30])
    with pytest.raises(InputError, match="expects 5 features but X has 30"):
        audit(model, X, y, members=np.arange(30), **FAST)


# -- records ----------------------------------------------------------------------------------
def test_continuous_labels_and_float32_overflow(small):
    X, y = small
    with pytest.raises(InputError, match="looks continuous"):
        audit(_tree(), X, y + 0.5, **FAST)
    Xb = X.copy()
    Xb[3, 2] = 1e308
    with pytest.raises(InputError, match="overflow float32"):
        audit(_tree(), Xb, y, **FAST)
    with pytest.raises(InputError, match=r"float labels beyond 2\*\*53"):
        audit(_tree(), X, y * 1e30 + 1e30, **FAST)


# -- numbers and seeds ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"random_state": "x"}, InputTypeError, "random_state must be None or an integer"),
        ({"random_state": -1}, InputError, r"random_state must lie in \[0, 2\*\*32 - 1\]"),
        ({"n_queries": 10**9}, InputError, r"n_queries must lie in \[1, 1000\]"),
        ({"noise_scale": 1e308}, InputError, r"noise_scale must lie in \(0, 10\]"),
        ({"noise_scale": float("nan")}, InputError, "noise_scale must be a finite number"),
        ({"fixed_variance": "x"}, InputTypeError, "fixed_variance must be True or False"),
        ({"show_progress": 3}, InputTypeError, "show_progress must be True, False or None"),
        ({"attacks": 5}, InputTypeError, "attacks must be a list of attack names"),
        ({"mitigations": 5}, InputTypeError, "mitigations must be 'auto', a list"),
        ({"mitigations": ["regularize"], "epsilons": 1e308}, InputError, "epsilon must lie in"),
        ({"epsilons": "x"}, InputTypeError, "epsilons must be a list"),
    ],
)
def test_audit_numbers_seeds_and_switches(small, kwargs, exc, match):
    X, y = small
    with pytest.raises(exc, match=match):
        audit(_tree(), X, y, **{**FAST, **kwargs})


def test_demo_model_seed():
    with pytest.raises(InputError, match="random_state must lie in"):
        demo_model("random_forest", random_state=-1)
    with pytest.raises(InputTypeError, match="random_state must be None or an integer"):
        demo_model("mlp", random_state="x")


def test_outlier_scores_seed_overflow_and_labels(small):
    X, _ = small
    with pytest.raises(InputTypeError, match="random_state must be None or an integer"):
        outlier_scores(X, random_state="x")
    Xb = X.copy()
    Xb[0, 0] = 1e308
    with pytest.raises(InputError, match="overflow float32"):
        outlier_scores(Xb)
    with pytest.raises(InputError, match="looks continuous"):
        outlier_scores(X, X[:, 0], method="class_distance")
    with pytest.raises(UnknownNameError, match="outlier method"):
        outlier_scores(X, method=np.array(["a", "b"]))


def test_metrics_refuse_mixed_labels():
    with pytest.raises(InputError, match="boolean or 0/1"):
        roc_points(["a", 1, 0], [0.1, 0.2, 0.3])
    with pytest.raises(InputError, match="boolean or 0/1"):
        auc(np.array([None, 1, 0], dtype=object), [0.1, 0.2, 0.3])


def test_mitigation_builders_check_their_inputs(small):
    X, y = small
    with pytest.raises(InputTypeError, match="estimator instance"):
        mitigation_variants(None, X, y, ["regularize"])
    with pytest.raises(InputTypeError, match="mitigations must be"):
        mitigation_variants(_tree(), X, y, 5)
    with pytest.raises(ModelError, match="is a regressor"):
        mitigation_variants(Ridge(), X, y, ["regularize"])
    with pytest.raises(InputTypeError, match="X is None"):
        dp_variants(LogisticRegression(), None, y)
    with pytest.raises(InputTypeError, match="epsilons must be a list"):
        dp_variants(LogisticRegression(), X, y, epsilons=object())


# -- report methods ---------------------------------------------------------------------------
def test_report_methods(report):
    for plot in (report.plot, report.plot_risk, report.plot_tradeoff, report.mitigations.plot):
        with pytest.raises(InputTypeError, match="ax must be a matplotlib Axes"):
            plot(ax="x")
    with pytest.raises(UnknownNameError, match="attack"):
        report.roc_curve(np.array(["loss", "rmia"]))
    with pytest.raises(InputError, match=r"k must lie in \[1, "):
        report.most_exposed(10**30)


# -- panel ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("widget", "bad", "match"),
    [
        ("seed", -1, "random_state must lie in"),
        ("seed", 2**40, "random_state must lie in"),
    ],
)
def test_panel_shows_what_a_user_typed_wrong(widget, bad, match):
    panel = PrivacyPanel()
    panel.max_records.value = 40
    panel.n_shadows.value = 4
    getattr(panel, widget).value = bad
    panel.run_button.click()
    assert panel.result is None
    assert panel.last_error is not None and "Unexpected error" not in panel.last_error
    assert match in panel.last_error
