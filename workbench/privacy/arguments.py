"""The audit's arguments, checked together before any model is trained.

:func:`validate_audit` runs every argument of :func:`workbench.privacy.audit` through the checks of
:mod:`workbench.privacy.checks` (and core's) in one place and returns them as an
:class:`AuditArgs`, which the audit's steps take instead of a dozen loose values.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from workbench.core.errors import InputError
from workbench.core.params import check_flag, check_random_state
from workbench.core.validation import check_choice, check_n_jobs
from workbench.privacy import attacks as atk
from workbench.privacy.checks import (
    MIN_RECORDS,
    MIN_SHADOWS,
    check_classes,
    check_classifier,
    check_epsilons,
    check_members,
    check_records,
    check_sizes,
    resolve_attacks,
)
from workbench.privacy.outliers import OUTLIER_METHODS

__all__ = ["AuditArgs", "validate_audit"]


@dataclasses.dataclass
class AuditArgs:
    """The checked arguments of one audit (see :func:`validate_audit`).

    Attributes
    ----------
    X, y : numpy.ndarray
        The checked records and labels.
    names : list of str
        Attacks to run, in report order.
    needs_refs : list of str
        Those of them that need reference models.
    n_shadows, n_queries : int
        Shadow models; label-only queries per record.
    noise_scale : float
        Label-only noise, as a share of each feature's standard deviation.
    random_state : int or None
        The audit's seed.
    n_jobs : int or None
        Parallel workers.
    epsilons : list of float
        Privacy budgets of DP variants.
    outlier_method : str
        How record outlierness is scored.
    fixed_variance : bool
        LiRA with one pooled variance.
    show_progress : bool or None
        Progress bar on, off, or automatic.
    in_idx, out_idx : numpy.ndarray of int or None
        Given mode: member and non-member rows (None in pooled mode).
    """

    X: np.ndarray
    y: np.ndarray
    names: list[str]
    needs_refs: list[str]
    n_shadows: int
    n_queries: int
    noise_scale: float
    random_state: int | None
    n_jobs: int | None
    epsilons: list[float]
    outlier_method: str = "class_distance"
    fixed_variance: bool = True
    show_progress: bool | None = None
    in_idx: np.ndarray | None = None
    out_idx: np.ndarray | None = None

    @property
    def pooled(self) -> bool:
        """Whether the audit trains its own target models (no member set was given)."""
        return self.in_idx is None


def validate_audit(estimator: Any, X: Any, y: Any, **kw: Any) -> AuditArgs:
    """Check every argument of :func:`workbench.privacy.audit` before any model is trained.

    Parameters
    ----------
    estimator, X, y
        As for :func:`~workbench.privacy.audit`.
    **kw
        The audit's keyword arguments (``members``, ``non_members``, ``n_shadows``, ``attacks``,
        ``mitigations``, ``epsilons``, ``outlier_method``, ``fixed_variance``, ``n_queries``,
        ``noise_scale``, ``random_state``, ``n_jobs``, ``show_progress``).

    Returns
    -------
    AuditArgs
    """
    members, non_members = kw["members"], kw["non_members"]
    pooled = members is None
    check_classifier(estimator, fitted=not pooled)
    Xa, ya = check_records(X, y, min_samples=MIN_RECORDS)
    names = resolve_attacks(kw["attacks"], estimator)
    n_shadows, n_queries, noise_scale = check_sizes(
        kw["n_shadows"], kw["n_queries"], kw["noise_scale"]
    )
    needs_refs = [a for a in names if a in atk.NEEDS_REFERENCES]
    if needs_refs and n_shadows < MIN_SHADOWS:
        raise InputError(
            f"The attack(s) {', '.join(needs_refs)} need at least {MIN_SHADOWS} shadow models "
            f"(got n_shadows={n_shadows}); raise n_shadows or use attacks=['loss', 'label_only']."
        )
    outlier_method = check_choice(kw["outlier_method"], OUTLIER_METHODS, kind="outlier method")
    fixed_variance = check_flag(kw["fixed_variance"], name="fixed_variance")
    show_progress = check_flag(kw["show_progress"], name="show_progress", optional=True)
    args = AuditArgs(
        X=Xa,
        y=ya,
        names=names,
        needs_refs=needs_refs,
        n_shadows=n_shadows,
        n_queries=n_queries,
        noise_scale=noise_scale,
        random_state=check_random_state(kw["random_state"]),
        n_jobs=check_n_jobs(kw["n_jobs"]),
        epsilons=check_epsilons(kw["epsilons"]),
        outlier_method=outlier_method,
        fixed_variance=bool(fixed_variance),
        show_progress=show_progress,
    )
    n = Xa.shape[0]
    if pooled:
        if non_members is not None:
            raise InputError("non_members needs members: pass both to audit a fitted model.")
        check_classes(ya)
        if n_shadows < 1:
            raise InputError(
                "The pooled audit needs at least 1 shadow model so that every record is left out "
                "of some model (non-members); pass n_shadows >= 1, or members=... for a fitted "
                "model."
            )
        if n_shadows + 1 > n:
            raise InputError(
                f"{n} records are too few for {n_shadows} shadow models; use at most {n - 1}."
            )
        return args
    if kw["mitigations"] is not None:
        raise InputError(
            "Mitigations retrain the model, so they need the pooled mode: call audit() without "
            "members (the audit then trains the target itself)."
        )
    args.in_idx, args.out_idx = check_members(estimator, Xa, ya, members, non_members)
    return args
