"""Multi-layer perceptrons (``MLPClassifier``) as C, in float or double arithmetic.

The layers are written out with their weights at full precision and evaluated in the order
scikit-learn's forward pass uses (``a @ W + b``, then the activation), ending with the softmax
or, for a single logistic output, the two-class probabilities.
"""

from __future__ import annotations

from typing import Any

from workbench.core.errors import ModelError
from workbench.edge.cgen import C_TYPES, c_array, float_literal
from workbench.edge.cinterface import GeneratedC, header_end, preamble, predict_by_argmax

__all__ = ["ACTIVATIONS", "generate_mlp"]

#: Hidden activation -> C expression of ``{v}`` in float and in double arithmetic.
ACTIVATIONS: dict[str, tuple[str, str]] = {
    "relu": ("{v} > 0 ? {v} : 0", "{v} > 0 ? {v} : 0"),
    "identity": ("{v}", "{v}"),
    "tanh": ("tanhf({v})", "tanh({v})"),
    "logistic": ("1.0f / (1.0f + expf(-{v}))", "1.0 / (1.0 + exp(-{v}))"),
}


def _output_code(name: str, ctype: str, n_out: int, n_classes: int) -> list[str]:
    """C lines turning the last layer ``a`` into ``proba`` (and ``predict`` for one output)."""
    dbl = ctype == "double"
    exp = "exp" if dbl else "expf"
    one = "1.0" if dbl else "1.0f"
    if n_out == 1:
        return [
            f"    const {ctype} p1 = {one} / ({one} + {exp}(-a[0]));",
            "    proba[0] = (float)(1 - p1); proba[1] = (float)p1;",
            "}",
            f"static int32_t {name}_predict(const {name}_input_t *x) {{",
            "    float p[2];",
            f"    {name}_predict_proba(x, p);",
            "    return p[1] > 0.5f ? 1 : 0;",
            "}",
        ]
    return [
        f"    {ctype} m = a[0], total = 0;",
        f"    for (int c = 1; c < {n_classes}; c++) if (a[c] > m) m = a[c];",
        f"    for (int c = 0; c < {n_classes}; c++) {{",
        f"        a[c] = {exp}(a[c] - m);",
        "        total += a[c];",
        "    }",
        f"    for (int c = 0; c < {n_classes}; c++) proba[c] = (float)(a[c] / total);",
        "}",
    ]


def generate_mlp(model: Any, name: str, dtype: str) -> GeneratedC:
    """C header of a fitted ``MLPClassifier``.

    Parameters
    ----------
    model : MLPClassifier
        Fitted, single label.
    name : str
        C prefix.
    dtype : {"float32", "float64"}
        Input and arithmetic type.

    Returns
    -------
    GeneratedC

    Raises
    ------
    ModelError
        If the hidden activation is not one of :data:`ACTIVATIONS`, or the output is neither
        softmax nor logistic.
    """
    if model.activation not in ACTIVATIONS:
        raise ModelError(
            f"MLP activation {model.activation!r} is not supported; use one of "
            f"{sorted(ACTIVATIONS)}."
        )
    if getattr(model, "out_activation_", "softmax") not in ("softmax", "logistic"):
        raise ModelError("Only single-label MLP classifiers (softmax or logistic output) export.")
    ctype = C_TYPES[dtype]
    n_features = int(model.n_features_in_)
    n_classes = len(model.classes_)
    widths = [n_features] + [int(w.shape[1]) for w in model.coefs_]
    buf = max(widths)
    parts = [
        preamble(
            name,
            n_features,
            n_classes,
            ctype,
            f"MLPClassifier {'-'.join(map(str, widths))}, activation "
            f"{model.activation}, arithmetic in {ctype}",
        )
    ]

    def literal(v: Any) -> str:
        return float_literal(v, ctype)

    for i, (w, b) in enumerate(zip(model.coefs_, model.intercepts_, strict=True)):
        parts.append(c_array(ctype, f"{name}_w{i}", w, literal, per_line=6))
        parts.append(c_array(ctype, f"{name}_b{i}", b, literal, per_line=6))
    act = ACTIVATIONS[model.activation][1 if ctype == "double" else 0]
    body = [
        f"static void {name}_predict_proba(const {name}_input_t *x, float *proba) {{",
        f"    {ctype} a[{buf}], b[{buf}];",
        f"    for (int i = 0; i < {n_features}; i++) a[i] = ({ctype})x[i];",
    ]
    n_layers = len(model.coefs_)
    for i in range(n_layers):
        n_in, n_out = widths[i], widths[i + 1]
        last = i == n_layers - 1
        value = "s" if last else act.format(v="s")
        body += [
            f"    for (int j = 0; j < {n_out}; j++) {{",
            f"        {ctype} s = {name}_b{i}[j];",
            f"        for (int i = 0; i < {n_in}; i++) s += a[i] * {name}_w{i}[i * {n_out} + j];",
            f"        b[j] = {value};",
            "    }",
            f"    for (int j = 0; j < {n_out}; j++) a[j] = b[j];",
        ]
    body += _output_code(name, ctype, widths[-1], n_classes)
    parts.append("\n".join(body) + "\n")
    if widths[-1] != 1:
        parts.append(predict_by_argmax(name, n_classes))
    parts.append(header_end(name))
    n_weights = int(
        sum(w.size + b.size for w, b in zip(model.coefs_, model.intercepts_, strict=True))
    )
    return GeneratedC(
        name=name,
        header="".join(parts),
        in_type=ctype,
        n_features=n_features,
        n_classes=n_classes,
        engine="workbench",
        notes=[f"weights written with full {ctype} precision (emlearn's %.6f would round them)"],
        details={"layers": widths, "n_weights": n_weights},
    )
