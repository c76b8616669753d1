"""The privacy audit: train (or take) a target model, run membership-inference attacks, report.

Two modes:

* **Pooled** (``members=None``): the audit trains ``n_shadows + 1`` clones of the estimator, each
  on a random half of the records (every record is in exactly half of them), and scores every
  model once as the target with the others as its references. Pooling gives
  ``(n_shadows + 1) * n_records / 2`` non-member scores, enough to read TPR at 1% FPR on a few
  hundred records.
* **Given** (``members=...``): the estimator is an already fitted model whose training records are
  known; ``n_shadows`` clones trained on random halves of ``X`` serve as references.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from workbench.privacy import attacks as atk
from workbench.privacy.checks import MIN_RECORDS, MIN_SHADOWS, validate_audit
from workbench.privacy.metrics import (
    auc,
    is_reliable,
    membership_advantage,
    roc_points,
    threshold_at_fpr,
    tpr_at_fpr,
)
from workbench.privacy.mitigations import build_variants
from workbench.privacy.outliers import outlier_scores
from workbench.privacy.report import AuditReport, MitigationReport
from workbench.privacy.shadows import (
    LabelOnlyQueries,
    ModelOutputs,
    pooled_splits,
    query_model,
    train_models,
)

__all__ = ["MIN_RECORDS", "MIN_SHADOWS", "audit"]

_RISK_PREFERENCE = ("lira_online", "rmia", "lira_offline", "calibrated", "loss", "label_only")
_FPRS = (0.01, 0.001)


def _model_name(estimator: Any) -> str:
    steps = getattr(estimator, "steps", None)
    if steps:
        return "Pipeline(" + ", ".join(type(s).__name__ for _, s in steps) + ")"
    return type(estimator).__name__


def _scores_for_target(
    names: list[str],
    target: dict[str, np.ndarray | None],
    refs: ModelOutputs | None,
    ref_in: np.ndarray | None,
    fixed_variance: bool,
) -> dict[str, np.ndarray]:
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


def _row(outputs: ModelOutputs, k: int) -> dict[str, np.ndarray | None]:
    return {
        "p_true": None if outputs.p_true is None else outputs.p_true[k],
        "robust": None if outputs.robust is None else outputs.robust[k],
        "correct": outputs.correct[k],
    }


def _subset(outputs: ModelOutputs, rows: np.ndarray) -> ModelOutputs:
    return ModelOutputs(
        p_true=None if outputs.p_true is None else outputs.p_true[rows],
        correct=outputs.correct[rows],
        robust=None if outputs.robust is None else outputs.robust[rows],
    )


def _pooled_scores(
    outputs: ModelOutputs, members: np.ndarray, names: list[str], fixed_variance: bool
) -> dict[str, np.ndarray]:
    n_models = members.shape[0]
    scores = {name: np.empty(members.shape) for name in names}
    for k in range(n_models):
        rows = np.r_[0:k, k + 1 : n_models]
        per = _scores_for_target(
            names, _row(outputs, k), _subset(outputs, rows), members[rows], fixed_variance
        )
        for name, s in per.items():
            scores[name][k] = s
    return scores


def _metrics_table(
    labels: np.ndarray, scores: dict[str, np.ndarray]
) -> tuple[pd.DataFrame, dict[str, tuple[np.ndarray, np.ndarray]]]:
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
                "auc": auc(labels, s),
                "tpr@1%fpr": tpr_at_fpr(labels, s, 0.01),
                "tpr@0.1%fpr": tpr_at_fpr(labels, s, 0.001),
                "advantage": membership_advantage(labels, s),
                "n_members": n_pos,
                "n_nonmembers": n_neg,
                "reliable@1%": is_reliable(n_neg, 0.01),
                "reliable@0.1%": is_reliable(n_neg, 0.001),
            }
        )
    return pd.DataFrame(rows), curves


def _pooled_run(
    estimator: Any,
    X: np.ndarray,
    y: np.ndarray,
    members: np.ndarray,
    seeds: np.ndarray,
    names: list[str],
    label_only: LabelOnlyQueries | None,
    fixed_variance: bool,
    n_jobs: int | None,
    show_progress: bool | None,
    desc: str,
) -> tuple[ModelOutputs, dict[str, np.ndarray]]:
    outputs = train_models(
        estimator,
        X,
        y,
        members,
        seeds,
        need_proba=any(a in atk.NEEDS_PROBA for a in names),
        label_only=label_only if "label_only" in names else None,
        n_jobs=n_jobs,
        show_progress=show_progress,
        desc=desc,
    )
    return outputs, _pooled_scores(outputs, members, names, fixed_variance)


def audit(
    estimator: Any,
    X: Any,
    y: Any,
    *,
    members: Any = None,
    non_members: Any = None,
    n_shadows: int = 16,
    attacks: str | Iterable[str] | None = None,
    mitigations: str | Iterable[str] | Mapping[str, Any] | None = None,
    epsilons: Iterable[float] = (1.0, 10.0),
    outlier_method: str = "class_distance",
    fixed_variance: bool = True,
    n_queries: int = 16,
    noise_scale: float = 0.1,
    random_state: int | None = None,
    n_jobs: int | None = None,
    show_progress: bool | None = None,
) -> AuditReport:
    """Audit how much a classifier leaks about which records it was trained on.

    Parameters
    ----------
    estimator : scikit-learn classifier
        Pooled mode (``members=None``): an unfitted template, cloned for the target and every
        shadow model. Given mode: the fitted model to audit.
    X : array-like of shape (n_records, n_features)
        The records. In given mode: members, non-members and any other population records,
        all of which the shadow models may train on.
    y : array-like of shape (n_records,)
        Class labels.
    members : array-like of int or bool mask, optional
        Given mode: rows of ``X`` the fitted model was trained on.
    non_members : array-like of int or bool mask, optional
        Given mode: rows known not to be in training; all other rows by default. Must not overlap
        ``members``.
    n_shadows : int, default=16
        Shadow (reference) models, at most 1024. At least 4 for the reference attacks; 0 runs
        only ``loss`` and ``label_only`` (given mode).
    attacks : str or iterable of str, optional
        Subset of ``loss``, ``calibrated``, ``lira_offline``, ``lira_online``, ``rmia``,
        ``label_only`` (see :mod:`workbench.privacy.attacks`); all by default.
    mitigations : "auto", iterable of {"regularize", "dp"} or mapping, optional
        Also audit mitigated variants on the same splits (pooled mode only) and add the
        privacy/accuracy trade-off to the report. See
        :func:`workbench.privacy.mitigations.mitigation_variants`.
    epsilons : iterable of float, default=(1.0, 10.0)
        Privacy budgets of the differentially private variants.
    outlier_method : {"class_distance", "isolation_forest"}, default="class_distance"
        How record outlierness is scored (see :func:`workbench.privacy.outlier_scores`).
    fixed_variance : bool, default=True
        LiRA with one variance pooled over records (better below ~64 shadows).
    n_queries : int, default=16
        Perturbed queries per record for the label-only attack, 1 to 1000.
    noise_scale : float, default=0.1
        Their noise, as a share of each feature's standard deviation, in ``(0, 10]``.
    random_state : int, optional
        Seed of the splits, the models, the label-only noise and the outlier forest, in
        ``[0, 2**32 - 1]``.
    n_jobs : int, optional
        Parallel workers for training (joblib convention; honours ``joblib.parallel_config``).
    show_progress : bool, optional
        Force the progress bar on or off.

    Returns
    -------
    AuditReport

    Raises
    ------
    InputError
        Bad X/y, too few records, a class too rare, overlapping member sets, labels unknown to
        the fitted model, too few shadows for the chosen attacks, bad numbers.
    InputTypeError
        An estimator that is not a scikit-learn estimator, or arguments of the wrong type.
    ModelError
        A regressor or clusterer (the audit needs a classifier), a model without
        ``predict_proba`` asked for probability attacks (use ``attacks=['label_only']``), or a
        shadow model failed to train.
    NotFittedError
        Given mode with an unfitted estimator.
    UnknownNameError
        Unknown attack, mitigation or outlier method.
    """
    from scipy.stats import spearmanr
    from sklearn.base import clone

    args = validate_audit(
        estimator, X, y, members=members, non_members=non_members, n_shadows=n_shadows,
        attacks=attacks, mitigations=mitigations, epsilons=epsilons,
        outlier_method=outlier_method, fixed_variance=fixed_variance, n_queries=n_queries,
        noise_scale=noise_scale, random_state=random_state, n_jobs=n_jobs,
        show_progress=show_progress,
    )  # fmt: skip
    Xa, ya, names, needs_refs = args.X, args.y, args.names, args.needs_refs
    n_shadows, random_state, n_jobs = args.n_shadows, args.random_state, args.n_jobs
    pooled, n = args.pooled, args.X.shape[0]

    if mitigations is not None:
        # Built before any training so a bad request fails fast.
        variants, notes = build_variants(estimator, Xa, ya, mitigations, args.epsilons)

    # Splits come from random_state alone (see pooled_splits); other draws from a second stream.
    rng = np.random.default_rng(None if random_state is None else [int(random_state), 1])
    label_only = LabelOnlyQueries(
        n_queries=args.n_queries, noise_scale=args.noise_scale, seed=int(rng.integers(2**31))
    )

    if pooled:
        n_models = n_shadows + 1
        member_matrix, seeds = pooled_splits(n, n_models, random_state)
        outputs, scores = _pooled_run(
            estimator, Xa, ya, member_matrix, seeds, names, label_only, fixed_variance,
            n_jobs, show_progress, "Training target and shadow models",
        )  # fmt: skip
        labels = member_matrix.ravel()
        metrics, curves = _metrics_table(labels, scores)
        train_acc = float(outputs.correct[member_matrix].mean())
        test_acc = float(outputs.correct[~member_matrix].mean())
        risk_attack = next(a for a in _RISK_PREFERENCE if a in names)
        s = scores[risk_attack]
        tau = threshold_at_fpr(labels, s.ravel(), 0.01)
        n_in = member_matrix.sum(axis=0)
        risk = np.where(member_matrix, s, 0.0).sum(axis=0) / n_in
        detected = np.where(member_matrix, s >= tau, False).sum(axis=0) / n_in
        records = pd.DataFrame({"record": np.arange(n), "label": ya, "n_member_models": n_in})
    else:
        in_idx, out_idx = args.in_idx, args.out_idx
        n_models = n_shadows
        target = query_model(
            estimator,
            Xa,
            ya,
            need_proba=any(a in atk.NEEDS_PROBA for a in names),
            label_only=label_only if "label_only" in names else None,
        )
        refs, ref_in = None, None
        if needs_refs:
            ref_in, seeds = pooled_splits(n, n_shadows, random_state)
            refs = train_models(
                clone(estimator),
                Xa,
                ya,
                ref_in,
                seeds,
                need_proba=True,
                label_only=None,
                n_jobs=n_jobs,
                show_progress=show_progress,
            )
        else:
            n_models = 0
        all_scores = _scores_for_target(names, target, refs, ref_in, fixed_variance)
        eval_idx = np.r_[in_idx, out_idx]
        labels = np.r_[np.ones(in_idx.size, bool), np.zeros(out_idx.size, bool)]
        scores = {k: v[eval_idx] for k, v in all_scores.items()}
        metrics, curves = _metrics_table(labels, scores)
        correct = np.asarray(target["correct"])
        train_acc = float(correct[in_idx].mean())
        test_acc = float(correct[out_idx].mean())
        risk_attack = next(a for a in _RISK_PREFERENCE if a in names)
        tau = threshold_at_fpr(labels, scores[risk_attack], 0.01)
        member = np.zeros(n, bool)
        member[in_idx] = True
        s = all_scores[risk_attack]
        risk = np.where(member, s, np.nan)
        detected = np.where(member, (s >= tau).astype(float), np.nan)
        records = pd.DataFrame({"record": np.arange(n), "label": ya, "member": member})

    outlier, flags = outlier_scores(
        Xa, ya, method=outlier_method, random_state=int(rng.integers(2**31))
    )
    records["risk"] = risk
    records["detected"] = detected
    records["outlier"] = outlier
    records["is_outlier"] = flags
    has_risk = np.isfinite(risk)
    a, b = outlier[has_risk], risk[has_risk]
    # A constant risk (e.g. every member at zero loss) has no rank correlation: NaN, no warning.
    rho = float(spearmanr(a, b).statistic) if np.ptp(a) > 0 and np.ptp(b) > 0 else float("nan")

    mitigation_report = None
    if mitigations is not None:
        row0 = metrics.set_index("attack").loc[risk_attack]
        table = [
            {
                "variant": "original",
                "train_accuracy": train_acc,
                "test_accuracy": test_acc,
                "auc": float(row0["auc"]),
                "tpr@1%fpr": float(row0["tpr@1%fpr"]),
                "tpr@0.1%fpr": float(row0["tpr@0.1%fpr"]),
                "advantage": float(row0["advantage"]),
            }
        ]
        for vname, variant in variants.items():
            v_out, v_scores = _pooled_run(
                variant, Xa, ya, member_matrix, seeds, [risk_attack], label_only,
                fixed_variance, n_jobs, show_progress, f"Mitigation {vname}",
            )  # fmt: skip
            vs = v_scores[risk_attack].ravel()
            table.append(
                {
                    "variant": vname,
                    "train_accuracy": float(v_out.correct[member_matrix].mean()),
                    "test_accuracy": float(v_out.correct[~member_matrix].mean()),
                    "auc": auc(labels, vs),
                    "tpr@1%fpr": tpr_at_fpr(labels, vs, 0.01),
                    "tpr@0.1%fpr": tpr_at_fpr(labels, vs, 0.001),
                    "advantage": membership_advantage(labels, vs),
                }
            )
        mitigation_report = MitigationReport(
            table=pd.DataFrame(table), attack=risk_attack, notes=notes
        )

    return AuditReport(
        model=_model_name(estimator),
        mode="pooled" if pooled else "given",
        n_records=n,
        n_models=n_models,
        metrics=metrics,
        records=records,
        risk_attack=risk_attack,
        outlier_method=outlier_method,
        outlier_risk_spearman=rho,
        train_accuracy=train_acc,
        test_accuracy=test_acc,
        mitigations=mitigation_report,
        _curves=curves,
        _scores=scores,
        _labels=labels.reshape(member_matrix.shape) if pooled else labels,
    )
