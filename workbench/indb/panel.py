"""ipywidgets panel of in-database inference: train on a table, register, see SQL, query."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets
import pandas as pd
from IPython.display import HTML

from workbench.core.errors import InputError, InputTypeError, WorkbenchError
from workbench.core.params import check_random_state
from workbench.indb import (
    MODEL_TYPES,
    TABLE,
    ModelInfo,
    ModelStore,
    TrainResult,
    create_customers_table,
    train_model,
)
from workbench.ui.base import ToolPanel

__all__ = ["InDBPanel"]


def _quoted(name: str) -> str:
    # A table name as a SQL identifier: in double quotes, inner quotes doubled.
    return '"' + name.replace('"', '""') + '"'


class InDBPanel(ToolPanel):
    """Pick a table, a target, features and a model type; train, register, query from SQL.

    Parameters
    ----------
    store : ModelStore, optional
        Where models go; default a new in-memory store holding the generated ``customers``
        table.
    n_rows : int, default=5000
        Rows of the generated table when no store is given.
    random_state : int, default=0
        Seed of the generated table, and the first value of the seed box (the split and the
        estimators).

    Attributes
    ----------
    table, target, features, model_type, name, seed : ipywidgets inputs
        ``seed`` is the ``random_state`` of training; a value outside ``[0, 2**32 - 1]``
        shows the error in the panel.
    train_button, query_button : ipywidgets.Button
        ``train_button`` is the main action (:attr:`main_button`).
    sql_view : ipywidgets.Textarea
        The model compiled to SQL (or why it is not compilable).
    query : ipywidgets.Textarea
        SQL to run; filled with a call of the new model after registration. Runs through
        ``store.sql``: statements that would change the store's own ``workbench_*`` tables are
        rolled back and refused.
    result : ModelInfo or None
        The last registered model.
    last_train : TrainResult or None
        How the last model was trained (metrics, held-out sample).
    last_sql : str or None
        The compiled SQL of the last registered model, if any.
    last_frame : pandas.DataFrame or None
        Result of the last query.
    """

    def __init__(
        self, store: ModelStore | None = None, *, n_rows: int = 5000, random_state: int = 0
    ) -> None:
        super().__init__(
            "In-database inference",
            "Train a scikit-learn model on a DuckDB table, store it in the database and call "
            "it from SQL.",
        )
        random_state = check_random_state(random_state)
        if store is None:
            store = ModelStore()
            create_customers_table(store.con, "customers", n_rows, random_state=random_state)
        elif not isinstance(store, ModelStore):
            raise InputTypeError(f"store must be a ModelStore, got {type(store).__name__}.")
        self.store = store
        self.random_state = 0 if random_state is None else random_state
        style = {"description_width": "90px"}
        self.table = widgets.Dropdown(options=self._tables(), description="Table", style=style)
        self.target = widgets.Dropdown(options=[], description="Target", style=style)
        self.features = widgets.SelectMultiple(
            options=[], rows=8, description="Features", style=style
        )
        self.model_type = widgets.Dropdown(
            options=[(f"{k}: {v}", k) for k, v in MODEL_TYPES.items()],
            value="linear",
            description="Model",
            style=style,
            layout=widgets.Layout(width="560px"),
        )
        self.name = widgets.Text(value="churn", description="Model name", style=style)
        # A plain IntText (not bounded): an out-of-range seed reaches train_model and its
        # message is shown, instead of the widget silently clamping what the user typed.
        self.seed = widgets.IntText(value=self.random_state, description="Seed", style=style)
        self.train_button = self.set_main_button(
            widgets.Button(description="Train and register", icon="database")
        )
        self.sql_view = widgets.Textarea(
            value="",
            description="SQL",
            disabled=True,
            style=style,
            layout=widgets.Layout(width="98%", height="110px"),
        )
        self.query = widgets.Textarea(
            value=f"SELECT name, version, task, estimator FROM {TABLE}",
            description="Query",
            style=style,
            layout=widgets.Layout(width="98%", height="90px"),
        )
        self.query_button = widgets.Button(description="Run query", icon="play")
        self.table.observe(self._on_table, names="value")
        self.target.observe(self._on_target, names="value")
        self.train_button.on_click(self._on_train)
        self.query_button.on_click(self._on_query)
        self.controls.children = [
            widgets.HBox([self.table, self.target]),
            widgets.HBox([self.features, widgets.VBox([self.model_type, self.name, self.seed])]),
            self.train_button,
            self.sql_view,
            self.query,
            self.query_button,
        ]
        self.last_train: TrainResult | None = None
        self.result: ModelInfo | None = None
        self.last_sql: str | None = None
        self.last_frame: pd.DataFrame | None = None
        self._on_table()

    # -------------------------------------------------------------- widget plumbing
    def _tables(self) -> list[str]:
        rows = self.store.con.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE lower(table_name) NOT LIKE 'workbench\\_%' ESCAPE '\\' ORDER BY table_name",
        ).fetchall()
        return [r[0] for r in rows]

    def _columns(self, table: str) -> list[str]:
        rows = self.store.con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
            "ORDER BY ordinal_position",
            [table],
        ).fetchall()
        return [r[0] for r in rows]

    def _on_table(self, _change: Any = None) -> None:
        cols = self._columns(self.table.value) if self.table.value else []
        self.target.options = cols
        if "churned" in cols:
            self.target.value = "churned"
        elif cols:
            self.target.value = cols[-1]
        self._on_target()

    def _on_target(self, _change: Any = None) -> None:
        cols = [c for c in self._columns(self.table.value or "") if c != self.target.value]
        cols = [c for c in cols if not c.endswith("_id")]
        self.features.options = cols
        self.features.value = tuple(cols)

    # -------------------------------------------------------------- actions
    def _train_register(self) -> ModelInfo:
        table = self.table.value
        if not table:
            raise InputError("No table selected; create a table in the store first.")
        if self.target.value is None:
            raise InputError(f"Table {table!r} has no columns to predict; pick another table.")
        seed = check_random_state(self.seed.value, name="Seed")
        frame = self.store.sql(f"SELECT * FROM {_quoted(table)}")
        trained = train_model(
            frame,
            self.target.value,
            list(self.features.value),
            self.model_type.value,
            random_state=seed,
        )
        info = self.store.register(
            self.name.value,
            trained.model,
            trained.X_sample,
            metrics=trained.metrics,
            random_state=seed,
        )
        self.last_train = trained
        return info

    def _on_train(self, _button: Any = None) -> None:
        info = self.run(self._train_register, busy="Training, converting, checking parity…")
        if info is None:
            return
        self.result = info
        out = "proba" if info.task == "classification" else "predict"
        try:
            self.last_sql = self.store.to_sql(info.name, version=info.version, output=out)
            self.sql_view.value = self.last_sql
        except WorkbenchError as exc:  # not compilable: show why instead of SQL
            self.last_sql = None
            self.sql_view.value = f"-- no compiled SQL: {exc}"
        args = ", ".join(f["name"] for f in info.features)
        calls = f"{info.name}_predict({args}) AS prediction"
        if info.task == "classification":
            calls += f",\n       {info.name}_proba({args}) AS probability"
        self.query.value = f"SELECT {args},\n       {calls}\nFROM {self.table.value}\nLIMIT 10"
        self.show(info, also=[self.last_train] if self.last_train is not None else [])

    def _on_query(self, _button: Any = None) -> None:
        frame = self.run(self.store.sql, self.query.value, busy="Running the query…")
        if frame is None:
            return
        self.last_frame = frame
        self.show(
            HTML(f"<b>{len(frame)} row(s)</b>" + frame.head(50).to_html(index=False, escape=True))
        )

    def __repr__(self) -> str:
        return f"InDBPanel(store={self.store!r}, table={html.escape(str(self.table.value))!r})"
