"""Panel of the privacy audit: pick data and model, run, see ROC, risky records, trade-off."""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets

from workbench.core.datasets import list_datasets, load_dataset
from workbench.privacy import ATTACKS, DEMO_MODELS, AuditReport, audit, demo_model
from workbench.ui.base import ToolPanel

__all__ = ["PrivacyPanel"]


class PrivacyPanel(ToolPanel):
    """Run a membership-inference audit on a bundled dataset and a demo model.

    Attributes
    ----------
    dataset, model, attacks : ipywidgets selection widgets
        A bundled classification dataset, a name of :data:`workbench.privacy.DEMO_MODELS`
        (labelled with its description) and the attacks to run.
    max_records, n_shadows, seed, n_jobs : ipywidgets numeric widgets
    mitigations : ipywidgets.Checkbox
        Also audit regularized (and, when diffprivlib works, DP) variants.
    run_button : ipywidgets.Button
        The main action (:attr:`main_button`).
    result : AuditReport or None
        The last successful audit.
    figures : list of matplotlib.figure.Figure
        Figures drawn for the last report: ROC and risk, then the trade-off when mitigations
        were compared (:attr:`figure` is the last of them).
    """

    def __init__(self) -> None:
        super().__init__(
            "Privacy audit",
            "Does the model leak who was in its training data? Membership inference with "
            "shadow models, per-record risk and mitigations.",
        )
        style = {"description_width": "110px"}
        self.dataset = widgets.Dropdown(
            options=list_datasets("classification"),
            value="breast_cancer",
            description="Dataset",
            style=style,
        )
        self.model = widgets.Dropdown(
            options=[(desc, name) for name, desc in DEMO_MODELS.items()],
            value="random_forest",
            description="Model",
            style=style,
            layout=widgets.Layout(width="520px"),
        )
        self.max_records = widgets.IntSlider(
            value=300, min=20, max=1000, step=20, description="Records", style=style
        )
        self.n_shadows = widgets.IntSlider(
            value=8, min=0, max=32, description="Shadow models", style=style
        )
        self.attacks = widgets.SelectMultiple(
            options=list(ATTACKS), value=list(ATTACKS), rows=6, description="Attacks", style=style
        )
        self.mitigations = widgets.Checkbox(value=False, description="Compare mitigations")
        self.seed = widgets.IntText(value=0, description="Seed", style=style)
        self.n_jobs = widgets.IntText(value=1, description="n_jobs", style=style)
        self.run_button = self.set_main_button(
            widgets.Button(description="Run audit", icon="user-secret")
        )
        self.run_button.on_click(self._on_run)
        self.controls.children = [
            widgets.HBox([self.dataset, self.model]),
            widgets.HBox([self.max_records, self.n_shadows]),
            widgets.HBox([self.attacks, widgets.VBox([self.mitigations, self.seed, self.n_jobs])]),
            self.run_button,
        ]
        self.result: AuditReport | None = None
        self.figures: list[Any] = []

    def _audit(self) -> AuditReport:
        data = load_dataset(self.dataset.value)
        n = min(int(self.max_records.value), data.X.shape[0])
        return audit(
            demo_model(self.model.value, random_state=int(self.seed.value)),
            data.X[:n],
            data.y[:n],
            n_shadows=int(self.n_shadows.value),
            attacks=list(self.attacks.value),
            mitigations="auto" if self.mitigations.value else None,
            random_state=int(self.seed.value),
            n_jobs=int(self.n_jobs.value),
        )

    def _on_run(self, _button: object = None) -> None:
        report = self.run(self._audit, busy="Training shadow models and attacking…")
        if report is None:
            return
        self.result = report
        self._show(report)

    def _show(self, report: AuditReport) -> None:
        f1 = self.show(
            report,
            plots=[report.plot, report.plot_risk],
            figsize=(10, 4),
            also=[widgets.HTML("<b>Most exposed records</b>"), report.most_exposed(10).round(3)],
        )
        f2 = None
        if report.mitigations is not None:
            f2 = self.show(
                report.mitigations, plots=[report.plot_tradeoff], figsize=(5, 3.5), clear=False
            )
        self.figures = [f for f in (f1, f2) if f is not None]
