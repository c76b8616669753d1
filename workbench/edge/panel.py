"""EdgePanel: a classifier on the user's table (or the vibration demo), exported to C with parity.

The data comes from a :class:`~workbench.ui.DataPicker` (the user's DataFrame, a notebook
variable, an upload, a file, a workspace table or query, or the vibration demo) and the model
from a :class:`~workbench.ui.ModelPicker` (the user's fitted classifier, or one of the exportable
families of the catalogue trained here). The exported C function takes the table's encoded
features :attr:`~workbench.core.tables.UserTable.X`: numbers as they are, categories one-hot
(``column=value``), in the order of ``feature_names_out``.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import functools
import html
import warnings
from collections.abc import Iterator
from typing import Any

import ipywidgets as widgets
import numpy as np
import pandas as pd

from workbench.core.errors import DependencyError, InputError, InputTypeError, WorkbenchError
from workbench.core.models import demo_model, describe_models
from workbench.core.params import check_random_state
from workbench.core.workspace import Workspace
from workbench.edge import (
    UnscaledFeaturesWarning,
    export,
    feature_names,
    fit_to_budget,
    make_vibration_windows,
    verify_on_target,
    verify_pipeline,
    vibration_features,
)
from workbench.ui import DataPicker, ModelPicker
from workbench.ui.base import ToolPanel

__all__ = ["EDGE_MODELS", "TARGET_ROWS", "VIBRATION_DEMO", "EdgePanel"]

_CATALOGUE = ("random_forest_small", "extra_trees_small", "decision_tree_depth8", "mlp_small",
              "gaussian_nb", "knn5")


#: Model types the catalogue lacks (built by :func:`_model`): name -> description.
_OWN_MODELS = {
    "gradient_boosting_small": "Gradient boosting, 10 trees of depth 2 per class",
    "hist_gradient_boosting_small": "HistGradientBoosting, 10 iterations of depth 2",
    "scaled_mlp_small": "Pipeline: StandardScaler + MLP of 16 units, one C function",
}


def _model(name: str, rs: int | None) -> Any:
    if name not in _OWN_MODELS:
        return demo_model(name, random_state=rs)
    from sklearn.ensemble import GradientBoostingClassifier, HistGradientBoostingClassifier
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if name == "gradient_boosting_small":
        return GradientBoostingClassifier(n_estimators=10, max_depth=2, random_state=rs)
    if name == "hist_gradient_boosting_small":
        return HistGradientBoostingClassifier(max_iter=10, max_depth=2, random_state=rs)
    return make_pipeline(StandardScaler(), MLPClassifier((16,), max_iter=1000, random_state=rs))


#: The model types the panel offers, small members of every family the exporter writes as C:
#: names in :data:`workbench.core.models.DEMO_MODELS`, plus boosted trees and the scaled MLP
#: pipeline (built here: the catalogue has none of that size).
EDGE_MODELS = (*_CATALOGUE[:3], *_OWN_MODELS, *_CATALOGUE[3:])
#: Most rows the optional emulated Cortex-M4F run takes (the first of the rows checked).
TARGET_ROWS = 1000
#: Name of the demo dataset in the data picker: vibration windows as features.
VIBRATION_DEMO = "vibration windows"

_WARNING = ("<div style='background:#fff3cd;border-left:4px solid #e0a800;padding:4px 8px'>⚠ "
            "<b>UnscaledFeaturesWarning</b>: {}</div>")
#: Share of a table held out to check parity on when the panel trains the model itself.
_TEST_SIZE = 0.3


@dataclasses.dataclass(frozen=True)
class _EdgeRows:
    """A table's features ``X`` (the C input, names ``feature_names``), labels ``y``, the user's
    ``ids`` (column ``id_name``), a ``train``/``test`` split and the rows parity is ``check``-ed
    on (``test`` for a model trained here, every row for the user's own model)."""

    X: np.ndarray
    y: np.ndarray
    ids: np.ndarray
    id_name: str
    train: np.ndarray
    test: np.ndarray
    check: np.ndarray
    feature_names: list[str]


def _held_out_split(y: np.ndarray, random_state: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Indices of a 70/30 split, stratified when every class has two rows or more."""
    from sklearn.model_selection import train_test_split

    n = len(y)
    classes, counts = np.unique(y, return_counts=True)
    n_test = int(np.ceil(_TEST_SIZE * n))
    if n - n_test < 2:
        raise InputError(
            f"The table has {n} rows; at least 4 are needed to train on some and check the C "
            "code on the others."
        )
    stratify = y if counts.min() >= 2 and min(n_test, n - n_test) >= len(classes) else None
    train, test = train_test_split(
        np.arange(n), test_size=_TEST_SIZE, random_state=random_state, stratify=stratify
    )
    if len(np.unique(y[train])) < 2:
        raise InputError(
            "The training part of the table holds a single class; use more rows, another seed "
            "or more rows of the rare class."
        )
    # Training rows stay in the split's order (the demo model is the one trained before the
    # panel took user data); checked rows are listed in table order.
    return train, np.sort(test)


def _table_note(table: Any, rows: _EdgeRows) -> str:
    """HTML: the table used and the C function's inputs, in order."""
    names = rows.feature_names
    shown = ", ".join(html.escape(n) for n in names[:12]) + (", …" if len(names) > 12 else "")
    note = (
        f"<br>Table: {html.escape(str(table.source))}, {table.n_rows:,} rows; the C function "
        f"takes {len(names)} float features in this order: {shown}"
    )
    if table.categorical:
        cats = ", ".join(html.escape(c) for c in table.categorical)
        note += f" (categories one-hot: the device must encode {cats} the same way)"
    return note + "".join(f"<br>{html.escape(t)}" for t in table.encoding_notes)


@contextlib.contextmanager
def _numpy_inputs() -> Iterator[None]:
    """Silence scikit-learn's warning that ``X`` has no column names (the C function takes a
    plain array; a user's model fitted on a DataFrame was checked to take these columns)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="X does not have valid feature names")
        yield


def _target_html(report: Any, missing: str, n_checked: int) -> str:
    """HTML: the emulated Cortex-M4F's verdict, or why it did not run."""
    if report is None:
        return f"<br><b>Emulated Cortex-M4F</b>: not run — {html.escape(missing)} The export "\
            "above is verified on the host only."
    ins = report.instructions_per_prediction
    first = "" if report.n_samples == n_checked else f" (the first {report.n_samples})"
    return (
        f"<br><b>Emulated Cortex-M4F</b> (QEMU {report.machine}): parity <b>"
        f"{report.match_rate:.2f}%</b> of {report.n_samples} rows{first}, max |Δp| "
        f"{report.max_proba_error:.2g}; instructions per prediction "
        + ("not counted" if ins is None else f"about {ins:,.0f}")
        + f" (QEMU -icount); model flash {report.model_flash_bytes} B, stack "
        f"{report.stack_bytes} B — {html.escape(report.explanation)}"
    )


class EdgePanel(ToolPanel):
    """Export a classifier on the user's table (or the vibration demo) to C, with proven parity.

    Parameters
    ----------
    data : DataFrame, arrays, Arrow table, path, relation or str, optional
        The user's table, offered first ("Your data"); without it the vibration demo is
        preselected.
    target : str, optional
        The class column.
    model : estimator, optional
        The user's fitted classifier, offered first ("Your model"). It must take the table's
        :attr:`~workbench.core.tables.UserTable.X` (numbers, categories one-hot).
    workspace : Workspace, optional
        Where tables and queries come from and results are saved; default the shared one.
    namespace : mapping, optional
        Where notebook variables are looked up; default the running notebook's.

    Attributes
    ----------
    data_picker : DataPicker
    model_picker : ModelPicker
        A model type of :data:`EDGE_MODELS` (built with the seed as its ``random_state``) or the
        user's fitted classifier.
    model_choice : ipywidgets.Dropdown
        The model type dropdown of :attr:`model_picker`.
    n_per_class, quantize : ipywidgets inputs
        Size and integer features of the vibration demo.
    seed : ipywidgets.IntText
        Seed of the demo, the held-out split and the model trained here.
    verify_target : ipywidgets.Checkbox
        After the export, run the C on the checked rows (at most :data:`TARGET_ROWS`) on QEMU's
        Cortex-M4F (:func:`~workbench.edge.verify_on_target`); without ``qemu-system-arm`` or
        the ARM cross compiler the report says what to install, and the export stands.
    train_button : ipywidgets.Button
        Trains (or checks the user's model) and reports accuracy, without exporting.
    export_button : ipywidgets.Button
        The main action (:attr:`main_button`): trains first when the data or the model choice
        changed since the last training, then exports and checks parity on the held-out rows
        (every row for the user's own model).
    model : estimator or None
        The last trained or checked model.
    result : EdgeArtifact or None
        The last export.
    parity : pandas.DataFrame or None
        Per row of the last export: the user's id, the scikit-learn prediction, the C
        prediction and whether they match; offered as ``edge_parity``.
    pipeline : PipelineReport or None
        Raw window -> class in C for the last export of the vibration demo.
    budget_result : BudgetResult or None
        The trade-off table when the model was shrunk into the budget.
    target_report : TargetReport or None
        The emulated Cortex-M4F run of the last export, when asked for and possible.
    export_warnings : list of str
        The :class:`~workbench.edge.UnscaledFeaturesWarning` texts of the last export (an MLP on
        unscaled features, with the fix), also shown at the top of the report.
    """

    def __init__(
        self,
        data: Any = None,
        target: str | None = None,
        model: Any = None,
        *,
        workspace: Workspace | None = None,
        namespace: Any = None,
    ) -> None:
        super().__init__(
            "Edge model export",
            "A classifier on your table (or vibration windows), exported to C for a "
            "microcontroller; parity with scikit-learn and flash/RAM are measured by compiling.",
        )
        if workspace is not None and not isinstance(workspace, Workspace):
            raise InputTypeError(f"workspace must be a Workspace, got {type(workspace).__name__}.")
        self.workspace = workspace
        style = {"description_width": "90px"}
        self.n_per_class = widgets.BoundedIntText(value=120, min=10, max=2000,
                                                  description="Windows/class", style=style)
        self.seed = widgets.IntText(value=0, description="Seed", style=style)
        self.quantize = widgets.Checkbox(value=True, description="Quantized int16 features")
        # The demo frame and its windows, kept per (windows/class, seed, quantize): the picker
        # reads the demo (for its preview) while it is being built.
        self._demo: tuple[tuple[Any, ...], Any] | None = None
        self.data_picker = DataPicker(data, target=target, task="classification",
                                      demos={VIBRATION_DEMO: self._demo_frame},
                                      namespace=namespace, workspace=workspace)
        self.model_picker = ModelPicker(
            model,
            models={n: functools.partial(_model, n) for n in EDGE_MODELS},
            default=EDGE_MODELS[0],
            kind="classifier",
            namespace=namespace,
            labels={**describe_models(_CATALOGUE), **_OWN_MODELS},
        )
        self.model_choice = self.model_picker.model_type
        self.flash_budget = widgets.IntText(value=8192, description="Flash budget B", style=style)
        self.shrink = widgets.Checkbox(value=False, description="Shrink trees to fit the budget")
        self.cc = widgets.Text(value="", placeholder="cc (default)", description="C compiler",
                               style=style)
        self.verify_target = widgets.Checkbox(description="Verify on emulated Cortex-M4F")
        self.train_button = widgets.Button(description="Train / check model")
        self.export_button = self.set_main_button(widgets.Button(description="Export to C"))
        self.train_button.on_click(lambda _: self.train())
        self.export_button.on_click(lambda _: self.export_model())
        self.report = widgets.HTML("")
        self.code = widgets.Textarea(value="", disabled=True,
                                     layout=widgets.Layout(width="100%", height="260px"))
        self.download = widgets.HTML("")
        self.demo_options = widgets.HBox([self.n_per_class, self.quantize])
        self.controls.children = [
            self.data_picker, self.demo_options, self.model_picker,
            widgets.HBox([self.seed, self.flash_budget, self.shrink]),
            widgets.HBox([self.cc, self.verify_target, self.train_button, self.export_button]),
            self.report, self.download, self.code,
        ]
        self.model: Any = None
        self.parity: pd.DataFrame | None = None
        self.pipeline: Any = None
        self.budget_result: Any = None
        self.target_report: Any = None
        self.export_warnings: list[str] = []
        self._target_note = ""
        self._rows: _EdgeRows | None = None
        self._windows: np.ndarray | None = None
        self._note = ""
        self._stale = True
        pickers = [self.data_picker, self.model_picker]
        for w in [self.n_per_class, self.seed, self.quantize] + [
            getattr(p, n) for p in pickers for n in ("source", "variable")
        ] + [
            getattr(self.data_picker, n)
            for n in ("demo", "upload", "path", "table", "query", "target", "features")
        ] + [self.model_choice]:
            w.observe(self._changed, names="value")
        self.data_picker.on_change(self._changed)
        self.data_picker.source.observe(self._show_demo_options, names="value")
        self._show_demo_options()

    # ------------------------------------------------------------------------ the demo data

    def _demo_frame(self) -> pd.DataFrame:
        """The vibration demo as a table: one row per window, its features and its class."""
        seed = check_random_state(self.seed.value, name="Seed")
        key = (self.n_per_class.value, seed, bool(self.quantize.value))
        if self._demo is None or self._demo[0] != key:
            data = make_vibration_windows(self.n_per_class.value, random_state=seed)
            X = vibration_features(data.windows, quantize=self.quantize.value)
            frame = pd.DataFrame(X, columns=feature_names())
            frame.insert(0, "window_id", np.arange(len(X), dtype=np.int64))
            frame["target"] = data.y
            self._demo = (key, (frame, data.windows))
        return self._demo[1][0].copy()

    def _show_demo_options(self, _change: Any = None) -> None:
        demo = self.data_picker.source.value == "demo"
        self.demo_options.layout.display = None if demo else "none"

    def _changed(self, _change: Any = None) -> None:
        self._stale = True

    # -------------------------------------------------------------------------------- actions

    def train(self) -> None:
        """Load the picked table and fit the chosen model type (or check the user's model)."""
        with _numpy_inputs():
            self.run(self._train, busy="Reading the table and training…")

    def _train(self) -> None:
        # Nothing changes until the new model is there: a failure keeps the last result.
        seed = check_random_state(self.seed.value, name="Seed")
        table = self.data_picker.load(random_state=seed)
        if table.target is None:
            raise InputError("Pick the target column: the class the C function will predict.")
        X, y = table.X, table.y
        if self.model_picker.trains:
            train, test = _held_out_split(y, seed)
            model = self.model_picker.build(seed)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # MLP convergence chatter is not the panel's news
                model.fit(X[train], y[train])
            check, what = test, ("held-out accuracy", "")
            done = f"<b>Trained</b> {html.escape(type(model).__name__)} on {len(train)} rows"
        else:
            model = self.model_picker.get(table, random_state=seed)
            try:  # only shrinking into a budget needs a split of the user's rows
                train, test = _held_out_split(y, seed)
            except InputError:
                train = test = np.arange(0)
            check, what = np.arange(len(y)), ("accuracy", "all ")
            done = f"<b>Your model</b> {html.escape(type(model).__name__)} is used as given"
        rows = _EdgeRows(
            X=X,
            y=y,
            ids=np.asarray(table.ids),
            id_name=table.id or "row",
            train=train,
            test=test,
            check=check,
            feature_names=table.feature_names_out,
        )
        windows = None
        if self.data_picker.source.value == "demo" and self._demo is not None:
            windows = self._demo[1][1][rows.ids.astype(np.int64)]
        acc = float(np.mean(model.predict(X[check]) == y[check]))
        self.model, self._rows, self._windows, self._stale = model, rows, windows, False
        self._note = _table_note(table, rows)
        self.download.value = self.code.value = ""
        self.show(None)
        self.report.value = (
            f"{done}; {what[0]} {acc:.3f} on {what[1]}{len(check)} rows. Now export it."
            + self._note
        )

    def export_model(self) -> None:
        """Export the model (shrunk into the budget if asked) and check the C code row by row."""
        with _numpy_inputs():
            self.run(self._export, busy="Compiling and verifying the C code…")

    def _export(self) -> None:
        budget = self.flash_budget.value
        if budget is not None and budget < 0:
            raise InputError(f"Flash budget must be >= 0 bytes (0 = no budget), got {budget}.")
        budget = budget or None
        cc = self.cc.value.strip() or None
        if self._stale or self.model is None or self._rows is None:
            self._train()
        rows, model = self._rows, self.model
        assert rows is not None  # set by _train
        name = "vibration_model" if self._windows is not None else "edge_model"
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UnscaledFeaturesWarning)
            check, shrunk = rows.check, None
            if self.shrink.value and budget is not None:
                if not len(rows.train):
                    raise InputError(
                        "Shrinking retrains the model on 70% of the rows and compares on the "
                        "rest; this table is too small or holds too few rows of a class for that."
                    )
                tr, check = rows.train, rows.test
                shrunk = fit_to_budget(model, rows.X[tr], rows.y[tr], rows.X[check],
                                       rows.y[check], flash_budget=budget, cc=cc)
                model, art = shrunk.model, shrunk.artifact
            else:
                art = export(model, rows.X[check], rows.y[check], flash_budget=budget, cc=cc,
                             name=name)
        texts = [str(w.message) for w in caught if w.category is UnscaledFeaturesWarning]
        pipeline = None
        if self._windows is not None:
            windows, q = self._windows[check], self.quantize.value
            pipeline = verify_pipeline(art, model, windows, rows.y[check], quantize=q, cc=cc)
        sk, c = model.predict(rows.X[check]), art.predict(rows.X[check])
        frame = pd.DataFrame({rows.id_name: rows.ids[check], "sklearn_prediction": sk,
                              "c_prediction": c, "match": np.asarray(sk == c, dtype=bool)})
        report, note, failure = None, "", None
        if self.verify_target.value:
            try:
                report = verify_on_target(art, model, rows.X[check][:TARGET_ROWS])
                note = _target_html(report, "", len(check))
            except DependencyError as exc:  # no QEMU or cross compiler: say what to install
                note = _target_html(None, str(exc), len(check))
            except WorkbenchError as exc:  # the export stands; the error is shown below it
                failure = exc
        self.result, self.pipeline, self.parity, self.budget_result = art, pipeline, frame, shrunk
        self.export_warnings, self.target_report, self._target_note = texts, report, note
        self._show()
        self.offer(frame, "edge_parity", tool="edge", workspace=self.workspace)
        if failure is not None:
            raise failure

    # ------------------------------------------------------------------------------- display

    def _show(self) -> None:
        art, pipe = self.result, self.pipeline
        whole = [(f"{r['target']} (features + model)", r) for r in pipe.sizes] if pipe else []
        sizes = "".join(
            f"<tr><td>{html.escape(str(t))}</td><td>{r['flash_bytes']}</td>"
            f"<td>{r['ram_bytes']}</td></tr>"
            for t, r in [(r["target"], r) for r in art.sizes] + whole
        )
        if pipe is not None:
            line = (
                f"Raw window → class in C: <b>{pipe.end_to_end_match:.2f}%</b> match; C features "
                f"within rtol {pipe.features.rtol:g}: {pipe.features.passed}<br>"
                f"Host latency: model {art.latency_ns:.0f} ns, whole window "
                f"{pipe.latency_us:.1f} µs"
            )
        else:
            line = f"Host latency: model {art.latency_ns:.0f} ns"
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in art.notes)
        self.report.value = (
            "".join(_WARNING.format(html.escape(t)) for t in self.export_warnings)
            + f"<b>{html.escape(art.title)}</b><br>"
            f"Parity with scikit-learn: <b>{art.parity.match_rate:.2f}%</b> of "
            f"{art.parity.n_samples} rows (max |Δp| {art.parity.max_proba_error:.2g})"
            f" — {html.escape(art.parity.explanation)}<br>{line}{self._target_note}{self._note}"
            "<table><tr><th>target</th><th>flash B</th><th>RAM B</th></tr>"
            f"{sizes}</table><ul>{notes}</ul>"
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
        # The trade-off of the shrinking, when there was one (the export itself is summed up
        # above), then the first rows of the per-row parity table.
        self.show(self.budget_result, also=[self._parity_view()])

    def _parity_view(self) -> Any:
        from IPython.display import HTML

        frame = self.parity
        assert frame is not None
        n_bad = int((~frame["match"]).sum())
        head = frame[~frame["match"]] if n_bad else frame
        return HTML(
            f"<b>Per row</b>: {len(frame) - n_bad} of {len(frame)} C predictions equal "
            f"scikit-learn's; {'the rows that differ' if n_bad else 'the first rows'} "
            "(the whole table is offered below):"
            + head.head(10).to_html(index=False, escape=True)
        )
