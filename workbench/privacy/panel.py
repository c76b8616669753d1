"""Panel of the privacy audit: pick data and model, run, see ROC, risky records, trade-off."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Mapping
from typing import Any

import ipywidgets as widgets
import numpy as np
import pandas as pd

from workbench.core.datasets import list_datasets, load_dataset
from workbench.core.errors import InputError
from workbench.core.tables import UserTable
from workbench.core.workspace import Workspace
from workbench.privacy import ATTACKS, DEMO_MODELS, AuditReport, audit, demo_model
from workbench.ui import DataPicker, ModelPicker
from workbench.ui.base import ToolPanel

__all__ = ["PrivacyPanel"]

_NO_MEMBERS = "(none: the audit trains the model)"


def _demo_frame(name: str) -> pd.DataFrame:
    return load_dataset(name).frame


def _catalogue_model(name: str, random_state: int | None) -> Any:
    return demo_model(name, random_state=random_state)


def _member_mask(values: pd.Series, column: str) -> np.ndarray:
    """The rows a column marks as training rows: ``True``/``1`` members, ``False``/``0`` not."""
    if values.isna().any():
        raise InputError(
            f"Column {column!r} has {int(values.isna().sum())} missing value(s); it must say for "
            "every row whether the model was trained on it (true/1) or not (false/0)."
        )
    if values.dtype == bool:
        mask = values.to_numpy()
    else:
        numeric = pd.to_numeric(values, errors="coerce")
        if numeric.isna().any() or not numeric.isin([0, 1]).all():
            raise InputError(
                f"Column {column!r} must hold true/false or 1/0 (1 = the model was trained on "
                f"the row), got values such as {values.iloc[:3].tolist()}."
            )
        mask = numeric.to_numpy() == 1
    if mask.all() or not mask.any():
        which = "every" if mask.all() else "no"
        raise InputError(
            f"Column {column!r} marks {which} row as a training row; the audit compares "
            "training rows with held-out rows, so the table needs both."
        )
    return mask


class PrivacyPanel(ToolPanel):
    """Run a membership-inference audit on the user's model and table, or on a demo.

    Two ways to audit, chosen with the model picker:

    * **A catalogue model** ("Train"): the audit trains it itself (pooled mode): ``n_shadows + 1``
      copies, each on a random half of the records, each scored as the target once.
    * **The user's fitted model** ("Your model" or a notebook "Variable"): the audit needs to
      know which records it was trained on. The picked table holds both the training rows and
      rows the model never saw, and the **"Trained on"** column says which: ``True``/``1`` for a
      training row, ``False``/``0`` for a held-out row (e.g. ``pd.concat([train.assign(
      in_training=True), test.assign(in_training=False)])``). That column is not a feature. The
      model must take the table's features (``table.X``, see
      :class:`~workbench.core.tables.UserTable`); the shadow models are clones of it, each
      trained on a random half of all rows (given mode of :func:`~workbench.privacy.audit`).
      Mitigations retrain the model, so they need a catalogue model. On a demo dataset the audit
      always trains the model itself (the catalogue type, or a clone of the user's model).

    A table larger than "Records" is audited on a seeded random sample of that many rows (the
    status line says so). The per-record risk table (:attr:`risk_table`, offered as
    ``privacy_risk`` to save in the workspace or download as CSV) has one row per audited record:
    the table's id column (else ``row``, the position in the audited, possibly sampled, table;
    ``record`` for a demo), the
    ``label``, ``member`` (given mode) or ``n_member_models`` (pooled mode), ``risk``,
    ``detected``, ``outlier`` and ``is_outlier`` (see :class:`~workbench.privacy.AuditReport`).

    Parameters
    ----------
    data : DataFrame, path, Arrow table, relation or str, optional
        The user's records; without it a demo dataset is preselected.
    target : str, optional
        Its label column.
    model : estimator, optional
        The user's fitted classifier, offered as "Your model".
    members : str, optional
        The column of ``data`` that marks the model's training rows.
    workspace : Workspace, optional
        Where tables are read and results saved; default the shared workspace.
    namespace : mapping, optional
        Where notebook variables are looked up; default the notebook's.

    Attributes
    ----------
    data_picker, model_picker : DataPicker, ModelPicker
        ``dataset`` is the demo dropdown, ``model`` the catalogue dropdown.
    members : ipywidgets.Dropdown
        The "Trained on" column (``None``: no column).
    attacks : ipywidgets.SelectMultiple
    max_records, n_shadows, seed, n_jobs : ipywidgets numeric widgets
    mitigations : ipywidgets.Checkbox
        Also audit regularized (and, when diffprivlib works, DP) variants.
    run_button : ipywidgets.Button
        The main action (:attr:`main_button`).
    result : AuditReport or None
        The last successful audit.
    risk_table : pandas.DataFrame or None
        Its per-record risk, with the user's ids.
    figures : list of matplotlib.figure.Figure
        Figures drawn for the last report: ROC and risk, then the trade-off when mitigations
        were compared (:attr:`figure` is the last of them).
    """

    def __init__(
        self,
        data: Any = None,
        target: str | None = None,
        model: Any = None,
        *,
        members: str | None = None,
        workspace: Workspace | None = None,
        namespace: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(
            "Privacy audit",
            "Does the model leak who was in its training data? Membership inference with "
            "shadow models, per-record risk and mitigations.",
        )
        self.workspace = workspace
        style = {"description_width": "110px"}
        demos = {n: functools.partial(_demo_frame, n) for n in list_datasets("classification")}
        self.data_picker = DataPicker(
            data, target=target, task="classification", demos=demos, namespace=namespace,
            workspace=workspace,
        )  # fmt: skip
        self.dataset = self.data_picker.demo
        if data is None:
            self.dataset.value = "breast_cancer"
        self.model_picker = ModelPicker(
            model, models={n: functools.partial(_catalogue_model, n) for n in DEMO_MODELS},
            labels=DEMO_MODELS, default="random_forest", kind="classifier", namespace=namespace,
        )  # fmt: skip
        self.model = self.model_picker.model_type
        self.model.layout = widgets.Layout(width="520px")
        self.members = widgets.Dropdown(
            options=[(_NO_MEMBERS, None)], description="Trained on", style=style,
            tooltip="Column marking the rows your model was trained on (true/1)",
        )  # fmt: skip
        self.max_records = widgets.BoundedIntText(
            value=300 if data is None else 5000, min=20, max=1_000_000, step=100,
            description="Records", style=style,
        )  # fmt: skip
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
            self.data_picker,
            self.model_picker,
            self.members,
            widgets.HBox([self.max_records, self.n_shadows]),
            widgets.HBox([self.attacks, widgets.VBox([self.mitigations, self.seed, self.n_jobs])]),
            self.run_button,
        ]
        self.result: AuditReport | None = None
        self.risk_table: pd.DataFrame | None = None
        self.figures: list[Any] = []
        self.data_picker.on_change(self._sync_columns)
        self.data_picker.target.observe(lambda _c: self._sync_columns(), names="value")
        self.members.observe(lambda _c: self._drop_member_feature(), names="value")
        self._sync_columns(members)

    @property
    def on_demo(self) -> bool:
        """Whether a demo dataset is picked."""
        return self.data_picker.source.value == "demo"

    def _sync_columns(self, wanted: str | None = None) -> None:
        picker = self.data_picker
        columns = [c for c in picker.features.options if c != picker.target.value]
        wanted = wanted if wanted is not None else self.members.value
        self.members.options = [(_NO_MEMBERS, None), *[(c, c) for c in columns]]
        self.members.value = wanted if wanted in columns else None
        self.members.disabled = self.on_demo  # a demo's model is always trained by the audit
        self._drop_member_feature()

    def _drop_member_feature(self) -> None:
        col, features = self.members.value, self.data_picker.features
        if col is not None and col in features.value:
            features.value = tuple(f for f in features.value if f != col)

    # -- auditing --------------------------------------------------------------------------
    def _audit_demo(self) -> tuple[AuditReport, np.ndarray, str, str]:
        data = load_dataset(self.dataset.value)
        n = min(int(self.max_records.value), data.X.shape[0])
        # On a demo the audit trains the model itself: the catalogue type, or a clone of yours.
        model = self.model_picker.build(int(self.seed.value))
        report = audit(model, data.X[:n], data.y[:n], **self._options())
        return report, np.arange(n), "record", ""

    def _audit_table(self) -> tuple[AuditReport, np.ndarray, str, str]:
        col = self.members.value
        overrides: dict[str, Any] = {
            "max_rows": int(self.max_records.value), "random_state": int(self.seed.value),
        }  # fmt: skip
        if col is not None:
            # Kept beside the features (a text column is loaded, never encoded into X).
            overrides["text"] = [col]
            overrides["features"] = [f for f in self.data_picker.features.value if f != col]
            overrides["features"] = overrides["features"] or None
        table: UserTable = self.data_picker.load(**overrides)
        if self.model_picker.trains:
            estimator, members = self.model_picker.build(int(self.seed.value)), None
        else:
            if col is None:
                raise InputError(
                    "Your model was trained outside the audit, so the audit must know on which "
                    "rows: pick the column that marks them in 'Trained on' (true/1 = a training "
                    "row, false/0 = a held-out row), or pick Train to audit a catalogue model."
                )
            estimator = self.model_picker.get(table)
            members = _member_mask(table.frame[col], col)
        with warnings.catch_warnings():
            # A model fitted on a DataFrame of table.X's columns is queried with the array.
            warnings.filterwarnings("ignore", message="X does not have valid feature names")
            report = audit(estimator, table.X, table.y, members=members, **self._options())
        note = (
            f"Audited a random sample of {table.n_rows:,} of {table.n_source_rows:,} rows; "
            "raise Records to audit more."
            if table.sampled else ""
        )  # fmt: skip
        return report, table.ids, table.id or "row", note

    def _options(self) -> dict[str, Any]:
        return {
            "n_shadows": int(self.n_shadows.value),
            "attacks": list(self.attacks.value),
            "mitigations": "auto" if self.mitigations.value else None,
            "random_state": int(self.seed.value),
            "n_jobs": int(self.n_jobs.value),
        }

    def _on_run(self, _button: object = None) -> None:
        work = self._audit_demo if self.on_demo else self._audit_table
        out = self.run(work, busy="Training shadow models and attacking…")
        if out is None:
            return
        report, ids, id_name, note = out
        if note:
            self.show_status(note, "ok")
        self.result = report
        frame = report.records.drop(columns="record")
        id_name = id_name if id_name not in frame.columns else f"{id_name}_id"
        frame.insert(0, id_name, ids[report.records["record"].to_numpy()])
        self.risk_table = frame
        self._show(report, frame)
        self.offer(frame, "privacy_risk", tool="privacy", workspace=self.workspace)

    def _show(self, report: AuditReport, frame: pd.DataFrame) -> None:
        exposed = frame.dropna(subset=["risk"]).sort_values("risk", ascending=False,
                                                            kind="mergesort")  # fmt: skip
        f1 = self.show(
            report,
            plots=[report.plot, report.plot_risk],
            figsize=(10, 4),
            also=[widgets.HTML("<b>Most exposed records</b>"), exposed.head(10).round(3)],
        )
        f2 = None
        if report.mitigations is not None:
            f2 = self.show(
                report.mitigations, plots=[report.plot_tradeoff], figsize=(5, 3.5), clear=False
            )
        self.figures = [f for f in (f1, f2) if f is not None]
