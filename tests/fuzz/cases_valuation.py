"""Fuzz cases of ``workbench.valuation``: one valid call per public name, on 80 rows."""

from __future__ import annotations

import functools

import numpy as np
from sklearn.linear_model import LogisticRegression

from tests.fuzz.harness import Case
from workbench import valuation as va

CONSTANTS = {"valuation.METHODS"}


@functools.cache
def _split():
    return va.noisy_split("breast_cancer", 0.1, random_state=0)


def _data():
    s = _split()
    return {"X": s.X[:80], "y": s.y[:80], "X_test": s.X_test[:40], "y_test": s.y_test[:40]}


@functools.cache
def _result():
    return va.value(**_data(), method="knn_shapley", show_progress=False)


def _fit_method(cls, **params):
    def run(**kw):
        data = {k: kw.pop(k) for k in ("X", "y", "X_test", "y_test")}
        return cls(**kw).fit(**data).result_.to_dict()

    return run


def _method_valid(**params):
    return lambda: {**_data(), **params, "show_progress": False}


def _lr():
    return LogisticRegression(max_iter=200)


CASES = [
    Case("valuation.noisy_split", lambda **kw: va.noisy_split(**kw).X.shape,
         lambda: {"name": "breast_cancer", "flip_fraction": 0.1, "test_size": 0.25,
                  "random_state": 0}, ("valuation.noisy_split", "valuation.NoisySplit")),
    Case("valuation.value", lambda **kw: va.value(**kw).to_dict(),
         lambda: {**_data(), "model": None, "method": "knn_shapley", "n_samples": None,
                  "random_state": 0, "n_jobs": 1, "show_progress": False},
         ("valuation.value", "valuation.ValuationResult"), max_examples=40),
    Case("valuation.knn_shapley_values", va.knn_shapley_values,
         lambda: {**_data(), "n_neighbors": 5, "batch_size": None, "max_memory_mb": 256.0},
         ("valuation.knn_shapley_values",)),
    Case("valuation.KNNShapley", _fit_method(va.KNNShapley),
         _method_valid(n_neighbors=5), ("valuation.KNNShapley",)),
    Case("valuation.TMCShapley", _fit_method(va.TMCShapley),
         _method_valid(model=_lr(), n_samples=3, random_state=0, n_jobs=1),
         ("valuation.TMCShapley", "valuation.Utility"), max_examples=20),
    Case("valuation.BetaShapley", _fit_method(va.BetaShapley),
         _method_valid(model=_lr(), alpha=4.0, beta=1.0, n_samples=3, random_state=0,
                       n_jobs=1), ("valuation.BetaShapley",), max_examples=20),
    Case("valuation.MSRBanzhaf", _fit_method(va.MSRBanzhaf),
         _method_valid(model=_lr(), n_samples=20, random_state=0, n_jobs=1),
         ("valuation.MSRBanzhaf",), max_examples=20),
    Case("valuation.LeaveOneOut", _fit_method(va.LeaveOneOut),
         _method_valid(model=_lr(), n_jobs=1), ("valuation.LeaveOneOut",), max_examples=15),
    Case("valuation.DataOOB", _fit_method(va.DataOOB),
         _method_valid(n_samples=10, random_state=0, n_jobs=1), ("valuation.DataOOB",),
         max_examples=20),
    Case("valuation.LabelConfidence", _fit_method(va.LabelConfidence),
         _method_valid(cv=3, random_state=0, n_jobs=1), ("valuation.LabelConfidence",),
         max_examples=20),
    Case("valuation.RankEnsemble", _fit_method(va.RankEnsemble),
         _method_valid(n_samples=10, random_state=0, n_jobs=1), ("valuation.RankEnsemble",),
         max_examples=15),
    # Parameters are checked at fit, as in scikit-learn.
    Case("valuation.make_method", lambda **kw: va.make_method(**kw).fit(**_data()).result_.values,
         lambda: {"method": "data_oob", "n_samples": 5}, ("valuation.make_method",
                                                          "valuation.list_methods")),
    Case("valuation.beta_weights", va.beta_weights, lambda: {"n": 10, "alpha": 4.0, "beta": 1.0},
         ("valuation.beta_weights",)),
    Case("valuation.detection_scores", va.detection_scores,
         lambda: {"values": _result().values, "noisy": _split().flipped[:80], "k": None},
         ("valuation.detection_scores",)),
    Case("valuation.ValuationResult.lowest", lambda k: _result().lowest(k), lambda: {"k": 5},
         ("valuation.ValuationResult",)),
    Case("valuation.point_removal_curve", lambda **kw: va.point_removal_curve(**kw).to_dict(),
         lambda: {"values": _result().values, **_data(), "model": _lr(),
                  "fractions": (0.0, 0.2), "random_state": 0},
         ("valuation.point_removal_curve", "valuation.CurveResult"), max_examples=20),
    Case("valuation.point_addition_curve", lambda **kw: va.point_addition_curve(**kw).to_dict(),
         lambda: {"values": _result().values, **_data(), "model": _lr(),
                  "fractions": (0.2, 0.5), "random_state": 0},
         ("valuation.point_addition_curve",), max_examples=20),
    Case("valuation.score_without", va.score_without,
         lambda: {"drop": np.arange(5), **_data(), "model": _lr()},
         ("valuation.score_without",), max_examples=20),
]
