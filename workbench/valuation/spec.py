"""Launcher entry of the data valuation tool (the ``workbench.tools`` entry point)."""

from workbench.core.registry import ToolSpec

SPEC = ToolSpec(
    name="valuation",
    title="Data valuation",
    description="Find the training points that help or hurt a model, and mislabeled data.",
    panel="workbench.valuation.panel:ValuationPanel",
    notebook="04_data_valuation.ipynb",
    order=40,
)
