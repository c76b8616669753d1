"""EdgePanel: train a model on the vibration demo, export it to C, see parity, size and code."""

from __future__ import annotations

import base64
import html
import warnings
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
import numpy as np
from IPython.display import display

from workbench.core.errors import InputError, NotFittedError
from workbench.core.params import check_random_state
from workbench.edge import (
    export,
    fit_to_budget,
    make_vibration_windows,
    verify_pipeline,
    vibration_features,
)
from workbench.ui.base import ToolPanel

__all__ = ["MODEL_CHOICES", "EdgePanel"]


def _rf() -> Any:
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(n_estimators=10, max_depth=10, random_state=0)


def _et() -> Any:
    from sklearn.ensemble import ExtraTreesClassifier

    return ExtraTreesClassifier(n_estimators=10, max_depth=10, random_state=0)


def _dt() -> Any:
    from sklearn.tree import DecisionTreeClassifier

    return DecisionTreeClassifier(max_depth=8, random_state=0)


def _mlp() -> Any:
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier((16,), max_iter=1000, random_state=0)


def _nb() -> Any:
    from sklearn.naive_bayes import GaussianNB

    return GaussianNB()


def _knn() -> Any:
    from sklearn.neighbors import KNeighborsClassifier

    return KNeighborsClassifier(5)


#: Label shown in the dropdown -> factory of the (unfitted) estimator.
MODEL_CHOICES: dict[str, Callable[[], Any]] = {
    "Random forest (10 trees, depth 10)": _rf,
    "Extra trees (10 trees, depth 10)": _et,
    "Decision tree (depth 8)": _dt,
    "MLP (16 hidden units)": _mlp,
    "Gaussian naive Bayes": _nb,
    "k-NN (k=5)": _knn,
}


class EdgePanel(ToolPanel):
    """Train on the vibration demo, export to C with proven parity, inspect and download.

    Attributes
    ----------
    model : estimator or None
        The last trained model.
    artifact : EdgeArtifact or None
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
            options=list(MODEL_CHOICES), description="Model", style={"description_width": "90px"}
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
        self.train_button = widgets.Button(description="Train on demo", button_style="primary")
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
        self.artifact: Any = None
        self.pipeline: Any = None
        self.budget_result: Any = None
        self._data: Any = None

    # -------------------------------------------------------------------------------- actions

    def train(self) -> None:
        """Generate the demo windows, compute features and fit the chosen model."""
        self.run(self._train, busy="Generating windows and training…")

    def _train(self) -> None:
        self.model = self.artifact = self.pipeline = self.budget_result = None
        self.report.value = self.download.value = self.code.value = ""
        from sklearn.model_selection import train_test_split

        seed = check_random_state(self.seed.value, name="Seed")
        data = make_vibration_windows(self.n_per_class.value, random_state=seed)
        X = vibration_features(data.windows, quantize=self.quantize.value)
        idx_tr, idx_te = train_test_split(
            np.arange(len(X)), test_size=0.3, random_state=seed, stratify=data.y
        )
        model = MODEL_CHOICES[self.model_choice.value]()
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
            self.artifact = self.budget_result.artifact
        else:
            self.artifact = export(
                model, X[idx_te], data.y[idx_te], flash_budget=budget, cc=cc, name="vibration_model"
            )
        self.pipeline = verify_pipeline(
            self.artifact,
            model,
            data.windows[idx_te],
            data.y[idx_te],
            quantize=self.quantize.value,
            cc=cc,
        )
        self._show()

    # ------------------------------------------------------------------------------- display

    def _show(self) -> None:
        art, pipe = self.artifact, self.pipeline
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
        self.output.clear_output()
        if self.budget_result is not None:
            with self.output:
                import matplotlib.pyplot as plt

                display(self.budget_result.table)
                ax = self.budget_result.plot()
                plt.show()
                plt.close(ax.figure)
