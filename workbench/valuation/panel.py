"""The data valuation panel: value noisy data, inspect suspicious points, retrain without them."""

from __future__ import annotations

import functools
from typing import Any

import ipywidgets as widgets
import numpy as np

from workbench.core.datasets import list_datasets
from workbench.core.models import demo_model, describe_models
from workbench.ui.base import ToolPanel
from workbench.valuation import (
    NoisySplit,
    ValuationResult,
    detection_scores,
    list_methods,
    make_method,
    noisy_split,
    score_without,
    value,
)

__all__ = ["VALUATION_MODELS", "ValuationPanel"]

#: The demo models the panel offers (names in :data:`workbench.core.models.DEMO_MODELS`).
VALUATION_MODELS = (
    "logistic_regression_default",
    "gaussian_nb",
    "knn5",
    "decision_tree_depth6",
)

_BUDGETED = {"tmc_shapley", "beta_shapley", "banzhaf", "data_oob", "ensemble"}


class ValuationPanel(ToolPanel):
    """Choose a dataset, model, method and budget; value the points; mark and drop suspects.

    Attributes
    ----------
    model : ipywidgets.Dropdown
        A name of :data:`VALUATION_MODELS`, labelled with the catalogue's description; the model
        is built with the panel's seed as its ``random_state``.
    run_button : ipywidgets.Button
        The main action (:attr:`main_button`).
    split : NoisySplit or None
        The data of the last run (labels partly flipped on purpose).
    result : ValuationResult or None
        Values of the last run.
    detection : dict or None
        Detection scores of the last run against the known flips.
    retrain : dict or None
        Test scores before/after dropping the marked points.
    figure : matplotlib.figure.Figure or None
        Image grid of the lowest-valued points (image data such as digits).
    suspect_table : pandas.DataFrame or None
        Table of the lowest-valued points (tabular data).
    """

    def __init__(self) -> None:
        super().__init__(
            "Data valuation",
            "Which training points hurt the model? Labels are flipped on purpose so you can "
            "check what the methods find.",
        )
        style = {"description_width": "110px"}
        self.dataset = widgets.Dropdown(
            options=list_datasets("classification"),
            value="breast_cancer",
            description="dataset",
            style=style,
        )
        self.flip = widgets.FloatSlider(
            value=0.1, min=0.0, max=0.3, step=0.05, description="flipped labels", style=style
        )
        self.model = widgets.Dropdown(
            options=[(d, n) for n, d in describe_models(VALUATION_MODELS).items()],
            value="logistic_regression_default",
            description="model",
            style=style,
            layout=widgets.Layout(width="420px"),
        )
        self.method = widgets.Dropdown(
            options=list_methods(), value="knn_shapley", description="method", style=style
        )
        self.max_time = widgets.FloatText(value=5.0, description="time budget (s)", style=style)
        self.seed = widgets.IntText(value=0, description="seed", style=style)
        self.n_show = widgets.IntSlider(
            value=12, min=4, max=40, step=4, description="show lowest", style=style
        )
        self.run_button = self.set_main_button(widgets.Button(description="Value points"))
        self.marked = widgets.SelectMultiple(
            options=[],
            description="marked",
            rows=8,
            style=style,
            layout=widgets.Layout(width="420px"),
        )
        self.mark_all_button = widgets.Button(description="Mark all shown")
        self.retrain_button = widgets.Button(description="Retrain without marked")
        self.controls.children = [
            widgets.HBox(
                [
                    widgets.VBox([self.dataset, self.flip, self.model]),
                    widgets.VBox([self.method, self.max_time, self.seed]),
                ]
            ),
            widgets.HBox([self.run_button, self.n_show]),
            widgets.HBox([self.marked, widgets.VBox([self.mark_all_button, self.retrain_button])]),
        ]
        self.split: NoisySplit | None = None
        self.result: ValuationResult | None = None
        self.detection: dict[str, float] | None = None
        self.retrain: dict[str, float] | None = None
        self.suspect_table: Any = None
        self.method.observe(lambda _: self._sync_model(), names="value")
        self._sync_model()
        self.run_button.on_click(lambda _: self.value_points())
        self.mark_all_button.on_click(lambda _: self.mark_all())
        self.retrain_button.on_click(lambda _: self.retrain_without_marked())

    def _uses_model(self) -> bool:
        return "model" in make_method(self.method.value).get_params()

    def _sync_model(self) -> None:
        # knn_shapley trains no model, and value() refuses one: grey the picker out.
        self.model.disabled = not self._uses_model()

    def _model(self) -> Any:
        return demo_model(self.model.value, random_state=int(self.seed.value))

    # -- actions -------------------------------------------------------------------------------
    def _value(self) -> tuple[NoisySplit, ValuationResult]:
        split = noisy_split(
            self.dataset.value, float(self.flip.value), random_state=int(self.seed.value)
        )
        kwargs: dict[str, Any] = {}
        if self.method.value in _BUDGETED:
            kwargs["max_time"] = self.max_time.value
        if self._uses_model():
            kwargs["model"] = self._model()
        result = value(
            split.X,
            split.y,
            method=self.method.value,
            X_test=split.X_test,
            y_test=split.y_test,
            random_state=int(self.seed.value),
            show_progress=False,
            **kwargs,
        )
        return split, result

    def value_points(self) -> None:
        """Run the chosen valuation and show the lowest-valued points."""
        out = self.run(self._value, busy=f"Valuing points with {self.method.value}…")
        if out is None:
            return
        self.split, self.result = out
        self.retrain = None
        self.detection = (
            detection_scores(self.result.values, self.split.flipped)
            if self.split.flipped.any()
            else None
        )
        lowest = self.result.lowest(int(self.n_show.value))
        self.marked.options = [
            (f"#{i}: label {self.split.y[i]}, value {self.result.values[i]:.4g}", int(i))
            for i in lowest
        ]
        self.marked.value = ()
        r = self.result
        msg = (
            f"{r.method}: {r.n_fits} fits ({r.n_failed_fits} failed), "
            f"{r.elapsed_s:.1f} s, {r.stop_reason}."
        )
        if self.detection:
            msg += (
                f" Flipped-label AUROC {self.detection['auroc']:.3f}, "
                f"precision@{self.detection['k']} {self.detection['precision_at_k']:.2f}."
            )
        self.show_status(msg, "ok")
        self._show_suspects(lowest)

    def _show_suspects(self, lowest: np.ndarray) -> None:
        assert self.split is not None and self.result is not None
        split, res = self.split, self.result
        if split.images is not None:
            self.suspect_table = None

            def draw(i: int, ax: Any) -> None:
                ax.imshow(split.images[i], cmap="gray_r")
                ax.set_axis_off()
                color = "#b00020" if split.flipped[i] else "black"
                ax.set_title(f"#{i} label {split.y[i]}", fontsize=8, color=color)

            rows = -(-lowest.size // 8)
            caption = "Lowest-valued points; a red title means the label was flipped."
            self.show(
                None,
                plots=[functools.partial(draw, int(i)) for i in lowest],
                ncols=8,
                figsize=(8 * 1.2, rows * 1.45),
                also=[widgets.HTML(f"<i>{caption}</i>")],
            )
        else:
            frame = res.to_frame().iloc[lowest][["index", "value", "stderr", "rank"]]
            frame = frame.assign(label=split.y[lowest], flipped=split.flipped[lowest])
            self.suspect_table = frame.reset_index(drop=True)
            self.show(self.suspect_table, plots=[])

    def mark_all(self) -> None:
        """Mark every point shown in the list."""
        self.marked.value = tuple(v for _, v in self.marked.options)

    def retrain_without_marked(self) -> None:
        """Retrain the chosen model without the marked points and show the test score change."""
        if self.split is None:
            self.show_error("Value the points first, then mark some to drop.")
            return
        if not self.marked.value:
            self.show_error("No point is marked: select points in the list (or 'Mark all shown').")
            return
        split = self.split
        out = self.run(
            score_without,
            list(self.marked.value),
            split.X,
            split.y,
            split.X_test,
            split.y_test,
            model=self._model(),
            busy="Retraining…",
        )
        if out is None:
            return
        self.retrain = out
        n_flipped = int(split.flipped[list(self.marked.value)].sum())
        self.show_status(
            f"Test accuracy {out['before']:.3f} → {out['after']:.3f} after dropping "
            f"{out['n_dropped']} points ({n_flipped} of them had flipped labels).",
            "ok",
        )
