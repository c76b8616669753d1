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

from workbench.core.errors import InputError
from workbench.core.validation import check_array

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
    InputError
        If a line cannot be parsed or metadata is missing.
    """
    if not isinstance(text, str) or not text.strip():
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
        except (ValueError, IndexError):
            raise InputError(f"Tree CSV line {no} cannot be parsed: {line!r}.") from None
    if "f" not in meta or "c" not in meta or not roots or not nodes:
        raise InputError("The tree CSV lacks its f/c metadata, roots or nodes.")
    return {
        "n_features": meta["f"],
        "n_classes": meta["c"],
        "leaves": leaves,
        "roots": roots,
        "nodes": nodes,
    }


def csv_predict(text: str, X: Any) -> np.ndarray:
    """Predict class indices from emlearn's tree CSV, as emlearn-micropython would.

    Parameters
    ----------
    text : str
        The CSV.
    X : array-like of shape (n_samples, n_features)
        Integer-valued features (converted to int16 like the device's ``array('h')``).

    Returns
    -------
    numpy.ndarray of int
        Class indices (into the model's ``classes_``).
    """
    model = read_tree_csv(text)
    Xa = check_array(X, name="X")
    if Xa.shape[1] != model["n_features"]:
        raise InputError(
            f"X has {Xa.shape[1]} features but the CSV model takes {model['n_features']}."
        )
    Xi = Xa.astype(np.int16)
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
