"""EdgePanel: train a model on the vibration demo, export it to C, see parity, size and code."""

from __future__ import annotations

import base64
import html
import warnings
from typing import Any

import ipywidgets as widgets
import numpy as np

from workbench.core.errors import InputError, NotFittedError
from workbench.core.models import demo_model, describe_models
from workbench.core.params import check_random_state
from workbench.edge import (
    export,
    fit_to_budget,
    make_vibration_windows,
    verify_pipeline,
    vibration_features,
)
from workbench.ui.base import ToolPanel

__all__ = ["EDGE_MODELS", "EdgePanel"]

#: The demo models the panel offers (names in :data:`workbench.core.models.DEMO_MODELS`): small
#: members of each family the exporter writes as C.
EDGE_MODELS = (
    "random_forest_small",
    "extra_trees_small",
    "decision_tree_depth8",
    "mlp_small",
    "gaussian_nb",
    "knn5",
)


class EdgePanel(ToolPanel):
    """Train on the vibration demo, export to C with proven parity, inspect and download.

    Attributes
    ----------
    model_choice : ipywidgets.Dropdown
        A name of :data:`EDGE_MODELS`, labelled with the catalogue's description; the model is
        built with the panel's seed as its ``random_state``.
    train_button : ipywidgets.Button
        The main action (:attr:`main_button`).
    export_button : ipywidgets.Button
    model : estimator or None
        The last trained model.
    result : EdgeArtifact or None
        The last export.
    pipeline : PipelineReport or None
        Raw window -> class in C for the last export.
    budget_result : BudgetResult or None
        The trade-off table when the model was shrunk into the budget.
    """

    def __init__(self) -> None:
        super().__init__(
            "Edge model export",
            "Vibration windows -> features -> classifier, exported to C for a microcontroller; "
            "parity with scikit-learn and flash/RAM are measured by compiling.",
        )
        self.model_choice = widgets.Dropdown(
            options=[(desc, name) for name, desc in describe_models(EDGE_MODELS).items()],
            description="Model",
            style={"description_width": "90px"},
            layout=widgets.Layout(width="380px"),
        )
        self.n_per_class = widgets.BoundedIntText(
            value=120,
            min=10,
            max=2000,
            description="Windows/class",
            style={"description_width": "90px"},
        )
        self.seed = widgets.IntText(
            value=0, description="Seed", style={"description_width": "90px"}
        )
        self.quantize = widgets.Checkbox(value=True, description="Quantized int16 features")
        self.flash_budget = widgets.IntText(
            value=8192, description="Flash budget B", style={"description_width": "90px"}
        )
        self.shrink = widgets.Checkbox(value=False, description="Shrink trees to fit the budget")
        self.cc = widgets.Text(
            value="",
            placeholder="cc (default)",
            description="C compiler",
            style={"description_width": "90px"},
        )
        self.train_button = self.set_main_button(widgets.Button(description="Train on demo"))
        self.export_button = widgets.Button(description="Export to C", button_style="success")
        self.train_button.on_click(lambda _: self.train())
        self.export_button.on_click(lambda _: self.export())
        self.report = widgets.HTML("")
        self.code = widgets.Textarea(
            value="", layout=widgets.Layout(width="100%", height="260px"), disabled=True
        )
        self.download = widgets.HTML("")
        self.controls.children = [
            widgets.HBox([self.model_choice, self.n_per_class, self.seed]),
            widgets.HBox([self.quantize, self.flash_budget, self.shrink]),
            widgets.HBox([self.cc, self.train_button, self.export_button]),
            self.report,
            self.download,
            self.code,
        ]
        self.model: Any = None
        self.pipeline: Any = None
        self.budget_result: Any = None
        self._data: Any = None

    # -------------------------------------------------------------------------------- actions

    def train(self) -> None:
        """Generate the demo windows, compute features and fit the chosen model."""
        self.run(self._train, busy="Generating windows and training…")

    def _train(self) -> None:
        self.model = self.result = self.pipeline = self.budget_result = None
        self.report.value = self.download.value = self.code.value = ""
        self.show(None)
        from sklearn.model_selection import train_test_split

        seed = check_random_state(self.seed.value, name="Seed")
        data = make_vibration_windows(self.n_per_class.value, random_state=seed)
        X = vibration_features(data.windows, quantize=self.quantize.value)
        idx_tr, idx_te = train_test_split(
            np.arange(len(X)), test_size=0.3, random_state=seed, stratify=data.y
        )
        model = demo_model(self.model_choice.value, random_state=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # MLP convergence chatter is not the panel's news
            model.fit(X[idx_tr], data.y[idx_tr])
        self.model = model
        self._data = (data, X, idx_tr, idx_te)
        acc = float(np.mean(model.predict(X[idx_te]) == data.y[idx_te]))
        self.report.value = (
            f"<b>Trained</b> {html.escape(type(model).__name__)} on {len(idx_tr)} windows; "
            f"held-out accuracy {acc:.3f} on {len(idx_te)} windows. Now export it."
        )

    def export(self) -> None:
        """Export the trained model (shrunk into the budget if asked) and verify the C path."""
        self.run(self._export, busy="Compiling and verifying the C code…")

    def _export(self) -> None:
        if self.model is None or self._data is None:
            raise NotFittedError("Train a model first (button 'Train on demo').")
        budget = self.flash_budget.value
        if budget is not None and budget < 0:
            raise InputError(f"Flash budget must be >= 0 bytes (0 = no budget), got {budget}.")
        budget = budget or None
        cc = self.cc.value.strip() or None
        data, X, idx_tr, idx_te = self._data
        model = self.model
        self.budget_result = None
        if self.shrink.value and budget is not None:
            self.budget_result = fit_to_budget(
                model,
                X[idx_tr],
                data.y[idx_tr],
                X[idx_te],
                data.y[idx_te],
                flash_budget=budget,
                cc=cc,
            )
            model = self.budget_result.model
            self.result = self.budget_result.artifact
        else:
            self.result = export(
                model, X[idx_te], data.y[idx_te], flash_budget=budget, cc=cc, name="vibration_model"
            )
        self.pipeline = verify_pipeline(
            self.result,
            model,
            data.windows[idx_te],
            data.y[idx_te],
            quantize=self.quantize.value,
            cc=cc,
        )
        self._show()

    # ------------------------------------------------------------------------------- display

    def _show(self) -> None:
        art, pipe = self.result, self.pipeline
        sizes = "".join(
            f"<tr><td>{html.escape(str(r['target']))}</td><td>{r['flash_bytes']}</td>"
            f"<td>{r['ram_bytes']}</td></tr>"
            for r in art.sizes
        )
        full = "".join(
            f"<tr><td>{html.escape(str(r['target']))} (features + model)</td>"
            f"<td>{r['flash_bytes']}</td><td>{r['ram_bytes']}</td></tr>"
            for r in pipe.sizes
        )
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in art.notes)
        self.report.value = (
            f"<b>{html.escape(art.title)}</b><br>"
            f"Parity with scikit-learn: <b>{art.parity.match_rate:.2f}%</b> of "
            f"{art.parity.n_samples} held-out windows (max |Δp| {art.parity.max_proba_error:.2g})"
            f" — {html.escape(art.parity.explanation)}<br>"
            f"Raw window → class in C: <b>{pipe.end_to_end_match:.2f}%</b> match; C features "
            f"within rtol {pipe.features.rtol:g}: {pipe.features.passed}<br>"
            f"Host latency: model {art.latency_ns:.0f} ns, whole window {pipe.latency_us:.1f} µs"
            "<table><tr><th>target</th><th>flash B</th><th>RAM B</th></tr>"
            f"{sizes}{full}</table><ul>{notes}</ul>"
        )
        payload = base64.b64encode(art.header.encode()).decode()
        fname = f"{art.name}.h"
        links = [
            f"<a download='{fname}' href='data:text/x-csrc;base64,{payload}' target='_blank'>"
            f"⬇ Download {fname}</a> ({len(art.header)} characters)"
        ]
        if art.csv is not None:
            csv64 = base64.b64encode(art.csv.encode()).decode()
            links.append(
                f"<a download='{art.name}.csv' href='data:text/csv;base64,{csv64}' "
                f"target='_blank'>⬇ Download {art.name}.csv</a> (emlearn-micropython)"
            )
        self.download.value = " · ".join(links)
        self.code.value = art.header
        # The trade-off of the shrinking, when there was one (the export itself is summed up above).
        self.show(self.budget_result)
