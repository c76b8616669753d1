"""Decision trees and forests as compact C tables (the default tree runtime of the export).

Every tree of the model is flattened into one set of arrays (feature, threshold, left, right)
shared by all trees; leaves that hold the same value are stored once. Thresholds are written so
that the C comparison sends each row the way scikit-learn does: scikit-learn compares float32
features with float64 thresholds, so a float32 threshold is rounded down
(:func:`float32_at_or_below`), and for integer features ``x <= th`` is ``x <= floor(th)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from workbench.edge.cgen import C_TYPES, c_array, float32_literal, int_literal, int_type
from workbench.edge.cinterface import GeneratedC, header_end, preamble, predict_by_argmax

__all__ = [
    "HARD_VOTING_NOTE",
    "float32_at_or_below",
    "generate_tree_tables",
    "node_probabilities",
    "tree_estimators",
]

#: Why a hard-voting ensemble may disagree with scikit-learn (shared by both tree runtimes).
HARD_VOTING_NOTE = (
    "hard voting: scikit-learn averages probabilities (soft voting), so ties and "
    "close votes may differ"
)


def tree_estimators(model: Any) -> list[Any]:
    """The fitted decision trees of a tree model: its ``estimators_``, or the model itself.

    Parameters
    ----------
    model : DecisionTreeClassifier, RandomForestClassifier or ExtraTreesClassifier
        Fitted.

    Returns
    -------
    list of DecisionTreeClassifier
    """
    return list(model.estimators_) if hasattr(model, "estimators_") else [model]


def node_probabilities(tree: Any) -> np.ndarray:
    """Per-node class probabilities as ``DecisionTreeClassifier.predict_proba`` makes them.

    Parameters
    ----------
    tree : DecisionTreeClassifier
        Fitted, single output.

    Returns
    -------
    numpy.ndarray of shape (n_nodes, n_classes)
        Each node's class weights divided by their sum (rows of zeros stay zero).
    """
    value = np.asarray(tree.tree_.value)[:, 0, :].astype(np.float64)
    norm = value.sum(axis=1, keepdims=True)
    norm[norm == 0.0] = 1.0
    return value / norm


def float32_at_or_below(th: np.ndarray) -> np.ndarray:
    """Largest float32 <= each float64 threshold: ``x32 <= th64`` iff ``x32 <= result``.

    Parameters
    ----------
    th : numpy.ndarray of float64

    Returns
    -------
    numpy.ndarray of float32
    """
    t32 = th.astype(np.float32)
    above = t32.astype(np.float64) > th
    t32[above] = np.nextafter(t32[above], np.float32(-np.inf))
    return t32


def _flatten(estimators: list[Any], leaves: str) -> dict[str, Any]:
    """All trees in one node table; children < 0 are leaves ``-child - 1`` of a shared table."""
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
        proba = node_probabilities(est)
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


def _prediction_code(name: str, leaves: str, n_trees: int, nc: int) -> list[str]:
    """The C walk over the tables and the two interface functions for the leaf encoding."""
    parts = [
        f"static int32_t {name}_find_leaf(const {name}_input_t *x, int32_t node) {{\n"
        "    while (node >= 0) {\n"
        f"        node = (x[{name}_feature[node]] <= {name}_threshold[node])"
        f" ? {name}_left[node] : {name}_right[node];\n"
        "    }\n    return -node - 1;\n}\n"
    ]
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
        parts.append(predict_by_argmax(name, nc))
        return parts
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
    return parts


def generate_tree_tables(model: Any, name: str, dtype: str, leaves: str) -> GeneratedC:
    """C header of a fitted tree model on the compact tables of this module.

    Parameters
    ----------
    model : DecisionTreeClassifier, RandomForestClassifier or ExtraTreesClassifier
        Fitted, single output.
    name : str
        C prefix.
    dtype : {"float32", "int16"}
        Input type; int16 thresholds are exact for integer-valued features only.
    leaves : {"class", "uint8", "float"}
        Leaf encoding: the class (hard voting), 8-bit or float32 probabilities (soft voting).

    Returns
    -------
    GeneratedC
        Without a MicroPython CSV (the dispatcher :func:`~workbench.edge.codegen.generate`
        adds emlearn's for int16).
    """
    ests = tree_estimators(model)
    n_classes = len(model.classes_)
    n_features = int(model.n_features_in_)
    flat = _flatten(ests, leaves)
    in_type = C_TYPES[dtype]
    n_nodes = len(flat["feature"])
    n_leaves = len(flat["leaves"])
    child_t = int_type(max(n_nodes, n_leaves + 1))
    feat_t = int_type(n_features, signed=False)
    if dtype == "int16":
        # For integer x: x <= th  <=>  x <= floor(th). sklearn compares float32(x) <= th.
        th = np.clip(np.floor(flat["threshold"]), -32768, 32767).astype(np.int64)
        th_arr = c_array("int16_t", f"{name}_threshold", th, int_literal)
    else:
        th = float32_at_or_below(flat["threshold"])
        th_arr = c_array("float", f"{name}_threshold", th, float32_literal, per_line=6)
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
        c_array(feat_t, f"{name}_feature", flat["feature"], int_literal, per_line=16),
        c_array(child_t, f"{name}_left", flat["left"], int_literal, per_line=12),
        c_array(child_t, f"{name}_right", flat["right"], int_literal, per_line=12),
        c_array(int_type(n_nodes), f"{name}_roots", flat["roots"], int_literal, 12),
    ]
    if leaves == "class":
        leaf_t = int_type(n_classes, False)
        parts.append(c_array(leaf_t, f"{name}_leaf", flat["leaves"].ravel(), int_literal, 16))
    elif leaves == "uint8":
        parts.append(c_array("uint8_t", f"{name}_leaf", flat["leaves"], int_literal, 16))
    else:
        parts.append(c_array("float", f"{name}_leaf", flat["leaves"], float32_literal, 6))
    n_trees = len(ests)
    parts += _prediction_code(name, leaves, n_trees, n_classes)
    parts.append(header_end(name))
    notes = []
    if dtype == "float32":
        notes.append(
            "thresholds rounded down to float32 and compared with <=, as scikit-learn "
            "compares float32 features with float64 thresholds"
        )
    else:
        notes.append("int16 thresholds floor(th) with <=: exact for integer-valued features")
    if leaves == "class" and n_trees > 1:
        notes.append(HARD_VOTING_NOTE)
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
