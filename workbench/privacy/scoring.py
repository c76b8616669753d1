"""Running the attacks on collected model outputs, and measuring them on known membership.

The audit trains its models once (:mod:`workbench.privacy.shadows`); this module turns their
outputs into one score per attack, target model and record (:func:`target_scores`,
:func:`pooled_scores`) and reads the ROC statistics of those scores (:func:`attack_metrics`).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from workbench.privacy import attacks as atk
from workbench.privacy.metrics import auc, is_reliable, membership_advantage, roc_points, tpr_at_fpr
from workbench.privacy.shadows import ModelOutputs

__all__ = [
    "RISK_PREFERENCE",
    "attack_metrics",
    "headline_metrics",
    "pooled_scores",
    "risk_attack",
    "target_scores",
]

RISK_PREFERENCE: tuple[str, ...] = (
    "lira_online",
    "rmia",
    "lira_offline",
    "calibrated",
    "loss",
    "label_only",
)
"""Attacks in the order the audit prefers them for per-record risk (strongest first)."""


def risk_attack(names: Iterable[str]) -> str:
    """The attack behind per-record risk: the first of :data:`RISK_PREFERENCE` that was run.

    Parameters
    ----------
    names : iterable of str
        The attacks that were run (checked names).

    Returns
    -------
    str
    """
    run = set(names)
    return next(a for a in RISK_PREFERENCE if a in run)


def target_scores(
    names: list[str],
    target: dict[str, np.ndarray | None],
    refs: ModelOutputs | None,
    ref_in: np.ndarray | None,
    *,
    fixed_variance: bool,
) -> dict[str, np.ndarray]:
    """Scores of every requested attack against one target model.

    Parameters
    ----------
    names : list of str
        Attacks to run (see :data:`workbench.privacy.attacks.ATTACKS`).
    target : dict
        The target's outputs, as :func:`~workbench.privacy.shadows.query_model` returns them.
    refs : ModelOutputs or None
        Outputs of the reference models (None when no attack needs them).
    ref_in : numpy.ndarray of bool, shape (n_refs, n_records), or None
        Whether each reference model trained on each record.
    fixed_variance : bool
        LiRA with one variance pooled over records.

    Returns
    -------
    dict of str to numpy.ndarray of shape (n_records,)
        Attack name to membership score (higher = more likely a member).
    """
    out: dict[str, np.ndarray] = {}
    p_t = target["p_true"]
    # Without references, clipping only guards log(0); any small level ranks the same.
    eps = 1e-15
    if refs is not None and refs.p_true is not None:
        eps = atk.clip_epsilon(refs.p_true)
    for name in names:
        if name == "loss":
            out[name] = atk.loss_scores(p_t, eps)
        elif name == "label_only":
            out[name] = np.asarray(target["robust"], dtype=float)
        elif name == "calibrated":
            out[name] = atk.calibrated_scores(p_t, refs.p_true, ref_in, eps)
        elif name == "lira_offline":
            out[name] = atk.lira_offline_scores(
                p_t, refs.p_true, ref_in, eps, fixed_variance=fixed_variance
            )
        elif name == "lira_online":
            out[name] = atk.lira_online_scores(
                p_t, refs.p_true, ref_in, eps, fixed_variance=fixed_variance
            )
        elif name == "rmia":
            out[name] = atk.rmia_scores(p_t, refs.p_true, eps)
    return out


def pooled_scores(
    outputs: ModelOutputs, members: np.ndarray, names: list[str], *, fixed_variance: bool
) -> dict[str, np.ndarray]:
    """Scores of every attack with each model as the target once and the others as references.

    Parameters
    ----------
    outputs : ModelOutputs
        Outputs of all models of a pooled audit.
    members : numpy.ndarray of bool, shape (n_models, n_records)
        Training set of each model.
    names : list of str
        Attacks to run.
    fixed_variance : bool
        LiRA with one variance pooled over records.

    Returns
    -------
    dict of str to numpy.ndarray of shape (n_models, n_records)
        Row ``k``: the attack's scores with model ``k`` as the target.
    """
    n_models = members.shape[0]
    scores = {name: np.empty(members.shape) for name in names}
    for k in range(n_models):
        rows = np.r_[0:k, k + 1 : n_models]
        per = target_scores(
            names,
            outputs.model(k),
            outputs.models(rows),
            members[rows],
            fixed_variance=fixed_variance,
        )
        for name, s in per.items():
            scores[name][k] = s
    return scores


def headline_metrics(labels: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    """AUC, TPR at 1% and 0.1% FPR and membership advantage of one attack.

    Parameters
    ----------
    labels : numpy.ndarray of bool, shape (n,)
        Membership behind each score.
    scores : numpy.ndarray of shape (n,)
        The attack's scores.

    Returns
    -------
    dict of str to float
        ``auc``, ``tpr@1%fpr``, ``tpr@0.1%fpr`` and ``advantage``.
    """
    return {
        "auc": auc(labels, scores),
        "tpr@1%fpr": tpr_at_fpr(labels, scores, 0.01),
        "tpr@0.1%fpr": tpr_at_fpr(labels, scores, 0.001),
        "advantage": membership_advantage(labels, scores),
    }


def attack_metrics(
    labels: np.ndarray, scores: dict[str, np.ndarray]
) -> tuple[pd.DataFrame, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """The audit's metrics table and ROC curves, one attack per row.

    Parameters
    ----------
    labels : numpy.ndarray of bool
        Membership behind the scores (any shape; read flat).
    scores : dict of str to numpy.ndarray
        Attack name to scores of the same shape as ``labels``.

    Returns
    -------
    metrics : pandas.DataFrame
        Columns ``attack``, the :func:`headline_metrics`, ``n_members``, ``n_nonmembers`` and
        whether each low-FPR value is ``reliable`` (:func:`~workbench.privacy.metrics.is_reliable`).
    curves : dict of str to (numpy.ndarray, numpy.ndarray)
        Attack name to ``(fpr, tpr)``.
    """
    labels = labels.ravel()
    rows = []
    curves = {}
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    for name, s in scores.items():
        s = s.ravel()
        fpr, tpr, _ = roc_points(labels, s)
        curves[name] = (fpr, tpr)
        rows.append(
            {
                "attack": name,
                **headline_metrics(labels, s),
                "n_members": n_pos,
                "n_nonmembers": n_neg,
                "reliable@1%": is_reliable(n_neg, 0.01),
                "reliable@0.1%": is_reliable(n_neg, 0.001),
            }
        )
    return pd.DataFrame(rows), curves
