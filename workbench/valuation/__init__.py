"""Data valuation: Find the training points that help or hurt a model, and mislabeled data.

The entry point is :func:`value`; each method also exists as a scikit-learn style class
(:class:`TMCShapley`, :class:`MSRBanzhaf`, :class:`KNNShapley` ...). Names load lazily so that
importing the package (and its launcher spec) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
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
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        module = importlib.import_module(f"workbench.valuation.{_EXPORTS[name]}")
        return getattr(module, name)
    raise AttributeError(f"module 'workbench.valuation' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
