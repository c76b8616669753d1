"""``export``: a fitted estimator -> C header, MicroPython CSV, and a parity and size report."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from workbench.core.errors import InputError, ModelError
from workbench.edge.artifact import EdgeArtifact, build_artifact
from workbench.edge.checks import (
    check_flash_budget,
    check_labels,
    check_model,
    check_name,
    check_option,
    check_targets,
    check_X,
)
from workbench.edge.codegen import generate
from workbench.edge.compiler import find_compiler

__all__ = ["DTYPES", "LEAVES", "export"]

#: Accepted ``dtype`` values of :func:`export`.
DTYPES = ("auto", "float32", "float64", "int16")
#: Accepted ``leaves`` values of :func:`export`.
LEAVES = ("auto", "class", "uint8", "float")


def export(
    model: Any,
    X: Any,
    y: Any = None,
    *,
    name: str = "model",
    dtype: str = "auto",
    leaves: str = "auto",
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

    Parameters
    ----------
    model : estimator
        A fitted ``DecisionTreeClassifier``, ``RandomForestClassifier``,
        ``ExtraTreesClassifier``, ``MLPClassifier``, ``GaussianNB`` or
        ``KNeighborsClassifier``.
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
        and k-NN only; ``"int16"`` applies to trees only.
    leaves : {"auto", "class", "uint8", "float"}, default="auto"
        Tree leaves: the class (hard voting; exact for a single tree), 8-bit probabilities
        (emlearn's soft voting) or float32 probabilities (exact soft voting). ``"auto"``:
        ``"class"`` for a single tree; for ensembles the smaller ``"uint8"`` when it keeps every
        prediction on ``X``, else ``"float"`` (the report's notes say which and why). Every
        int16 tree export also carries emlearn's CSV for MicroPython.
    engine : {"auto", "workbench", "emlearn"}, default="auto"
        Tree runtime: ``"auto"``/``"workbench"`` use our compact tables; ``"emlearn"`` uses
        emlearn's ``eml_trees.h`` (int16 features, ``"class"`` or ``"uint8"`` leaves).
    flash_budget : int, optional
        Bytes of flash the model may take on :attr:`EdgeArtifact.size_target`; a larger model
        raises :class:`~workbench.core.errors.ModelError` (use :func:`fit_to_budget` to shrink).
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
        ones), or over the flash budget.
    NotFittedError
        If the model is not fitted.
    InputError
        Feature-count mismatch, NaN, infinite or float32-overflowing values, continuous ``y``,
        bad ``name``/``dtype``/``leaves``/``flash_budget``, non-integer data for int16.
    DependencyError
        If no C compiler is installed (``apt-get install gcc``).

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
    family = check_model(model)
    name = check_name(name)
    dtype = check_option(dtype, DTYPES, kind="dtype")
    leaves = check_option(leaves, LEAVES, kind="leaf encoding")
    engine = check_option(engine, ("auto", "workbench", "emlearn"), kind="engine")
    flash_budget = check_flash_budget(flash_budget)
    targets = check_targets(targets)
    n_features = int(model.n_features_in_)
    Xa = check_X(X, n_features, "float32")
    if y is not None:
        y = check_labels(y, len(Xa))
    integer_X = bool(np.array_equal(Xa, np.round(Xa)) and Xa.min() >= -32768 and Xa.max() <= 32767)
    if dtype == "auto":
        dtype = "int16" if family == "tree" and integer_X else "float32"
    if family == "tree" and dtype == "float64":
        raise InputError(
            "Trees compare float32 features, like scikit-learn; use dtype='float32' or 'int16'."
        )
    if family != "tree" and dtype == "int16":
        raise InputError(
            f"dtype='int16' is for trees; {type(model).__name__} exports as 'float32' or 'float64'."
        )
    if dtype == "int16":
        check_X(Xa, n_features, "int16")
    n_trees = len(getattr(model, "estimators_", [model]))
    if family != "tree":
        leaves = ""
    auto_leaves = family == "tree" and leaves == "auto" and n_trees > 1
    if family == "tree" and leaves == "auto":
        leaves = "class" if n_trees == 1 else "uint8"
    toolchain = find_compiler(cc)
    if engine == "emlearn" and family != "tree":
        raise InputError(f"engine='emlearn' is for trees; {type(model).__name__} has no choice.")
    eng = "emlearn" if engine == "emlearn" else "workbench"
    code = generate(model, name=name, dtype=dtype, leaves=leaves, engine=eng)
    artifact = build_artifact(model, code, Xa, y, toolchain, targets, dtype)
    if auto_leaves:
        if artifact.parity.match_rate < 100.0:
            lost = artifact.parity.n_samples - artifact.parity.n_match
            code = generate(model, name=name, dtype=dtype, leaves="float", engine="workbench")
            artifact = build_artifact(model, code, Xa, y, toolchain, targets, dtype)
            artifact.notes.append(
                f"leaves='auto': 8-bit leaf probabilities changed {lost} prediction(s) on X, so "
                "float32 leaves (exact soft voting) were used"
            )
        else:
            artifact.notes.append(
                "leaves='auto': 8-bit leaf probabilities (the smaller encoding) kept every "
                "prediction on X; pass leaves='float' for exact soft voting on any input"
            )
    if flash_budget is not None and artifact.flash_bytes > flash_budget:
        raise ModelError(
            f"The exported {artifact.estimator} needs {artifact.flash_bytes} bytes of flash on "
            f"{artifact.size_target}, over the budget of {flash_budget}; shrink it with "
            "fit_to_budget() (fewer or shallower trees) or raise the budget."
        )
    return artifact
