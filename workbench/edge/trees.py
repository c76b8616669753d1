"""Decision trees and forests as C, on compact tables or generated if/else code.

Every tree of the model is flattened into one node table (:class:`~workbench.edge.tree_forms.
FlatForest`) shared by all trees; leaves that hold the same value are stored once. Thresholds are
written so that the C comparison sends each row the way scikit-learn does: scikit-learn compares
float32 features with float64 thresholds, so a float32 threshold is rounded down
(:func:`float32_at_or_below`), and for integer features ``x <= th`` is ``x <= floor(th)``.

Probabilities are scikit-learn's: a single tree returns its leaf's class distribution, a forest
the mean of its trees' distributions (soft voting, ``"uint8"``, ``"float"`` or ``"double"``
leaves); only ``leaves="class"`` on a forest counts votes (hard voting, said in the notes).

``"double"`` leaves repeat scikit-learn's arithmetic bit for bit: ``ForestClassifier.predict_proba``
adds each tree's ``predict_proba`` (the leaf's row of ``tree_.value``, float64) into a zeroed
float64 array, tree 0 first, divides by the number of trees, and ``predict`` takes the first
largest (``numpy.argmax``). Soft votes that are equal in real arithmetic (0.1 + 0.3 + ... on two
classes) are then broken by float64 rounding; float32 sums break them their own way, double sums
in the same order break them the same way.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from workbench.edge.cgen import (
    C_TYPES,
    c_array,
    float32_literal,
    float64_literal,
    int_literal,
    int_type,
)
from workbench.edge.cinterface import GeneratedC, header_end, preamble
from workbench.edge.tree_compact import (
    compact_prediction_code,
    compact_trees,
    leaf_codes,
    vote_counting,
)
from workbench.edge.tree_forms import FlatForest, choose_form, for_each_tree, leaf_finder

__all__ = [
    "DOUBLE_LEAVES_NOTE",
    "HARD_VOTING_NOTE",
    "flatten_trees",
    "float32_at_or_below",
    "generate_tree_tables",
    "node_probabilities",
    "tree_estimators",
    "tree_thresholds",
]

#: Why a hard-voting ensemble may disagree with scikit-learn (shared by both tree runtimes).
HARD_VOTING_NOTE = (
    "hard voting: scikit-learn averages probabilities (soft voting), so ties and "
    "close votes may differ"
)
#: What ``leaves="double"`` guarantees, and what it costs.
DOUBLE_LEAVES_NOTE = (
    "double leaves: each tree's leaf distribution as scikit-learn holds it (float64), summed "
    "tree by tree in scikit-learn's order and divided by the number of trees, so predictions "
    "follow scikit-learn's float64 soft vote bit for bit, exact ties included (scikit-learn with "
    "n_jobs=1; with more jobs its own order varies); Cortex-M4F and M0 do double arithmetic in "
    "software, larger and slower than float leaves"
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
    """Per-node class probabilities exactly as ``DecisionTreeClassifier.predict_proba`` returns.

    scikit-learn (1.4 and later; the project needs 1.5) stores each node's weighted class
    fractions in ``tree_.value``, and ``predict_proba`` returns the leaf's row as it is. Dividing
    it again by its sum, which float64 rounding may leave one ulp off 1, would change bits that
    decide exact ties (``leaves="double"``).

    Parameters
    ----------
    tree : DecisionTreeClassifier
        Fitted, single output.

    Returns
    -------
    numpy.ndarray of shape (n_nodes, n_classes)
        float64, bit for bit the rows ``tree.predict_proba`` returns for rows reaching each node.
    """
    return np.array(np.asarray(tree.tree_.value)[:, 0, :], dtype=np.float64)


def float32_at_or_below(th: np.ndarray) -> np.ndarray:
    """Largest float32 <= each float64 threshold: ``x32 <= th64`` iff ``x32 <= result``.

    Parameters
    ----------
    th : numpy.ndarray of float64
        Any values, infinities included (a finite value beyond float32's range becomes the
        largest finite float32 of its sign below it, or ``-inf``).

    Returns
    -------
    numpy.ndarray of float32
    """
    th = np.asarray(th, dtype=np.float64)
    with np.errstate(over="ignore"):
        t32 = th.astype(np.float32)
    above = t32.astype(np.float64) > th
    t32[above] = np.nextafter(t32[above], np.float32(-np.inf))
    return t32


def tree_thresholds(th: np.ndarray, dtype: str) -> tuple[str, list[str]]:
    """C type and literals of thresholds that compare ``x <= th`` exactly as scikit-learn.

    Parameters
    ----------
    th : numpy.ndarray of float64
        scikit-learn's thresholds (``x <= th`` goes left).
    dtype : {"float32", "float64", "int16"}
        C type of the inputs: float32 (the threshold rounded down to float32), float64 (the
        threshold itself) or int16 (``floor(th)``, exact for integer-valued inputs).

    Returns
    -------
    ctype : str
    literals : list of str
    """
    if dtype == "int16":
        ints = np.clip(np.floor(th), -32768, 32767).astype(np.int64)
        return "int16_t", [int_literal(v) for v in ints]
    if dtype == "float64":
        return "double", [_double_literal(v) for v in th]
    return "float", [_float_literal(v) for v in float32_at_or_below(th)]


def _float_literal(value: float) -> str:
    if np.isinf(value):
        return "INFINITY" if value > 0 else "-INFINITY"
    return float32_literal(value)


def _double_literal(value: float) -> str:
    if np.isinf(value):
        return "INFINITY" if value > 0 else "-INFINITY"
    return repr(float(value))


def _leaf_key(rows: np.ndarray, leaves: str, single: bool) -> list[tuple[bytes, Any]]:
    """Per node: the key leaves are shared by, and the value stored for the leaf."""
    if leaves == "class":
        cls = np.argmax(rows, axis=1)
        if single:  # the class for predict and the distribution for predict_proba
            return [(r.tobytes(), (int(c), r)) for r, c in zip(rows, cls, strict=True)]
        return [(int(c).to_bytes(4, "little"), int(c)) for c in cls]
    if leaves == "double":
        return [(r.tobytes(), r) for r in rows]
    enc = np.round(rows * 255.0).astype(np.uint8) if leaves == "uint8" else rows.astype(np.float32)
    return [(r.tobytes(), r) for r in enc]


def flatten_trees(model: Any, leaves: str, dtype: str) -> tuple[FlatForest, list[Any]]:
    """All trees of a classifier in one node table, and the table of its unique leaves.

    Parameters
    ----------
    model : DecisionTreeClassifier, RandomForestClassifier or ExtraTreesClassifier
        Fitted, single output.
    leaves : {"class", "uint8", "float", "double"}
        Leaf encoding (see :func:`generate_tree_tables`).
    dtype : {"float32", "int16"}
        Input type, for the threshold literals.

    Returns
    -------
    forest : FlatForest
    leaf_values : list
        Per unique leaf: the class (``"class"`` on a forest), ``(class, distribution)``
        (``"class"`` on a single tree), or the uint8/float32/float64 distribution row.
    """
    ests = tree_estimators(model)
    single = len(ests) == 1
    feature, threshold, left, right, roots = [], [], [], [], []
    leaf_values: list[Any] = []
    leaf_index: dict[bytes, int] = {}
    depth = 0

    def leaf_id(key: bytes, value: Any) -> int:
        if key not in leaf_index:
            leaf_index[key] = len(leaf_values)
            leaf_values.append(value)
        return -leaf_index[key] - 1

    for est in ests:
        t = est.tree_
        depth = max(depth, int(t.max_depth))
        keys = _leaf_key(node_probabilities(est), leaves, single)
        internal = np.flatnonzero(t.children_left != -1)
        offset = len(feature)
        index = {int(n): offset + i for i, n in enumerate(internal)}
        roots.append(offset)
        if internal.size == 0:  # a tree that is one leaf: one node sending both ways to it
            lid = leaf_id(*keys[0])
            feature.append(0)
            threshold.append(0.0)
            left.append(lid)
            right.append(lid)
            continue
        for n in internal:
            cl, cr = int(t.children_left[n]), int(t.children_right[n])
            feature.append(int(t.feature[n]))
            threshold.append(float(t.threshold[n]))
            left.append(index[cl] if t.children_left[cl] != -1 else leaf_id(*keys[cl]))
            right.append(index[cr] if t.children_left[cr] != -1 else leaf_id(*keys[cr]))
    th_type, th_literals = tree_thresholds(np.asarray(threshold, dtype=np.float64), dtype)
    forest = FlatForest(
        feature=np.asarray(feature, dtype=np.int64),
        threshold=th_literals,
        threshold_type=th_type,
        left=np.asarray(left, dtype=np.int64),
        right=np.asarray(right, dtype=np.int64),
        roots=np.asarray(roots, dtype=np.int64),
        nan_left=None,
        n_leaves=len(leaf_values),
        max_depth=max(depth, 1),
        threshold_f32=float32_at_or_below(np.asarray(threshold)) if dtype == "float32" else None,
    )
    return forest, leaf_values


def _leaf_tables(name: str, leaves: str, single: bool, values: list[Any], nc: int) -> str:
    if leaves == "class" and single:
        cls = [c for c, _ in values]
        dist = np.asarray([d for _, d in values], dtype=np.float32)
        return c_array(int_type(nc, False), f"{name}_leaf", cls, int_literal, 16) + c_array(
            "float", f"{name}_leaf_proba", dist, float32_literal, 6
        )
    if leaves == "class":
        return c_array(int_type(nc, False), f"{name}_leaf", values, int_literal, 16)
    if leaves == "uint8":
        return c_array("uint8_t", f"{name}_leaf", np.asarray(values), int_literal, 16)
    if leaves == "double":
        return c_array("double", f"{name}_leaf", np.asarray(values), float64_literal, 4)
    return c_array("float", f"{name}_leaf", np.asarray(values), float32_literal, 6)


#: Leaf encoding -> (C type of the sums, its zero, C type of a leaf row).
_SUM_TYPES = {
    "uint8": ("uint32_t", "0", "uint8_t"),
    "float": ("float", "0.0f", "float"),
    "double": ("double", "0.0", "double"),
}


def _double_vote(name: str, form: str, forest: FlatForest, nc: int) -> str:
    """``predict_proba`` and ``predict`` repeating scikit-learn's float64 soft vote.

    ``predict`` compares the sums divided by the number of trees, as scikit-learn's argmax does
    (a division can make two different sums equal); dividing by a power of two is exact, so
    then the sums are compared as they are.
    """
    n = len(forest.roots)
    sig = f"(const {name}_input_t *x"
    sums = _sum_leaves(name, form, "double", forest, nc)
    proba = "".join(f"    p[{c}] = (float)(a{c} / {n}.0);\n" for c in range(nc))
    q, pick = "a", []
    if n & (n - 1):  # not a power of two: compare the quotients, as scikit-learn does
        q = "q"
        pick.append(
            "    const double " + ", ".join(f"q{c} = a{c} / {n}.0" for c in range(nc)) + ";"
        )
    pick += ["    int32_t best = 0;", f"    double top = {q}0;"]
    pick += [f"    if ({q}{c} > top) {{ best = {c}; top = {q}{c}; }}" for c in range(1, nc)]
    return (
        f"static void {name}_predict_proba{sig}, float *p) {{\n{sums}{proba}}}\n"
        f"static int32_t {name}_predict{sig}) {{\n{sums}"
        + "\n".join(pick)
        + "\n    (void)top;\n    return best;\n}\n"
    )


def _sum_leaves(name: str, form: str, leaves: str, forest: FlatForest, nc: int) -> str:
    """C statements summing the trees' leaf rows into locals ``a0 .. a{nc-1}``.

    One local per class, written out, rather than an array updated through memory: the sums
    stay in registers, which made the forests 2-4x faster on the host than a loop over an
    accumulator array (a store-to-load chain per tree). Double sums start at 0.0 and add the
    trees in order, as scikit-learn's zeroed float64 array does.
    """
    acc_t, zero, row_t = _SUM_TYPES[leaves]
    decl = f"    {acc_t} " + ", ".join(f"a{c} = {zero}" for c in range(nc)) + ";\n"

    def body(leaf: str, _k: int) -> str:
        adds = " ".join(f"a{c} += r[{c}];" for c in range(nc))
        return f"const {row_t} *r = {name}_leaf + {leaf} * {nc}; {adds}"

    return decl + for_each_tree(name, form, forest, body)


def _prediction_code(name: str, form: str, leaves: str, forest: FlatForest, nc: int) -> str:
    """The two interface functions over the leaves each tree reaches."""
    n_trees = len(forest.roots)
    each = lambda body: for_each_tree(name, form, forest, body)  # noqa: E731
    sig = f"(const {name}_input_t *x"
    if leaves == "class" and n_trees == 1:
        # One tree: predict is its leaf's class, predict_proba its leaf's distribution.
        copy = f"for (int c = 0; c < {nc}; c++) p[c] = {name}_leaf_proba[{{leaf}} * {nc} + c];"
        return (
            f"static int32_t {name}_predict{sig}) {{\n    int32_t c = 0;\n"
            f"{each(lambda leaf, _k: f'c = {name}_leaf[{leaf}];')}    return c;\n}}\n"
            f"static void {name}_predict_proba{sig}, float *p) {{\n"
            f"{each(lambda leaf, _k: copy.format(leaf=leaf))}}}\n"
        )
    if leaves == "class":  # hard voting: one vote per tree for its leaf's class
        return (
            f"static void {name}_votes{sig}, uint32_t *acc) {{\n"
            f"    for (int c = 0; c < {nc}; c++) acc[c] = 0;\n"
            f"{each(lambda leaf, _k: f'acc[{name}_leaf[{leaf}]] += 1;')}}}\n"
            f"static void {name}_predict_proba{sig}, float *p) {{\n"
            f"    uint32_t acc[{nc}];\n    {name}_votes(x, acc);\n"
            f"    for (int c = 0; c < {nc}; c++) p[c] = (float)acc[c] / {n_trees}.0f;\n}}\n"
            f"static int32_t {name}_predict{sig}) {{\n"
            f"    uint32_t acc[{nc}];\n    {name}_votes(x, acc);\n    int32_t best = 0;\n"
            f"    for (int32_t c = 1; c < {nc}; c++) if (acc[c] > acc[best]) best = c;\n"
            "    return best;\n}\n"
        )
    if leaves == "double":
        return _double_vote(name, form, forest, nc)
    # Soft voting: 8-bit probabilities add up exactly as integers; float32 ones as floats.
    scale = f"{n_trees * 255}.0f" if leaves == "uint8" else f"{n_trees}.0f"
    sums = _sum_leaves(name, form, leaves, forest, nc)
    proba = "".join(f"    p[{c}] = (float)a{c} / {scale};\n" for c in range(nc))
    # First largest sum, as numpy.argmax (ties to the lower class).
    acc_t = "float" if leaves == "float" else "uint32_t"
    pick = ["    int32_t best = 0;", f"    {acc_t} top = a0;"]
    pick += [f"    if (a{c} > top) {{ best = {c}; top = a{c}; }}" for c in range(1, nc)]
    return (
        f"static void {name}_predict_proba{sig}, float *p) {{\n{sums}{proba}}}\n"
        f"static int32_t {name}_predict{sig}) {{\n{sums}"
        + "\n".join(pick)
        + "\n    (void)top;\n    return best;\n}\n"
    )


def _tree_code(
    name: str,
    form: str,
    leaves: str,
    forest: FlatForest,
    values: list[Any],
    nc: int,
    in_type: str,
    n_features: int,
) -> str:
    """The trees' arrays or functions, the leaf tables, ``predict`` and ``predict_proba``."""
    if form == "tables":
        codes, rows = leaf_codes(values, leaves, nc)
        trees = compact_trees(forest, codes, n_features)
        th_type = forest.threshold_type
        return compact_prediction_code(name, trees, rows, leaves, nc, th_type, in_type)
    n_trees = len(forest.roots)
    codes, rows = leaf_codes(values, leaves, nc)
    if rows or n_trees == 1:
        return (
            leaf_finder(forest, name, form, f"{name}_input_t", n_features)
            + _leaf_tables(name, leaves, n_trees == 1, values, nc)
            + _prediction_code(name, form, leaves, forest, nc)
        )
    # A forest of pure leaves: each tree returns its leaf's class, predict counts votes.
    code_of = np.asarray(codes, dtype=np.int64)

    def coded(children: np.ndarray) -> np.ndarray:
        return np.where(children < 0, -code_of[np.maximum(-children - 1, 0)] - 1, children)

    forest = dataclasses.replace(
        forest, left=coded(forest.left), right=coded(forest.right), n_leaves=nc
    )
    one = np.eye(nc) * (255 if leaves == "uint8" else 1)
    hot = list(range(nc)) if leaves == "class" else list(one)
    each = lambda st: for_each_tree(  # noqa: E731
        name, form, forest, lambda leaf, _k: st.format(leaf=leaf)
    )
    proba = _prediction_code(name, form, leaves, forest, nc)
    proba = proba[: proba.index(f"static int32_t {name}_predict(")]
    return (
        leaf_finder(forest, name, form, f"{name}_input_t", n_features)
        + _leaf_tables(name, leaves, False, hot, nc)
        + proba
        + f"static int32_t {name}_predict(const {name}_input_t *x) {{\n"
        + vote_counting(nc, n_trees, each)
        + "}\n"
    )


def generate_tree_tables(
    model: Any, name: str, dtype: str, leaves: str, form: str = "tables"
) -> GeneratedC:
    """C header of a fitted tree model, as compact tables or generated if/else code.

    Parameters
    ----------
    model : DecisionTreeClassifier, RandomForestClassifier or ExtraTreesClassifier
        Fitted, single output.
    name : str
        C prefix.
    dtype : {"float32", "int16"}
        Input type; int16 thresholds are exact for integer-valued features only.
    leaves : {"class", "uint8", "float", "double"}
        Leaf encoding: the class (a single tree: its class, and its class distribution for
        ``predict_proba``; a forest: hard voting), 8-bit, float32 or float64 probabilities (soft
        voting; ``"double"`` sums and divides like scikit-learn, so exact ties in its float64
        arithmetic break the same way, see :data:`DOUBLE_LEAVES_NOTE`).
    form : {"tables", "ifelse", "auto"}, default="tables"
        C form of the trees (:mod:`workbench.edge.tree_forms`); ``"auto"`` applies
        :func:`~workbench.edge.tree_forms.choose_form`.

    Returns
    -------
    GeneratedC
        Without a MicroPython CSV (the dispatcher :func:`~workbench.edge.codegen.generate`
        adds emlearn's for int16); ``details["form"]`` says which form was written.
    """
    ests = tree_estimators(model)
    n_classes = len(model.classes_)
    n_features = int(model.n_features_in_)
    forest, values = flatten_trees(model, leaves, dtype)
    notes = []
    if form == "auto":
        form, why = choose_form(forest)
        notes.append(why)
    in_type = C_TYPES[dtype]
    n_trees = len(ests)
    header = "".join(
        [
            preamble(
                name,
                n_features,
                n_classes,
                in_type,
                f"{type(model).__name__}: {n_trees} tree(s), {forest.n_nodes} decision nodes, "
                f"{forest.n_leaves} unique leaves, {form}",
            ),
            _tree_code(name, form, leaves, forest, values, n_classes, in_type, n_features),
            header_end(name),
        ]
    )
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
    if leaves == "double":
        notes.append(DOUBLE_LEAVES_NOTE)
    return GeneratedC(
        name=name,
        header=header,
        in_type=in_type,
        n_features=n_features,
        n_classes=n_classes,
        engine="workbench",
        leaves=leaves,
        notes=notes,
        details={
            "n_trees": n_trees,
            "n_nodes": forest.n_nodes,
            "n_leaves": forest.n_leaves,
            "form": form,
        },
    )
