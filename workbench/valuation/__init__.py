"""Data valuation: Find the training points that help or hurt a model, and mislabeled data.

The entry point is :func:`value`; each method also exists as a scikit-learn style class
(:class:`TMCShapley`, :class:`MSRBanzhaf`, :class:`KNNShapley` ...). Names load lazily so that
importing the package (and its launcher spec) stays cheap.
"""

from __future__ import annotations

from workbench.core.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "value": "api",
        "list_methods": "api",
        "make_method": "api",
        "METHODS": "api",
        "LeaveOneOut": "semivalues",
        "TMCShapley": "semivalues",
        "BetaShapley": "semivalues",
        "MSRBanzhaf": "semivalues",
        "beta_weights": "semivalues",
        "KNNShapley": "knn",
        "knn_shapley_values": "knn",
        "DataOOB": "oob",
        "LabelConfidence": "confidence",
        "RankEnsemble": "ensemble",
        "ValuationResult": "result",
        "CurveResult": "result",
        "detection_scores": "detection",
        "point_removal_curve": "evaluation",
        "point_addition_curve": "evaluation",
        "score_without": "evaluation",
        "noisy_split": "demo",
        "NoisySplit": "demo",
        "Utility": "utility",
    },
)
