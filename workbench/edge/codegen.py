"""C code generation for the supported scikit-learn estimators.

Every generated header exposes the same small interface, whatever the model (see
:mod:`workbench.edge.cinterface`).

Trees can run on emlearn's loadable runtime (``eml_trees.h``, the same format that emlearn's
MicroPython module loads from CSV) with the threshold trap fixed, or on our own smaller tables
(the default). Everything else is generated here, so that thresholds and weights are written
without losing precision and the arithmetic mirrors scikit-learn's.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from workbench.core.errors import InputError, ModelError
from workbench.edge.cinterface import preamble
from workbench.edge.emlearn_import import import_emlearn, numpy_errors_restored

__all__ = [
    "SUPPORTED_ESTIMATORS",
    "GeneratedC",
    "generate",
    "import_emlearn",
]

#: Estimator class name -> family; the estimators emlearn supports that :func:`generate` handles.
SUPPORTED_ESTIMATORS: dict[str, str] = {
    "DecisionTreeClassifier": "tree",
    "RandomForestClassifier": "tree",
    "ExtraTreesClassifier": "tree",
    "MLPClassifier": "mlp",
    "GaussianNB": "naive_bayes",
    "KNeighborsClassifier": "knn",
}

_CTYPES = {"float32": "float", "float64": "double", "int16": "int16_t"}


@dataclasses.dataclass
class GeneratedC:
    """C code generated for one model, before it is compiled.

    Attributes
    ----------
    name : str
        C identifier prefix.
    header : str
        The header text (``<name>.h``).
    in_type : str
        C type of the input features.
    n_features, n_classes : int
    engine : str
        ``"emlearn eml_trees.h"`` or ``"workbench"``.
    leaves : str
        Leaf encoding for trees (``"class"``, ``"uint8"``, ``"float"``), else ``""``.
    include_dirs : list of str
        Directories with headers the header includes (emlearn's).
    extra_headers : list of str
        File names of those headers to ship next to the model header.
    csv : str or None
        emlearn's tree CSV (MicroPython ``emlearn_trees`` loads it), for int16 trees.
    notes : list of str
        What was decided and why (shown in the report).
    details : dict
        Model facts: node and leaf counts, weights, stored training rows.
    """

    name: str
    header: str
    in_type: str
    n_features: int
    n_classes: int
    engine: str
    leaves: str = ""
    include_dirs: list[str] = dataclasses.field(default_factory=list)
    extra_headers: list[str] = dataclasses.field(default_factory=list)
    csv: str | None = None
    notes: list[str] = dataclasses.field(default_factory=list)
    details: dict[str, Any] = dataclasses.field(default_factory=dict)


def _f32(value: float) -> str:
    text = np.format_float_scientific(np.float32(value), unique=True)
    return text + "f"


def _f64(value: float) -> str:
    return repr(float(value))


def _lit(value: float, ctype: str) -> str:
    return _f32(value) if ctype == "float" else _f64(value)


def _array(ctype: str, name: str, values: Any, fmt: Any, per_line: int = 8) -> str:
    vals = [fmt(v) for v in np.asarray(values).ravel()]
    lines = [", ".join(vals[i : i + per_line]) for i in range(0, len(vals), per_line)]
    body = ",\n    ".join(lines) if lines else "0"
    return f"static const {ctype} {name}[{max(len(vals), 1)}] = {{\n    {body}\n}};\n"


def _int_type(max_abs: int, signed: bool = True) -> str:
    if signed:
        return "int16_t" if max_abs < 2**15 else "int32_t"
    return "uint8_t" if max_abs < 2**8 else ("uint16_t" if max_abs < 2**16 else "uint32_t")


def _argmax_predict(name: str, n_classes: int) -> str:
    return (
        f"static int32_t {name}_predict(const {name}_input_t *x) {{\n"
        f"    float p[{n_classes}];\n"
        f"    {name}_predict_proba(x, p);\n"
        "    int32_t best = 0;\n"
        f"    for (int32_t c = 1; c < {n_classes}; c++) {{ if (p[c] > p[best]) best = c; }}\n"
        "    return best;\n}\n"
    )


# ---------------------------------------------------------------------------------------- trees


def _tree_proba(tree_est: Any) -> np.ndarray:
    """Per-node class probabilities as ``DecisionTreeClassifier.predict_proba`` makes them."""
    value = np.asarray(tree_est.tree_.value)[:, 0, :].astype(np.float64)
    norm = value.sum(axis=1, keepdims=True)
    norm[norm == 0.0] = 1.0
    return value / norm


def _flatten(estimators: list[Any], leaves: str, n_classes: int) -> dict[str, Any]:
    feature, threshold, left, right, roots = [], [], [], [], []
    leaf_rows: list[np.ndarray] = []
    leaf_index: dict[bytes, int] = {}

    def leaf_id(row: np.ndarray) -> int:
        key = row.tobytes()
        if key not in leaf_index:
            leaf_index[key] = len(leaf_rows)
            leaf_rows.append(row)
        return -leaf_index[key] - 1

    for est in estimators:
        t = est.tree_
        proba = _tree_proba(est)
        if leaves == "class":
            rows = np.argmax(proba, axis=1).astype(np.int64).reshape(-1, 1)
        elif leaves == "uint8":
            rows = np.round(proba * 255.0).astype(np.uint8)
        else:
            rows = proba.astype(np.float32)
        internal = np.flatnonzero(t.children_left != -1)
        offset = len(feature)
        index = {int(n): offset + i for i, n in enumerate(internal)}
        if internal.size == 0:  # a tree that is one leaf: one node sending both ways to it
            lid = leaf_id(rows[0])
            feature.append(0)
            threshold.append(0.0)
            left.append(lid)
            right.append(lid)
            roots.append(offset)
            continue
        for n in internal:
            cl, cr = int(t.children_left[n]), int(t.children_right[n])
            feature.append(int(t.feature[n]))
            threshold.append(float(t.threshold[n]))
            left.append(index[cl] if t.children_left[cl] != -1 else leaf_id(rows[cl]))
            right.append(index[cr] if t.children_left[cr] != -1 else leaf_id(rows[cr]))
        roots.append(index[0])
    return {
        "feature": np.asarray(feature),
        "threshold": np.asarray(threshold, dtype=np.float64),
        "left": np.asarray(left),
        "right": np.asarray(right),
        "roots": np.asarray(roots),
        "leaves": np.asarray(leaf_rows),
    }


def _float32_at_or_below(th: np.ndarray) -> np.ndarray:
    """Largest float32 <= each float64 threshold: ``x32 <= th64`` iff ``x32 <= result``."""
    t32 = th.astype(np.float32)
    above = t32.astype(np.float64) > th
    t32[above] = np.nextafter(t32[above], np.float32(-np.inf))
    return t32


def _tree_estimators(model: Any) -> list[Any]:
    return list(model.estimators_) if hasattr(model, "estimators_") else [model]


def _generate_tree_own(model: Any, name: str, dtype: str, leaves: str) -> GeneratedC:
    ests = _tree_estimators(model)
    n_classes = len(model.classes_)
    n_features = int(model.n_features_in_)
    flat = _flatten(ests, leaves, n_classes)
    in_type = _CTYPES[dtype]
    n_nodes = len(flat["feature"])
    n_leaves = len(flat["leaves"])
    child_t = _int_type(max(n_nodes, n_leaves + 1))
    feat_t = _int_type(n_features, signed=False)
    if dtype == "int16":
        # For integer x: x <= th  <=>  x <= floor(th). sklearn compares float32(x) <= th.
        th = np.clip(np.floor(flat["threshold"]), -32768, 32767).astype(np.int64)
        th_arr = _array("int16_t", f"{name}_threshold", th, lambda v: str(int(v)))
    else:
        th = _float32_at_or_below(flat["threshold"])
        th_arr = _array("float", f"{name}_threshold", th, _f32, per_line=6)
    parts = [
        preamble(
            name,
            n_features,
            n_classes,
            in_type,
            f"{type(model).__name__}: "
            f"{len(ests)} tree(s), {n_nodes} decision nodes, {n_leaves} unique leaves",
        ),
        th_arr,
        _array(feat_t, f"{name}_feature", flat["feature"], lambda v: str(int(v)), per_line=16),
        _array(child_t, f"{name}_left", flat["left"], lambda v: str(int(v)), per_line=12),
        _array(child_t, f"{name}_right", flat["right"], lambda v: str(int(v)), per_line=12),
        _array(_int_type(n_nodes), f"{name}_roots", flat["roots"], lambda v: str(int(v)), 12),
    ]
    if leaves == "class":
        parts.append(
            _array(
                _int_type(n_classes, False),
                f"{name}_leaf",
                flat["leaves"].ravel(),
                lambda v: str(int(v)),
                per_line=16,
            )
        )
    elif leaves == "uint8":
        parts.append(_array("uint8_t", f"{name}_leaf", flat["leaves"], lambda v: str(int(v)), 16))
    else:
        parts.append(_array("float", f"{name}_leaf", flat["leaves"], _f32, per_line=6))
    n_trees = len(ests)
    nc = n_classes
    parts.append(
        f"static int32_t {name}_find_leaf(const {name}_input_t *x, int32_t node) {{\n"
        "    while (node >= 0) {\n"
        f"        node = (x[{name}_feature[node]] <= {name}_threshold[node])"
        f" ? {name}_left[node] : {name}_right[node];\n"
        "    }\n    return -node - 1;\n}\n"
    )
    if leaves == "float":
        parts.append(
            f"static void {name}_predict_proba(const {name}_input_t *x, float *p) {{\n"
            f"    for (int c = 0; c < {nc}; c++) p[c] = 0.0f;\n"
            f"    for (int t = 0; t < {n_trees}; t++) {{\n"
            f"        const int32_t leaf = {name}_find_leaf(x, {name}_roots[t]);\n"
            f"        for (int c = 0; c < {nc}; c++) p[c] += {name}_leaf[leaf * {nc} + c];\n"
            "    }\n"
            f"    for (int c = 0; c < {nc}; c++) p[c] /= {n_trees}.0f;\n}}\n"
        )
        parts.append(_argmax_predict(name, nc))
    else:
        # Votes (class) or 8-bit probabilities (uint8) add up exactly as integers.
        add = (
            f"acc[{name}_leaf[leaf]] += 1;"
            if leaves == "class"
            else f"for (int c = 0; c < {nc}; c++) acc[c] += {name}_leaf[leaf * {nc} + c];"
        )
        scale = n_trees * (1 if leaves == "class" else 255)
        parts.append(
            f"static void {name}_votes(const {name}_input_t *x, uint32_t *acc) {{\n"
            f"    for (int c = 0; c < {nc}; c++) acc[c] = 0;\n"
            f"    for (int t = 0; t < {n_trees}; t++) {{\n"
            f"        const int32_t leaf = {name}_find_leaf(x, {name}_roots[t]);\n"
            f"        {add}\n    }}\n}}\n"
            f"static void {name}_predict_proba(const {name}_input_t *x, float *p) {{\n"
            f"    uint32_t acc[{nc}];\n    {name}_votes(x, acc);\n"
            f"    for (int c = 0; c < {nc}; c++) p[c] = (float)acc[c] / {scale}.0f;\n}}\n"
        )
        if leaves == "class" and n_trees == 1:
            parts.append(
                f"static int32_t {name}_predict(const {name}_input_t *x) {{\n"
                f"    return {name}_leaf[{name}_find_leaf(x, {name}_roots[0])];\n}}\n"
            )
        else:
            parts.append(
                f"static int32_t {name}_predict(const {name}_input_t *x) {{\n"
                f"    uint32_t acc[{nc}];\n    {name}_votes(x, acc);\n    int32_t best = 0;\n"
                f"    for (int32_t c = 1; c < {nc}; c++) if (acc[c] > acc[best]) best = c;\n"
                "    return best;\n}\n"
            )
    parts.append(f"\n#endif /* {name.upper()}_H */\n")
    notes = []
    if dtype == "float32":
        notes.append(
            "thresholds rounded down to float32 and compared with <=, as scikit-learn "
            "compares float32 features with float64 thresholds"
        )
    else:
        notes.append("int16 thresholds floor(th) with <=: exact for integer-valued features")
    if leaves == "class" and n_trees > 1:
        notes.append(
            "hard voting: scikit-learn averages probabilities (soft voting), so ties and "
            "close votes may differ"
        )
    if leaves == "uint8":
        notes.append("leaf probabilities quantized to 8 bits: close soft votes may flip")
    return GeneratedC(
        name=name,
        header="".join(parts),
        in_type=in_type,
        n_features=n_features,
        n_classes=n_classes,
        engine="workbench",
        leaves=leaves,
        notes=notes,
        details={"n_trees": n_trees, "n_nodes": n_nodes, "n_leaves": n_leaves},
    )


def _emlearn_trees(model: Any, leaf_bits: int) -> tuple[Any, str, str, int, int]:
    """emlearn's loadable int16 trees, threshold trap fixed: (module, C, CSV, nodes, leaves)."""
    emlearn = import_emlearn()
    from emlearn import trees

    with numpy_errors_restored():
        np.seterr(all="ignore")
        wrapper = trees.Wrapper(model, "loadable", dtype="int16_t", leaf_bits=leaf_bits)
        nodes, _, leaf_rows = wrapper.forest_
        # emlearn writes int(th) and compares x < th; scikit-learn sends x <= th left. For
        # integer x the exact equivalent is x < floor(th) + 1.
        for node in nodes:
            node[1] = np.int64(np.clip(np.floor(node[1]) + 1, -32768, 32767))
        code = wrapper.save(name="model_eml", format="c")
        csv = wrapper.save(name="model_eml", format="csv")
    return emlearn, code, csv, len(nodes), len(leaf_rows)


def _generate_tree_emlearn(model: Any, name: str, leaves: str) -> GeneratedC:
    ests = _tree_estimators(model)
    n_features = int(model.n_features_in_)
    n_classes = len(model.classes_)
    if n_features > 127:
        raise ModelError(
            f"emlearn's tree runtime takes at most 127 features, the model has {n_features}; "
            "use dtype='float32'."
        )
    leaf_bits = 0 if leaves == "class" else 8
    emlearn, code, csv, n_nodes, n_leaves = _emlearn_trees(model, leaf_bits)
    if leaf_bits:
        csv = _emlearn_trees(model, 0)[2]  # the loadable MicroPython CSV has one class per leaf
    code = code.replace("model_eml", f"{name}_eml")
    nc = n_classes
    header = (
        preamble(
            name,
            n_features,
            n_classes,
            "int16_t",
            f"{type(model).__name__} for emlearn's eml_trees.h: {len(ests)} tree(s), "
            f"{n_nodes} decision nodes, {n_leaves} unique leaves",
        )
        + code.replace("EmlTrees ", "static EmlTrees ", 1)
        + f"\nstatic void {name}_predict_proba(const int16_t *x, float *p) {{\n"
        f"    eml_trees_predict_proba(&{name}_eml, x, {n_features}, p, {nc});\n}}\n"
        f"static int32_t {name}_predict(const int16_t *x) {{\n"
        f"    return eml_trees_predict(&{name}_eml, x, {n_features});\n}}\n"
        f"\n#endif /* {name.upper()}_H */\n"
    )
    notes = [
        "emlearn loadable trees (int16) with thresholds floor(th)+1 compared with <: exact "
        "for integer-valued features"
    ]
    if leaves == "class" and len(ests) > 1:
        notes.append(
            "hard voting: scikit-learn averages probabilities (soft voting), so ties and "
            "close votes may differ"
        )
    if leaves == "uint8":
        notes.append(
            "soft voting with 8-bit leaf probabilities (emlearn leaf_bits=8): close votes may flip"
        )
    return GeneratedC(
        name=name,
        header=header,
        in_type="int16_t",
        n_features=n_features,
        n_classes=n_classes,
        engine="emlearn eml_trees.h",
        leaves=leaves,
        include_dirs=[emlearn.includedir],
        extra_headers=["eml_trees.h", "eml_common.h", "eml_log.h"],
        csv=csv,
        notes=notes,
        details={"n_trees": len(ests), "n_nodes": n_nodes, "n_leaves": n_leaves},
    )


# ------------------------------------------------------------------------------------------ MLP

_ACTIVATIONS = {
    "relu": ("{v} > 0 ? {v} : 0", "{v} > 0 ? {v} : 0"),
    "identity": ("{v}", "{v}"),
    "tanh": ("tanhf({v})", "tanh({v})"),
    "logistic": ("1.0f / (1.0f + expf(-{v}))", "1.0 / (1.0 + exp(-{v}))"),
}


def _generate_mlp(model: Any, name: str, dtype: str) -> GeneratedC:
    if model.activation not in _ACTIVATIONS:
        raise ModelError(
            f"MLP activation {model.activation!r} is not supported; use one of "
            f"{sorted(_ACTIVATIONS)}."
        )
    if getattr(model, "out_activation_", "softmax") not in ("softmax", "logistic"):
        raise ModelError("Only single-label MLP classifiers (softmax or logistic output) export.")
    ctype = _CTYPES[dtype]
    dbl = ctype == "double"
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
    for i, (w, b) in enumerate(zip(model.coefs_, model.intercepts_, strict=True)):
        parts.append(_array(ctype, f"{name}_w{i}", w, lambda v: _lit(v, ctype), per_line=6))
        parts.append(_array(ctype, f"{name}_b{i}", b, lambda v: _lit(v, ctype), per_line=6))
    act = _ACTIVATIONS[model.activation][1 if dbl else 0]
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
    exp = "exp" if dbl else "expf"
    one = "1.0" if dbl else "1.0f"
    if widths[-1] == 1:
        body += [
            f"    const {ctype} p1 = {one} / ({one} + {exp}(-a[0]));",
            "    proba[0] = (float)(1 - p1); proba[1] = (float)p1;",
            "}",
            f"static int32_t {name}_predict(const {name}_input_t *x) {{",
            "    float p[2];",
            f"    {name}_predict_proba(x, p);",
            "    return p[1] > 0.5f ? 1 : 0;",
            "}",
        ]
    else:
        body += [
            f"    {ctype} m = a[0], total = 0;",
            f"    for (int c = 1; c < {n_classes}; c++) if (a[c] > m) m = a[c];",
            f"    for (int c = 0; c < {n_classes}; c++) {{",
            f"        a[c] = {exp}(a[c] - m);",
            "        total += a[c];",
            "    }",
            f"    for (int c = 0; c < {n_classes}; c++) proba[c] = (float)(a[c] / total);",
            "}",
        ]
    parts.append("\n".join(body) + "\n")
    if widths[-1] != 1:
        parts.append(_argmax_predict(name, n_classes))
    parts.append(f"\n#endif /* {name.upper()}_H */\n")
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


# ---------------------------------------------------------------------------------- Naive Bayes


def _generate_nb(model: Any, name: str, dtype: str) -> GeneratedC:
    ctype = _CTYPES[dtype]
    dbl = ctype == "double"
    n_classes, n_features = model.theta_.shape
    var = np.asarray(model.var_, dtype=np.float64)
    const = np.log(model.class_prior_) - 0.5 * np.sum(np.log(2.0 * np.pi * var), axis=1)
    exp = "exp" if dbl else "expf"
    parts = [
        preamble(
            name,
            n_features,
            n_classes,
            ctype,
            f"GaussianNB, {n_classes} classes, arithmetic in {ctype}",
        ),
        _array(ctype, f"{name}_theta", model.theta_, lambda v: _lit(v, ctype), per_line=6),
        _array(ctype, f"{name}_var", var, lambda v: _lit(v, ctype), per_line=6),
        _array(ctype, f"{name}_const", const, lambda v: _lit(v, ctype), per_line=6),
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
        f"\n#endif /* {name.upper()}_H */\n",
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


# ----------------------------------------------------------------------------------------- k-NN


def _generate_knn(model: Any, name: str, dtype: str) -> GeneratedC:
    metric = model.effective_metric_
    if metric not in ("euclidean", "manhattan"):
        raise ModelError(
            f"k-NN metric {metric!r} is not supported; use 'euclidean' or "
            "'manhattan' (minkowski with p=2 or p=1)."
        )
    if model.weights not in ("uniform", "distance"):
        raise ModelError(
            "k-NN with a callable weights function cannot be exported; use "
            "weights='uniform' or 'distance'."
        )
    ctype = _CTYPES[dtype]
    dbl = ctype == "double"
    X = np.asarray(model._fit_X, dtype=np.float64)
    y = np.asarray(model._y).astype(np.int64)
    n, n_features = X.shape
    n_classes = len(model.classes_)
    k = int(model.n_neighbors)
    diff = "d * d" if metric == "euclidean" else ("fabs(d)" if dbl else "fabsf(d)")
    sqrt = "sqrt" if dbl else "sqrtf"
    huge = "HUGE_VAL" if dbl else "HUGE_VALF"
    dist = f"{sqrt}(best[i])" if metric == "euclidean" else "best[i]"
    if model.weights == "uniform":
        vote = [f"    for (int i = 0; i < {k}; i++) proba[{name}_y[idx[i]]] += 1.0f;"]
    else:
        vote = [
            "    int zero = 0;",
            f"    for (int i = 0; i < {k}; i++) if (best[i] == 0) zero = 1;",
            f"    for (int i = 0; i < {k}; i++) {{",
            f"        const {ctype} w = zero ? (best[i] == 0) : 1 / {dist};",
            f"        proba[{name}_y[idx[i]]] += (float)w;",
            "    }",
        ]
    parts = [
        preamble(
            name,
            n_features,
            n_classes,
            ctype,
            f"KNeighborsClassifier k={k}, {metric}, weights={model.weights}, {n} stored "
            f"rows, arithmetic in {ctype}",
        ),
        _array(ctype, f"{name}_X", X, lambda v: _lit(v, ctype), per_line=6),
        _array(_int_type(n_classes, False), f"{name}_y", y, lambda v: str(int(v)), per_line=16),
        "\n".join(
            [
                f"static void {name}_predict_proba(const {name}_input_t *x, float *proba) {{",
                f"    {ctype} best[{k}];",
                f"    int32_t idx[{k}];",
                f"    for (int i = 0; i < {k}; i++) {{ best[i] = {huge}; idx[i] = 0; }}",
                f"    for (int32_t r = 0; r < {n}; r++) {{",
                f"        {ctype} s = 0;",
                f"        for (int f = 0; f < {n_features}; f++) {{",
                f"            const {ctype} d = ({ctype})x[f] - {name}_X[r * {n_features} + f];",
                f"            s += {diff};",
                "        }",
                f"        if (s < best[{k - 1}]) {{",
                f"            int i = {k - 1};",
                "            while (i > 0 && best[i - 1] > s) { best[i] = best[i - 1]; "
                "idx[i] = idx[i - 1]; i--; }",
                "            best[i] = s; idx[i] = r;",
                "        }",
                "    }",
                f"    for (int c = 0; c < {n_classes}; c++) proba[c] = 0.0f;",
                *vote,
                "    float total = 0.0f;",
                f"    for (int c = 0; c < {n_classes}; c++) total += proba[c];",
                f"    for (int c = 0; c < {n_classes}; c++) proba[c] /= total;",
                "}",
            ]
        )
        + "\n",
        _argmax_predict(name, n_classes),
        f"\n#endif /* {name.upper()}_H */\n",
    ]
    return GeneratedC(
        name=name,
        header="".join(parts),
        in_type=ctype,
        n_features=int(n_features),
        n_classes=n_classes,
        engine="workbench",
        notes=[
            f"brute-force k-NN over {n} stored rows; distance ties may order neighbours "
            "differently than scikit-learn"
        ],
        details={"n_stored_rows": int(n), "k": k},
    )


def generate(
    model: Any, *, name: str, dtype: str, leaves: str, engine: str = "workbench"
) -> GeneratedC:
    """Generate the C header of a fitted, supported estimator.

    Parameters
    ----------
    model : estimator
        Fitted; its class name must be a key of :data:`SUPPORTED_ESTIMATORS`.
    name : str
        Valid C identifier used as prefix.
    dtype : {"float32", "float64", "int16"}
        Input and arithmetic type (trees: float32 or int16 only).
    leaves : {"class", "uint8", "float"}
        Leaf encoding of trees (ignored otherwise).
    engine : {"workbench", "emlearn"}, default="workbench"
        Tree runtime: our compact tables, or emlearn's ``eml_trees.h`` (int16 inputs,
        ``"class"`` or ``"uint8"`` leaves).

    Returns
    -------
    GeneratedC
    """
    family = SUPPORTED_ESTIMATORS[type(model).__name__]
    if family == "tree":
        if engine == "emlearn":
            if dtype != "int16" or leaves not in ("class", "uint8"):
                raise InputError(
                    "engine='emlearn' runs int16 trees with 'class' or 'uint8' leaves; got "
                    f"dtype={dtype!r}, leaves={leaves!r}."
                )
            return _generate_tree_emlearn(model, name, leaves)
        code = _generate_tree_own(model, name, dtype, leaves)
        if dtype == "int16" and model.n_features_in_ <= 127:
            # The MicroPython form: emlearn's CSV. emlearn-micropython's loader reads one class
            # per leaf line, so the CSV carries hard-voting leaves (emlearn 0.23 would print
            # 8-bit leaves as numpy arrays that the loader cannot parse).
            code.csv = _emlearn_trees(model, 0)[2]
            if len(_tree_estimators(model)) > 1:
                code.notes.append(
                    "the MicroPython CSV uses hard voting (its loader reads one class per leaf)"
                )
        return code
    if family == "mlp":
        return _generate_mlp(model, name, dtype)
    if family == "naive_bayes":
        return _generate_nb(model, name, dtype)
    return _generate_knn(model, name, dtype)
