import sys
import types

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from workbench.core.errors import (
    DependencyError,
    InputError,
    InputTypeError,
    ModelError,
    UnknownNameError,
)
from workbench.privacy import audit, demo_model, dp_variants, mitigation_variants


def _rf():
    return RandomForestClassifier(n_estimators=25, random_state=0)


@pytest.fixture
def no_diffprivlib(monkeypatch):
    # None in sys.modules makes `import diffprivlib` raise ImportError, as a broken install does.
    monkeypatch.setitem(sys.modules, "diffprivlib", None)
    monkeypatch.setitem(sys.modules, "diffprivlib.models", None)


class _FakeDPLogisticRegression(LogisticRegression):
    def __init__(self, *, epsilon=1.0, data_norm=None, C=1.0, max_iter=100, random_state=None):
        super().__init__(C=C, max_iter=max_iter, random_state=random_state)
        self.epsilon = epsilon
        self.data_norm = data_norm


class _FakeDPForest(RandomForestClassifier):
    def __init__(
        self, n_estimators=10, *, epsilon=1.0, bounds=None, classes=None, max_depth=5,
        random_state=None,
    ):  # fmt: skip
        super().__init__(n_estimators=n_estimators, max_depth=max_depth, random_state=random_state)
        self.epsilon = epsilon
        self.bounds = bounds
        self.classes = classes


class _FakeDPNB(GaussianNB):
    def __init__(self, *, epsilon=1.0, bounds=None, priors=None, var_smoothing=1e-9):
        super().__init__(priors=priors, var_smoothing=var_smoothing)
        self.epsilon = epsilon
        self.bounds = bounds


@pytest.fixture
def fake_diffprivlib(monkeypatch):
    """A stand-in with diffprivlib's constructor signatures (the real one needs sklearn < 1.9)."""
    pkg = types.ModuleType("diffprivlib")
    models = types.ModuleType("diffprivlib.models")
    models.LogisticRegression = _FakeDPLogisticRegression
    models.RandomForestClassifier = _FakeDPForest
    models.GaussianNB = _FakeDPNB
    pkg.models = models
    monkeypatch.setitem(sys.modules, "diffprivlib", pkg)
    monkeypatch.setitem(sys.modules, "diffprivlib.models", models)


def test_regularized_variants_per_model_kind(cancer_small):
    X, y = cancer_small
    v, notes = mitigation_variants(_rf(), X, y, ["regularize"])
    assert v["max_depth=6"].max_depth == 6
    assert v["max_depth=3, min_leaf=10"].min_samples_leaf == 10
    assert notes == []
    v, _ = mitigation_variants(demo_model("mlp"), X, y, "regularize")
    assert sorted(m[-1].alpha for m in v.values()) == pytest.approx([0.01, 1.0])
    v, _ = mitigation_variants(demo_model("logistic_regression"), X, y, "regularize")
    assert sorted(m[-1].C for m in v.values()) == pytest.approx([1.0, 10.0])
    v, notes = mitigation_variants(KNeighborsClassifier(), X, y, "regularize")
    assert v == {} and "no regularization knob known for KNeighborsClassifier" in notes[0]


def test_audit_compares_mitigations_on_the_same_splits(digits_small, no_diffprivlib):
    X, y = digits_small
    r = audit(_rf(), X, y, n_shadows=5, attacks=["lira_online"], mitigations="auto",
              random_state=0, show_progress=False)  # fmt: skip
    t = r.mitigations.table.set_index("variant")
    assert list(t.index) == ["original", "max_depth=6", "max_depth=3, min_leaf=10"]
    orig = r.metrics.set_index("attack").loc["lira_online"]
    assert t.loc["original", "auc"] == orig["auc"]
    # Shallow trees leak less than fully grown ones and fit the training set less tightly.
    assert t.loc["max_depth=3, min_leaf=10", "auc"] < t.loc["original", "auc"] - 0.05
    assert t.loc["max_depth=3, min_leaf=10", "train_accuracy"] < 1.0
    assert any("DP skipped" in n and "pip install diffprivlib" in n for n in r.mitigations.notes)
    assert r.plot_tradeoff().get_xlabel() == "test accuracy"
    assert "Mitigations" in r.mitigations._repr_html_()


def test_dp_requested_without_diffprivlib_raises(cancer_small, no_diffprivlib):
    X, y = cancer_small
    with pytest.raises(DependencyError, match=r"pip install diffprivlib.*scikit-learn 1.7-1.8"):
        mitigation_variants(_rf(), X, y, ["dp"])
    with pytest.raises(DependencyError, match="diffprivlib"):
        audit(_rf(), X, y, n_shadows=4, mitigations=["regularize", "dp"], show_progress=False)
    # An ImportError is also what callers catching plain Python errors expect.
    with pytest.raises(ImportError):
        dp_variants(_rf(), X, y)


def test_dp_for_a_model_diffprivlib_lacks(cancer_small):
    X, y = cancer_small
    with pytest.raises(ModelError, match="diffprivlib offers no differentially private MLP"):
        dp_variants(demo_model("mlp"), X, y)


def test_dp_variants_with_diffprivlib_signatures(cancer_small, fake_diffprivlib):
    X, y = cancer_small
    v = dp_variants(_rf(), X, y, epsilons=(0.5, 2))
    assert list(v) == ["DP eps=0.5", "DP eps=2"]
    assert v["DP eps=0.5"].epsilon == 0.5 and v["DP eps=0.5"].n_estimators == 25
    np.testing.assert_array_equal(v["DP eps=2"].bounds[0], X.min(axis=0))
    lr = dp_variants(make_pipeline(StandardScaler(), LogisticRegression()), X, y)["DP eps=1"]
    assert type(lr[-1]).__name__ == "_FakeDPLogisticRegression" and lr[-1].data_norm > 0
    nb = dp_variants(GaussianNB(), X, y, epsilons=[1.0])
    assert list(nb) == ["DP eps=1"]
    r = audit(_rf(), X, y, n_shadows=4, attacks=["lira_offline"], mitigations=["dp"],
              epsilons=[1.0], random_state=0, show_progress=False)  # fmt: skip
    assert list(r.mitigations.table["variant"]) == ["original", "DP eps=1"]


@pytest.mark.parametrize(
    ("mitigations", "kwargs", "exc", "msg"),
    [
        (["shrink"], {}, UnknownNameError, "Unknown mitigation 'shrink'"),
        ([], {}, InputError, "mitigations is empty"),
        ({"tiny": "not a model"}, {}, InputTypeError, "Mitigation 'tiny' is a str"),
    ],
)
def test_bad_mitigations(cancer_small, mitigations, kwargs, exc, msg):
    X, y = cancer_small
    with pytest.raises(exc, match=msg):
        mitigation_variants(_rf(), X, y, mitigations, **kwargs)


def test_bad_epsilons(cancer_small, fake_diffprivlib):
    X, y = cancer_small
    with pytest.raises(InputError, match=r"epsilon must lie in \(0, 1e\+06\]"):
        dp_variants(_rf(), X, y, epsilons=[0.0])
    with pytest.raises(InputError, match="epsilons is empty"):
        dp_variants(_rf(), X, y, epsilons=[])


def test_custom_variants_by_mapping(cancer_small):
    X, y = cancer_small
    r = audit(
        _rf(),
        X,
        y,
        n_shadows=4,
        attacks=["loss"],
        random_state=0,
        show_progress=False,
        mitigations={"one tree": RandomForestClassifier(n_estimators=1, random_state=0)},
    )
    assert list(r.mitigations.table["variant"]) == ["original", "one tree"]
