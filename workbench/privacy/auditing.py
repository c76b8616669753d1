"""The privacy audit: train (or take) a target model, run membership-inference attacks, report.

:func:`audit` runs in steps, each a function of its own module:

1. **validate** every argument before any model is trained
   (:func:`~workbench.privacy.arguments.validate_audit`), and build the mitigated variants so that a
   bad request fails fast (:func:`~workbench.privacy.mitigations.build_variants`);
2. **split** the records into the models' training sets, **train** target and shadows, **run the
   attacks** and read their metrics and the **per-record risk**, in one of the two modes
   (:func:`~workbench.privacy.runs.run_pooled`, :func:`~workbench.privacy.runs.run_given`);
3. score how atypical each record is and correlate it with risk
   (:func:`~workbench.privacy.risk.add_outliers`);
4. audit the **mitigations** on the same splits
   (:func:`~workbench.privacy.tradeoff.compare_mitigations`);
5. assemble the **report** (:meth:`~workbench.privacy.report.AuditReport.with_attack_scores`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from workbench.privacy.arguments import validate_audit
from workbench.privacy.mitigations import build_variants
from workbench.privacy.report import AuditReport
from workbench.privacy.risk import add_outliers
from workbench.privacy.runs import run_given, run_pooled
from workbench.privacy.shadows import LabelOnlyQueries
from workbench.privacy.tradeoff import compare_mitigations

__all__ = ["audit", "model_name", "side_seeds"]


def model_name(estimator: Any) -> str:
    """Class name of an estimator, with the steps of a Pipeline.

    Parameters
    ----------
    estimator : estimator

    Returns
    -------
    str
        E.g. ``"RandomForestClassifier"`` or ``"Pipeline(StandardScaler, MLPClassifier)"``.
    """
    steps = getattr(estimator, "steps", None)
    if steps:
        return "Pipeline(" + ", ".join(type(s).__name__ for _, s in steps) + ")"
    return type(estimator).__name__


def side_seeds(random_state: int | None) -> tuple[int, int]:
    """Seeds of the label-only noise and of the outlier forest.

    They come from a stream apart from the one of the splits (which depend on ``random_state``
    alone, see :func:`~workbench.privacy.shadows.pooled_splits`).

    Parameters
    ----------
    random_state : int or None
        The audit's checked seed.

    Returns
    -------
    label_only_seed, outlier_seed : int
    """
    rng = np.random.default_rng(None if random_state is None else [int(random_state), 1])
    return int(rng.integers(2**31)), int(rng.integers(2**31))


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
    args = validate_audit(
        estimator, X, y, members=members, non_members=non_members, n_shadows=n_shadows,
        attacks=attacks, mitigations=mitigations, epsilons=epsilons,
        outlier_method=outlier_method, fixed_variance=fixed_variance, n_queries=n_queries,
        noise_scale=noise_scale, random_state=random_state, n_jobs=n_jobs,
        show_progress=show_progress,
    )  # fmt: skip
    if mitigations is not None:
        # Built before any training so a bad request fails fast.
        variants, notes = build_variants(estimator, args.X, args.y, mitigations, args.epsilons)
    label_only_seed, outlier_seed = side_seeds(args.random_state)
    label_only = LabelOnlyQueries(
        n_queries=args.n_queries, noise_scale=args.noise_scale, seed=label_only_seed
    )
    run = (run_pooled if args.pooled else run_given)(estimator, args, label_only)
    records, rho = add_outliers(
        run.records, args.X, args.y, method=args.outlier_method, random_state=outlier_seed
    )
    tradeoff = None
    if mitigations is not None:
        tradeoff = compare_mitigations(variants, notes, run, args, label_only)
    return AuditReport.with_attack_scores(
        run.curves,
        run.scores,
        run.labels,
        model=model_name(estimator),
        mode="pooled" if args.pooled else "given",
        n_records=args.X.shape[0],
        n_models=run.n_models,
        metrics=run.metrics,
        records=records,
        risk_attack=run.risk_attack,
        outlier_method=args.outlier_method,
        outlier_risk_spearman=rho,
        train_accuracy=run.train_accuracy,
        test_accuracy=run.test_accuracy,
        mitigations=tradeoff,
    )
