"""Launcher entry of the in-database inference tool (the ``workbench.tools`` entry point)."""

from workbench.core.registry import ToolSpec

SPEC = ToolSpec(
    name="indb",
    title="In-database inference",
    description="Train a scikit-learn model, store it inside DuckDB and call it from SQL.",
    panel="workbench.indb.panel:InDBPanel",
    notebook="01_in_database_inference.ipynb",
    order=10,
)
