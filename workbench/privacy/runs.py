"""The audit's two modes, each as one run: members, training, attacks and per-record risk.

* :func:`run_pooled` (``members=None``): the audit trains ``n_shadows + 1`` clones of the
  estimator, each on a random half of the records (every record is in exactly half of them), and
  scores every model once as the target with the others as its references. Pooling gives
  ``(n_shadows + 1) * n_records / 2`` non-member scores, enough to read TPR at 1% FPR on a few
  hundred records.
* :func:`run_given` (``members=...``): the estimator is an already fitted model whose training
  records are known; ``n_shadows`` clones trained on random halves of ``X`` serve as references.

Both return an :class:`AttackRun`, which the audit completes with outliers and mitigations.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from workbench.privacy import attacks as atk
from workbench.privacy.arguments import AuditArgs
from workbench.privacy.risk import given_risk, pooled_risk
from workbench.privacy.scoring import attack_metrics, pooled_scores, risk_attack, target_scores
from workbench.privacy.shadows import (
    LabelOnlyQueries,
    ModelOutputs,
    pooled_splits,
    query_model,
    train_models,
)

__all__ = ["AttackRun", "run_given", "run_pooled", "train_pooled"]


@dataclasses.dataclass
class AttackRun:
    """What one audit mode measured, before outliers and mitigations are added.

    Attributes
    ----------
    n_models : int
        Models the run trained (target and shadows, or references only).
    labels : numpy.ndarray of bool
        Membership behind the scores: shape ``(n_models, n_records)`` in pooled mode,
        ``(n_members + n_nonmembers,)`` (members first) in given mode.
    scores : dict of str to numpy.ndarray
        Attack name to scores of the same shape as ``labels``.
    metrics : pandas.DataFrame
        One row per attack (see :func:`~workbench.privacy.scoring.attack_metrics`).
    curves : dict of str to (numpy.ndarray, numpy.ndarray)
        Attack name to ROC ``(fpr, tpr)``.
    train_accuracy, test_accuracy : float
        Accuracy on members and on non-members (mean over models in pooled mode).
    risk_attack : str
        The attack behind per-record risk.
    records : pandas.DataFrame
        One row per record: ``record``, ``label``, ``n_member_models`` (pooled) or ``member``
        (given), ``risk`` and ``detected``.
    seeds : numpy.ndarray of int or None
        Pooled mode: the models' seeds, so that variants are trained on the same splits
        (``labels`` holds the splits).
    """

    n_models: int
    labels: np.ndarray
    scores: dict[str, np.ndarray]
    metrics: pd.DataFrame
    curves: dict[str, tuple[np.ndarray, np.ndarray]]
    train_accuracy: float
    test_accuracy: float
    risk_attack: str
    records: pd.DataFrame
    seeds: np.ndarray | None = None


def train_pooled(
    estimator: Any,
    args: AuditArgs,
    members: np.ndarray,
    seeds: np.ndarray,
    names: list[str],
    label_only: LabelOnlyQueries,
    *,
    desc: str,
) -> ModelOutputs:
    """Train one clone of ``estimator`` per training set and collect what ``names`` need.

    Parameters
    ----------
    estimator : classifier
        Template (the audited estimator or a mitigated variant).
    args : AuditArgs
        Checked audit arguments (records, ``n_jobs``, ``show_progress``).
    members : numpy.ndarray of bool, shape (n_models, n_records)
        Training set of each model.
    seeds : numpy.ndarray of int, shape (n_models,)
        Seed of each model.
    names : list of str
        Attacks whose inputs to collect.
    label_only : LabelOnlyQueries
        Queries of the label-only attack (used only when it is in ``names``).
    desc : str
        Progress-bar label.

    Returns
    -------
    ModelOutputs
    """
    return train_models(
        estimator,
        args.X,
        args.y,
        members,
        seeds,
        need_proba=any(a in atk.NEEDS_PROBA for a in names),
        label_only=label_only if "label_only" in names else None,
        n_jobs=args.n_jobs,
        show_progress=args.show_progress,
        desc=desc,
    )


def run_pooled(estimator: Any, args: AuditArgs, label_only: LabelOnlyQueries) -> AttackRun:
    """Pooled mode: split, train target and shadows, attack each model, per-record risk.

    Parameters
    ----------
    estimator : classifier
        Unfitted template.
    args : AuditArgs
        Checked audit arguments.
    label_only : LabelOnlyQueries
        Queries of the label-only attack.

    Returns
    -------
    AttackRun
    """
    n = args.X.shape[0]
    # Splits and seeds come from random_state alone, so pooled_splits rebuilds these models.
    members, seeds = pooled_splits(n, args.n_shadows + 1, args.random_state)
    outputs = train_pooled(
        estimator, args, members, seeds, args.names, label_only,
        desc="Training target and shadow models",
    )  # fmt: skip
    scores = pooled_scores(outputs, members, args.names, fixed_variance=args.fixed_variance)
    metrics, curves = attack_metrics(members, scores)
    risk_name = risk_attack(args.names)
    risk, detected = pooled_risk(members, scores[risk_name])
    records = pd.DataFrame(
        {"record": np.arange(n), "label": args.y, "n_member_models": members.sum(axis=0)}
    )
    return AttackRun(
        n_models=args.n_shadows + 1,
        labels=members,
        scores=scores,
        metrics=metrics,
        curves=curves,
        train_accuracy=float(outputs.correct[members].mean()),
        test_accuracy=float(outputs.correct[~members].mean()),
        risk_attack=risk_name,
        records=records.assign(risk=risk, detected=detected),
        seeds=seeds,
    )


def run_given(estimator: Any, args: AuditArgs, label_only: LabelOnlyQueries) -> AttackRun:
    """Given mode: query the fitted target, train references, attack, per-member risk.

    Parameters
    ----------
    estimator : fitted classifier
        The audited model; ``args.in_idx`` are its training rows.
    args : AuditArgs
        Checked audit arguments (with ``in_idx`` and ``out_idx``).
    label_only : LabelOnlyQueries
        Queries of the label-only attack.

    Returns
    -------
    AttackRun
    """
    X, y, names = args.X, args.y, args.names
    n = X.shape[0]
    in_idx, out_idx = args.in_idx, args.out_idx
    target = query_model(
        estimator,
        X,
        y,
        need_proba=any(a in atk.NEEDS_PROBA for a in names),
        label_only=label_only if "label_only" in names else None,
    )
    refs, ref_in, n_models = None, None, 0
    if args.needs_refs:
        ref_in, seeds = pooled_splits(n, args.n_shadows, args.random_state)
        refs = train_models(
            clone(estimator),
            X,
            y,
            ref_in,
            seeds,
            need_proba=True,
            label_only=None,
            n_jobs=args.n_jobs,
            show_progress=args.show_progress,
        )
        n_models = args.n_shadows
    all_scores = target_scores(names, target, refs, ref_in, fixed_variance=args.fixed_variance)
    eval_idx = np.r_[in_idx, out_idx]
    labels = np.r_[np.ones(in_idx.size, bool), np.zeros(out_idx.size, bool)]
    scores = {k: v[eval_idx] for k, v in all_scores.items()}
    metrics, curves = attack_metrics(labels, scores)
    correct = np.asarray(target["correct"])
    risk_name = risk_attack(names)
    member = np.zeros(n, bool)
    member[in_idx] = True
    risk, detected = given_risk(member, all_scores[risk_name], labels, scores[risk_name])
    records = pd.DataFrame({"record": np.arange(n), "label": y, "member": member})
    return AttackRun(
        n_models=n_models,
        labels=labels,
        scores=scores,
        metrics=metrics,
        curves=curves,
        train_accuracy=float(correct[in_idx].mean()),
        test_accuracy=float(correct[out_idx].mean()),
        risk_attack=risk_name,
        records=records.assign(risk=risk, detected=detected),
    )
