"""Privacy audit: membership-inference attacks and per-record memorization risk, with mitigations.

The public API is loaded lazily so that importing :mod:`workbench.privacy.spec` (which the
launcher does for every tool) stays cheap and imports neither scikit-learn nor ipywidgets.

Examples
--------
>>> from sklearn.ensemble import RandomForestClassifier
>>> from workbench.core.datasets import load_dataset
>>> from workbench.privacy import audit
>>> data = load_dataset("breast_cancer")
>>> report = audit(RandomForestClassifier(n_estimators=50), data.X, data.y,
...                n_shadows=8, random_state=0, show_progress=False)  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "ATTACKS",
    "DEMO_MODELS",
    "AuditReport",
    "MitigationReport",
    "auc",
    "audit",
    "demo_model",
    "dp_variants",
    "membership_advantage",
    "mitigation_variants",
    "outlier_scores",
    "roc_points",
    "tpr_at_fpr",
]

_WHERE = {
    "ATTACKS": "attacks",
    "AuditReport": "report",
    "MitigationReport": "report",
    "audit": "auditing",
    "DEMO_MODELS": "models",
    "demo_model": "models",
    "auc": "metrics",
    "dp_variants": "mitigations",
    "membership_advantage": "metrics",
    "mitigation_variants": "mitigations",
    "outlier_scores": "outliers",
    "roc_points": "metrics",
    "tpr_at_fpr": "metrics",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        module = importlib.import_module(f"workbench.privacy.{_WHERE[name]}")
        return getattr(module, name)
    raise AttributeError(f"module 'workbench.privacy' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
