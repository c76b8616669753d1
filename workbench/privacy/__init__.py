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

from workbench.core.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "ATTACKS": "attacks",
        "AuditReport": "report",
        "DEMO_MODELS": "models",
        "MitigationReport": "report",
        "auc": "metrics",
        "audit": "auditing",
        "demo_model": "models",
        "dp_variants": "mitigations",
        "membership_advantage": "metrics",
        "mitigation_variants": "mitigations",
        "outlier_scores": "outliers",
        "roc_points": "metrics",
        "tpr_at_fpr": "metrics",
    },
)
