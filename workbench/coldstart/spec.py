"""Launcher entry of the cold-start forecasting tool (the ``workbench.tools`` entry point)."""

from workbench.core.registry import ToolSpec

SPEC = ToolSpec(
    name="coldstart",
    title="Cold-start forecasting",
    description="Forecast new products with no sales history from similar known products.",
    panel="workbench.coldstart.panel:ColdStartPanel",
    notebook="05_cold_start_forecasting.ipynb",
    order=50,
)
