"""The valuation methods by name, except the rank ensemble that combines them.

:data:`workbench.valuation.api.METHODS` adds ``"ensemble"`` to this table; the ensemble looks its
members up here, so neither module imports the other.
"""

from __future__ import annotations

from workbench.valuation.base import BaseValuation
from workbench.valuation.confidence import LabelConfidence
from workbench.valuation.knn import KNNShapley
from workbench.valuation.oob import DataOOB
from workbench.valuation.semivalues import BetaShapley, LeaveOneOut, MSRBanzhaf, TMCShapley

__all__ = ["MEMBER_METHODS"]

MEMBER_METHODS: dict[str, type[BaseValuation]] = {
    "loo": LeaveOneOut,
    "tmc_shapley": TMCShapley,
    "beta_shapley": BetaShapley,
    "banzhaf": MSRBanzhaf,
    "knn_shapley": KNNShapley,
    "data_oob": DataOOB,
    "confidence": LabelConfidence,
}
"""Every method a :class:`~workbench.valuation.ensemble.RankEnsemble` can combine."""
