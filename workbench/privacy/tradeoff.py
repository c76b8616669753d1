"""The privacy/accuracy trade-off: mitigated variants audited on the audit's own splits.

Every variant is trained on exactly the training sets (and with the seeds) of the pooled audit and
attacked with the audit's risk attack, so its row differs from the original's only by the change
the mitigation made.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from workbench.core.errors import InputError
from workbench.privacy.arguments import AuditArgs
from workbench.privacy.report import MitigationReport
from workbench.privacy.runs import AttackRun, train_pooled
from workbench.privacy.scoring import headline_metrics, pooled_scores
from workbench.privacy.shadows import LabelOnlyQueries

__all__ = ["compare_mitigations"]


def compare_mitigations(
    variants: dict[str, Any],
    notes: list[str],
    run: AttackRun,
    args: AuditArgs,
    label_only: LabelOnlyQueries,
) -> MitigationReport:
    """Audit each variant on the pooled run's splits and tabulate it against the original.

    Parameters
    ----------
    variants : dict of str to estimator
        Unfitted mitigated variants (see :func:`~workbench.privacy.mitigations.build_variants`).
    notes : list of str
        Variants that could not be built and why.
    run : AttackRun
        The pooled run of the original estimator.
    args : AuditArgs
        Checked audit arguments.
    label_only : LabelOnlyQueries
        Queries of the label-only attack (used when it is the risk attack).

    Returns
    -------
    MitigationReport
        One row per variant, the original first, with the accuracies and the risk attack's
        metrics.

    Raises
    ------
    InputError
        If ``run`` is not a pooled run (mitigations retrain the model).
    """
    if run.seeds is None:
        raise InputError("Mitigations retrain the model, so they need the pooled mode.")
    members, seeds = run.labels, run.seeds
    attack = run.risk_attack
    labels = members.ravel()
    row0 = run.metrics.set_index("attack").loc[attack]
    table = [
        {
            "variant": "original",
            "train_accuracy": run.train_accuracy,
            "test_accuracy": run.test_accuracy,
            "auc": float(row0["auc"]),
            "tpr@1%fpr": float(row0["tpr@1%fpr"]),
            "tpr@0.1%fpr": float(row0["tpr@0.1%fpr"]),
            "advantage": float(row0["advantage"]),
        }
    ]
    for name, variant in variants.items():
        outputs = train_pooled(
            variant, args, members, seeds, [attack], label_only, desc=f"Mitigation {name}"
        )
        scores = pooled_scores(outputs, members, [attack], fixed_variance=args.fixed_variance)
        table.append(
            {
                "variant": name,
                "train_accuracy": float(outputs.correct[members].mean()),
                "test_accuracy": float(outputs.correct[~members].mean()),
                **headline_metrics(labels, scores[attack].ravel()),
            }
        )
    return MitigationReport(table=pd.DataFrame(table), attack=attack, notes=notes)
