"""Gaussian naive Bayes (``GaussianNB``) as C, in float or double arithmetic.

The joint log-likelihood is computed as scikit-learn's ``_joint_log_likelihood`` does, with the
per-class constant (log prior minus the log normalisers) precomputed in float64; emlearn's
``eml_bayes.h`` instead uses Q16 fixed point and drops the priors.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from workbench.edge.cgen import C_TYPES, c_array, float_literal
from workbench.edge.cinterface import GeneratedC, header_end, preamble

__all__ = ["generate_gaussian_nb"]


def generate_gaussian_nb(model: Any, name: str, dtype: str) -> GeneratedC:
    """C header of a fitted ``GaussianNB``.

    Parameters
    ----------
    model : GaussianNB
        Fitted.
    name : str
        C prefix.
    dtype : {"float32", "float64"}
        Input and arithmetic type.

    Returns
    -------
    GeneratedC
    """
    ctype = C_TYPES[dtype]
    n_classes, n_features = model.theta_.shape
    var = np.asarray(model.var_, dtype=np.float64)
    const = np.log(model.class_prior_) - 0.5 * np.sum(np.log(2.0 * np.pi * var), axis=1)
    exp = "exp" if ctype == "double" else "expf"

    def literal(v: Any) -> str:
        return float_literal(v, ctype)

    parts = [
        preamble(
            name,
            n_features,
            n_classes,
            ctype,
            f"GaussianNB, {n_classes} classes, arithmetic in {ctype}",
        ),
        c_array(ctype, f"{name}_theta", model.theta_, literal, per_line=6),
        c_array(ctype, f"{name}_var", var, literal, per_line=6),
        c_array(ctype, f"{name}_const", const, literal, per_line=6),
        f"static void {name}_jll(const {name}_input_t *x, {ctype} *jll) {{\n"
        f"    for (int c = 0; c < {n_classes}; c++) {{\n"
        f"        {ctype} s = 0;\n"
        f"        for (int f = 0; f < {n_features}; f++) {{\n"
        f"            const {ctype} d = ({ctype})x[f] - {name}_theta[c * {n_features} + f];\n"
        f"            s += d * d / {name}_var[c * {n_features} + f];\n"
        "        }\n"
        f"        jll[c] = {name}_const[c] - s / 2;\n    }}\n}}\n",
        f"static void {name}_predict_proba(const {name}_input_t *x, float *proba) {{\n"
        f"    {ctype} jll[{n_classes}], m, total = 0;\n"
        f"    {name}_jll(x, jll);\n    m = jll[0];\n"
        f"    for (int c = 1; c < {n_classes}; c++) if (jll[c] > m) m = jll[c];\n"
        f"    for (int c = 0; c < {n_classes}; c++) {{ jll[c] = {exp}(jll[c] - m); "
        "total += jll[c]; }\n"
        f"    for (int c = 0; c < {n_classes}; c++) proba[c] = (float)(jll[c] / total);\n}}\n",
        f"static int32_t {name}_predict(const {name}_input_t *x) {{\n"
        f"    {ctype} jll[{n_classes}];\n    {name}_jll(x, jll);\n    int32_t best = 0;\n"
        f"    for (int32_t c = 1; c < {n_classes}; c++) if (jll[c] > jll[best]) best = c;\n"
        "    return best;\n}\n",
        header_end(name),
    ]
    return GeneratedC(
        name=name,
        header="".join(parts),
        in_type=ctype,
        n_features=int(n_features),
        n_classes=int(n_classes),
        engine="workbench",
        notes=[f"Gaussian log-likelihoods in {ctype} (emlearn's eml_bayes.h uses Q16 fixed point)"],
        details={"n_parameters": int(3 * n_classes * n_features)},
    )
