"""Launcher entry of the edge model export tool (the ``workbench.tools`` entry point)."""

from workbench.core.registry import ToolSpec

SPEC = ToolSpec(
    name="edge",
    title="Edge model export",
    description=(
        "Export a model and its feature extraction to C for microcontrollers, "
        "with proven parity and size."
    ),
    panel="workbench.edge.panel:EdgePanel",
    notebook="02_edge_export.ipynb",
    order=20,
)
