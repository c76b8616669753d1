"""Panel: describe a new product, see its fan chart beside its analogues, run a backtest."""

from __future__ import annotations

import functools
from typing import Any

import ipywidgets as widgets
import pandas as pd

from workbench.coldstart import (
    BASELINES,
    METHODS,
    Analogues,
    BacktestResult,
    ColdStartForecaster,
    Forecast,
    LaunchData,
    backtest,
    make_launches,
)
from workbench.core.errors import InputError, InputTypeError
from workbench.core.params import check_random_state
from workbench.ui.base import ToolPanel

__all__ = ["ColdStartPanel"]


class ColdStartPanel(ToolPanel):
    """Widgets over :class:`~workbench.coldstart.ColdStartForecaster`.

    Parameters
    ----------
    data : LaunchData, optional
        Known launches to learn from; by default 300 simulated products over 104 weeks.
    random_state : int, default=0
        Seed of the default data and of the models.

    Raises
    ------
    InputTypeError
        If ``data`` is not a :class:`LaunchData` or ``random_state`` not an integer seed.

    Attributes
    ----------
    attribute_widgets : dict of str to ipywidgets.Widget
        One input per attribute column (dropdowns for categorical, number boxes for numeric).
    forecast_button : ipywidgets.Button
        The main action (:attr:`main_button`).
    backtest_button : ipywidgets.Button
    result : Forecast or None
        The last forecast.
    analogues_ : Analogues or None
        The analogues of the last forecast product.
    backtest_ : BacktestResult or None
        The last backtest.
    figure : matplotlib.figure.Figure or None
        The last figure shown: fan chart and analogues, or the backtest scores.
    """

    def __init__(self, data: LaunchData | None = None, *, random_state: int = 0) -> None:
        if data is not None and not isinstance(data, LaunchData):
            raise InputTypeError(
                f"data must be a LaunchData (e.g. make_launches()), got {type(data).__name__}."
            )
        random_state = check_random_state(random_state)
        super().__init__(
            "Cold-start forecasting",
            "Describe a product that has never sold; see its forecast and its closest analogues.",
        )
        self.data = data if data is not None else make_launches(300, 104, random_state=random_state)
        self.random_state = random_state
        self._models: dict[str, ColdStartForecaster] = {}
        self.result: Forecast | None = None
        self.analogues_: Analogues | None = None
        self.backtest_: BacktestResult | None = None

        attrs = self.data.attributes
        self.attribute_widgets: dict[str, widgets.Widget] = {}
        for col in attrs.columns:
            if col == "item_id":
                continue
            s = attrs[col]
            if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
                w: widgets.Widget = widgets.FloatText(value=float(s.median()), description=col)
            else:
                levels = sorted(s.astype(str).unique().tolist())
                w = widgets.Dropdown(options=levels, value=levels[0], description=col)
            self.attribute_widgets[col] = w
        last = pd.Timestamp(self.data.history["date"].max())
        self.method = widgets.Dropdown(
            options=[*METHODS, *BASELINES], value="ensemble", description="method"
        )
        self.horizon = widgets.IntSlider(value=26, min=1, max=104, description="horizon")
        self.launch_date = widgets.DatePicker(
            value=(last + pd.Timedelta(days=7)).date(), description="launch"
        )
        self.n_analogues = widgets.IntSlider(value=5, min=1, max=20, description="analogues")
        self.forecast_button = self.set_main_button(widgets.Button(description="Forecast"))
        self.backtest_button = widgets.Button(description="Run backtest")
        self.forecast_button.on_click(lambda _: self.forecast())
        self.backtest_button.on_click(lambda _: self.run_backtest())
        self.controls.children = [
            widgets.HBox(
                [
                    widgets.VBox(list(self.attribute_widgets.values())),
                    widgets.VBox([self.method, self.horizon, self.launch_date, self.n_analogues]),
                ]
            ),
            widgets.HBox([self.forecast_button, self.backtest_button]),
        ]

    def _model(self, method: str) -> ColdStartForecaster:
        if method not in self._models:
            self._models[method] = ColdStartForecaster(
                method=method, random_state=self.random_state
            ).fit(self.data.history, self.data.attributes)
        return self._models[method]

    def new_item(self) -> pd.DataFrame:
        """The product described by the widgets, as a one-row attribute table."""
        row: dict[str, Any] = {"item_id": "NEW"}
        for col, w in self.attribute_widgets.items():
            row[col] = w.value
        return pd.DataFrame([row])

    def forecast(self) -> Forecast | None:
        """Fit (once per method) and forecast the described product; draw the charts."""

        def work() -> tuple[Forecast, Analogues]:
            model = self._model(self.method.value)
            item = self.new_item()
            launch = self.launch_date.value
            if launch is None:
                raise InputError(
                    "launch_date is empty: pick the product's launch in the date picker."
                )
            fc = model.predict(item, self.horizon.value, launch_date=launch)
            an = model.analogues(item, n_neighbors=self.n_analogues.value)
            return fc, an

        out = self.run(work, busy="Fitting and forecasting…")
        if out is None:
            return None
        forecast, analogues = out
        self.result, self.analogues_ = forecast, analogues
        self.show(
            forecast,
            plots=[forecast.plot, functools.partial(analogues.plot, max_age=self.horizon.value)],
            figsize=(11, 3.6),
        )
        return forecast

    def run_backtest(self) -> BacktestResult | None:
        """Score every method on products held out as new (time-origin scheme)."""
        horizon = min(self.horizon.value, 26)
        out = self.run(
            backtest,
            self.data.history,
            self.data.attributes,
            horizon=horizon,
            random_state=self.random_state,
            busy="Backtesting every method…",
        )
        if out is None:
            return None
        self.backtest_ = out
        self.show(out)
        return out

    def __repr__(self) -> str:
        return f"ColdStartPanel(items={len(self.data.attributes)})"
