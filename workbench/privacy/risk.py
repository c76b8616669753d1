"""Per-record membership risk, and how it tracks how atypical each record is.

A record's risk is the mean score of the audit's risk attack while the record is a member; it is
``detected`` when its score clears the threshold that keeps the false-positive rate at 1%. The
talk's claim, that outliers are the records a model memorizes, is then checked by the rank
correlation between risk and an outlier score (:func:`add_outliers`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from workbench.privacy.metrics import threshold_at_fpr
from workbench.privacy.outliers import outlier_scores

__all__ = ["RISK_FPR", "add_outliers", "given_risk", "pooled_risk"]

RISK_FPR = 0.01
"""False-positive rate whose threshold decides whether a member counts as ``detected``."""


def pooled_risk(members: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Risk and detection rate of each record over the models that trained on it (pooled mode).

    Parameters
    ----------
    members : numpy.ndarray of bool, shape (n_models, n_records)
        Training set of each model.
    scores : numpy.ndarray of shape (n_models, n_records)
        The risk attack's scores, row ``k`` with model ``k`` as the target.

    Returns
    -------
    risk : numpy.ndarray of shape (n_records,)
        Mean score over the record's member instances.
    detected : numpy.ndarray of shape (n_records,)
        Share of those instances at or above the :data:`RISK_FPR` threshold.
    """
    tau = threshold_at_fpr(members.ravel(), scores.ravel(), RISK_FPR)
    n_in = members.sum(axis=0)
    risk = np.where(members, scores, 0.0).sum(axis=0) / n_in
    detected = np.where(members, scores >= tau, False).sum(axis=0) / n_in
    return risk, detected


def given_risk(
    member: np.ndarray, scores: np.ndarray, labels: np.ndarray, eval_scores: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Risk and detection of each member of a given model (NaN for the other records).

    Parameters
    ----------
    member : numpy.ndarray of bool, shape (n_records,)
        Whether the model trained on each record.
    scores : numpy.ndarray of shape (n_records,)
        The risk attack's score of every record.
    labels : numpy.ndarray of bool, shape (n_eval,)
        Membership of the evaluated records (members, then non-members).
    eval_scores : numpy.ndarray of shape (n_eval,)
        Their scores, which set the :data:`RISK_FPR` threshold.

    Returns
    -------
    risk : numpy.ndarray of shape (n_records,)
        The member's score; NaN for non-members.
    detected : numpy.ndarray of shape (n_records,)
        1.0 when the member's score clears the threshold, else 0.0; NaN for non-members.
    """
    tau = threshold_at_fpr(labels, eval_scores, RISK_FPR)
    risk = np.where(member, scores, np.nan)
    detected = np.where(member, (scores >= tau).astype(float), np.nan)
    return risk, detected


def add_outliers(
    records: pd.DataFrame, X: np.ndarray, y: np.ndarray, *, method: str, random_state: Any
) -> tuple[pd.DataFrame, float]:
    """Add ``outlier`` and ``is_outlier`` columns, and correlate outlierness with risk.

    Parameters
    ----------
    records : pandas.DataFrame
        One row per record, with a ``risk`` column (NaN where a record has none).
    X, y : numpy.ndarray
        The checked audit records.
    method : str
        Outlier method (see :func:`~workbench.privacy.outliers.outlier_scores`).
    random_state : int or None
        Seed of the isolation forest.

    Returns
    -------
    records : pandas.DataFrame
        A copy with the two columns added.
    spearman : float
        Rank correlation of outlier score and risk over records with a risk; NaN when either is
        constant.
    """
    outlier, flags = outlier_scores(X, y, method=method, random_state=random_state)
    records = records.assign(outlier=outlier, is_outlier=flags)
    risk = records["risk"].to_numpy(dtype=float)
    has_risk = np.isfinite(risk)
    a, b = outlier[has_risk], risk[has_risk]
    # A constant risk (e.g. every member at zero loss) has no rank correlation: NaN, no warning.
    rho = float(spearmanr(a, b).statistic) if np.ptp(a) > 0 and np.ptp(b) > 0 else float("nan")
    return records, rho
