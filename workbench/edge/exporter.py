"""``export``: a fitted estimator -> C header, MicroPython CSV, and a parity and size report."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np

from workbench.core.errors import InputError, ModelError
from workbench.edge.artifact import EdgeArtifact, build_artifact
from workbench.edge.checks import (
    check_flash_budget,
    check_float32_model,
    check_labels,
    check_model,
    check_name,
    check_option,
    check_targets,
    check_X,
    column_labels,
    warn_unscaled_features,
)
from workbench.edge.cinterface import GeneratedC
from workbench.edge.codegen import generate
from workbench.edge.compiler import find_compiler
from workbench.edge.folding import fold_into_trees
from workbench.edge.pipeline_codegen import generate_pipeline
from workbench.edge.preprocessing import (
    check_step_values,
    describe_pipeline,
    split_pipeline,
    transform_features,
)

__all__ = ["DTYPES", "FORMS_ACCEPTED", "LEAVES", "export"]

#: Accepted ``dtype`` values of :func:`export`.
DTYPES = ("auto", "float32", "float64", "int16")
#: Accepted ``leaves`` values of :func:`export`.
LEAVES = ("auto", "class", "uint8", "float", "double")
#: Accepted ``form`` values of :func:`export`.
FORMS_ACCEPTED = ("auto", "tables", "ifelse")

PIPELINE_NOTE = (
    "Pipeline: the C takes the raw features as float32 (like the device), so parity compares "
    "with the Pipeline on X rounded to float32"
)
FOLD_NOTE = (
    "{steps} folded into the tree thresholds: each raw threshold is the largest float32 that "
    "the pipeline sends left (bisection with its own transform), so the C compares raw "
    "features exactly like scikit-learn and carries no transform code"
)


def export(
    model: Any,
    X: Any,
    y: Any = None,
    *,
    name: str = "model",
    dtype: str = "auto",
    leaves: str = "auto",
    form: str = "auto",
    flash_budget: int | None = None,
    engine: str = "auto",
    cc: str | os.PathLike[str] | None = None,
    targets: list[str] | None = None,
) -> EdgeArtifact:
    """Export a fitted classifier to C and prove, by compiling it, that it predicts the same.

    The generated header is compiled with the host C compiler into a harness that runs on ``X``;
    its predictions are compared with ``model.predict(X)`` row by row. Flash and RAM are measured
    by a minimal link for Cortex-M0 and Cortex-M4F when ``arm-none-eabi-gcc`` is installed (else
    for the host, and the report says so).

    A ``Pipeline`` of scalers and PCA (:data:`~workbench.edge.preprocessing.SUPPORTED_STEPS`)
    ending in a supported classifier becomes one C function on the raw features
    (:mod:`workbench.edge.preprocessing`): scalers before a tree are folded into its thresholds
    (exact, no transform code), other chains run as composed transforms in C. An MLP whose
    inputs look unscaled on ``X`` gets an
    :class:`~workbench.edge.checks.UnscaledFeaturesWarning` naming the fix.

    Parameters
    ----------
    model : estimator or sklearn.pipeline.Pipeline
        A fitted classifier named in :data:`~workbench.edge.codegen.SUPPORTED_ESTIMATORS`
        (trees and forests, ``MLPClassifier``, ``GaussianNB``, ``KNeighborsClassifier``), or a
        fitted ``Pipeline`` of ``StandardScaler``, ``MinMaxScaler``, ``RobustScaler``,
        ``MaxAbsScaler`` and ``PCA`` steps (any number, any order) ending in one.
    X : array-like of shape (n_samples, n_features)
        Held-out data the parity is proven on.
    y : array-like of shape (n_samples,), optional
        True labels; adds the accuracy of scikit-learn and of the C code to the report.
    name : str, default="model"
        C identifier prefixed to every symbol; the header is ``<name>.h``.
    dtype : {"auto", "float32", "float64", "int16"}, default="auto"
        Input and arithmetic type. ``"auto"`` picks ``"int16"`` for trees when every value of
        ``X`` is an integer in int16 range (exact, smaller) and ``"float32"`` otherwise. Trees
        always compare in float32 like scikit-learn, so ``"float64"`` applies to MLP, naive Bayes
        and k-NN only; ``"int16"`` applies to trees only (in a Pipeline: scalers folded into the
        tree, no PCA). A Pipeline's transforms run in float32 or double as
        :func:`~workbench.edge.preprocessing.transform_ctype` derives for ``"auto"`` (double
        in front of trees after PCA: exact), in float32 for ``"float32"`` (smaller; rows within
        float32 rounding of a tree threshold may differ), in double for ``"float64"``; the
        notes say which.
    leaves : {"auto", "class", "uint8", "float", "double"}, default="auto"
        Tree leaves: the class (hard voting; exact for a single tree), 8-bit probabilities
        (emlearn's soft voting), float32 probabilities (soft voting, exact but for ties) or
        float64 probabilities summed and divided in scikit-learn's order (its soft vote bit for
        bit, exact ties included; double arithmetic is software on Cortex-M4F and M0).
        ``"auto"``: ``"class"`` for a single tree; for ensembles the smallest of ``"uint8"``,
        ``"float"`` and ``"double"``, in that order, that keeps every prediction on ``X``
        (``"double"`` only when it keeps more than ``"float"``; the report's notes say which
        and why). Every int16 tree export also carries emlearn's CSV for MicroPython.
    form : {"auto", "tables", "ifelse"}, default="auto"
        C form of the trees of tree and boosted models (:mod:`~workbench.edge.tree_forms`;
        ignored by other models): ``"tables"``, narrow node arrays walked by a loop (the smallest
        form, see :mod:`~workbench.edge.tree_compact`), or ``"ifelse"``, generated code (faster
        on the host, larger). ``"auto"`` applies :func:`~workbench.edge.tree_forms.choose_form`
        (if/else while it adds at most 16 KiB) and, when that export is over ``flash_budget``,
        takes the tables instead (the notes say so).
    engine : {"auto", "workbench", "emlearn"}, default="auto"
        Tree runtime: ``"auto"``/``"workbench"`` use our compact tables; ``"emlearn"`` uses
        emlearn's ``eml_trees.h`` (int16 features, ``"class"`` or ``"uint8"`` leaves).
    flash_budget : int, optional
        Bytes of flash the model may take on :attr:`EdgeArtifact.size_target`; a larger model
        raises :class:`~workbench.core.errors.ModelError` (use :func:`fit_to_budget` to shrink).
        With ``form="auto"``, trees whose if/else code is over the budget get the tables.
    cc : str or path, optional
        Host C compiler; default ``$CC``, ``cc`` or ``gcc``.
    targets : list of str, optional
        Size targets among ``"host"``, ``"cortex-m0"``, ``"cortex-m4f"``; default: both
        Cortex-M targets when the ARM toolchain is installed, else ``"host"``.

    Returns
    -------
    EdgeArtifact

    Raises
    ------
    InputTypeError
        If ``model`` is not an estimator instance, or ``cc`` is not a path.
    ModelError
        A regressor or clusterer, an unsupported classifier (the message lists the supported
        ones), a Pipeline step that cannot be exported (named, with the supported steps), or
        over the flash budget.
    NotFittedError
        If the model is not fitted.
    InputError
        Feature-count mismatch, NaN, infinite or float32-overflowing values, a model or
        Pipeline step trained on features that overflow float32 (the column is named),
        continuous ``y``, bad ``name``/``dtype``/``leaves``/``flash_budget``, non-integer data
        for int16, a ``cc`` that is not a working C compiler.
    DependencyError
        If no C compiler is installed (``apt-get install gcc``).

    Warns
    -----
    UnscaledFeaturesWarning
        When an MLP's inputs look unscaled on ``X``
        (:func:`~workbench.edge.checks.warn_unscaled_features`).

    Examples
    --------
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from workbench.core.datasets import load_dataset
    >>> ds = load_dataset("wine")
    >>> clf = DecisionTreeClassifier(max_depth=4, random_state=0).fit(ds.X, ds.y)
    >>> art = export(clf, ds.X, ds.y)
    >>> art.parity.match_rate
    100.0
    """
    steps, final = split_pipeline(model)
    family = check_model(final, name="the Pipeline's last step" if steps else "model")
    name = check_name(name)
    dtype = check_option(dtype, DTYPES, kind="dtype")
    leaves = check_option(leaves, LEAVES, kind="leaf encoding")
    form = check_option(form, FORMS_ACCEPTED, kind="tree form")
    engine = check_option(engine, ("auto", "workbench", "emlearn"), kind="engine")
    flash_budget = check_flash_budget(flash_budget)
    targets = check_targets(targets)
    n_features = int(model.n_features_in_)
    # HistGradientBoosting routes NaN through its trees (missing_go_to_left): NaN rows are input.
    nan_ok = type(final).__name__ == "HistGradientBoostingClassifier"
    Xa = check_X(X, n_features, "float32", allow_nan=nan_ok)
    if y is not None:
        y = check_labels(y, len(Xa))
    labels = column_labels(model, n_features)
    if steps:
        check_step_values(steps, labels)
        # The C takes float32 raw features: compare with the pipeline on the same values.
        Xa = Xa.astype(np.float32).astype(np.float64)
        Z = transform_features(steps, Xa)
        inner_labels = [f"feature {j} after step {steps[-1][0]!r}" for j in range(Z.shape[1])]
    else:
        Z, inner_labels = Xa, labels
    check_float32_model(final, family, dtype, inner_labels)
    if family == "mlp":
        warn_unscaled_features(Z, in_pipeline=bool(steps))
    folded = fold_into_trees(steps, final) if steps else None
    # A bare model, or scalers folded into a tree's thresholds: the C is a bare model.
    bare = folded if folded is not None else (None if steps else model)
    derive = dtype == "auto"
    integer_X = bool(np.array_equal(Xa, np.round(Xa)) and Xa.min() >= -32768 and Xa.max() <= 32767)
    if dtype == "auto":
        dtype = "int16" if family == "tree" and integer_X and bare is not None else "float32"
    if family == "tree" and dtype == "float64":
        raise InputError(
            "Trees compare float32 features, like scikit-learn; use dtype='float32' or 'int16'."
        )
    if dtype == "int16" and (family != "tree" or bare is None):
        what = type(final).__name__ if bare is not None else describe_pipeline(steps, final)
        raise InputError(
            f"dtype='int16' is for trees on raw features; {what} exports as 'float32' or "
            "'float64'" + (" (its PCA output is not integer)." if bare is None else ".")
        )
    if dtype == "int16":
        check_X(Xa, n_features, "int16")
    n_trees = len(getattr(final, "estimators_", [final]))
    if family != "tree":
        leaves = ""
    auto_leaves = family == "tree" and leaves == "auto" and n_trees > 1
    if family == "tree" and leaves == "auto":
        leaves = "class" if n_trees == 1 else "uint8"
    toolchain = find_compiler(cc)
    if engine == "emlearn" and (family != "tree" or bare is None):
        what = type(final).__name__ if bare is not None else "a Pipeline with PCA"
        raise InputError(f"engine='emlearn' is for trees on raw features; {what} has no choice.")
    eng = "emlearn" if engine == "emlearn" else "workbench"

    def code_for(leaf_encoding: str) -> GeneratedC:
        if bare is not None:
            return generate(
                bare, name=name, dtype=dtype, leaves=leaf_encoding, engine=eng, form=tree_form
            )
        return generate_pipeline(
            steps,
            final,
            Xa,
            name=name,
            dtype=dtype,
            leaves=leaf_encoding,
            family=family,
            column_names=labels,
            derive=derive,
            form=tree_form,
        )

    if family == "boosting" and dtype == "float32" and not steps:
        # HistGradientBoosting compares the float64 values it is given; the device gets float32
        # rows, so parity is judged on exactly those values.
        Xa = Xa.astype(np.float32).astype(np.float64)

    def build(leaf_encoding: str) -> EdgeArtifact:
        code = code_for(leaf_encoding)
        if folded is not None:
            code.notes.insert(0, FOLD_NOTE.format(steps=", ".join(n for n, _ in steps)))
        if steps:
            code.notes.insert(0, PIPELINE_NOTE)
        return build_artifact(model, code, Xa, y, toolchain, targets, dtype)

    tree_form = form

    def build_all() -> EdgeArtifact:
        artifact = build(leaves)
        return _leaf_fallback(artifact, build) if auto_leaves else artifact

    artifact = build_all()
    over = flash_budget is not None and artifact.flash_bytes > flash_budget
    if over and form == "auto" and family in ("tree", "boosting"):
        if artifact.details.get("form") != "tables":
            tree_form = "tables"
            tables = build_all()
            if tables.flash_bytes < artifact.flash_bytes:
                tables.notes.append(
                    f"form='auto': the if/else code took {artifact.flash_bytes} B of flash on "
                    f"{artifact.size_target}, over the budget of {flash_budget} B, so the "
                    f"compact tables were used ({tables.flash_bytes} B)"
                )
                artifact = tables
    if steps:
        artifact.estimator = describe_pipeline(steps, final)
    if flash_budget is not None and artifact.flash_bytes > flash_budget:
        raise ModelError(
            f"The exported {artifact.estimator} needs {artifact.flash_bytes} bytes of flash on "
            f"{artifact.size_target}, over the budget of {flash_budget}; shrink it with "
            "fit_to_budget() (fewer or shallower trees) or raise the budget."
        )
    return artifact


def _leaf_fallback(artifact: EdgeArtifact, build: Callable[[str], EdgeArtifact]) -> EdgeArtifact:
    """``leaves="auto"`` on an ensemble: 8-bit leaves, else float32, else double.

    Each step is taken only when the smaller encoding changed a prediction on ``X``. Double
    leaves are kept only when they keep more predictions than float32 ones: float32 sums lose
    only exact ties of scikit-learn's float64 soft vote (two classes with the same vote in real
    arithmetic, one of them ahead by float64 rounding), which double sums in scikit-learn's
    order break the same way; other mismatches (a pipeline's transforms, say) are not the
    leaves' to fix.

    Parameters
    ----------
    artifact : EdgeArtifact
        The export with 8-bit leaves.
    build : callable
        ``build(leaves)`` exports the same model with another leaf encoding.

    Returns
    -------
    EdgeArtifact
        The export chosen, its notes saying which encoding and why.
    """

    def lost(art: EdgeArtifact) -> int:
        return art.parity.n_samples - art.parity.n_match

    if lost(artifact) == 0:
        artifact.notes.append(
            "leaves='auto': 8-bit leaf probabilities (the smaller encoding) kept every "
            "prediction on X; pass leaves='float' for exact soft voting on any input"
        )
        return artifact
    note = (
        f"leaves='auto': 8-bit leaf probabilities changed {lost(artifact)} prediction(s) on X, "
        "so float32 leaves (soft voting without quantization) were used"
    )
    artifact = build("float")
    artifact.notes.append(note)
    if lost(artifact) == 0:
        return artifact
    double = build("double")
    if lost(double) >= lost(artifact):
        artifact.notes.append(
            f"leaves='auto': float32 leaves still changed {lost(artifact)} prediction(s) on X "
            "and double leaves kept no more, so those are not ties of the soft vote"
        )
        return artifact
    double.notes += [
        note.replace("were used", "were tried"),
        f"leaves='auto': float32 leaf sums changed {lost(artifact)} prediction(s) on X: exact "
        "ties in scikit-learn's float64 soft vote (classes with the same vote in real "
        "arithmetic, split by float64 rounding), so double leaves summed in scikit-learn's "
        f"order were used ({double.flash_bytes - artifact.flash_bytes:+d} B of flash on "
        f"{double.size_target} over float32 leaves)",
    ]
    return double
