"""Trees on emlearn's loadable runtime (``eml_trees.h``), with emlearn's threshold trap fixed.

emlearn writes an int16 threshold as ``int(th)`` and compares ``x < th``; scikit-learn sends
``x <= th`` left. For integer-valued ``x`` the exact equivalent is ``x < floor(th) + 1``, which
:func:`emlearn_loadable_trees` writes instead. The same tables give the CSV that emlearn's
MicroPython module loads.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from workbench.core.errors import ModelError
from workbench.edge.cinterface import GeneratedC, header_end, preamble
from workbench.edge.emlearn_import import import_emlearn, numpy_errors_restored
from workbench.edge.trees import HARD_VOTING_NOTE, tree_estimators

__all__ = [
    "EMLEARN_MAX_FEATURES",
    "LoadableTrees",
    "emlearn_loadable_trees",
    "generate_emlearn_trees",
]

#: emlearn's tree runtime and CSV address features with int8.
EMLEARN_MAX_FEATURES = 127


@dataclasses.dataclass(frozen=True)
class LoadableTrees:
    """emlearn's loadable int16 form of a tree model, thresholds fixed.

    Attributes
    ----------
    code : str
        C source defining ``EmlTrees model_eml`` for ``eml_trees.h``.
    csv : str
        The same trees as emlearn's CSV (MicroPython ``emlearn_trees``).
    n_nodes, n_leaves : int
        Decision nodes and unique leaves.
    include_dir : str
        emlearn's folder of C headers.
    """

    code: str
    csv: str
    n_nodes: int
    n_leaves: int
    include_dir: str


def emlearn_loadable_trees(model: Any, leaf_bits: int) -> LoadableTrees:
    """Convert a fitted tree model with emlearn's loadable int16 method, threshold trap fixed.

    Parameters
    ----------
    model : DecisionTreeClassifier, RandomForestClassifier or ExtraTreesClassifier
        Fitted, single output.
    leaf_bits : {0, 8}
        0: one class per leaf (hard voting); 8: 8-bit leaf probabilities (soft voting).

    Returns
    -------
    LoadableTrees

    Raises
    ------
    DependencyError
        If emlearn is not installed.
    """
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
    return LoadableTrees(code, csv, len(nodes), len(leaf_rows), emlearn.includedir)


def generate_emlearn_trees(model: Any, name: str, leaves: str) -> GeneratedC:
    """C header of a fitted tree model on emlearn's ``eml_trees.h`` (int16 inputs).

    Parameters
    ----------
    model : DecisionTreeClassifier, RandomForestClassifier or ExtraTreesClassifier
        Fitted, single output, at most :data:`EMLEARN_MAX_FEATURES` features.
    name : str
        C prefix.
    leaves : {"class", "uint8"}
        Hard voting, or 8-bit leaf probabilities (emlearn ``leaf_bits=8``).

    Returns
    -------
    GeneratedC
        With emlearn's headers to ship and the MicroPython CSV (always one class per leaf:
        emlearn-micropython's loader reads no other form).

    Raises
    ------
    ModelError
        If the model has more than :data:`EMLEARN_MAX_FEATURES` features.
    """
    ests = tree_estimators(model)
    n_features = int(model.n_features_in_)
    n_classes = len(model.classes_)
    if n_features > EMLEARN_MAX_FEATURES:
        raise ModelError(
            f"emlearn's tree runtime takes at most {EMLEARN_MAX_FEATURES} features, the model "
            f"has {n_features}; use dtype='float32'."
        )
    leaf_bits = 0 if leaves == "class" else 8
    forest = emlearn_loadable_trees(model, leaf_bits)
    csv = forest.csv
    if leaf_bits:
        csv = emlearn_loadable_trees(model, 0).csv  # the MicroPython CSV has one class per leaf
    code = forest.code.replace("model_eml", f"{name}_eml")
    nc = n_classes
    header = (
        preamble(
            name,
            n_features,
            n_classes,
            "int16_t",
            f"{type(model).__name__} for emlearn's eml_trees.h: {len(ests)} tree(s), "
            f"{forest.n_nodes} decision nodes, {forest.n_leaves} unique leaves",
        )
        + code.replace("EmlTrees ", "static EmlTrees ", 1)
        + f"\nstatic void {name}_predict_proba(const int16_t *x, float *p) {{\n"
        f"    eml_trees_predict_proba(&{name}_eml, x, {n_features}, p, {nc});\n}}\n"
        f"static int32_t {name}_predict(const int16_t *x) {{\n"
        f"    return eml_trees_predict(&{name}_eml, x, {n_features});\n}}\n" + header_end(name)
    )
    notes = [
        "emlearn loadable trees (int16) with thresholds floor(th)+1 compared with <: exact "
        "for integer-valued features"
    ]
    if leaves == "class" and len(ests) > 1:
        notes.append(HARD_VOTING_NOTE)
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
        include_dirs=[forest.include_dir],
        extra_headers=["eml_trees.h", "eml_common.h", "eml_log.h"],
        csv=csv,
        notes=notes,
        details={"n_trees": len(ests), "n_nodes": forest.n_nodes, "n_leaves": forest.n_leaves},
    )
