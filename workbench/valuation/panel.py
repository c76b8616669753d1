"""The data valuation panel: value the rows of a table, flag suspect labels, retrain without them.

A demo dataset gets a share of its training labels flipped on purpose (a known truth to check the
methods against); the user's table is valued on its own labels (see :class:`ValuationPanel`).
"""

from __future__ import annotations

import dataclasses
import functools
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as widgets
import numpy as np
import pandas as pd

from workbench.core.datasets import list_datasets, load_dataset
from workbench.core.errors import InputError, NotFittedError
from workbench.core.models import demo_model, describe_models
from workbench.core.tables import UserTable
from workbench.core.workspace import Workspace
from workbench.ui import DataPicker, ModelPicker
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

__all__ = ["CONTRIBUTION_METHODS", "MAX_LOO_ROWS", "MAX_VALIDATION_ROWS", "VALUATION_MODELS",
           "TableRun", "ValuationPanel"]  # fmt: skip

#: The demo models the panel offers (names in :data:`workbench.core.models.DEMO_MODELS`).
VALUATION_MODELS = ("logistic_regression_default", "gaussian_nb", "knn5", "decision_tree_depth6")

#: Methods whose value is a point's marginal contribution to the score: below 0 means it hurts.
CONTRIBUTION_METHODS = frozenset({"loo", "tmc_shapley", "beta_shapley", "banzhaf", "knn_shapley"})

#: On the user's table, each half is valued against at most this many rows of the other half.
MAX_VALIDATION_ROWS = 2000

#: Leave-one-out fits one model per row; on larger halves of a table the panel refuses it.
MAX_LOO_ROWS = 5000

_BUDGETED = {"tmc_shapley", "beta_shapley", "banzhaf", "data_oob", "ensemble"}


def _demo_frames() -> dict[str, Callable[[], pd.DataFrame]]:
    return {
        name: functools.partial(lambda n: load_dataset(n).frame, name)
        for name in list_datasets("classification")
    }


def _two_folds(y: np.ndarray, random_state: int) -> np.ndarray:
    """Fold 0 or 1 of every row: each class shuffled and dealt alternately (stratified halves)."""
    rng = np.random.default_rng(random_state)
    folds = np.zeros(y.size, dtype=np.int64)
    start = 0
    for label in np.unique(y):
        rows = rng.permutation(np.flatnonzero(y == label))
        folds[rows] = (np.arange(rows.size) + start) % 2
        start += rows.size  # an odd class starts the next one on the other fold
    return folds


def _standardize(X: np.ndarray) -> np.ndarray:
    std = X.std(axis=0)
    return (X - X.mean(axis=0)) / np.where(std > 0, std, 1.0)


def _combine(results: list[ValuationResult], folds: np.ndarray) -> ValuationResult:
    """One result for the whole table from the results of its two halves."""
    values, stderr, counts = (np.empty(folds.size) for _ in range(3))
    for k, r in enumerate(results):
        rows = np.flatnonzero(folds == k)
        values[rows], stderr[rows], counts[rows] = r.values, r.stderr, r.counts
    reasons = [r.stop_reason for r in results]
    stop = reasons[0] if len(set(reasons)) == 1 else "; ".join(
        f"half {k + 1}: {s}" for k, s in enumerate(reasons)
    )
    failures: Counter[str] = Counter()
    for r in results:
        failures.update(r.failures)
    total = {k: sum(getattr(r, k) for r in results)
             for k in ("n_samples", "n_fits", "n_failed_fits", "n_warned_fits", "elapsed_s")}
    return ValuationResult(
        method=results[0].method, values=values, stderr=stderr, counts=counts, **total,
        failures=dict(failures), stop_reason=f"two halves, each valued on the other: {stop}",
        params=results[0].params, utility_backend=results[0].utility_backend,
    )  # fmt: skip


def _flags(values: np.ndarray, method: str, share: float) -> np.ndarray:
    """The ``flagged`` column: see :class:`ValuationPanel`."""
    n_low = int(np.ceil(share * values.size))
    flagged = np.zeros(values.size, dtype=bool)
    flagged[np.argsort(values, kind="stable")[:n_low]] = True
    if method in CONTRIBUTION_METHODS:
        flagged &= values < 0
    return flagged


@dataclasses.dataclass
class TableRun:
    """What the panel keeps of a run on the user's table (for retraining).

    Attributes
    ----------
    table : UserTable
    X, y : numpy.ndarray
        ``table.X`` standardized (what the methods saw) and the labels.
    folds : numpy.ndarray of int
        The half (0 or 1) of every row.
    """

    table: UserTable
    X: np.ndarray
    y: np.ndarray
    folds: np.ndarray


class ValuationPanel(ToolPanel):
    """Pick data, model, method and budget; value every point; flag, mark and drop suspects.

    **The user's table** is valued in two halves (stratified by label, seeded by the panel's
    seed): the rows of each half are valued against a random sample of at most
    :data:`MAX_VALIDATION_ROWS` rows of the other half (the methods that need no held-out data,
    ``data_oob`` and ``confidence``, value the whole table at once), so every row gets a value.
    The features are ``table.X`` standardized (one-hot categories, gaps filled; see
    :class:`~workbench.core.tables.UserTable`); the labels are the user's, never flipped. The
    default method is KNN-Shapley: exact, no model fits, fast on tens of thousands of rows. A
    model-based method refits a fresh copy of the picked model on many subsets: a catalogue
    model, or a clone of the user's model (its hyperparameters; a fitted one must take the
    table's features).

    **Flagged rows** (suspect labels): the ``ceil(flag_share * n)`` lowest-valued rows, and for
    the methods whose value is a marginal contribution (:data:`CONTRIBUTION_METHODS`) only those
    with a value below zero, i.e. rows that make the model worse on the other half's rows. A clean
    table thus flags fewer rows than the share allows.

    The result table (:attr:`values_table`, offered as ``valuation_values`` to save in the
    workspace or download) has one row per row of the table, in its order: the id column (the
    table's id, else ``row`` = position), ``label``, ``value``, ``rank`` (1 = most valuable) and
    ``flagged``. "Retrain without marked" trains the model on each half with and without the
    marked rows and scores it on the other half's unmarked rows (2-fold accuracy).

    Parameters
    ----------
    data : DataFrame, path, Arrow table, relation or str, optional
        The user's table; without it a demo dataset is preselected.
    target : str, optional
        Its label column (class labels).
    model : estimator, optional
        The user's classifier, offered as "Your model" (the panel refits clones of it).
    workspace : Workspace, optional
        Where tables are read and results saved; default the shared workspace.
    namespace : mapping, optional
        Where notebook variables are looked up; default the notebook's.

    Attributes
    ----------
    data_picker, model_picker : DataPicker, ModelPicker
        ``dataset`` is the demo dropdown, ``model`` the catalogue dropdown; the model picker is
        greyed out when the method trains no model (retraining still uses its choice).
    flip, flag_share : ipywidgets.FloatSlider
        Share of demo training labels flipped (demo only); largest share of rows flagged.
    run_button : ipywidgets.Button
        The main action (:attr:`main_button`).
    split, table_run : NoisySplit or None, TableRun or None
        The data of the last run: a demo (labels partly flipped), or the user's table.
    result : ValuationResult or None
        Values of the last run.
    values_table : pandas.DataFrame or None
        One row per point: id, label, value, rank, flagged (and ``flipped`` for a demo).
    detection, retrain : dict or None
        Detection scores against the demo's known flips; scores before/after dropping marks.
    figure, suspect_table : Figure or None, pandas.DataFrame or None
        Image grid (digits) or table of the lowest-valued points.
    """

    def __init__(
        self,
        data: Any = None,
        target: str | None = None,
        model: Any = None,
        *,
        workspace: Workspace | None = None,
        namespace: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(
            "Data valuation",
            "Which training points hurt the model? Value your table's rows, or a demo whose "
            "labels are flipped on purpose so you can check what the methods find.",
        )
        self.workspace = workspace
        style = {"description_width": "110px"}
        self.data_picker = DataPicker(
            data, target=target, task="classification", demos=_demo_frames(),
            namespace=namespace, workspace=workspace, min_rows=4,
        )  # fmt: skip
        self.dataset = self.data_picker.demo
        if data is None:
            self.dataset.value = "breast_cancer"
        self.model_picker = ModelPicker(
            model, models={n: functools.partial(_catalogue_model, n) for n in VALUATION_MODELS},
            labels=describe_models(VALUATION_MODELS), default="logistic_regression_default",
            kind="classifier", namespace=namespace,
        )  # fmt: skip
        self.model = self.model_picker.model_type
        self.flip = widgets.FloatSlider(
            value=0.1, min=0.0, max=0.3, step=0.05, description="flipped labels", style=style
        )
        self.method = widgets.Dropdown(
            options=list_methods(), value="knn_shapley", description="method", style=style
        )
        self.max_time = widgets.FloatText(value=5.0, description="time budget (s)", style=style)
        self.seed = widgets.IntText(value=0, description="seed", style=style)
        self.n_jobs = widgets.IntText(value=1, description="n_jobs", style=style)
        self.flag_share = widgets.FloatSlider(
            value=0.05, min=0.0, max=0.5, step=0.01, description="flag lowest",
            readout_format=".0%", style=style,
        )  # fmt: skip
        self.n_show = widgets.IntSlider(
            value=12, min=4, max=40, step=4, description="show lowest", style=style
        )
        self.run_button = self.set_main_button(widgets.Button(description="Value points"))
        self.marked = widgets.SelectMultiple(
            options=[], description="marked", rows=8, style=style,
            layout=widgets.Layout(width="420px"),
        )  # fmt: skip
        self.mark_all_button = widgets.Button(description="Mark all shown")
        self.mark_flagged_button = widgets.Button(description="Mark flagged")
        self.retrain_button = widgets.Button(description="Retrain without marked")
        buttons = [self.mark_all_button, self.mark_flagged_button, self.retrain_button]
        self.controls.children = [
            self.data_picker, self.flip, self.model_picker,
            widgets.HBox([widgets.VBox([self.method, self.max_time, self.seed]),
                          widgets.VBox([self.n_jobs, self.flag_share, self.n_show])]),
            self.run_button, widgets.HBox([self.marked, widgets.VBox(buttons)]),
        ]  # fmt: skip
        self.split: NoisySplit | None = None
        self.table_run: TableRun | None = None
        self.result: ValuationResult | None = None
        self.values_table: pd.DataFrame | None = None
        self.detection: dict[str, float] | None = None
        self.retrain: dict[str, float] | None = None
        self.suspect_table: Any = None
        self.method.observe(lambda _: self._sync_model(), names="value")
        self.data_picker.source.observe(lambda _: self._sync_flip(), names="value")
        self._sync_model()
        self._sync_flip()
        self.run_button.on_click(lambda _: self.value_points())
        self.mark_all_button.on_click(lambda _: self.mark_all())
        self.mark_flagged_button.on_click(lambda _: self.mark_flagged())
        self.retrain_button.on_click(lambda _: self.retrain_without_marked())

    @property
    def on_demo(self) -> bool:
        """Whether a demo dataset is picked (labels are then flipped on purpose)."""
        return self.data_picker.source.value == "demo"

    def _uses_model(self) -> bool:
        return "model" in make_method(self.method.value).get_params()

    def _sync_model(self) -> None:
        # knn_shapley trains no model, and value() refuses one: grey the picker out.
        off = not self._uses_model()
        mp = self.model_picker
        for w in (mp.source, mp.model_type, mp.variable, mp.refresh_button):
            w.disabled = off

    def _sync_flip(self) -> None:
        self.flip.disabled = not self.on_demo

    def _model(self, table: UserTable | None = None) -> Any:
        """A fresh model: the catalogue type, or a clone of the user's model."""
        if table is not None and not self.model_picker.trains:
            try:  # a fitted model of the user's must take this table's features
                self.model_picker.get(table)
            except NotFittedError:
                pass  # an unfitted one is fine: valuation fits clones anyway
        return self.model_picker.build(int(self.seed.value))

    def _options_of_run(self, n_parts: int) -> dict[str, Any]:
        """Seed, workers and (per part) time budget of a run, checked as the user typed them."""
        seed, n_jobs, max_time = int(self.seed.value), int(self.n_jobs.value), self.max_time.value
        budgeted = self.method.value in _BUDGETED
        make_method(self.method.value, random_state=seed, n_jobs=n_jobs,
                    max_time=max_time if budgeted else None)  # fmt: skip
        kwargs: dict[str, Any] = {"random_state": seed, "n_jobs": n_jobs, "show_progress": False}
        if budgeted:
            kwargs["max_time"] = max_time / n_parts
        return kwargs

    # -- valuing ---------------------------------------------------------------------------
    def _value_demo(self) -> tuple[NoisySplit, ValuationResult]:
        split = noisy_split(
            self.dataset.value, float(self.flip.value), random_state=int(self.seed.value)
        )
        kwargs = self._options_of_run(1)
        if self._uses_model():
            kwargs["model"] = self._model()
        method = self.method.value
        return split, value(split.X, split.y, method=method, X_test=split.X_test,
                            y_test=split.y_test, **kwargs)  # fmt: skip

    def _value_table(self) -> tuple[TableRun, ValuationResult]:
        table = self.data_picker.load()
        method = self.method.value
        needs_test = make_method(method).needs_test
        kwargs = self._options_of_run(2 if needs_test else 1)
        if method == "loo" and table.n_rows > 2 * MAX_LOO_ROWS:
            raise InputError(
                f"Leave-one-out fits one model per row; {table.n_rows:,} rows are too many for "
                f"the panel (at most {2 * MAX_LOO_ROWS:,}). Use knn_shapley, data_oob or a "
                "method with a time budget, or pick a sample of the table."
            )
        if self._uses_model():
            kwargs["model"] = self._model(table)
        X, y = _standardize(table.X), table.y
        run = TableRun(table, X, y, _two_folds(y, int(self.seed.value)))
        if not needs_test:
            return run, value(X, y, method=method, **kwargs)
        rng = np.random.default_rng(int(self.seed.value))
        parts = []
        for k in (0, 1):
            rows, other = np.flatnonzero(run.folds == k), np.flatnonzero(run.folds != k)
            if other.size > MAX_VALIDATION_ROWS:
                other = np.sort(rng.choice(other, MAX_VALIDATION_ROWS, replace=False))
            parts.append(
                value(X[rows], y[rows], method=method, X_test=X[other], y_test=y[other], **kwargs)
            )
        return run, _combine(parts, run.folds)

    def value_points(self) -> None:
        """Run the chosen valuation on the picked data and show the lowest-valued points."""
        work = self._value_demo if self.on_demo else self._value_table
        out = self.run(work, busy=f"Valuing points with {self.method.value}…")
        if out is None:
            return
        self.split, self.table_run = (out[0], None) if self.on_demo else (None, out[0])
        self.result = r = out[1]
        self.retrain = None
        self.values_table = self._values_frame(r)
        lowest = r.lowest(min(int(self.n_show.value), r.values.size))
        self.marked.options = self._options(lowest)
        self.marked.value = ()
        n_flagged = int(self.values_table["flagged"].sum())
        msg = (
            f"{r.method}: {r.n_fits} fits ({r.n_failed_fits} failed), "
            f"{r.elapsed_s:.1f} s, {r.stop_reason}. {n_flagged} of {r.values.size} rows flagged."
        )
        self.detection = None
        if self.split is not None and self.split.flipped.any():
            self.detection = d = detection_scores(r.values, self.split.flipped)
            msg += (
                f" Flipped-label AUROC {d['auroc']:.3f}, "
                f"precision@{d['k']} {d['precision_at_k']:.2f}."
            )
        self.show_status(msg, "ok")
        self._show_suspects(lowest)
        self.offer(self.values_table, "valuation_values", tool="valuation",
                   workspace=self.workspace)  # fmt: skip

    def _ids(self) -> tuple[str, np.ndarray, np.ndarray]:
        """Name and values of the id column, and the labels, of the last run's points."""
        if self.table_run is not None:
            t = self.table_run.table
            return (t.id or "row"), t.ids, self.table_run.y
        assert self.split is not None
        return "index", np.arange(self.split.y.size), self.split.y

    def _values_frame(self, r: ValuationResult) -> pd.DataFrame:
        name, ids, y = self._ids()
        frame = r.to_frame()
        cols = {"label": y, "value": r.values, "rank": frame["rank"].to_numpy(),
                "flagged": _flags(r.values, r.method, float(self.flag_share.value))}  # fmt: skip
        if self.split is not None:
            cols["flipped"] = self.split.flipped
        name = name if name not in cols else f"{name}_id"
        return pd.DataFrame({name: ids, **cols})

    def _options(self, rows: np.ndarray) -> list[tuple[str, int]]:
        name, ids, y = self._ids()
        assert self.result is not None
        v = self.result.values
        if self.split is not None:
            return [(f"#{i}: label {y[i]}, value {v[i]:.4g}", int(i)) for i in rows]
        return [(f"{name} {ids[i]}: label {y[i]}, value {v[i]:.4g}", int(i)) for i in rows]

    def _show_suspects(self, lowest: np.ndarray) -> None:
        assert self.values_table is not None
        split = self.split
        if split is not None and split.images is not None:
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
            self.suspect_table = self.values_table.iloc[lowest].reset_index(drop=True)
            self.show(self.suspect_table, plots=[])

    # -- marking and retraining ------------------------------------------------------------
    def mark_all(self) -> None:
        """Mark every point shown in the list."""
        self.marked.value = tuple(v for _, v in self.marked.options)

    def mark_flagged(self) -> None:
        """Mark every flagged point (the list grows to hold them)."""
        if self.values_table is None or self.result is None:
            self.show_error("Value the points first; then the flagged ones can be marked.")
            return
        flagged = np.flatnonzero(self.values_table["flagged"].to_numpy())
        shown = [v for _, v in self.marked.options]
        order = flagged[np.argsort(self.result.values[flagged], kind="stable")]
        extra = [int(i) for i in order if int(i) not in set(shown)]
        self.marked.options = self._options(np.array(shown + extra, dtype=np.int64))
        self.marked.value = tuple(int(i) for i in flagged)

    def retrain_without_marked(self) -> None:
        """Retrain the chosen model without the marked points and show the test score change."""
        if self.split is None and self.table_run is None:
            self.show_error("Value the points first, then mark some to drop.")
            return
        if not self.marked.value:
            self.show_error("No point is marked: select points in the list (or 'Mark all shown').")
            return
        drop = np.array(sorted(self.marked.value), dtype=np.int64)
        if self.split is not None:
            split = self.split
            out = self.run(
                lambda: score_without(drop, split.X, split.y, split.X_test, split.y_test,
                                      model=self._model()),
                busy="Retraining…",
            )  # fmt: skip
            if out is None:
                return
            n_flipped = int(split.flipped[drop].sum())
            extra = f" ({n_flipped} of them had flipped labels)"
        else:
            out = self.run(self._retrain_table, drop, busy="Retraining on both halves…")
            if out is None:
                return
            extra = "; accuracy of each half's model on the other half's unmarked rows"
        self.retrain = out
        self.show_status(
            f"Test accuracy {out['before']:.3f} → {out['after']:.3f} after dropping "
            f"{out['n_dropped']} points{extra}.",
            "ok",
        )

    def _retrain_table(self, drop: np.ndarray) -> dict[str, float]:
        assert self.table_run is not None
        run = self.table_run
        dropped = np.zeros(run.y.size, dtype=bool)
        dropped[drop] = True
        before = after = weight = 0.0
        for k in (0, 1):
            rows = np.flatnonzero(run.folds == k)
            test = np.flatnonzero((run.folds != k) & ~dropped)
            if test.size == 0:
                continue
            out = score_without(
                np.flatnonzero(dropped[rows]), run.X[rows], run.y[rows], run.X[test],
                run.y[test], model=self._model(run.table),
            )  # fmt: skip
            before += out["before"] * test.size
            after += out["after"] * test.size
            weight += test.size
        if weight == 0:
            raise InputError("Every row is marked; leave some rows to test the model on.")
        return {"before": before / weight, "after": after / weight, "n_dropped": int(drop.size)}


def _catalogue_model(name: str, random_state: int | None) -> Any:
    return demo_model(name, random_state=random_state)
