import json

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import RandomForestClassifier
from sklearn.svm import LinearSVC

from workbench.core.datasets import flip_labels
from workbench.core.errors import (
    InputError,
    InputTypeError,
    ModelError,
    NotFittedError,
    UnknownNameError,
)
from workbench.core.progress import observe
from workbench.privacy import ATTACKS, AuditReport, audit, demo_model


def _rf(seed=0):
    return RandomForestClassifier(n_estimators=25, random_state=seed)


@pytest.fixture(scope="module")
def pooled_report(digits_small):
    X, y = digits_small
    return audit(_rf(), X, y, n_shadows=7, n_queries=4, random_state=0, show_progress=False)


def test_pooled_audit_detects_an_overfit_forest(pooled_report):
    r = pooled_report
    assert isinstance(r, AuditReport)
    assert r.mode == "pooled" and r.n_models == 8 and r.n_records == 160
    m = r.metrics.set_index("attack")
    assert list(m.index) == list(ATTACKS)
    # Each record is in exactly 4 of 8 models: 640 member and 640 non-member scores.
    assert (m["n_members"] == 640).all() and (m["n_nonmembers"] == 640).all()
    # 640 non-members are too few for 1% FPR (needs 1,000): the report says so.
    assert not m["reliable@1%"].any() and not m["reliable@0.1%"].any()
    assert r.train_accuracy == 1.0 and r.test_accuracy < 1.0
    # A fully grown forest leaks: reference attacks beat the global loss threshold.
    assert m.loc["lira_online", "auc"] > 0.7
    assert m.loc["rmia", "auc"] > 0.7
    assert m.loc["lira_online", "auc"] > m.loc["loss", "auc"]
    assert m.loc["lira_online", "tpr@1%fpr"] > 0.05
    assert ((m["auc"] >= 0) & (m["auc"] <= 1)).all()
    assert (m["advantage"] <= 1).all()


def test_report_records_and_views(pooled_report):
    r = pooled_report
    rec = r.records
    assert len(rec) == 160
    assert set(rec.columns) >= {"record", "label", "risk", "detected", "outlier", "is_outlier"}
    assert (rec["n_member_models"] == 4).all()
    assert rec["detected"].between(0, 1).all()
    top = r.most_exposed(5)
    assert len(top) == 5 and top["risk"].is_monotonic_decreasing
    assert -1 <= r.outlier_risk_spearman <= 1
    d = json.loads(r.to_json())
    assert d["risk_attack"] == "lira_online" and len(d["records"]) == 160
    assert "_curves" not in d
    assert isinstance(r.to_frame(), pd.DataFrame)
    assert "lira_online AUC" in r.summary()
    assert "0x" not in repr(r) and "Privacy audit" in r._repr_html_()
    fpr, tpr = r.roc_curve("rmia")
    assert fpr[0] == 0 and tpr[-1] == 1
    assert r.plot().get_xscale() == "log"
    assert r.plot_risk() is not None
    with pytest.raises(UnknownNameError, match="Unknown attack 'lira'"):
        r.roc_curve("lira")
    with pytest.raises(InputError, match=r"k must lie in \[1, "):
        r.most_exposed(0)
    with pytest.raises(InputError, match="without mitigations"):
        r.plot_tradeoff()


def test_mislabeled_records_are_the_most_exposed(digits_small):
    X, y = digits_small
    y_noisy, flipped = flip_labels(y, 0.05, random_state=0)
    r = audit(
        _rf(), X, y_noisy, n_shadows=7, attacks=["lira_online"], random_state=1,
        outlier_method="class_distance", show_progress=False,
    )  # fmt: skip
    top = r.most_exposed(int(flipped.sum()))
    assert flipped[top["record"].to_numpy()].mean() >= 0.6
    assert r.outlier_risk_spearman > 0.2


def test_reproducible_and_parallel_equivalent(cancer_small):
    X, y = cancer_small
    kw = dict(n_shadows=4, attacks=["lira_offline", "label_only"], n_queries=3, random_state=7)
    a = audit(_rf(), X, y, n_jobs=1, show_progress=False, **kw)
    b = audit(_rf(), X, y, n_jobs=2, show_progress=False, **kw)
    with joblib.parallel_config(backend="threading"):
        c = audit(_rf(), X, y, n_jobs=2, show_progress=False, **kw)
    pd.testing.assert_frame_equal(a.metrics, b.metrics)
    pd.testing.assert_frame_equal(a.records, c.records)
    d = audit(_rf(), X, y, n_jobs=1, show_progress=False, **{**kw, "random_state": 8})
    assert not a.records["risk"].equals(d.records["risk"])


def test_progress_reports_every_model(cancer_small):
    X, y = cancer_small
    seen = []
    with observe(lambda done, total, desc: seen.append((done, total, desc))):
        audit(_rf(), X, y, n_shadows=4, attacks=["calibrated"], random_state=0, show_progress=False)
    assert seen[-1][:2] == (5, 5)
    assert "shadow" in seen[-1][2]


def test_given_model_mode(digits_small):
    X, y = digits_small
    rng = np.random.default_rng(0)
    members = rng.permutation(len(y))[:80]
    model = _rf(3).fit(X[members], y[members])
    r = audit(model, X, y, members=members, n_shadows=6, n_queries=4, random_state=0,
              show_progress=False)  # fmt: skip
    assert r.mode == "given" and r.n_models == 6
    m = r.metrics.set_index("attack")
    assert (m["n_members"] == 80).all() and (m["n_nonmembers"] == 80).all()
    assert m.loc["lira_online", "auc"] > 0.75
    assert r.records["member"].sum() == 80
    assert r.records.loc[~r.records["member"], "risk"].isna().all()
    assert r.train_accuracy == 1.0
    # A boolean mask and explicit non-members give the same answer as indices.
    mask = np.zeros(len(y), bool)
    mask[members] = True
    r2 = audit(model, X, y, members=mask, non_members=~mask, n_shadows=6, n_queries=4,
               random_state=0, show_progress=False)  # fmt: skip
    pd.testing.assert_frame_equal(r.metrics, r2.metrics)
    # Without shadows only the reference-free attacks run.
    r3 = audit(model, X, y, members=members, n_shadows=0, attacks=["loss", "label_only"],
               n_queries=4, random_state=0, show_progress=False)  # fmt: skip
    assert r3.n_models == 0 and r3.risk_attack == "loss"


def test_label_only_for_a_model_without_probabilities(cancer_small):
    X, y = cancer_small
    with pytest.raises(ModelError, match=r"no predict_proba.*attacks=\['label_only'\]"):
        audit(LinearSVC(), X, y, n_shadows=4)
    with pytest.raises(ModelError, match="lira_online need"):
        audit(LinearSVC(), X, y, n_shadows=4, attacks=["lira_online", "label_only"])
    r = audit(LinearSVC(), X, y, n_shadows=4, attacks="label_only", n_queries=4,
              random_state=0, show_progress=False)  # fmt: skip
    assert list(r.metrics["attack"]) == ["label_only"] and r.risk_attack == "label_only"


class _FailingFit(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        raise RuntimeError("boom")

    def predict(self, X):
        return np.zeros(len(X))

    def predict_proba(self, X):
        return np.ones((len(X), 1))


def test_failed_shadow_fit_is_reported(cancer_small):
    X, y = cancer_small
    with pytest.raises(ModelError, match=r"Training model 0 .*RuntimeError: boom"):
        audit(_FailingFit(), X, y, n_shadows=4, show_progress=False)


@pytest.mark.parametrize(
    ("kwargs", "exc", "msg"),
    [
        ({"n_shadows": 2}, InputError, "at least 4 shadow models"),
        ({"n_shadows": -1}, InputError, r"n_shadows must lie in \[0, 1024\]"),
        ({"n_shadows": 2.5}, InputTypeError, "n_shadows must be an integer"),
        ({"n_shadows": 500}, InputError, "too few for 500 shadow models"),
        ({"n_shadows": 0, "attacks": ["loss"]}, InputError, "at least 1 shadow model"),
        ({"attacks": ["lira"]}, UnknownNameError, "Unknown attack 'lira'. Choose one of"),
        ({"attacks": ["rmai"]}, UnknownNameError, "Did you mean 'rmia'"),
        ({"attacks": []}, InputError, "attacks is empty"),
        ({"outlier_method": "knn"}, UnknownNameError, "outlier method"),
        ({"n_jobs": 0}, InputError, "n_jobs"),
        ({"n_queries": 0}, InputError, r"n_queries must lie in \[1, 1000\]"),
        ({"noise_scale": -1.0}, InputError, r"noise_scale must lie in \(0, 10\]"),
        ({"non_members": [1, 2]}, InputError, "non_members needs members"),
        ({"mitigations": ["shrink"]}, UnknownNameError, "Unknown mitigation 'shrink'"),
    ],
)
def test_bad_arguments(cancer_small, kwargs, exc, msg):
    X, y = cancer_small
    with pytest.raises(exc, match=msg):
        audit(_rf(), X, y, random_state=0, show_progress=False, **kwargs)


def test_bad_data(cancer_small):
    X, y = cancer_small
    with pytest.raises(InputError, match="at least 20 are needed"):
        audit(_rf(), X[:12], y[:12])
    with pytest.raises(InputError, match=r"y has 1 class\(es\)"):
        audit(_rf(), X, np.zeros(len(y)))
    with pytest.raises(InputError, match="different numbers of rows"):
        audit(_rf(), X, y[:-1])
    Xn = X.copy()
    Xn[3, 2] = np.nan
    with pytest.raises(InputError, match="NaN"):
        audit(_rf(), Xn, y)
    y_rare = y.copy()
    y_rare[:2] = 7
    with pytest.raises(InputError, match=r"Class\(es\) \[7\] have fewer than 4"):
        audit(_rf(), X, y_rare)
    with pytest.raises(InputTypeError, match="estimator instance"):
        audit(object(), X, y)


def test_given_mode_bad_input(cancer_small):
    X, y = cancer_small
    members = np.arange(60)
    model = _rf().fit(X[members], y[members])
    kw = dict(n_shadows=4, show_progress=False)
    with pytest.raises(InputError, match=r"2 row\(s\) are both members and non-members"):
        audit(model, X, y, members=members, non_members=[58, 59, 60], **kw)
    with pytest.raises(NotFittedError, match="not fitted"):
        audit(_rf(), X, y, members=members, **kw)
    with pytest.raises(InputError, match=r"outside 0\.\.119"):
        audit(model, X, y, members=[0, 120], **kw)
    with pytest.raises(InputError, match="lists some rows twice"):
        audit(model, X, y, members=[0, 0, 1], **kw)
    with pytest.raises(InputError, match="needs shape"):
        audit(model, X, y, members=np.ones(5, bool), **kw)
    with pytest.raises(InputError, match="members is empty"):
        audit(model, X, y, members=np.array([], int), **kw)
    with pytest.raises(InputError, match="No non-members"):
        audit(model, X, y, members=np.arange(120), **kw)
    with pytest.raises(InputError, match="boolean mask or an array of row indices"):
        audit(model, X, y, members=[0.5, 1.5], **kw)
    with pytest.raises(InputError, match="need the pooled mode"):
        audit(model, X, y, members=members, mitigations="auto", **kw)
    y3 = y.copy()
    y3[100:] = 5  # a class the model never saw
    with pytest.raises(
        InputError, match=r"Labels \[5\] in y are missing from the model's classes_"
    ):
        audit(model, X, y3, members=members, **kw)


def test_demo_models():
    assert demo_model("mlp", random_state=1)[-1].random_state == 1
    assert type(demo_model("decision_tree")).__name__ == "DecisionTreeClassifier"
    with pytest.raises(UnknownNameError, match="Did you mean 'random_forest'"):
        demo_model("random_forrest")


def test_importing_the_spec_stays_light():
    import subprocess
    import sys

    code = (
        "import sys, workbench.privacy.spec, workbench.privacy; "
        "print('sklearn' in sys.modules, 'ipywidgets' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_attack_scores_and_pooled_splits_rebuild_the_audit(cancer_small):
    from sklearn.base import clone

    from workbench.privacy.metrics import auc
    from workbench.privacy.shadows import pooled_splits, set_random_state

    X, y = cancer_small
    r = audit(_rf(), X, y, n_shadows=4, attacks=["loss"], random_state=3, show_progress=False)
    scores, members = r.attack_scores("loss")
    assert scores.shape == members.shape == (5, 120)
    split, seeds = pooled_splits(120, 5, random_state=3)
    np.testing.assert_array_equal(members, split)
    assert (split.sum(axis=0) == 2).all()
    # Refitting model k from the splits gives exactly the target the audit scored.
    model = set_random_state(clone(_rf()), int(seeds[2])).fit(X[split[2]], y[split[2]])
    p_true = model.predict_proba(X)[np.arange(120), y]
    seen = p_true > 0  # p = 0 is clipped at a level read from the reference models
    np.testing.assert_allclose(scores[2][seen], np.log(p_true[seen]))
    assert auc(members.ravel(), scores.ravel()) == r.metrics["auc"].iloc[0]
    with pytest.raises(UnknownNameError, match="Unknown attack 'rmia'"):
        r.attack_scores("rmia")


def test_audit_runs_unchanged_on_a_dask_cluster(cancer_small):
    distributed = pytest.importorskip("distributed")
    X, y = cancer_small
    kw = dict(n_shadows=4, attacks=["lira_offline"], random_state=5, show_progress=False)
    local = audit(_rf(), X, y, **kw)
    with (
        distributed.Client(processes=False, n_workers=1, threads_per_worker=2),
        joblib.parallel_config(backend="dask"),
    ):
        remote = audit(_rf(), X, y, **kw)
    pd.testing.assert_frame_equal(local.metrics, remote.metrics)


def test_string_labels_and_dataframes(cancer_small):
    X, y = cancer_small
    frame = pd.DataFrame(X)
    labels = np.where(y == 1, "benign", "malignant")
    r = audit(_rf(), frame, pd.Series(labels), n_shadows=4, attacks=["rmia", "label_only"],
              n_queries=2, random_state=0, show_progress=False)  # fmt: skip
    assert set(r.records["label"]) == {"benign", "malignant"}
    assert r.metrics["auc"].between(0, 1).all()


def test_constant_risk_gives_nan_correlation_without_warning(cancer_small):
    import warnings

    from sklearn.tree import DecisionTreeClassifier

    X, y = cancer_small
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # A full tree gives every member probability 1, so the loss risk is constant.
        r = audit(DecisionTreeClassifier(random_state=0), X, y, n_shadows=1, attacks=["loss"],
                  random_state=0, show_progress=False)  # fmt: skip
    assert r.n_models == 2 and np.isnan(r.outlier_risk_spearman)
    assert json.loads(r.to_json())["outlier_risk_spearman"] is None
