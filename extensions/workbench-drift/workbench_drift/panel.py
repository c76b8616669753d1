"""The drift tool's ipywidgets panel, built only on the public API of :mod:`workbench_drift`.

A :class:`~workbench.ui.DataPicker` chooses the prediction log: the user's DataFrame, an upload,
a workspace table or a SQL query, or the demo log. The time column and the prediction columns
are chosen from the picked table's columns, the monitored inputs in the picker's feature list.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ipywidgets as widgets
import pandas as pd

from workbench.core.errors import InputError, ModelError, WorkbenchError
from workbench.core.sources import open_source
from workbench.core.tabular import kind_of
from workbench.ui.base import ToolPanel
from workbench.ui.data_picker import DataPicker
from workbench.ui.model_picker import ModelPicker
from workbench_drift import (
    RULES,
    DemoLog,
    DriftMonitor,
    DriftReport,
    DriftTimeline,
    make_demo_log,
    monitor_table,
)

__all__ = ["DEMO", "DriftPanel"]

DEMO = "Demo prediction log (breast-cancer classifier, 10 weeks)"
_WIDE = widgets.Layout(width="420px")
_STYLE = {"description_width": "150px"}
_PREDICTION_NAMES = ("score", "label", "prediction", "pred", "proba", "probability", "y_pred")
_LOG_TABLE = "workbench_drift_log"


def _kinds(picker: DataPicker) -> dict[str, str]:
    """Column name → kind of the picked source; empty when nothing readable is chosen."""
    try:
        source, con = picker.raw_source()
        src = open_source(source, con=con)
        return dict(zip(src.columns, (kind_of(t) for t in src.relation.types), strict=True))
    except WorkbenchError:
        return {}


class DriftPanel(ToolPanel):
    """Check a prediction log for data and prediction drift, window by window.

    Parameters
    ----------
    data : DataFrame, Arrow table, DuckDB relation, path or str, optional
        The log: one row per prediction with a time column. By default the demo log
        (:func:`make_demo_log`) is preselected; its drift week and strength can be set.
    time : str, optional
        The DATE or TIMESTAMP column that cuts the log into windows (default: the first one).
    prediction_columns : sequence of str, optional
        Columns holding the model's logged outputs (default: columns named like scores,
        labels or predictions).
    model : estimator, optional
        A fitted model whose predictions on each window are monitored too (prediction drift);
        it must have been fitted on a DataFrame whose columns the log holds.
    workspace : Workspace, optional
        Where tables and queries are read and results saved; default the shared one.
    namespace : mapping, optional
        Where DataFrame and model variables are found; default the notebook's.

    Attributes
    ----------
    data_picker : DataPicker
        The log; its ``features`` are the monitored input columns.
    time_column : ipywidgets.Dropdown
    prediction_columns : ipywidgets.SelectMultiple
    use_model, model_picker : ipywidgets.Checkbox, ModelPicker
        Whether, and which, fitted model adds its predictions as a monitored column.
    run_button : ipywidgets.Button
        The main action (:attr:`main_button`).
    result : DriftTimeline or None
        Result of the last check; its ``windows`` table is offered as ``drift_windows``.
    monitor_ : DriftMonitor or None
        The monitor of the last check, fitted on the reference windows.
    window_report : DriftReport or None
        Report of the window selected in :attr:`window` (the latest one after a check).
    demo : DemoLog or None
        The demo log of the last check, when the demo was used.
    figure : matplotlib.figure.Figure or None
        The timeline and report plots last shown.
    """

    def __init__(
        self,
        data: Any = None,
        *,
        time: str | None = None,
        prediction_columns: list[str] | None = None,
        model: Any = None,
        workspace: Any = None,
        namespace: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(
            "Drift monitoring",
            "Per-column PSI plus KS / chi-square tests of a deployed model's inputs and "
            "predictions, over time windows of your prediction log.",
        )
        self.result: DriftTimeline | None = None
        self.monitor_: DriftMonitor | None = None
        self.window_report: DriftReport | None = None
        self.demo: DemoLog | None = None
        self.workspace = workspace
        self._demo_cache: tuple[tuple[int, float], DemoLog, pd.DataFrame] | None = None
        self._wanted_time = time
        self._wanted_predictions = prediction_columns

        self.drift_week = widgets.IntSlider(
            value=6, min=1, max=9, description="demo: drift week", style=_STYLE, layout=_WIDE
        )
        self.drift_strength = widgets.FloatSlider(
            value=1.0,
            min=0.0,
            max=2.0,
            step=0.1,
            description="demo: strength",
            style=_STYLE,
            layout=_WIDE,
        )
        self.data_picker = DataPicker(
            data,
            demos={DEMO: lambda: self._demo()[1]},
            namespace=namespace,
            workspace=workspace,
        )
        self.data_picker.target.layout.display = "none"
        self.data_picker.features.description = "Inputs"
        self.time_column = widgets.Dropdown(description="time column", style=_STYLE, layout=_WIDE)
        self.prediction_columns = widgets.SelectMultiple(
            description="prediction columns", rows=4, style=_STYLE, layout=_WIDE
        )
        self.use_model = widgets.Checkbox(
            value=model is not None, description="Monitor a model's predictions too"
        )
        self.model_picker = ModelPicker(model, namespace=namespace)
        self.every = widgets.Dropdown(
            options=["1 day", "1 week", "2 weeks", "1 month"],
            value="1 week",
            description="window",
            style=_STYLE,
            layout=_WIDE,
        )
        self.reference_windows = widgets.BoundedIntText(
            value=2, min=1, max=50, description="reference windows", style=_STYLE, layout=_WIDE
        )
        self.psi_threshold = widgets.FloatText(
            value=0.2, description="PSI alert threshold", style=_STYLE, layout=_WIDE
        )
        self.p_value_threshold = widgets.FloatText(
            value=0.05, description="p-value threshold", style=_STYLE, layout=_WIDE
        )
        self.rule = widgets.Dropdown(
            options=list(RULES), value="both", description="drift rule", style=_STYLE, layout=_WIDE
        )
        self.run_button = self.set_main_button(
            widgets.Button(description="Check drift", icon="search")
        )
        self.window = widgets.Dropdown(
            options=[], description="show window", style=_STYLE, layout=_WIDE
        )
        self.demo_box = widgets.VBox([self.drift_week, self.drift_strength])
        self.run_button.on_click(lambda _b: self.check())
        self.window.observe(self._on_window, names="value")
        self.data_picker.on_change(self._on_columns)
        self.data_picker.source.observe(lambda _c: self._on_source(), names="value")
        for slider in (self.drift_week, self.drift_strength):
            slider.observe(lambda _c: self._on_demo_setting(), names="value")
        self.use_model.observe(lambda _c: self._on_source(), names="value")
        self._on_columns()
        self._on_source()
        self.controls.children = [
            self.data_picker,
            self.demo_box,
            self.time_column,
            self.prediction_columns,
            self.use_model,
            self.model_picker,
            self.every,
            self.reference_windows,
            self.psi_threshold,
            self.p_value_threshold,
            self.rule,
            self.run_button,
            self.window,
        ]

    # --- the log and its columns ------------------------------------------------------------
    def _demo(self) -> tuple[DemoLog, pd.DataFrame]:
        key = (int(self.drift_week.value), float(self.drift_strength.value))
        if self._demo_cache is None or self._demo_cache[0] != key:
            log = make_demo_log(drift_week=key[0], drift_strength=key[1], random_state=0)
            frame = log.connection.execute(f'SELECT * FROM "{log.table}"').df()
            self._demo_cache = (key, log, frame)
        return self._demo_cache[1], self._demo_cache[2]

    def _on_source(self) -> None:
        self.demo_box.layout.display = "" if self.data_picker.source.value == "demo" else "none"
        self.model_picker.layout.display = "" if self.use_model.value else "none"

    def _on_demo_setting(self) -> None:
        if self.data_picker.source.value == "demo":
            self.data_picker.preview_button.click()  # re-reads the demo log with the new settings

    def _on_columns(self) -> None:
        kinds = _kinds(self.data_picker)
        times = [c for c, k in kinds.items() if k == "date"]
        time = self.time_column.value if self.time_column.value in kinds else None
        time = time or (self._wanted_time if self._wanted_time in kinds else None)
        self.time_column.options = list(kinds)
        self.time_column.value = time or (times[0] if times else None)
        options = [c for c in kinds if kinds[c] not in ("date", "other")]
        kept = [c for c in self.prediction_columns.value if c in options]
        wanted = [c for c in (self._wanted_predictions or ()) if c in options]
        named = [c for c in options if c.lower() in _PREDICTION_NAMES]
        self.prediction_columns.options = options
        self.prediction_columns.value = tuple(kept or wanted or named)

    # --- the check ------------------------------------------------------------------------------
    def _model(self) -> tuple[Any, list[str]]:
        if not self.use_model.value:
            return None, []
        model = self.model_picker.get(None)
        names = getattr(model, "feature_names_in_", None)
        if names is None:
            raise ModelError(
                f"The model ({type(model).__name__}) was fitted without column names; fit it on "
                "a DataFrame of the log's input columns so the panel knows what it reads."
            )
        return model, [str(n) for n in names]

    def _monitor(self) -> DriftTimeline:
        import duckdb

        time = self.time_column.value
        if not time:
            raise InputError("Choose the log's time column (a DATE or TIMESTAMP column).")
        predictions = [c for c in self.prediction_columns.value if c != time]
        inputs = [c for c in self.data_picker.features.value if c != time and c not in predictions]
        if not inputs and not predictions and not self.use_model.value:
            raise InputError("Choose at least one input or prediction column to monitor.")
        model, model_inputs = self._model()
        columns = list(dict.fromkeys([*inputs, *predictions, *model_inputs]))
        missing = [c for c in model_inputs if c not in self.time_column.options]
        if missing:
            raise ModelError(
                f"The model takes column(s) {missing} that the log lacks; pick the log it "
                "scores, or a model fitted on its columns."
            )
        table = self.data_picker.load(target=None, time=time, features=columns or None)
        self.demo = self._demo()[0] if self.data_picker.source.value == "demo" else None
        monitor = DriftMonitor(
            columns=[*inputs, *predictions] or None,
            prediction_columns=predictions or None,
            model=model,
            psi_threshold=self.psi_threshold.value,
            p_value_threshold=self.p_value_threshold.value,
            rule=self.rule.value,
        )
        with duckdb.connect() as con:
            con.from_arrow(table.data).create(_LOG_TABLE)
            timeline = monitor_table(
                con,
                _LOG_TABLE,
                time_column=time,
                every=self.every.value,
                reference_windows=self.reference_windows.value,
                monitor=monitor,
            )
        self.monitor_ = monitor
        return timeline

    def check(self) -> DriftTimeline | None:
        """Run the drift check with the current settings and show the timeline.

        Returns
        -------
        DriftTimeline or None
            ``None`` when the input was wrong; the message is then shown in the panel.
        """
        timeline = self.run(self._monitor, busy="Reading windows and testing drift…")
        if timeline is None:
            return None
        self.result = timeline
        starts = [str(r.window_start.date()) for r in timeline.reports]
        self.window_report = timeline.report(-1) if timeline.reports else None
        self.window.unobserve(self._on_window, names="value")
        self.window.options = starts
        self.window.value = starts[-1] if starts else None
        self.window.observe(self._on_window, names="value")
        self._show()
        if self.last_error is None:
            alerts = int(timeline.windows["alert"].sum())
            first = timeline.first_alert
            when = f"; first alert in the window from {first.date()}" if first is not None else ""
            self.show_status(f"{alerts} alert(s) in {len(timeline.reports)} windows{when}.", "ok")
        self.offer(timeline.windows, "drift_windows", tool="drift", workspace=self.workspace)
        return timeline

    def _on_window(self, change: dict[str, Any]) -> None:
        if self.result is None or not change["new"]:
            return
        try:
            self.window_report = self.result.report(change["new"])
        except Exception as exc:  # a callback's error would otherwise vanish into the JS console
            self.show_exception(exc)
            return
        if self.last_error is not None:
            self.clear_error()
        self._show()

    def _show(self) -> None:
        # The timeline beside the selected window's PSI bars, then that window's table.
        if self.result is None:
            self.show(None)
            return
        report = self.window_report
        plots = [self.result.plot] + ([report.plot] if report is not None else [])
        self.show(report, plots=plots, figsize=(12, 4))
