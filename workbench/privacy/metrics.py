"""Membership-inference metrics: ROC, AUC, TPR at a fixed low FPR, membership advantage.

The ROC curve and its area come from :mod:`sklearn.metrics` (as in the valuation tool); this module
adds the membership-inference readings of that curve and the boundary checks.

The field reports TPR at 1% and 0.1% FPR (Carlini et al. 2022) because an attack that is right on
a few records with near certainty is a real risk even when its AUC is unremarkable. Two details
matter at low FPR:

* **Ties.** Scores that are equal must share one threshold. Sorting them by label (members first)
  would invent a perfect low-FPR detector out of a constant score; scikit-learn's ``roc_curve``
  only places thresholds between distinct scores, so a tied block moves TPR and FPR together.
* **Sample size.** An FPR of 0.1% is only measurable with at least ``10 / 0.001`` non-members;
  :func:`is_reliable` says whether that holds. Audits pool targets to get there.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import auc as trapezoid_area
from sklearn.metrics import roc_curve

from workbench.core.errors import InputError
from workbench.core.validation import check_array, check_consistent_length, check_probability

__all__ = [
    "auc",
    "is_reliable",
    "membership_advantage",
    "roc_points",
    "threshold_at_fpr",
    "tpr_at_fpr",
]


def _check_labels_scores(labels: Any, scores: Any) -> tuple[np.ndarray, np.ndarray]:
    s = check_array(scores, name="scores", ndim=1)
    try:
        lab = np.asarray(labels)
    except (TypeError, ValueError):
        lab = np.asarray([None], dtype=object)
    if lab.ndim != 1:
        raise InputError(f"labels must be 1-dimensional, got shape {lab.shape}.")
    check_consistent_length(labels=lab, scores=s)
    if lab.dtype != bool:
        if lab.dtype.kind not in "iuf" or not np.isin(lab, [0, 1]).all():
            shown = list(dict.fromkeys(lab.tolist()))[:5]
            raise InputError(f"labels must be boolean or 0/1 (1 = member), got values {shown}.")
        lab = lab.astype(bool)
    if lab.all() or not lab.any():
        raise InputError(
            "labels need both members (True) and non-members (False) to measure an attack."
        )
    return lab, s


def roc_points(labels: Any, scores: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ROC curve of a membership score, with tied scores sharing one threshold.

    Parameters
    ----------
    labels : array-like of shape (n,)
        True (or 1) for members, False (or 0) for non-members.
    scores : array-like of shape (n,)
        Attack score; higher means "more likely a member".

    Returns
    -------
    fpr, tpr : numpy.ndarray
        False- and true-positive rates, starting at (0, 0) and ending at (1, 1), one point per
        distinct score.
    thresholds : numpy.ndarray
        ``score >= thresholds[i]`` gives ``(fpr[i], tpr[i])``; the first is ``+inf``.

    Raises
    ------
    InputError
        If the lengths differ, the scores are not finite, or one of the two classes is absent.
    """
    lab, s = _check_labels_scores(labels, scores)
    # Ties are never broken here: roc_curve puts thresholds only between distinct scores (the
    # convention this module always had), so a block of equal scores, such as the discrete
    # probabilities of a random forest, enters at once and cannot fake low-FPR power; an attack
    # that wants TPR at 0.1% breaks its own ties in its score (RMIA's tie-break, LiRA's z-values).
    # drop_intermediate=False keeps every threshold, so tpr_at_fpr reads the exact best TPR
    # within the budget and auc sums the same trapezoids as before, bit for bit.
    fpr, tpr, thresholds = roc_curve(lab, s, drop_intermediate=False)
    return fpr, tpr, thresholds


def auc(labels: Any, scores: Any) -> float:
    """Area under the ROC curve (ties count one half).

    Parameters
    ----------
    labels, scores : array-like of shape (n,)
        See :func:`roc_points`.

    Returns
    -------
    float
    """
    fpr, tpr, _ = roc_points(labels, scores)
    return float(trapezoid_area(fpr, tpr))


def _check_fpr(fpr: float) -> float:
    return check_probability(fpr, name="fpr")


def tpr_at_fpr(labels: Any, scores: Any, fpr: float = 0.01) -> float:
    """Highest TPR reachable with a false-positive rate of at most ``fpr``.

    Parameters
    ----------
    labels, scores : array-like of shape (n,)
        See :func:`roc_points`.
    fpr : float, default=0.01
        The FPR budget, in (0, 1).

    Returns
    -------
    float
        0 when no threshold stays within the budget.
    """
    fpr = _check_fpr(fpr)
    f, t, _ = roc_points(labels, scores)
    return float(t[f <= fpr].max())


def threshold_at_fpr(labels: Any, scores: Any, fpr: float = 0.01) -> float:
    """Score threshold (``score >= threshold``) achieving :func:`tpr_at_fpr`.

    Parameters
    ----------
    labels, scores : array-like of shape (n,)
        See :func:`roc_points`.
    fpr : float, default=0.01
        The FPR budget, in (0, 1).

    Returns
    -------
    float
        ``inf`` when no positive threshold stays within the budget.
    """
    fpr = _check_fpr(fpr)
    f, t, th = roc_points(labels, scores)
    ok = np.nonzero(f <= fpr)[0]
    best = ok[np.argmax(t[ok])]
    return float(th[best])


def membership_advantage(labels: Any, scores: Any) -> float:
    """Best ``TPR - FPR`` over thresholds (Yeom et al. 2018); 0 is no leak, 1 total leak.

    Parameters
    ----------
    labels, scores : array-like of shape (n,)
        See :func:`roc_points`.

    Returns
    -------
    float
    """
    f, t, _ = roc_points(labels, scores)
    return float(np.max(t - f))


def is_reliable(n_nonmembers: int, fpr: float) -> bool:
    """Whether ``n_nonmembers`` suffice to measure a TPR at ``fpr`` (at least ``10 / fpr``).

    Parameters
    ----------
    n_nonmembers : int
        Number of non-member scores behind the ROC curve.
    fpr : float
        The FPR level, in (0, 1).

    Returns
    -------
    bool
    """
    fpr = _check_fpr(fpr)
    return bool(n_nonmembers >= 10.0 / fpr - 1e-9)
