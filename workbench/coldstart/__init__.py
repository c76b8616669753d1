"""Cold-start forecasting: forecast new products with no sales history from similar known products.

Import-light on purpose: the launcher imports :mod:`workbench.coldstart.spec`, which runs this
file, so the public names are loaded lazily on first use.
"""

from __future__ import annotations

from workbench.core.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "Analogues": "results",
        "BacktestResult": "results",
        "Forecast": "results",
        "ColdStartForecaster": "forecaster",
        "LaunchData": "data",
        "make_launches": "data",
        "backtest": "backtest",
        "BASELINES": "models",
        "METHODS": "models",
        "coverage": "metrics",
        "mase": "metrics",
        "pinball_loss": "metrics",
        "wape": "metrics",
    },
)
