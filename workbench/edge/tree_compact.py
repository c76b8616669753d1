"""The ``"tables"`` form of classifier trees and forests: narrow node arrays in preorder.

Each tree's decision nodes are stored in preorder (a node, its left subtree, its right
subtree), one row per node spread over three arrays of the narrowest C types that hold them:

``feat`` (``uint8_t`` up to 64 features)
    The feature index, with two flags: bit 6 set when the left child is a leaf, bit 7 when
    the right child is; the bits in between, when the features leave some, carry the high bits
    of a child word too wide for ``kid``.
``th``
    The threshold, as :func:`~workbench.edge.trees.flatten_trees` rounded it (float32 below
    scikit-learn's float64 threshold, or ``floor`` for int16 inputs), so ``x[f] <= th`` sends
    every row the way scikit-learn does.
``kid`` (``uint8_t`` or ``uint16_t``)
    What the node cannot leave implicit: a left child that is a node is always the next row,
    so ``kid`` holds the right child's distance when both children are nodes, the leaf's code
    when one child is a leaf (the other child is then the next row), and both leaves' codes,
    ``left << S | right``, when both are leaves (or, when two codes do not fit in the word, the
    index of the pair in a table of distinct leaf pairs, whichever layout is smaller).

A leaf code ``c < n_classes`` is a *pure* leaf: its class distribution (as the leaf encoding
writes it) is one-hot on class ``c``, and a code ``n_classes + j`` is row ``j`` of the table of
the other leaves' distributions. Fully grown forests are mostly pure leaves, which then cost no
table row. Soft voting over pure leaves is exactly scikit-learn's: adding a one-hot row
``(0, .., 1, .., 0)`` to the class sums changes only class ``c``, by the same ``1`` (255 for
8-bit leaves, ``1.0f``/``1.0`` for float and double leaves) that the code adds; adding ``0`` to
a sum of non-negative numbers, ``+0.0`` included, leaves its bits unchanged. So the sums, their
quotients by the number of trees and the first largest class (``numpy.argmax``) are the same
bits as with every row stored, for every leaf encoding; a forest of pure leaves only counts
votes (``average of one-hot rows == vote counts / n_trees``).

Double leaves are stored as the integer counts whose float64 quotients they are
(:func:`count_rows`). Measured on Cortex-M4F (``arm-none-eabi-gcc -Os``) against the previous
node-struct tables (a padded ``{float th; int8/int16 left, right}`` per node, a row per unique
leaf): a 10-tree depth-10 forest on wine 904 -> 675 B, the 6-class forest with double leaves
20,720 -> 11,997 B (``benchmarks/results/edge.md``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np

from workbench.edge.cgen import c_array, float32_literal, float64_literal, int_literal, int_type
from workbench.edge.tree_forms import FlatForest

__all__ = [
    "CompactTrees",
    "compact_prediction_code",
    "compact_trees",
    "count_rows",
    "kid_bytes",
    "leaf_codes",
    "vote_counting",
]

#: Feature flags in ``feat``: the left / right child is a leaf.
_LEFT_LEAF, _RIGHT_LEAF = 1, 2


class CompactTrees:
    """Trees in preorder, as the three node arrays of the ``"tables"`` form.

    Attributes
    ----------
    feat, kid : list of int
        Per node (preorder, tree after tree): feature with leaf flags, and the child word.
    th : list of str
        Per node: the threshold literal.
    roots : list of int
        First node of each tree.
    feat_bits : int
        Low bits of ``feat`` that hold the feature index.
    flag_shift : int
        Bit of ``feat`` that holds the left-leaf flag (the right-leaf flag is the next bit);
        the bits between the feature and the flags may hold a child word's high bits
        (:func:`kid_bytes`).
    pair_shift : int
        ``S`` of a node whose children are both leaves: ``kid = left << S | right``; 0 when
        the two codes do not fit in the child word, which then indexes :attr:`pairs`.
    pairs : list of int
        ``(left, right)`` codes, flattened, of the both-leaves nodes when ``pair_shift == 0``
        (each distinct pair once).
    pair_index : dict
        ``(left, right) -> index`` into :attr:`pairs`.
    """

    def __init__(self) -> None:
        self.feat: list[int] = []
        self.kid: list[int] = []
        self.th: list[str] = []
        self.roots: list[int] = []
        self.feat_bits = 1
        self.flag_shift = 6
        self.pair_shift = 0
        self.pairs: list[int] = []
        self.pair_index: dict[tuple[int, int], int] = {}


def leaf_codes(values: list[Any], leaves: str, n_classes: int) -> tuple[list[int], list[Any]]:
    """A code per unique leaf: its class when its row is one-hot, else ``n_classes + row``.

    Parameters
    ----------
    values : list
        Unique leaves as :func:`~workbench.edge.trees.flatten_trees` returns them.
    leaves : {"class", "uint8", "float", "double"}
    n_classes : int

    Returns
    -------
    codes : list of int
        Per unique leaf.
    rows : list
        The leaves that are not pure, in code order: distribution rows, or
        ``(class, distribution)`` for a single tree's ``"class"`` leaves.
    """
    codes, rows = [], []
    for value in values:
        if isinstance(value, int | np.integer):  # a forest's hard-voting leaf: its class
            codes.append(int(value))
            continue
        row = np.asarray(value[1] if isinstance(value, tuple) else value)
        one = 255 if leaves == "uint8" else 1
        hot = np.flatnonzero(row)
        if hot.size == 1 and row[hot[0]] == one:
            codes.append(int(hot[0]))
        else:
            codes.append(n_classes + len(rows))
            rows.append(value)
    return codes, rows


def compact_trees(forest: FlatForest, codes: list[int], n_features: int) -> CompactTrees:
    """Re-order a flattened forest into preorder rows with narrow child words.

    Parameters
    ----------
    forest : FlatForest
        From :func:`~workbench.edge.trees.flatten_trees` (children ``< 0`` are leaf ids).
    codes : list of int
        Per leaf id, its code (:func:`leaf_codes`).
    n_features : int

    Returns
    -------
    CompactTrees
    """
    layouts = []
    for packed in (True, False):
        t = CompactTrees()
        t.feat_bits = max(1, int(n_features - 1).bit_length())
        t.flag_shift = max(6, t.feat_bits)
        t.pair_shift = max(1, (max(codes) if codes else 0).bit_length()) if packed else 0
        for root in forest.roots:
            t.roots.append(len(t.feat))
            _emit(forest, codes, int(root), t)
        code_bytes = 1 if max(t.pairs, default=0) < 2**8 else 2
        layouts.append((len(t.kid) * kid_bytes(t)[0] + len(t.pairs) * code_bytes, t))
    return min(layouts, key=lambda size_layout: size_layout[0])[1]


def kid_bytes(t: CompactTrees) -> tuple[int, int]:
    """Bytes per entry of the child-word array, and the spare feature bits its words borrow.

    With at most 64 features the ``feat`` byte has ``6 - feature bits`` bits to spare; child
    words too wide for the ``kid`` array keep their high bits there.

    Parameters
    ----------
    t : CompactTrees

    Returns
    -------
    n_bytes : int
        1, 2 or 4.
    spare : int
        Feature bits used as the child word's high bits (0 when it fits without them).
    """
    spare = t.flag_shift - t.feat_bits if t.flag_shift == 6 else 0
    top = max(t.kid, default=0)
    for n_bytes in (1, 2, 4):
        if top < 2 ** (8 * n_bytes):
            return n_bytes, 0
        if top < 2 ** (8 * n_bytes + spare):
            return n_bytes, spare
    raise AssertionError("child words are below 2**32")


def _emit(forest: FlatForest, codes: list[int], root: int, out: CompactTrees) -> None:
    """Append one tree in preorder; right-child distances are patched once known."""
    stack = [root]
    patch: dict[int, int] = {}  # right child node -> row whose kid must point at it
    while stack:
        node = stack.pop()
        row = len(out.feat)
        if node in patch:  # the right child of a node whose left child is a node
            parent = patch.pop(node)
            out.kid[parent] = row - parent
        lc, rc = int(forest.left[node]), int(forest.right[node])
        flags = (_LEFT_LEAF if lc < 0 else 0) | (_RIGHT_LEAF if rc < 0 else 0)
        kid = 0
        if lc < 0 and rc < 0:
            kid = _pair(out, codes[-lc - 1], codes[-rc - 1])
        elif lc < 0:
            kid = codes[-lc - 1]
        elif rc < 0:
            kid = codes[-rc - 1]
        out.feat.append(int(forest.feature[node]) | (flags << out.flag_shift))
        out.th.append(forest.threshold[node])
        out.kid.append(kid)
        if rc >= 0:
            if lc >= 0:
                patch[rc] = row
            stack.append(rc)
        if lc >= 0:
            stack.append(lc)
    assert not patch


def _pair(out: CompactTrees, left: int, right: int) -> int:
    """The child word of a node whose children are both leaves."""
    if out.pair_shift:
        return (left << out.pair_shift) | right
    if (left, right) not in out.pair_index:
        out.pair_index[left, right] = len(out.pairs) // 2
        out.pairs += [left, right]
    return out.pair_index[left, right]


def _find_leaf(name: str, t: CompactTrees, th_type: str, in_type: str) -> str:
    """The arrays and the loop that walks one tree from its root row to its leaf code."""
    lbit, rbit = 1 << t.flag_shift, 1 << (t.flag_shift + 1)
    feat_t = int_type(2 * rbit - 1, signed=False)
    n_bytes, spare = kid_bytes(t)
    low = 8 * n_bytes
    kid_t = {1: "uint8_t", 2: "uint16_t", 4: "uint32_t"}[n_bytes]
    feat = [f | ((k >> low) << t.feat_bits) for f, k in zip(t.feat, t.kid, strict=True)]
    kid = [k & ((1 << low) - 1) for k in t.kid]
    word = f"{name}_kid[i]"
    if spare:
        word += f" | ((f >> {t.feat_bits}) & {(1 << spare) - 1}u) << {low}"
    arrays = (
        c_array(feat_t, f"{name}_feat", feat, int_literal, 16)
        + c_array(th_type, f"{name}_th", np.asarray(t.th, dtype=object), str, 6)
        + c_array(kid_t, f"{name}_kid", kid, int_literal, 16)
        + c_array(int_type(len(t.feat) + 1, signed=False), f"{name}_roots", t.roots, int_literal)
    )
    left_of, right_of = f"k >> {t.pair_shift}", f"k & {(1 << t.pair_shift) - 1}u"
    if not t.pair_shift:
        code_t = int_type(max(t.pairs, default=0) + 1, signed=False)
        arrays += c_array(code_t, f"{name}_pair", t.pairs, int_literal, 16)
        left_of, right_of = f"{name}_pair[2 * k]", f"{name}_pair[2 * k + 1]"
    return arrays + (
        f"static int32_t {name}_find_leaf(const {in_type} *x, int32_t i) {{\n"
        "    for (;;) {\n"
        f"        const uint32_t f = {name}_feat[i], k = {word};\n"
        f"        const uint32_t left = x[f & {(1 << t.feat_bits) - 1}u] <= {name}_th[i];\n"
        f"        if (f & (left ? {lbit}u : {rbit}u)) {{\n"
        f"            if ((f & {lbit | rbit}u) != {lbit | rbit}u) return (int32_t)k;\n"
        f"            return (int32_t)(left ? {left_of} : {right_of});\n"
        "        }\n"
        f"        i += (left | (f & {lbit}u)) ? 1 : (int32_t)k;\n"
        "    }\n}\n"
    )


#: Leaf encoding -> (C type of the sums, its zero, what a pure leaf adds, C type of a row).
_SUMS = {
    "class": ("uint32_t", "0", "1", ""),
    "uint8": ("uint32_t", "0", "255", "uint8_t"),
    "float": ("float", "0.0f", "1.0f", "float"),
    "double": ("double", "0.0", "1.0", "double"),
}


def count_rows(rows: list[Any], limit: int = 2**16) -> np.ndarray | None:
    """Integer counts ``(n_0, .., n_{k-1}, N)`` whose quotients ``n_c / N`` are the rows' bits.

    scikit-learn stores a leaf's class fractions as weighted counts divided by the node's
    weight, in float64; with integer weights (bootstrap counts, or none) each value is such a
    quotient, and IEEE division, correctly rounded, gives back the same float64 from the
    counts. Each row's ``N`` is the least common denominator of the closest fractions with
    denominators below ``limit``, and every row is checked bit for bit.

    Parameters
    ----------
    rows : list of numpy.ndarray of float64
    limit : int, default=65536

    Returns
    -------
    numpy.ndarray of int of shape (n_rows, n_classes + 1), or None
        None when some row is not such a quotient, or its counts reach ``limit``.
    """
    out = []
    for row in rows:
        fracs = [Fraction(float(v)).limit_denominator(limit - 1) for v in row]
        n = math.lcm(*(f.denominator for f in fracs))
        counts = [f.numerator * (n // f.denominator) for f in fracs]
        if n >= limit or any(
            float(c) / float(n) != float(v) for c, v in zip(counts, row, strict=True)
        ):
            return None
        out.append([*counts, n])
    return np.asarray(out, dtype=np.int64)


def _leaf_rows(name: str, leaves: str, rows: list[Any], n_classes: int) -> str:
    if not rows:
        return ""
    if leaves == "double" and (counts := count_rows(rows)) is not None:
        count_t = int_type(int(counts.max()) + 1, signed=False)
        return f"typedef {count_t} {name}_count_t;\n" + c_array(
            count_t, f"{name}_count", counts, int_literal, n_classes + 1
        )
    row_t = _SUMS[leaves][3]
    fmt = {"uint8_t": int_literal, "float": float32_literal, "double": float64_literal}[row_t]
    return c_array(row_t, f"{name}_leaf", np.asarray(rows), fmt, n_classes)


def _sums(name: str, leaves: str, rows: list[Any], nc: int, n_trees: int) -> str:
    """Statements leaving each class's sum of the trees' leaf rows in ``a[c]``, tree by tree.

    Double rows stored as counts (:func:`count_rows`) are divided back to scikit-learn's
    float64 values (``n_c / N``, correctly rounded) as they are added.
    """
    acc_t, zero, one, row_t = _SUMS[leaves]
    add = f"a[c] += {one};"
    if rows:
        row = (
            f"            const {row_t} *r = {name}_leaf + (c - {nc}) * {nc};\n"
            f"            for (int32_t j = 0; j < {nc}; j++) a[j] += r[j];\n"
        )
        if leaves == "double" and count_rows(rows) is not None:
            row = (
                f"            const {name}_count_t *r = {name}_count + (c - {nc}) * {nc + 1};\n"
                f"            const double n = r[{nc}];\n"
                f"            for (int32_t j = 0; j < {nc}; j++) a[j] += r[j] / n;\n"
            )
        add = f"if (c < {nc}) {{ a[c] += {one}; }} else {{\n{row}        }}"
    return (
        f"    {acc_t} a[{nc}];\n    for (int32_t j = 0; j < {nc}; j++) a[j] = {zero};\n"
        f"    for (int32_t t = 0; t < {n_trees}; t++) {{\n"
        f"        const int32_t c = {name}_find_leaf(x, {name}_roots[t]);\n        {add}\n    }}\n"
    )


def _first_max(values: str, nc: int, acc_t: str) -> str:
    return (
        f"    int32_t best = 0;\n    {acc_t} top = {values.format(c=0)};\n"
        f"    for (int32_t c = 1; c < {nc}; c++) {{\n"
        f"        const {acc_t} s = {values.format(c='c')};\n"
        "        if (s > top) { best = c; top = s; }\n    }\n    return best;\n"
    )


def vote_counting(nc: int, n_trees: int, each_tree: Callable[[str], str]) -> str:
    """Body of ``predict`` over pure leaves: the first class with the most votes.

    With fewer than 256 trees and at most 8 classes the votes are counted in the bytes of one
    integer register (``v += 1 << 8 * class``): no store and reload of a counter per tree.

    Parameters
    ----------
    nc : int
        Number of classes.
    n_trees : int
    each_tree : callable
        ``each_tree(statement)`` returns C running ``statement`` once per tree, its ``{leaf}``
        replaced by a C expression or variable holding that tree's leaf code (a class).

    Returns
    -------
    str
        Statements ending in ``return best;``.
    """
    if n_trees < 256 and nc <= 8:
        reg = "uint32_t" if nc <= 4 else "uint64_t"
        return (
            f"    {reg} v = 0;\n"
            + each_tree(f"v += ({reg})1 << (8 * {{leaf}});")
            + _first_max("(uint32_t)(v >> (8 * {c})) & 255u", nc, "uint32_t")
        )
    vote_t = int_type(n_trees + 1, signed=False)
    return (
        f"    {vote_t} a[{nc}] = {{0}};\n"
        + each_tree("a[{leaf}] += 1;")
        + _first_max("a[{c}]", nc, "uint32_t")
    )


def compact_prediction_code(
    name: str,
    trees: CompactTrees,
    rows: list[Any],
    leaves: str,
    n_classes: int,
    th_type: str,
    in_type: str,
) -> str:
    """C of the ``"tables"`` form: node arrays, leaf rows, ``predict`` and ``predict_proba``.

    Parameters
    ----------
    name : str
        C prefix.
    trees : CompactTrees
    rows : list
        The impure leaves (:func:`leaf_codes`).
    leaves : {"class", "uint8", "float", "double"}
        Leaf encoding; ``"class"`` on one tree returns its leaf's class and distribution, on a
        forest counts votes (hard voting).
    n_classes : int
    th_type, in_type : str
        C types of the thresholds and of the inputs.

    Returns
    -------
    str
    """
    nc, n_trees = n_classes, len(trees.roots)
    sig = f"(const {name}_input_t *x"
    code = _find_leaf(name, trees, th_type, in_type)
    if leaves == "class" and n_trees == 1:
        cls = [int(c) for c, _ in rows]
        dist = np.asarray([d for _, d in rows], dtype=np.float32).reshape(-1, nc)
        tables = ""
        if rows:
            tables = c_array(int_type(nc, False), f"{name}_cls", cls, int_literal, 16)
            tables += c_array("float", f"{name}_leaf_proba", dist, float32_literal, nc)
        cls_of = f"c < {nc} ? c : {name}_cls[c - {nc}]" if rows else "c"
        proba = "p[j] = (float)(j == c);"
        if rows:
            proba = f"p[j] = c < {nc} ? (float)(j == c) : {name}_leaf_proba[(c - {nc}) * {nc} + j];"
        return (
            code
            + tables
            + (
                f"static int32_t {name}_predict{sig}) {{\n"
                f"    const int32_t c = {name}_find_leaf(x, 0);\n    return {cls_of};\n}}\n"
                f"static void {name}_predict_proba{sig}, float *p) {{\n"
                f"    const int32_t c = {name}_find_leaf(x, 0);\n"
                f"    for (int32_t j = 0; j < {nc}; j++) {proba}\n}}\n"
            )
        )
    acc_t = _SUMS[leaves][0]
    sums = _sums(name, leaves, rows, nc, n_trees)
    if leaves == "double":
        proba = f"(float)(a[j] / {n_trees}.0)"
        # scikit-learn's argmax compares the quotients; dividing by a power of two is exact.
        quotient = "a[{c}]" if n_trees & (n_trees - 1) == 0 else f"a[{{c}}] / {n_trees}.0"
    else:
        scale = {"uint8": n_trees * 255, "float": n_trees, "class": n_trees}[leaves]
        proba, quotient = f"(float)a[j] / {scale}.0f", "a[{c}]"
    if rows:
        predict = sums + _first_max(quotient, nc, acc_t)
    else:
        # Pure leaves only: the sums are votes times one leaf's weight, so the first class with
        # the most votes is the first largest sum (and quotient), exactly.
        loop = f"    for (int32_t t = 0; t < {n_trees}; t++) "
        leaf = f"{name}_find_leaf(x, {name}_roots[t])"
        predict = vote_counting(nc, n_trees, lambda st: loop + st.format(leaf=leaf) + "\n")
    return (
        code
        + _leaf_rows(name, leaves, rows, nc)
        + (
            f"static int32_t {name}_predict{sig}) {{\n{predict}}}\n"
            f"static void {name}_predict_proba{sig}, float *p) {{\n{sums}"
            f"    for (int32_t j = 0; j < {nc}; j++) p[j] = {proba};\n}}\n"
        )
    )
