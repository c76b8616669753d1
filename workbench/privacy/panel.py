"""Panel of the privacy audit: pick data and model, run, see ROC, risky records, trade-off."""

from __future__ import annotations

import ipywidgets as widgets
from IPython.display import display

from workbench.core.datasets import load_dataset
from workbench.privacy import ATTACKS, DEMO_MODELS, AuditReport, audit, demo_model
from workbench.ui.base import ToolPanel

__all__ = ["PrivacyPanel"]

_DATASETS = ("breast_cancer", "digits", "wine")


class PrivacyPanel(ToolPanel):
    """Run a membership-inference audit on a bundled dataset and a demo model.

    Attributes
    ----------
    dataset, model, attacks : ipywidgets selection widgets
    max_records, n_shadows, seed, n_jobs : ipywidgets numeric widgets
    mitigations : ipywidgets.Checkbox
        Also audit regularized (and, when diffprivlib works, DP) variants.
    run_button : ipywidgets.Button
    report : AuditReport or None
        The last successful audit.
    figures : list of matplotlib.figure.Figure
        Figures drawn for the last report (ROC, risk, trade-off).
    """

    def __init__(self) -> None:
        super().__init__(
            "Privacy audit",
            "Does the model leak who was in its training data? Membership inference with "
            "shadow models, per-record risk and mitigations.",
        )
        style = {"description_width": "110px"}
        self.dataset = widgets.Dropdown(
            options=list(_DATASETS), value="breast_cancer", description="Dataset", style=style
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
        self.run_button = widgets.Button(
            description="Run audit", icon="user-secret", button_style="primary"
        )
        self.run_button.on_click(self._on_run)
        self.controls.children = [
            widgets.HBox([self.dataset, self.model]),
            widgets.HBox([self.max_records, self.n_shadows]),
            widgets.HBox([self.attacks, widgets.VBox([self.mitigations, self.seed, self.n_jobs])]),
            self.run_button,
        ]
        self.report: AuditReport | None = None
        self.figures: list = []

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
        self.report = report
        self._show(report)

    def _show(self, report: AuditReport) -> None:
        import matplotlib.pyplot as plt

        plt.close("all")
        self.figures = []
        self.output.clear_output()
        with self.output:
            display(report)
            fig, axes = plt.subplots(1, 2, figsize=(10, 4))
            report.plot(ax=axes[0])
            report.plot_risk(ax=axes[1])
            fig.tight_layout()
            self.figures.append(fig)
            display(fig)
            display(widgets.HTML("<b>Most exposed records</b>"))
            display(report.most_exposed(10).round(3))
            if report.mitigations is not None:
                display(report.mitigations)
                fig2, ax = plt.subplots(figsize=(5, 3.5))
                report.plot_tradeoff(ax=ax)
                fig2.tight_layout()
                self.figures.append(fig2)
                display(fig2)
            plt.close("all")
