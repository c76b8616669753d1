"""The MicroPython form of int16 trees: emlearn's CSV, and a reader that runs it like the device.

emlearn-micropython's ``emlearn_trees.load_model`` reads lines ``f,<n_features>``,
``c,<n_classes>``, ``l,<class>`` (one leaf per line), ``r,<root>`` and
``n,<feature>,<threshold>,<left>,<right>`` (children relative to the node, negative = leaf) and
predicts with ``x[feature] < threshold`` and majority (hard) voting. :func:`csv_predict` does
the same in numpy, so a test can prove the CSV a device would load agrees with scikit-learn.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from workbench.core.errors import InputError, InputTypeError
from workbench.core.params import check_size
from workbench.edge.checks import check_X

__all__ = ["csv_predict", "read_tree_csv"]


def read_tree_csv(text: str) -> dict[str, Any]:
    """Parse emlearn's tree CSV.

    Parameters
    ----------
    text : str
        The CSV (``EdgeArtifact.csv``).

    Returns
    -------
    dict
        ``n_features``, ``n_classes``, ``leaves`` (class per leaf), ``roots`` and ``nodes``
        (rows of feature, threshold, left, right).

    Raises
    ------
    InputTypeError
        If ``text`` is not a string.
    InputError
        If a line cannot be parsed, metadata is missing, or a node points outside the model
        (a feature, child, leaf or class that does not exist, or a jump that is not forward).
    """
    if not isinstance(text, str):
        raise InputTypeError(
            f"The tree CSV must be text (EdgeArtifact.csv), got {type(text).__name__}."
        )
    if not text.strip():
        raise InputError("The tree CSV is empty; export an int16 tree model first.")
    meta: dict[str, int] = {}
    leaves: list[int] = []
    roots: list[int] = []
    nodes: list[tuple[int, int, int, int]] = []
    for no, line in enumerate(text.splitlines(), start=1):
        tok = line.strip().split(",")
        try:
            if tok[0] in ("f", "c", "lb", "lf"):
                meta[tok[0]] = int(tok[1])
            elif tok[0] == "l":
                leaves.append(int(tok[1]))
            elif tok[0] == "r":
                roots.append(int(tok[1]))
            elif tok[0] == "n":
                nodes.append((int(tok[1]), int(float(tok[2])), int(tok[3]), int(tok[4])))
        except (ValueError, IndexError, OverflowError):
            raise InputError(f"Tree CSV line {no} cannot be parsed: {line!r}.") from None
    if "f" not in meta or "c" not in meta or not roots or not nodes:
        raise InputError("The tree CSV lacks its f/c metadata, roots or nodes.")
    _check_structure(meta["f"], meta["c"], leaves, roots, nodes)
    return {
        "n_features": meta["f"],
        "n_classes": meta["c"],
        "leaves": leaves,
        "roots": roots,
        "nodes": nodes,
    }


def _check_structure(
    n_features: int,
    n_classes: int,
    leaves: list[int],
    roots: list[int],
    nodes: list[tuple[int, int, int, int]],
) -> None:
    """Refuse a CSV that would index outside the model or loop forever."""
    check_size(n_features, name="the CSV's feature count (f)", high=2**15)
    check_size(n_classes, name="the CSV's class count (c)", high=2**15)
    bad = [c for c in leaves if not 0 <= c < n_classes]
    if bad:
        raise InputError(f"The tree CSV has leaves of classes {bad[:3]} outside [0, {n_classes}).")
    n = len(nodes)
    if any(not 0 <= r < n for r in roots):
        raise InputError(f"The tree CSV has a root outside its {n} nodes.")
    for i, (feature, _value, *children) in enumerate(nodes):
        if not 0 <= feature < n_features:
            raise InputError(f"Tree CSV node {i} tests feature {feature} of {n_features}.")
        for child in children:
            # Jumps are relative and forward, so every path ends; a leaf is -(index + 1).
            if (child >= 0 and not (child > 0 and i + child < n)) or (
                child < 0 and -child - 1 >= len(leaves)
            ):
                raise InputError(
                    f"Tree CSV node {i} points to {child}, outside the model; the CSV is damaged."
                )


def csv_predict(text: str, X: Any) -> np.ndarray:
    """Predict class indices from emlearn's tree CSV, as emlearn-micropython would.

    Parameters
    ----------
    text : str
        The CSV.
    X : array-like of shape (n_samples, n_features)
        Integer-valued features in int16 range (the device's ``array('h')``).

    Returns
    -------
    numpy.ndarray of int
        Class indices (into the model's ``classes_``).

    Raises
    ------
    InputError
        A damaged CSV (see :func:`read_tree_csv`), or ``X`` with another number of features,
        NaN, or values that are not integers in [-32768, 32767].
    """
    model = read_tree_csv(text)
    Xi = check_X(X, model["n_features"], "int16").astype(np.int16)
    nodes = model["nodes"]
    out = np.empty(len(Xi), dtype=np.int64)
    for r, x in enumerate(Xi):
        votes = np.zeros(model["n_classes"], dtype=np.int64)
        for root in model["roots"]:
            idx = root
            while idx >= 0:
                feature, value, left, right = nodes[idx]
                child = left if x[feature] < value else right
                idx = idx + child if child >= 0 else child
            votes[model["leaves"][-idx - 1]] += 1
        out[r] = int(np.argmax(votes))  # first maximum, like eml_trees_predict
    return out
