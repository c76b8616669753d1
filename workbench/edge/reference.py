"""emlearn's own output, unmodified, put through the same harness: the baseline the traps show on.

:func:`export_emlearn_default` generates C exactly as ``emlearn.convert(model)`` would with its
defaults (trees: inline, int16 features, hard voting; MLP: loadable float; Gaussian naive Bayes:
loadable Q16 fixed point) without emlearn's side effects (it compiles into ``./tmp`` and sets
numpy's error handling), and measures parity and size the same way :func:`export` does.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from workbench.core.errors import InputError, ModelError
from workbench.core.params import check_size
from workbench.edge.artifact import EdgeArtifact, build_artifact
from workbench.edge.checks import (
    check_labels,
    check_model,
    check_name,
    check_option,
    check_targets,
    check_X,
)
from workbench.edge.cinterface import GeneratedC, preamble
from workbench.edge.compiler import find_compiler
from workbench.edge.emlearn_import import import_emlearn, numpy_errors_restored
from workbench.edge.emlearn_trees import EMLEARN_MAX_FEATURES

__all__ = ["export_emlearn_default"]


def _trees(model: Any, name: str, method: str, dtype: str, leaf_bits: int | None) -> GeneratedC:
    emlearn = import_emlearn()
    from emlearn import trees

    ctype = {"int16": "int16_t", "float32": "float"}[dtype]
    with numpy_errors_restored():
        np.seterr(all="ignore")
        try:
            wrapper = trees.Wrapper(model, method, dtype=ctype, leaf_bits=leaf_bits)
            code = wrapper.save(name=f"{name}_eml")
        except (ValueError, AssertionError) as exc:  # emlearn's own limits (node counts, ...)
            raise ModelError(
                f"emlearn cannot convert this {type(model).__name__} with its defaults ({exc!r}); "
                "use export() instead, or a smaller model."
            ) from None
    nf, nc = int(model.n_features_in_), len(model.classes_)
    if method == "loadable":
        code = code.replace("EmlTrees ", "static EmlTrees ", 1)
    header = (
        preamble(
            name, nf, nc, ctype, f"emlearn defaults ({method}, {ctype}) for {type(model).__name__}"
        )
        + code
        + f"\nstatic void {name}_predict_proba(const {ctype} *x, float *p) {{\n"
        f"    {name}_eml_predict_proba(x, {nf}, p, {nc});\n}}\n"
        f"static int32_t {name}_predict(const {ctype} *x) {{\n"
        f"    return {name}_eml_predict(x, {nf});\n}}\n#endif\n"
    )
    return GeneratedC(
        name=name,
        header=header,
        in_type=ctype,
        n_features=nf,
        n_classes=nc,
        engine=f"emlearn {method}",
        leaves="class" if not leaf_bits else "uint8",
        include_dirs=[emlearn.includedir],
        notes=[
            f"emlearn defaults: {method}, {ctype} thresholds written int(th)/%.6f and "
            "compared with <, hard voting"
        ],
    )


def _mlp(model: Any, name: str) -> GeneratedC:
    emlearn = import_emlearn()
    from emlearn import net

    acts = [model.activation] * (len(model.coefs_) - 1) + [model.out_activation_]
    with numpy_errors_restored():
        code = net.c_generate_net_loadable(acts, model.coefs_, model.intercepts_, f"{name}_eml")
    nf, nc = int(model.n_features_in_), len(model.classes_)
    header = (
        preamble(name, nf, nc, "float", "emlearn defaults (loadable MLP)")
        + code
        + f"\nstatic void {name}_predict_proba(const float *x, float *p) {{\n"
        f"    eml_net_predict_proba(&{name}_eml, x, {nf}, p, {nc});\n}}\n"
        f"static int32_t {name}_predict(const float *x) {{\n"
        f"    return eml_net_predict(&{name}_eml, x, {nf});\n}}\n#endif\n"
    )
    return GeneratedC(
        name=name,
        header=header,
        in_type="float",
        n_features=nf,
        n_classes=nc,
        engine="emlearn loadable",
        include_dirs=[emlearn.includedir],
        notes=["emlearn defaults: weights written with %.6f"],
    )


def _nb(model: Any, name: str) -> GeneratedC:
    emlearn = import_emlearn()
    from emlearn import bayes

    n_classes, n_features = model.theta_.shape
    std = np.sqrt(model.var_)
    summaries = np.stack([model.theta_, std, np.log2(std)], axis=-1)
    with numpy_errors_restored():
        code = bayes.generate_c(summaries, f"{name}_eml")
    header = (
        preamble(name, n_features, n_classes, "float", "emlearn defaults (GaussianNB, Q16)")
        + code
        + f"\nstatic int32_t {name}_predict(const float *x) {{\n"
        f"    return {name}_eml_predict(x, {n_features});\n}}\n"
        f"static void {name}_predict_proba(const float *x, float *p) {{\n"
        f"    const int32_t c = {name}_predict(x);\n"
        f"    for (int i = 0; i < {n_classes}; i++) p[i] = (i == c) ? 1.0f : 0.0f;\n}}\n#endif\n"
    )
    return GeneratedC(
        name=name,
        header=header,
        in_type="float",
        n_features=int(n_features),
        n_classes=int(n_classes),
        engine="emlearn loadable",
        include_dirs=[emlearn.includedir],
        notes=["emlearn defaults: Q16 fixed-point likelihoods, no class priors, no probabilities"],
    )


def export_emlearn_default(
    model: Any,
    X: Any,
    y: Any = None,
    *,
    name: str = "ref",
    method: str = "inline",
    dtype: str = "int16",
    leaf_bits: int | None = None,
    cc: str | os.PathLike[str] | None = None,
    targets: list[str] | None = None,
) -> EdgeArtifact:
    """Export with emlearn's defaults, unmodified, and measure parity and size like :func:`export`.

    Parameters
    ----------
    model : estimator
        A fitted tree model, ``MLPClassifier`` or ``GaussianNB``.
    X, y : array-like
        Held-out data (``y`` optional).
    name : str, default="ref"
        C prefix.
    method : {"inline", "loadable"}, default="inline"
        emlearn's tree inference strategy (emlearn's default is inline).
    dtype : {"int16", "float32"}, default="int16"
        emlearn's tree feature type (its default is int16).
    leaf_bits : int in [0, 8], optional
        emlearn's tree leaf bits (None: hard voting, its default).
    cc : str or path, optional
        Host C compiler.
    targets : list of str, optional
        Size targets.

    Returns
    -------
    EdgeArtifact
        Its ``parity`` shows what emlearn's defaults get right.
    """
    family = check_model(model)
    name = check_name(name)
    Xa = check_X(X, int(model.n_features_in_), "float32")
    if y is not None:
        y = check_labels(y, len(Xa))
    targets = check_targets(targets)
    method = check_option(method, ("inline", "loadable"), kind="method")
    dtype = check_option(dtype, ("int16", "float32"), kind="dtype")
    if method == "loadable" and dtype != "int16":
        raise InputError("emlearn's method='loadable' takes dtype='int16' only; use 'inline'.")
    if leaf_bits is not None:
        leaf_bits = check_size(leaf_bits, name="leaf_bits", low=0, high=8)
    if family == "tree" and method == "loadable" and model.n_features_in_ > EMLEARN_MAX_FEATURES:
        raise ModelError(
            f"emlearn's loadable trees take at most {EMLEARN_MAX_FEATURES} features, the model has "
            f"{model.n_features_in_}; use method='inline'."
        )
    toolchain = find_compiler(cc)
    if family == "tree":
        code = _trees(model, name, method, dtype, leaf_bits)
    elif family == "mlp":
        code = _mlp(model, name)
    elif family == "naive_bayes":
        code = _nb(model, name)
    else:
        raise ModelError("The emlearn reference covers trees, MLP and GaussianNB, not k-NN.")
    return build_artifact(
        model, code, Xa, y, toolchain, targets, dtype if family == "tree" else "float32"
    )
