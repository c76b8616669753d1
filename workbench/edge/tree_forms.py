"""Two C forms of the same trees: compact tables walked by a loop, or generated if/else code.

Every tree model of the export (classifier trees and forests in :mod:`~workbench.edge.trees`,
boosted trees in :mod:`~workbench.edge.boosting`) is first flattened into one
:class:`FlatForest`: a node table shared by all trees, whose children ``< 0`` are leaves
``-child - 1`` of a leaf table the caller keeps. This module writes the C that finds each
tree's leaf, in one of two forms with identical comparisons:

``"tables"``
    Arrays (threshold, feature, left, right, roots) walked by one small loop: the smallest
    form for all but tiny models, flash grows by the bytes of one node per node. Classifier
    trees and forests write this form with narrower arrays in preorder
    (:mod:`~workbench.edge.tree_compact`); boosted trees use the node table here.
``"ifelse"``
    One ``static inline`` function per tree, nested ``if (x[f] <= th)`` with the leaf index
    returned at the leaves (emlearn's "inline" method): no table loads on the critical path,
    so faster on a CPU that predicts branches, and larger per node on Cortex-M (each node is
    a load, a literal and a branch).

:func:`choose_form` is the rule that picks between them (see its docstring for the
measurements behind it).

Both forms send every row the same way. With float32 inputs the if/else form compares the bits
of ``x`` and ``th`` as integers (exact, see :func:`leaf_finder`); a NaN routed left
(HistGradientBoosting's ``missing_go_to_left``) goes left in both forms (the tables compare
``!(x > th)``, true for ``x <= th`` and for NaN), every other NaN goes right. Models that do
not route NaN (the forests, GradientBoosting) get no NaN from :func:`~workbench.edge.export`,
which refuses it; on a device, a NaN whose sign bit is set (what x86 computes for 0/0) goes
left in their if/else form and right in their tables.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from workbench.edge.cgen import c_array, int_literal, int_type

__all__ = [
    "FORMS",
    "IFELSE_EXTRA_BYTES",
    "IFELSE_MAX_DEPTH",
    "IFELSE_MAX_EXTRA_FLASH",
    "FlatForest",
    "choose_form",
    "for_each_tree",
    "leaf_finder",
]

#: The C forms a tree model can take.
FORMS = ("tables", "ifelse")
#: Deepest tree written as nested if/else: C compilers need only accept 127 nested blocks.
IFELSE_MAX_DEPTH = 100
#: Flash (bytes) that if/else code may add over the tables on Cortex-M4F; see :func:`choose_form`.
IFELSE_MAX_EXTRA_FLASH = 16 * 1024
#: Bytes if/else code adds over the tables per decision node on Cortex-M4F (upper ends of what
#: was measured): trees and forests against their compact tables (``benchmarks/edge_bench.py``,
#: 10-tree forests and depth-10 trees) on int16 inputs 5.5, on float32 inputs 6.7-9.7; boosted
#: trees against their node table (``benchmarks/edge_forms_bench.py``) 15-18, float32 or double
#: (each tree's leaf also costs a double addition in line).
IFELSE_EXTRA_BYTES = {"int16": 6, "trees": 10, "boosted": 18}


@dataclasses.dataclass
class FlatForest:
    """All trees of a model in one node table.

    Attributes
    ----------
    feature : numpy.ndarray of int
        Feature index per decision node.
    threshold : list of str
        C literal of each node's threshold, already rounded so that ``x <= th`` in C sends
        every row the way scikit-learn does.
    threshold_type : str
        C type of the thresholds (``"float"``, ``"double"``, ``"int16_t"``).
    left, right : numpy.ndarray of int
        Child per node: ``>= 0`` a node, ``< 0`` the leaf ``-child - 1``.
    roots : numpy.ndarray of int
        Root node of each tree, in the order the trees are summed.
    nan_left : numpy.ndarray of bool or None
        Per node, whether a NaN input goes left; None when the model never routes NaN
        (rows with NaN are then refused before they reach C).
    n_leaves : int
        Size of the caller's leaf table.
    max_depth : int
        Deepest tree (decision levels).
    threshold_f32 : numpy.ndarray of float32 or None
        The float32 thresholds when the inputs are float32: the if/else form then compares
        the inputs' bits as integers (see :func:`leaf_finder`).
    """

    feature: np.ndarray
    threshold: list[str]
    threshold_type: str
    left: np.ndarray
    right: np.ndarray
    roots: np.ndarray
    nan_left: np.ndarray | None
    n_leaves: int
    max_depth: int
    threshold_f32: np.ndarray | None = None

    @property
    def n_nodes(self) -> int:
        """Decision nodes over all trees."""
        return len(self.feature)


def choose_form(forest: FlatForest, kind: str = "trees") -> tuple[str, str]:
    """The C form of a model's trees, and why.

    The rule: if/else code when its estimated extra flash over the tables on Cortex-M4F,
    decision nodes times :data:`IFELSE_EXTRA_BYTES` (of ``kind``, or ``"int16"`` for int16
    inputs), is at most :data:`IFELSE_MAX_EXTRA_FLASH` (16 KiB: forests up to about 1,600
    decision nodes on float32 inputs and 2,700 on int16, boosted models up to about 900) and no
    tree is deeper than :data:`IFELSE_MAX_DEPTH`; the tables otherwise. ``export`` takes the
    tables instead when the if/else export is over its ``flash_budget``.

    Measured with ``benchmarks/edge_forms_bench.py`` (host ``cc -O2``; Cortex-M4F/M0 with
    ``arm-none-eabi-gcc -Os``; results in ``benchmarks/results/edge_forms.md``) on 8- to
    5,000-node trees and forests and 550- to 8,900-node boosted models:

    - host latency: if/else ran 1.4-8x faster than the tables on every model; against
      emlearn's inline code (float32, 8-bit leaves) it took 0.12-0.92x the time on every tree
      and forest the rule sends to if/else, the tables 0.5-3.3x (5.1x on a 5,000-node forest,
      where if/else measured 0.7-2.1x between runs: 83 KB of code strains the host's caches).
    - flash on Cortex-M4F: if/else took 0.85-1.2x the tables' bytes for trees under 40 nodes
      and 1.3-1.9x above (3-9 bytes more per node for forests, 15-18 for boosted models);
      against the compact tables of classifier trees (:mod:`~workbench.edge.tree_compact`)
      1.8-2.4x for 10-tree forests (``benchmarks/results/edge.md``).

    If/else is the faster form everywhere and the smaller one only for tiny trees. What it
    costs in flash grows with every node, while a prediction's speed matters as much for a
    small model as for a large one, so the rule spends at most 16 KiB of flash on speed and
    sends larger models, where flash runs out first, to the tables (a 100-iteration depth-3
    GradientBoosting on 3-4 classes, 1,900-2,800 nodes, gets the tables). Nested blocks
    deeper than :data:`IFELSE_MAX_DEPTH` are beyond what C compilers must accept.

    Parameters
    ----------
    forest : FlatForest
    kind : {"trees", "boosted"}, default="trees"
        Which per-node cost of :data:`IFELSE_EXTRA_BYTES` applies to float inputs.

    Returns
    -------
    form : {"tables", "ifelse"}
    reason : str
        One sentence for the export's notes.
    """
    if forest.max_depth > IFELSE_MAX_DEPTH:
        return "tables", (
            f"compact tables: the deepest tree has {forest.max_depth} levels, more than the "
            f"{IFELSE_MAX_DEPTH} that nested if/else code may have"
        )
    per_node = IFELSE_EXTRA_BYTES["int16" if forest.threshold_type == "int16_t" else kind]
    extra = forest.n_nodes * per_node
    if extra > IFELSE_MAX_EXTRA_FLASH:
        return "tables", (
            f"compact tables: generated if/else code would add about {extra} B of flash on "
            f"Cortex-M4F for {forest.n_nodes} decision nodes, over the {IFELSE_MAX_EXTRA_FLASH} B "
            "spent on speed (if/else is faster on the host, the tables smaller)"
        )
    return "ifelse", (
        f"generated if/else code: faster than the tables on the host, for about {extra} B "
        f"more flash on Cortex-M4F ({forest.n_nodes} decision nodes; at most "
        f"{IFELSE_MAX_EXTRA_FLASH} B is spent on speed)"
    )


def _routes_nan(forest: FlatForest) -> bool:
    """Whether some node sends NaN left (the if/else form then reads canonical copies)."""
    return forest.nan_left is not None and bool(forest.nan_left.any())


def _bits_condition(forest: FlatForest, name: str, node: int) -> str:
    """``x <= th`` for float32 ``x`` and ``th``, compared as the integers of their bits.

    For ``th >= 0`` the float order of ``x`` and ``th`` is the signed order of their bits (every
    negative ``x``, ``-0.0`` included, has a negative bit pattern); for ``th < 0``, ``x <= th``
    holds exactly when ``x`` is negative with a magnitude at least ``|th|``: the unsigned order
    of the bits. A threshold ``-0.0`` is written as ``+0.0`` (equal as floats). One integer
    compare with a constant is about 30% smaller on Cortex-M4F than a float compare (no FPU
    status transfer) and needs no soft-float call on Cortex-M0.

    The bits are read with ``memcpy`` (defined behaviour, a plain load once compiled), or, when
    the model routes NaN, from copies made once per call where NaN is canonical: ``0x7fffffff``
    in ``xr`` (right at every node, as ``NaN <= th`` is false) and ``-1`` (all bits set) in
    ``xl`` (left at every node), read by the nodes whose NaN goes that way.
    """
    assert forest.threshold_f32 is not None
    feat, th = int(forest.feature[node]), float(forest.threshold_f32[node])
    bits = int(np.asarray(0.0 if th == 0.0 else th, dtype="<f4").view("<u4"))
    if _routes_nan(forest):
        x = f"xl[{feat}]" if forest.nan_left[node] else f"xr[{feat}]"
    else:
        x = f"{name}_bits(x, {feat})"
    if bits < 2**31:
        return f"{x} <= {bits}"
    return f"(uint32_t){x} >= {bits}u"


def _condition(forest: FlatForest, name: str, node: int) -> str:
    """C condition that is true when ``node`` sends the row left."""
    if forest.threshold_f32 is not None:
        return _bits_condition(forest, name, node)
    feat, th = int(forest.feature[node]), forest.threshold[node]
    if forest.nan_left is not None and forest.nan_left[node]:
        return f"!(x[{feat}] > {th})"
    return f"x[{feat}] <= {th}"


def _ifelse_args(forest: FlatForest, in_type: str) -> tuple[str, str]:
    """Parameters of a tree function, and the arguments its callers pass."""
    if forest.threshold_f32 is not None and _routes_nan(forest):
        return "const int32_t *xr, const int32_t *xl", "xr, xl"
    return f"const {in_type} *x", "x"


def _ifelse_tree(forest: FlatForest, name: str, index: int, in_type: str) -> str:
    """One tree as a function of nested if/else returning the leaf index."""
    params, args = _ifelse_args(forest, in_type)
    unused = " ".join(f"(void){a};" for a in args.split(", "))  # a one-leaf tree reads none
    lines = [f"static inline int32_t {name}_tree_{index}({params}) {{", f"    {unused}"]
    # Depth-first without recursion (trees may be deep): "else" and "close" are markers.
    stack: list[tuple[str, int, int]] = [("node", int(forest.roots[index]), 1)]
    while stack:
        kind, node, depth = stack.pop()
        pad = "    " * depth
        if kind == "else":
            lines.append(f"{pad}}} else {{")
        elif kind == "close":
            lines.append(f"{pad}}}")
        elif node < 0:
            lines.append(f"{pad}return {-node - 1};")
        else:
            lines.append(f"{pad}if ({_condition(forest, name, node)}) {{")
            stack.append(("close", 0, depth))
            stack.append(("node", int(forest.right[node]), depth + 1))
            stack.append(("else", 0, depth))
            stack.append(("node", int(forest.left[node]), depth + 1))
    lines.append("}\n")
    return "\n".join(lines)


def _bits_prologue(name: str, indent: str) -> str:
    """C copying the float32 inputs' bits into ``xr`` and ``xl``, NaN made canonical."""
    nf = f"{name.upper()}_N_FEATURES"
    return (
        f"{indent}int32_t xr[{nf}], xl[{nf}];\n"
        f"{indent}for (int32_t i = 0; i < {nf}; i++) {{\n"
        f"{indent}    uint32_t b;\n{indent}    memcpy(&b, &x[i], sizeof b);\n"
        f"{indent}    const int nan = (b & 0x7fffffffu) > 0x7f800000u;\n"
        f"{indent}    xr[i] = nan ? 0x7fffffff : (int32_t)b;\n"
        f"{indent}    xl[i] = nan ? -1 : (int32_t)b;\n{indent}}}\n"
    )


def _tables(forest: FlatForest, name: str, in_type: str, n_features: int) -> str:
    """The node table and the loop that walks one tree to its leaf.

    Each node's threshold and children share one struct (one cache line per visited node on
    the host, rather than one per array); the feature indices, one byte each for up to 255
    features, are a separate array so that the struct needs no padding.
    """
    n_nodes = max(forest.n_nodes, 1)
    child_t = int_type(max(n_nodes, forest.n_leaves + 1))
    cells = [
        f"{{{th}, {int(lc)}, {int(rc)}}}"
        for th, lc, rc in zip(forest.threshold, forest.left, forest.right, strict=True)
    ] or ["{0, 0, 0}"]
    rows = [", ".join(cells[i : i + 4]) for i in range(0, len(cells), 4)]
    parts = [
        f"typedef struct {{ {forest.threshold_type} th; {child_t} left, right; }} "
        f"{name}_node_t;\n"
        f"static const {name}_node_t {name}_node[{len(cells)}] = {{\n    "
        + ",\n    ".join(rows)
        + "\n};\n",
        c_array(
            int_type(n_features, signed=False), f"{name}_feature", forest.feature, int_literal, 16
        ),
        c_array(int_type(n_nodes), f"{name}_roots", forest.roots, int_literal, 12),
    ]
    go_left = f"x[{name}_feature[node]] <= n->th"
    if _routes_nan(forest):
        bits = np.packbits(forest.nan_left.astype(np.uint8), bitorder="little")
        parts.append(c_array("uint8_t", f"{name}_nan_left", bits, int_literal, per_line=16))
        go_left = (
            f"({name}_nan_left[node >> 3] >> (node & 7)) & 1\n"
            f"            ? !(x[{name}_feature[node]] > n->th)\n"
            f"            : {go_left}"
        )
    parts.append(
        f"static int32_t {name}_find_leaf(const {in_type} *x, int32_t node) {{\n"
        "    while (node >= 0) {\n"
        f"        const {name}_node_t *n = &{name}_node[node];\n"
        f"        node = ({go_left}) ? n->left : n->right;\n"
        "    }\n    return -node - 1;\n}\n"
    )
    return "".join(parts)


def leaf_finder(forest: FlatForest, name: str, form: str, in_type: str, n_features: int) -> str:
    """C that finds each tree's leaf index, in ``form``.

    Parameters
    ----------
    forest : FlatForest
    name : str
        C prefix.
    form : {"tables", "ifelse"}
    in_type : str
        C type of the inputs.
    n_features : int

    Returns
    -------
    str
        Declarations; use :func:`for_each_tree` to call them.
    """
    if form == "tables":
        return _tables(forest, name, in_type, n_features)
    head = ""
    if forest.threshold_f32 is not None:
        head = "#include <string.h>\n"
        if not _routes_nan(forest):
            head += (
                f"static inline int32_t {name}_bits(const {in_type} *x, int32_t f) {{\n"
                "    int32_t b;\n    memcpy(&b, x + f, sizeof b);\n    return b;\n}\n"
            )
    return head + "".join(_ifelse_tree(forest, name, t, in_type) for t in range(len(forest.roots)))


def for_each_tree(
    name: str,
    form: str,
    forest: FlatForest,
    body: Callable[[str, int], str],
    group: int = 1,
    indent: str = "    ",
) -> str:
    """C statements running ``body`` once per tree, in order, with that tree's leaf index.

    Parameters
    ----------
    name : str
        C prefix given to :func:`leaf_finder`.
    form : {"tables", "ifelse"}
        A loop over the roots for the tables; one unrolled call per tree for if/else.
    forest : FlatForest
        The trees given to :func:`leaf_finder`; ``len(forest.roots)`` is a multiple of
        ``group``.
    body : callable
        ``body(leaf, k)`` returns the statements for one tree: ``leaf`` is a C ``int32_t``
        variable holding its leaf index, ``k`` the tree's position within its group (the
        class a boosted tree adds to), a Python int so that the statements can name a local.
    group : int, default=1
        Trees that come in groups (boosting: one tree per class and iteration) are walked
        group by group, so ``k`` is a constant in the generated code.
    indent : str, default="    "

    Returns
    -------
    str
        Statements for a function whose input pointer is ``x``.
    """
    n_trees = len(forest.roots)
    if form == "tables":
        calls = "".join(
            f"{indent}    {{ const int32_t leaf = {name}_find_leaf(x, {name}_roots[t + {k}]); "
            f"{body('leaf', k)} }}\n"
            for k in range(group)
        )
        return f"{indent}for (int32_t t = 0; t < {n_trees}; t += {group}) {{\n{calls}{indent}}}\n"
    args = _ifelse_args(forest, "")[1]
    prologue = _bits_prologue(name, indent) if args != "x" else ""
    return prologue + "".join(
        f"{indent}{{ const int32_t leaf = {name}_tree_{t}({args}); {body('leaf', t % group)} }}\n"
        for t in range(n_trees)
    )
