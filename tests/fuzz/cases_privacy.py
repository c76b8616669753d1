"""Fuzz cases of ``workbench.privacy``: one valid call per public name, on 80 digits."""

from __future__ import annotations

import functools

import numpy as np
from sklearn.ensemble import RandomForestClassifier

from tests.fuzz.harness import Case
from workbench import privacy as pv
from workbench.core.datasets import load_dataset

CONSTANTS = {"privacy.ATTACKS", "privacy.DEMO_MODELS"}


@functools.cache
def _digits():
    d = load_dataset("digits")
    keep = d.y < 3
    return d.X[keep][:80], d.y[keep][:80]


def _rf():
    return RandomForestClassifier(n_estimators=5, random_state=0)


@functools.cache
def _report():
    X, y = _digits()
    return pv.audit(_rf(), X, y, n_shadows=4, n_queries=2, random_state=0, show_progress=False)


def _labels_scores():
    rng = np.random.default_rng(0)
    labels = np.r_[np.ones(20), np.zeros(20)].astype(int)
    return {"labels": labels, "scores": rng.normal(size=40) + labels}


CASES = [
    Case("privacy.audit", lambda **kw: pv.audit(**kw).to_frame(),
         lambda: {"estimator": _rf(), "X": _digits()[0], "y": _digits()[1], "n_shadows": 4,
                  "attacks": ["loss", "rmia"], "n_queries": 2, "noise_scale": 0.1,
                  "random_state": 0, "n_jobs": 1, "show_progress": False},
         ("privacy.audit", "privacy.AuditReport"), max_examples=40),
    Case("privacy.AuditReport.most_exposed", lambda k: _report().most_exposed(k),
         lambda: {"k": 5}, ("privacy.AuditReport",)),
    Case("privacy.AuditReport.attack_scores", lambda attack: _report().attack_scores(attack),
         lambda: {"attack": "loss"}, ("privacy.AuditReport",)),
    Case("privacy.demo_model", lambda **kw: type(pv.demo_model(**kw)).__name__,
         lambda: {"name": "random_forest", "random_state": 0}, ("privacy.demo_model",)),
    Case("privacy.outlier_scores", pv.outlier_scores,
         lambda: {"X": _digits()[0], "y": _digits()[1], "method": "isolation_forest",
                  "n_neighbors": 5, "random_state": 0}, ("privacy.outlier_scores",)),
    Case("privacy.mitigation_variants", lambda **kw: sorted(pv.mitigation_variants(**kw)[0]),
         lambda: {"estimator": _rf(), "X": _digits()[0], "y": _digits()[1],
                  "mitigations": "auto", "epsilons": (1.0,)},
         ("privacy.mitigation_variants", "privacy.MitigationReport")),
    Case("privacy.dp_variants", lambda **kw: sorted(pv.dp_variants(**kw)),
         lambda: {"estimator": _rf(), "X": _digits()[0], "y": _digits()[1],
                  "epsilons": (1.0,)}, ("privacy.dp_variants",), needs="diffprivlib"),
    Case("privacy.auc", pv.auc, _labels_scores, ("privacy.auc",)),
    # The first ROC threshold is +inf by convention (scikit-learn's too).
    Case("privacy.roc_points", pv.roc_points, _labels_scores, ("privacy.roc_points",),
         nan_ok=("result[2]",)),
    Case("privacy.membership_advantage", pv.membership_advantage, _labels_scores,
         ("privacy.membership_advantage",)),
    Case("privacy.tpr_at_fpr", pv.tpr_at_fpr, lambda: {**_labels_scores(), "fpr": 0.05},
         ("privacy.tpr_at_fpr",)),
]
