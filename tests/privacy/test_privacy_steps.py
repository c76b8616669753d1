"""The audit's steps, each usable on its own, compose to exactly what ``audit`` returns."""

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import roc_curve

from workbench.core.errors import InputError
from workbench.privacy import audit
from workbench.privacy.arguments import validate_audit
from workbench.privacy.auditing import side_seeds
from workbench.privacy.metrics import roc_points
from workbench.privacy.risk import add_outliers
from workbench.privacy.runs import run_given, run_pooled
from workbench.privacy.scoring import RISK_PREFERENCE, risk_attack
from workbench.privacy.shadows import LabelOnlyQueries
from workbench.privacy.tradeoff import compare_mitigations

KW = dict(
    members=None, non_members=None, n_shadows=4, attacks=["loss", "rmia", "label_only"],
    mitigations=None, epsilons=(1.0,), outlier_method="class_distance", fixed_variance=True,
    n_queries=2, noise_scale=0.1, random_state=3, n_jobs=1, show_progress=False,
)  # fmt: skip


def _rf():
    return RandomForestClassifier(n_estimators=10, random_state=0)


def _steps(estimator, X, y, **kw):
    args = validate_audit(estimator, X, y, **{**KW, **kw})
    lo_seed, out_seed = side_seeds(args.random_state)
    label_only = LabelOnlyQueries(args.n_queries, args.noise_scale, lo_seed)
    run = (run_pooled if args.pooled else run_given)(estimator, args, label_only)
    records, rho = add_outliers(
        run.records, args.X, args.y, method=args.outlier_method, random_state=out_seed
    )
    return args, label_only, run, records, rho


def test_pooled_steps_give_the_audit(cancer_small):
    X, y = cancer_small
    _, _, run, records, rho = _steps(_rf(), X, y)
    report = audit(_rf(), X, y, **{k: v for k, v in KW.items() if k != "members"})
    pd.testing.assert_frame_equal(run.metrics, report.metrics)
    pd.testing.assert_frame_equal(records, report.records)
    assert rho == report.outlier_risk_spearman and run.n_models == report.n_models == 5
    scores, members = report.attack_scores("rmia")
    np.testing.assert_array_equal(scores, run.scores["rmia"])
    np.testing.assert_array_equal(members, run.labels)


def test_given_steps_give_the_audit_and_refuse_mitigations(cancer_small):
    X, y = cancer_small
    members = np.arange(0, 120, 2)
    model = _rf().fit(X[members], y[members])
    args, label_only, run, records, _ = _steps(model, X, y, members=members)
    report = audit(model, X, y, **{**KW, "members": members})
    pd.testing.assert_frame_equal(run.metrics, report.metrics)
    pd.testing.assert_frame_equal(records, report.records)
    with pytest.raises(InputError, match="pooled mode"):
        compare_mitigations({}, [], run, args, label_only)


def test_risk_attack_prefers_the_strongest_attack_run():
    assert risk_attack(["loss", "rmia", "lira_online"]) == "lira_online"
    assert risk_attack(["label_only", "loss"]) == "loss"
    assert set(RISK_PREFERENCE) == {
        "loss", "calibrated", "lira_offline", "lira_online", "rmia", "label_only",
    }  # fmt: skip


def test_roc_points_keep_every_distinct_threshold():
    # Discrete forest-like probabilities: tied blocks share one threshold, none is dropped.
    rng = np.random.default_rng(0)
    labels = rng.random(300) < 0.5
    scores = rng.integers(0, 11, 300) / 10.0
    fpr, tpr, th = roc_points(labels, scores)
    assert th.size == np.unique(scores).size + 1
    sk = roc_curve(labels, scores, drop_intermediate=False)
    for ours, theirs in zip((fpr, tpr, th), sk, strict=True):
        np.testing.assert_array_equal(ours, theirs)
