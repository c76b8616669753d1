"""Drift monitoring for deployed models, a workbench extension tool.

Compares a reference sample (what the model was validated on) with later data, column by column:
the population stability index (PSI) plus a Kolmogorov–Smirnov test for numeric columns or a
chi-square test for categorical ones, for model inputs (data drift) and outputs (prediction drift).
Windows over a time column are read from DuckDB.

The public names are imported lazily so that importing :mod:`workbench_drift.spec` (done by the
launcher for every installed tool) stays cheap.
"""

from workbench.core.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "DemoLog": "demo",
        "make_demo_log": "demo",
        "DriftMonitor": "monitor",
        "RULES": "monitor",
        "monitor_table": "monitor",
        "DriftReport": "report",
        "DriftTimeline": "report",
        "Window": "sources",
        "read_table": "sources",
        "read_windows": "sources",
        "chi_square_test": "statistics",
        "ks_test": "statistics",
        "population_stability_index": "statistics",
    },
)
