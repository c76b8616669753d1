"""Launcher entry of the drift tool, registered as the ``workbench.tools`` entry point ``drift``."""

from workbench.core.registry import ToolSpec

SPEC = ToolSpec(
    name="drift",
    title="Drift monitoring",
    description=(
        "Watch a deployed model's inputs and predictions for drift: PSI, KS and chi-square per "
        "column over time windows read from DuckDB, with an alert threshold."
    ),
    panel="workbench_drift.panel:DriftPanel",
    notebook="07_drift_monitoring.ipynb",
    order=70,
)
