"""The drift tool's ipywidgets panel, built only on the public API of :mod:`workbench_drift`."""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets

from workbench.ui.base import ToolPanel
from workbench_drift import (
    RULES,
    DemoLog,
    DriftMonitor,
    DriftReport,
    DriftTimeline,
    make_demo_log,
    monitor_table,
)

__all__ = ["DriftPanel"]

_WIDE = widgets.Layout(width="420px")
_STYLE = {"description_width": "150px"}


def _names(text: str) -> list[str] | None:
    names = [t.strip() for t in text.split(",") if t.strip()]
    return names or None


class DriftPanel(ToolPanel):
    """Check a prediction log in DuckDB for data and prediction drift, window by window.

    With the database field empty the panel builds the demo log (:func:`make_demo_log`), whose
    drift strength and start week can be set; otherwise it reads the named DuckDB file.

    Attributes
    ----------
    run_button : ipywidgets.Button
        The main action (:attr:`main_button`).
    result : DriftTimeline or None
        Result of the last check.
    window_report : DriftReport or None
        Report of the window selected in :attr:`window` (the latest one after a check).
    demo : DemoLog or None
        The demo log of the last check, when the demo was used.
    figure : matplotlib.figure.Figure or None
        The timeline and report plots last shown.
    """

    def __init__(self) -> None:
        super().__init__(
            "Drift monitoring",
            "Per-column PSI plus KS / chi-square tests of a deployed model's inputs and "
            "predictions, over time windows read from DuckDB.",
        )
        self.result: DriftTimeline | None = None
        self.window_report: DriftReport | None = None
        self.demo: DemoLog | None = None

        self.database = widgets.Text(
            value="",
            placeholder="empty: the demo log",
            description="DuckDB file",
            layout=_WIDE,
            style=_STYLE,
        )
        self.table = widgets.Text(
            value="predictions", description="table", layout=_WIDE, style=_STYLE
        )
        self.time_column = widgets.Text(
            value="ts", description="time column", layout=_WIDE, style=_STYLE
        )
        self.prediction_columns = widgets.Text(
            value="score, label",
            description="prediction columns",
            placeholder="comma separated; may be empty",
            layout=_WIDE,
            style=_STYLE,
        )
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
        self.run_button.on_click(lambda _b: self.check())
        self.window.observe(self._on_window, names="value")
        self.controls.children = [
            self.database,
            self.table,
            self.time_column,
            self.prediction_columns,
            self.drift_week,
            self.drift_strength,
            self.every,
            self.reference_windows,
            self.psi_threshold,
            self.p_value_threshold,
            self.rule,
            self.run_button,
            self.window,
        ]

    def _monitor(self) -> DriftTimeline:
        source: Any
        if self.database.value.strip():
            source = self.database.value.strip()
            self.demo = None
        else:
            self.demo = make_demo_log(
                drift_week=self.drift_week.value,
                drift_strength=self.drift_strength.value,
                table=self.table.value.strip() or "predictions",
                random_state=0,
            )
            source = self.demo.connection
        monitor = DriftMonitor(
            prediction_columns=_names(self.prediction_columns.value),
            psi_threshold=self.psi_threshold.value,
            p_value_threshold=self.p_value_threshold.value,
            rule=self.rule.value,
        )
        return monitor_table(
            source,
            self.table.value.strip(),
            time_column=self.time_column.value.strip(),
            every=self.every.value,
            reference_windows=self.reference_windows.value,
            monitor=monitor,
        )

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
