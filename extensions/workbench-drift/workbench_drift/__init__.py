"""Drift monitoring for deployed models, a workbench extension tool.

Compares a reference sample (what the model was validated on) with later data, column by column:
the population stability index (PSI) plus a Kolmogorov–Smirnov test for numeric columns or a
chi-square test for categorical ones, for model inputs (data drift) and outputs (prediction drift).
Windows over a time column are read from DuckDB.

The public names are imported lazily so that importing :mod:`workbench_drift.spec` (done by the
launcher for every installed tool) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "DemoLog",
    "DriftMonitor",
    "DriftReport",
    "DriftTimeline",
    "Window",
    "chi_square_test",
    "ks_test",
    "make_demo_log",
    "monitor_table",
    "population_stability_index",
    "read_table",
    "read_windows",
]

_HOME = {
    "DemoLog": "demo",
    "make_demo_log": "demo",
    "DriftMonitor": "monitor",
    "monitor_table": "monitor",
    "DriftReport": "report",
    "DriftTimeline": "report",
    "Window": "sources",
    "read_table": "sources",
    "read_windows": "sources",
    "chi_square_test": "statistics",
    "ks_test": "statistics",
    "population_stability_index": "statistics",
}


def __getattr__(name: str) -> Any:
    if name in _HOME:
        module = importlib.import_module(f"{__name__}.{_HOME[name]}")
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
