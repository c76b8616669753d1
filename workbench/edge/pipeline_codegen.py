"""A Pipeline's transforms as C in front of the model's own generated ``predict``.

The stages of :func:`~workbench.edge.preprocessing.affine_stages` (composed on the host in
float64) run in ``<name>_transform`` in the C type that
:func:`~workbench.edge.preprocessing.transform_ctype` derives; the model is generated with the
prefix ``<name>_m`` and embedded, so ``<name>_predict`` and ``<name>_predict_proba`` keep the
interface of :mod:`workbench.edge.cinterface` on the raw features.

Element-wise stages are ``(a - c) * w``, which no compiler contracts into a fused
multiply-add; in the dense (PCA) sums a contraction (GCC's default outside ISO C mode) changes
only last bits, which the arithmetic type already allows for.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from workbench.edge.cgen import C_TYPES, c_array, float_literal
from workbench.edge.cinterface import GeneratedC, header_end, preamble
from workbench.edge.codegen import generate
from workbench.edge.preprocessing import (
    APPROXIMATE_FAMILIES,
    AffineStage,
    affine_stages,
    check_stage_values,
    describe_pipeline,
    transform_ctype,
)

__all__ = ["generate_pipeline"]


def generate_pipeline(
    steps: list[tuple[str, Any]],
    final: Any,
    X: np.ndarray,
    *,
    name: str,
    dtype: str,
    leaves: str,
    family: str,
    column_names: list[str],
    derive: bool = True,
    form: str = "auto",
) -> GeneratedC:
    """C header of a Pipeline: the transform stages, then the model's generated ``predict``.

    The model is generated with the prefix ``<name>_m`` and embedded; ``<name>_predict`` and
    ``<name>_predict_proba`` take the raw features (``<name>_input_t``), transform them into
    ``<name>_m_input_t`` and call the model's functions.

    Parameters
    ----------
    steps : list of (str, transformer)
        From :func:`split_pipeline` (at least one).
    final : estimator
        The fitted classifier.
    X : numpy.ndarray
        Held-out raw features (the arithmetic type is derived on them).
    name : str
        C prefix.
    dtype : {"float32", "float64"}
        Input type; also the model's arithmetic type (trees: float32).
    leaves : str
        Tree leaf encoding (ignored otherwise).
    family : str
        Family of ``final``.
    column_names : list of str
        Labels of the raw columns, for messages.
    derive : bool, default=True
        Derive the transforms' C type (:func:`~workbench.edge.preprocessing.transform_ctype`);
        False when ``dtype="float32"`` was asked for explicitly.
    form : {"auto", "tables", "ifelse"}, default="auto"
        C form of a tree or boosted model's trees (:func:`~workbench.edge.codegen.generate`).

    Returns
    -------
    GeneratedC

    Raises
    ------
    InputError
        If a stage's parameters overflow the C type (naming the column).
    """
    stages = affine_stages(steps)
    tt, reason = transform_ctype(stages, X, family, dtype, derive=derive)
    check_stage_values(stages, tt, column_names)
    inner_dtype = "float32" if family not in APPROXIMATE_FAMILIES else dtype
    inner = generate(final, name=f"{name}_m", dtype=inner_dtype, leaves=leaves, form=form)
    in_type = C_TYPES[dtype]
    n_raw = int(stages[0].center.shape[0])
    what = describe_pipeline(steps, final)
    parts = [
        preamble(name, n_raw, inner.n_classes, in_type, f"{what}, transforms in {tt}"),
        "/* The model, on the transformed features. */\n",
        inner.header,
        "\n/* The Pipeline's transforms, composed on the host in float64. */\n",
    ]
    body = _transform_body(stages, name, tt)
    for k, stage in enumerate(stages):
        parts += _stage_arrays(stage, name, k, tt)
    width = max(n_raw, *(s.n_out for s in stages))
    m = f"{name}_m"
    parts.append(
        f"static void {name}_transform(const {name}_input_t *x, {m}_input_t *z) {{\n"
        f"    {tt} a[{width}]{f', b[{width}]' if any(st.dense for st in stages) else ''};\n"
        f"    for (int i = 0; i < {n_raw}; i++) a[i] = ({tt})x[i];\n"
        + "".join(body)
        + f"    for (int i = 0; i < {inner.n_features}; i++) z[i] = ({m}_input_t)a[i];\n}}\n"
        f"static void {name}_predict_proba(const {name}_input_t *x, float *proba) {{\n"
        f"    {m}_input_t z[{inner.n_features}];\n"
        f"    {name}_transform(x, z);\n    {m}_predict_proba(z, proba);\n}}\n"
        f"static int32_t {name}_predict(const {name}_input_t *x) {{\n"
        f"    {m}_input_t z[{inner.n_features}];\n"
        f"    {name}_transform(x, z);\n    return {m}_predict(z);\n}}\n"
    )
    parts.append(header_end(name))
    shapes = [f"{'+'.join(s.steps)}: {'dense' if s.dense else 'element-wise'}" for s in stages]
    return GeneratedC(
        name=name,
        header="".join(parts),
        in_type=in_type,
        n_features=n_raw,
        n_classes=inner.n_classes,
        engine=inner.engine,
        leaves=inner.leaves,
        include_dirs=inner.include_dirs,
        extra_headers=inner.extra_headers,
        notes=[reason, *inner.notes],
        details={**inner.details, "transform_stages": shapes, "transform_ctype": tt},
    )


def _stage_arrays(stage: AffineStage, name: str, k: int, tt: str) -> list[str]:
    def lit(v: Any) -> str:
        return float_literal(v, tt)

    out = []
    if np.any(stage.center != 0):
        out.append(c_array(tt, f"{name}_center{k}", stage.center, lit, per_line=6))
    if stage.dense or np.any(stage.weights != 1):
        out.append(c_array(tt, f"{name}_weight{k}", stage.weights, lit, per_line=6))
    if stage.dense and np.any(stage.offset != 0):
        out.append(c_array(tt, f"{name}_offset{k}", stage.offset, lit, per_line=6))
    return out


def _stage_code(stage: AffineStage, name: str, k: int, tt: str) -> list[str]:
    n_in = int(stage.center.shape[0])
    centred = np.any(stage.center != 0)
    lines = [f"    /* {' + '.join(stage.steps)} */\n"]
    if stage.dense:
        if centred:
            lines.append(f"    for (int i = 0; i < {n_in}; i++) a[i] -= {name}_center{k}[i];\n")
        start = f"{name}_offset{k}[j]" if np.any(stage.offset != 0) else "0"
        lines.append(
            f"    for (int j = 0; j < {stage.n_out}; j++) {{\n        {tt} s = {start};\n"
            f"        for (int i = 0; i < {n_in}; i++) s += {name}_weight{k}[j * {n_in} + i]"
            " * a[i];\n        b[j] = s;\n    }\n"
            f"    for (int j = 0; j < {stage.n_out}; j++) a[j] = b[j];\n"
        )
    else:
        value = f"(a[i] - {name}_center{k}[i])" if centred else "a[i]"
        if np.any(stage.weights != 1):
            value += f" * {name}_weight{k}[i]"
        lines.append(f"    for (int i = 0; i < {n_in}; i++) a[i] = {value};\n")
    if stage.clip is not None:
        lo, hi = (float_literal(v, tt) for v in stage.clip)
        lines.append(
            f"    for (int i = 0; i < {stage.n_out}; i++) "
            f"a[i] = a[i] < {lo} ? {lo} : (a[i] > {hi} ? {hi} : a[i]);\n"
        )
    return lines


def _transform_body(stages: list[AffineStage], name: str, tt: str) -> list[str]:
    lines: list[str] = []
    for k, stage in enumerate(stages):
        lines += _stage_code(stage, name, k, tt)
    return lines
