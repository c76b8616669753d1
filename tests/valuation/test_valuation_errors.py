"""Bad input raises a WorkbenchError subclass that says what was wrong."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.naive_bayes import GaussianNB
from sklearn.svm import SVC

from workbench.core.errors import InputError, InputTypeError, UnknownNameError
from workbench.valuation import (
    DataOOB,
    KNNShapley,
    LabelConfidence,
    RankEnsemble,
    TMCShapley,
    detection_scores,
    make_method,
    point_removal_curve,
    value,
)


class NoPredict:
    def fit(self, X, y):
        return self


@pytest.fixture
def data(tiny):
    return tiny


def test_mismatched_lengths(data):
    X, y, Xt, yt = data
    with pytest.raises(InputError, match="different numbers of rows"):
        value(X, y[:-1], method="loo", X_test=Xt, y_test=yt, model=GaussianNB())
    with pytest.raises(InputError, match="different numbers of rows"):
        value(X, y, method="knn_shapley", X_test=Xt, y_test=yt[:-1])


def test_nan_in_features_or_test(data):
    X, y, Xt, yt = data
    Xn = X.copy()
    Xn[0, 0] = np.nan
    with pytest.raises(InputError, match="NaN"):
        value(Xn, y, method="knn_shapley", X_test=Xt, y_test=yt)
    Xtn = Xt.copy()
    Xtn[1, 1] = np.nan
    with pytest.raises(InputError, match="X_test contains 1 NaN"):
        value(X, y, method="knn_shapley", X_test=Xtn, y_test=yt)


def test_model_without_fit_or_predict(data):
    X, y, Xt, yt = data
    with pytest.raises(InputTypeError, match="no predict method"):
        value(X, y, method="tmc_shapley", model=NoPredict(), X_test=Xt, y_test=yt)
    with pytest.raises(InputTypeError, match="estimator instance"):
        value(X, y, method="data_oob", model=object())


def test_unknown_scorer_method_and_parameter(data):
    X, y, Xt, yt = data
    with pytest.raises(UnknownNameError, match=r"Unknown scorer 'acuracy'.*accuracy"):
        value(X, y, method="banzhaf", scorer="acuracy", X_test=Xt, y_test=yt, n_samples=2)
    with pytest.raises(InputTypeError, match="scorer must be"):
        value(X, y, method="banzhaf", scorer=3, X_test=Xt, y_test=yt, n_samples=2)
    with pytest.raises(UnknownNameError, match="valuation method 'shapley'"):
        value(X, y, method="shapley")
    with pytest.raises(InputError, match="takes no parameter"):
        make_method("knn_shapley", alpha=3)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_samples": 0}, r"n_samples must lie in \[1, 1e\+06\], got 0"),
        ({"n_samples": 2.5}, "n_samples must be an integer"),
        ({"max_time": 0}, r"max_time must lie in \(0, 86400\]"),
        ({"max_time": -1.0}, r"max_time must lie in \(0, 86400\]"),
        ({"tol": 0.0}, r"tol must lie in \(0, inf\)"),
    ],
)
def test_budgets_must_be_positive(data, kwargs, match):
    X, y, Xt, yt = data
    with pytest.raises((InputError, InputTypeError), match=match):
        TMCShapley(GaussianNB(), **kwargs).fit(X, y, Xt, yt)


def test_too_few_points(data):
    X, y, Xt, yt = data
    with pytest.raises(InputError, match="at least 2 are needed"):
        value(X[:1], y[:1], method="tmc_shapley", X_test=Xt, y_test=yt)
    with pytest.raises(InputError, match=r"y has 1 class\(es\)"):
        value(X[:2], y[:2], method="banzhaf", X_test=Xt, y_test=yt)
    with pytest.raises(InputError, match="only 3 point"):
        LabelConfidence(GaussianNB(), cv=5).fit(X, y)


def test_missing_or_mismatched_test_data(data):
    X, y, Xt, yt = data
    with pytest.raises(InputError, match="pass X_test and y_test"):
        value(X, y, method="knn_shapley")
    with pytest.raises(InputError, match="X_test has 1 features but X has 2"):
        value(X, y, method="knn_shapley", X_test=Xt[:, :1], y_test=yt)


def test_bad_method_parameters(data):
    X, y, Xt, yt = data
    with pytest.raises(InputError, match=r"n_neighbors must lie in \[1, 100000\]"):
        KNNShapley(n_neighbors=0).fit(X, y, Xt, yt)
    with pytest.raises(InputTypeError, match="random_state must be None or an integer"):
        DataOOB(GaussianNB(), random_state="seed").fit(X, y)
    with pytest.raises(InputError, match="n_jobs"):
        DataOOB(GaussianNB(), n_jobs=0).fit(X, y)
    with pytest.raises(InputTypeError, match="no predict_proba"):
        LabelConfidence(SVC(), cv=2).fit(X, y)
    with pytest.raises(InputError, match=r"cv must lie in \[2, 1000\]"):
        LabelConfidence(GaussianNB(), cv=1).fit(X, y)
    with pytest.raises(UnknownNameError, match="ensemble member"):
        RankEnsemble(members=["knn_shapley", "magic"]).fit(X, y, Xt, yt)
    with pytest.raises(InputError, match="members is empty"):
        RankEnsemble(members=[]).fit(X, y, Xt, yt)


def test_evaluation_bad_input(data):
    X, y, Xt, yt = data
    v = np.arange(6.0)
    with pytest.raises(InputError, match="noisy has shape"):
        detection_scores(v, [True, False])
    with pytest.raises(InputError, match="at least one noisy and one clean"):
        detection_scores(v, np.ones(6, dtype=bool))
    with pytest.raises(InputError, match="boolean mask"):
        detection_scores(v, np.array([0, 2, 0, 0, 0, 1]))
    with pytest.raises(InputError, match=r"k must lie in \[1, "):
        detection_scores(v, np.array([1, 0, 0, 0, 0, 1], dtype=bool), k=0)
    with pytest.raises(InputError, match="fractions must lie in"):
        point_removal_curve(v, X, y, Xt, yt, fractions=[1.2], model=GaussianNB())
    with pytest.raises(UnknownNameError, match="order"):
        point_removal_curve(v, X, y, Xt, yt, order="middle", model=GaussianNB())
    with pytest.raises(InputError, match="values has 5 entries"):
        point_removal_curve(v[:5], X, y, Xt, yt, model=GaussianNB())
