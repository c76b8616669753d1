"""Cold-start forecasting: forecast new products with no sales history from similar known products.

Import-light on purpose: the launcher imports :mod:`workbench.coldstart.spec`, which runs this
file, so the public names are loaded lazily on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "Analogues",
    "BacktestResult",
    "ColdStartForecaster",
    "Forecast",
    "LaunchData",
    "backtest",
    "coverage",
    "make_launches",
    "mase",
    "pinball_loss",
    "wape",
]

_WHERE = {
    "Analogues": "results",
    "BacktestResult": "results",
    "Forecast": "results",
    "ColdStartForecaster": "forecaster",
    "LaunchData": "data",
    "make_launches": "data",
    "backtest": "backtest",
    "coverage": "metrics",
    "mase": "metrics",
    "pinball_loss": "metrics",
    "wape": "metrics",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
