"""Rows stored before row hashes ("legacy" rows): their metadata must agree with the ONNX graph.

See :mod:`workbench.indb.store_integrity` for when a row is a legacy row.
"""

from __future__ import annotations

from typing import Any

from workbench.core.errors import IntegrityError
from workbench.indb.features import NUMERIC

__all__ = ["check_against_graph"]


def check_against_graph(model: Any) -> None:
    """Check a legacy row's metadata against what its ONNX graph itself says.

    Parameters
    ----------
    model : StoredModel
        The parsed row.

    Raises
    ------
    IntegrityError
        If the ONNX bytes do not parse, or the features, task or classes disagree with them.
    """
    import onnx

    try:
        graph = onnx.load_model_from_string(model.onnx).graph
    except Exception as exc:  # a DecodeError of protobuf, whose class differs by version
        raise IntegrityError(f"its ONNX bytes do not parse ({type(exc).__name__})") from None
    inputs = [(i.name, i.type.tensor_type.elem_type) for i in graph.input]
    float_t, string_t = onnx.TensorProto.FLOAT, onnx.TensorProto.STRING
    if model.column_mode:
        want = [(f.name, float_t if f.kind == NUMERIC else string_t) for f in model.features]
    else:
        want = [("X", float_t)]
    if inputs != want:
        raise IntegrityError(
            f"its features field does not match the ONNX inputs {[n for n, _ in inputs]}"
        )
    n_out = 2 if model.task == "classification" else 1
    if len(graph.output) != n_out:
        raise IntegrityError(f"its task {model.task!r} does not match the ONNX outputs")
    for node in graph.node:
        for att in node.attribute:
            if att.name.startswith("classlabels"):
                labels = list(att.ints) or [s.decode("utf-8") for s in att.strings]
                if labels and labels != model.classes:
                    raise IntegrityError(
                        "its classes field does not match the class labels in the ONNX graph"
                    )
