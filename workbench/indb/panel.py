"""ipywidgets panel of in-database inference: pick a table, train or bring a model, score in SQL,
move its aliases and read its audit log.

The model store lives in the workspace's DuckDB file (``ModelStore(workspace.con)``), so the
tables the user picks, the models and the scores share one database. A table picked from
anywhere else (a DataFrame, an upload, a file, a query, the demo) is validated and added to that
database once, under the name the user gives, so SQL can score it.
"""

from __future__ import annotations

import html
import re
import warnings
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import pandas as pd
from IPython.display import HTML

from workbench.core.errors import InputError, InputTypeError, ModelError, WorkbenchError
from workbench.core.params import check_random_state
from workbench.core.tables import UserTable
from workbench.core.workspace import Workspace, check_table_name, get_workspace
from workbench.indb import (
    MODEL_TYPES,
    TABLE,
    AliasInfo,
    ModelInfo,
    ModelStore,
    TrainResult,
    make_customers,
    train_model,
)
from workbench.ui import DataPicker, ModelPicker
from workbench.ui.base import ToolPanel

__all__ = ["DEMO", "LOG_ROWS", "InDBPanel"]

#: Name of the generated customer table in the data picker's demos.
DEMO = "customers (generated)"
#: Newest audit log rows the panel shows.
LOG_ROWS = 8
#: One model store per open workspace connection: a second store on the same connection would
#: try to create the SQL functions of the stored models again.
_STORES: dict[int, ModelStore] = {}


def _quoted(name: str) -> str:
    # A name as a SQL identifier: in double quotes, inner quotes doubled.
    return '"' + name.replace('"', '""') + '"'


def _store_for(con: Any) -> ModelStore:
    store = _STORES.get(id(con))
    if store is None or store.con is not con:
        try:
            store = ModelStore(con)
        except ModelError as exc:
            raise ModelError(
                f"{exc} If a ModelStore on this workspace is already open in this session, "
                "pass it: InDBPanel(store=that_store)."
            ) from None
        _STORES[id(con)] = store
    return store


def _model_columns(model: Any, table: UserTable) -> list[str]:
    """The table columns a user's fitted model reads, which become its SQL arguments."""
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        names = [str(n) for n in names]
        missing = [n for n in names if n not in table.features]
        encoded = [n for n in missing if n in table.feature_names_out or "=" in n]
        if encoded:
            raise ModelError(
                f"The model was fitted on one-hot encoded columns ({encoded[:4]}), which are "
                "not columns of the table, so SQL cannot call it. Fit it on the table's own "
                "columns: numbers, and text through a Pipeline starting with a "
                "ColumnTransformer (OneHotEncoder on the text columns), or choose 'Train'."
            )
        if missing:
            raise ModelError(
                f"The model reads column(s) {missing[:8]} that are not among the table's "
                f"features {list(table.features)}; choose those columns as features or pick "
                "the table the model was trained on."
            )
        return names
    numeric = [c for c in table.features if c not in table.categorical]
    n_in = getattr(model, "n_features_in_", None)
    if table.categorical or n_in != len(numeric):
        raise ModelError(
            f"The model was fitted on an array without column names ({n_in} features), so "
            "SQL cannot tell which columns it reads"
            + (" (table.X one-hot encodes the text columns, which SQL does not)" if
               table.categorical else f" (the table has {len(numeric)} numeric features)")
            + ". Fit it on a DataFrame of the table's numeric columns, or on all columns "
            "through a Pipeline that starts with a ColumnTransformer; or choose 'Train'."
        )
    return numeric


def _name_from(text: Any, default: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_]", "_", str(text or ""))[:63].strip("_")
    if not name or name[0].isdigit() or name.lower().startswith("workbench_"):
        return default
    return name


class InDBPanel(ToolPanel):
    """Pick a table and a model (trained here or the user's own), register it, score in SQL.

    Parameters
    ----------
    data : DataFrame, arrays, Arrow table, path, relation or str, optional
        The user's table, offered first ("Your data"). Without it the generated customer
        table is preselected (or, when ``store`` is given and holds tables, its first table).
    target : str, optional
        The column to predict (needed to train here; a user's fitted model needs none).
    model : estimator, optional
        The user's fitted estimator, offered first ("Your model"). SQL calls it with table
        columns: it must be fitted on a DataFrame of the table's columns (numbers; text only
        through a Pipeline that starts with a ``ColumnTransformer``), or on an array of the
        table's numeric columns in order when the table has no text features.
    workspace : Workspace, optional
        The database of tables, models and scores; default the shared one
        (:func:`~workbench.core.workspace.get_workspace`).
    namespace : mapping, optional
        Where notebook variables are looked up; default the running notebook's.
    store : ModelStore, optional
        Where models go; default ``ModelStore(workspace.con)`` (one per workspace). Given
        without a workspace, its own database holds the tables.
    n_rows : int, default=5000
        Rows of the generated demo table.
    random_state : int, default=0
        Seed of the demo table, and the first value of the seed box.

    Attributes
    ----------
    data_picker : DataPicker
        Its ``target`` and ``features`` widgets are also :attr:`target` and :attr:`features`.
    model_picker : ModelPicker
        A type of :data:`~workbench.indb.MODEL_TYPES` (:attr:`model_type`), or a fitted model.
    table_name : ipywidgets.Text
        Name of the table a picked DataFrame, upload, file, query or demo is added as.
    name, seed : ipywidgets inputs
        Model name, and the ``random_state`` of training (out of range: shown as an error).
    train_button, query_button : ipywidgets.Button
        ``train_button`` is the main action (:attr:`main_button`).
    alias, alias_version, alias_button, rollback_button : ipywidgets widgets
        "Set alias" points an alias (``champion``) of the model named in :attr:`name` at a
        version (``2``, ``v2`` or another alias); "Roll back" moves it back (``store.rollback``).
    lifecycle : ipywidgets.HTML
        That model's versions with the backend serving each and why (:attr:`versions_frame`),
        its aliases (:attr:`aliases_frame`) and last :data:`LOG_ROWS` audit log rows
        (:attr:`log_frame`), refreshed after each register, alias move and rollback.
    sql_view, query : ipywidgets.Textarea
        The model compiled to SQL (or why not); SQL to run through ``store.sql`` (statements
        that would change the store's own ``workbench_*`` tables are refused).
    result : ModelInfo or None
        The last registered model.
    scores : pandas.DataFrame or None
        Every row of the table scored in SQL by that model: the user's id column (or
        ``row``), ``prediction`` and, for classifiers, ``probability``; offered as
        ``indb_scores``.
    last_train : TrainResult or None
        How the last model trained here was trained.
    last_sql : str or None
        The compiled SQL of the last registered model, if any.
    last_frame : pandas.DataFrame or None
        Result of the last query.
    last_alias : AliasInfo or None
        The last alias move or rollback.
    versions_frame, aliases_frame, log_frame : pandas.DataFrame
        What :attr:`lifecycle` shows.
    """

    def __init__(
        self,
        data: Any = None,
        target: str | None = None,
        model: Any = None,
        *,
        workspace: Workspace | None = None,
        namespace: Any = None,
        store: ModelStore | None = None,
        n_rows: int = 5000,
        random_state: int = 0,
    ) -> None:
        super().__init__(
            "In-database inference",
            "Train a scikit-learn model on your table (or bring yours), store it in the "
            "workspace database and call it from SQL.",
        )
        if isinstance(data, ModelStore) and store is None:  # InDBPanel(store), the old call
            data, store = None, data
        random_state = check_random_state(random_state)
        self.random_state = 0 if random_state is None else random_state
        demo = make_customers(n_rows, random_state=random_state)
        if workspace is not None and not isinstance(workspace, Workspace):
            raise InputTypeError(f"workspace must be a Workspace, got {type(workspace).__name__}.")
        if store is not None and not isinstance(store, ModelStore):
            raise InputTypeError(f"store must be a ModelStore, got {type(store).__name__}.")
        if store is not None and workspace is not None and store.con is not workspace.con:
            raise InputError(
                "store and workspace are different databases; pass "
                "store=ModelStore(workspace.con) so SQL sees the workspace's tables."
            )
        if store is None:
            workspace = workspace if workspace is not None else get_workspace()
            store = _store_for(workspace.con)
        self.store = store
        # Given only a store, its own database holds the tables the panel offers and writes.
        store_only = workspace is None
        self.workspace = workspace if workspace is not None else Workspace(store.con)
        style = {"description_width": "90px"}
        self.data_picker = DataPicker(
            data,
            target=target,
            demos={DEMO: demo.copy},
            demo_target="churned",
            namespace=namespace,
            workspace=self.workspace,
        )
        self.target, self.features = self.data_picker.target, self.data_picker.features
        self.model_picker = ModelPicker(
            model,
            models={k: _trained_by_train_model for k in MODEL_TYPES},
            default="linear",
            namespace=namespace,
            labels={k: f"{k}: {v}" for k, v in MODEL_TYPES.items()},
        )
        self.model_type = self.model_picker.model_type
        self.table_name = widgets.Text(value="", description="Add as table", style=style)
        self.name = widgets.Text(value="churn", description="Model name", style=style)
        # A plain IntText (not bounded): an out-of-range seed reaches the checks and its
        # message is shown, instead of the widget silently clamping what the user typed.
        self.seed = widgets.IntText(value=self.random_state, description="Seed", style=style)
        self.train_button = self.set_main_button(
            widgets.Button(description="Register and score", icon="database")
        )
        self.sql_view = widgets.Textarea(
            value="", description="SQL", disabled=True, style=style,
            layout=widgets.Layout(width="98%", height="110px"),
        )
        self.query = widgets.Textarea(
            value=f"SELECT name, version, task, estimator FROM {TABLE}",
            description="Query", style=style, layout=widgets.Layout(width="98%", height="90px"),
        )
        self.query_button = widgets.Button(description="Run query", icon="play")
        self.alias = widgets.Text(value="champion", description="Alias", style=style)
        self.alias_version = widgets.Text(
            value="", placeholder="2, v2 or an alias", description="Version", style=style
        )
        self.alias_button = widgets.Button(description="Set alias", icon="tag")
        self.rollback_button = widgets.Button(description="Roll back", icon="undo")
        self.lifecycle = widgets.HTML()
        self.train_button.on_click(self._on_train)
        self.query_button.on_click(self._on_query)
        self.alias_button.on_click(self._on_alias)
        self.rollback_button.on_click(self._on_alias)
        self.name.observe(self._refresh_lifecycle, names="value")
        self.controls.children = [
            self.data_picker,
            self.table_name,
            self.model_picker,
            widgets.HBox([self.name, self.seed]),
            self.train_button,
            self.sql_view,
            widgets.HBox([self.alias, self.alias_version]),
            widgets.HBox([self.alias_button, self.rollback_button]),
            self.lifecycle,
            self.query,
            self.query_button,
        ]
        self.last_train: TrainResult | None = None
        self.result: ModelInfo | None = None
        self.scores: pd.DataFrame | None = None
        self.last_sql: str | None = None
        self.last_frame: pd.DataFrame | None = None
        self.last_alias: AliasInfo | None = None
        self._added: dict[str, tuple[Any, ...]] = {}  # table name -> the pick it holds
        self._auto_name = ""
        self._target_given = target
        if data is None and store_only and self.workspace.tables():
            self.data_picker.source.value = "table"
        self.data_picker.on_change(self._on_data)
        self.data_picker.source.observe(self._on_data, names="value")
        self._on_data()
        self._refresh_lifecycle()

    # -------------------------------------------------------------- widget plumbing
    def _on_data(self, _change: Any = None) -> None:
        picker = self.data_picker
        kind = picker.source.value
        if kind == "table" and picker.target.value is None and self._target_given is None:
            cols = [c for c, _ in picker.target.options if c is not None]
            if cols:  # the table's churn column, else its last one
                picker.target.value = "churned" if "churned" in cols else cols[-1]
        self.table_name.disabled = kind == "table"
        if kind == "table":
            self.table_name.value = picker.table.value or ""
            return
        upload = picker.upload.value
        name = {
            "given": "my_data",
            "demo": "demo_customers",
            "variable": _name_from(picker.variable.value, "my_data"),
            "upload": _name_from(
                Path(str(list(upload)[-1]["name"])).stem if upload else "", "uploaded"
            ),
            "path": _name_from(Path(picker.path.value.strip()).stem, "my_file"),
            "query": "query_result",
        }.get(kind, "my_data")
        if self.table_name.value in ("", self._auto_name):
            self.table_name.value = name
        self._auto_name = name

    def _refresh_tables(self) -> None:
        # The picker re-reads its source when its table list changes, which resets the
        # columns chosen; they are chosen again here.
        picker = self.data_picker
        target, features = picker.target.value, picker.features.value
        picker.refresh()
        if target in [v for _, v in picker.target.options]:
            picker.target.value = target
            picker.features.value = tuple(f for f in features if f in picker.features.options)

    def _pick_key(self, table: UserTable) -> tuple[Any, ...]:
        p = self.data_picker
        kind = p.source.value
        detail = {
            "given": id(p.data),
            "demo": p.demo.value,
            "variable": (p.variable.value, id(p.namespace.get(p.variable.value or ""))),
            "upload": id(p.upload.value),
            "path": p.path.value,
            "query": p.query.value,
        }.get(kind)
        return (kind, detail, table.target, table.features, table.id)

    def _sql_table(self, table: UserTable) -> tuple[str, bool]:
        """The table SQL scores, and whether the panel must add it (checked before any write)."""
        if self.data_picker.source.value == "table":
            return str(self.data_picker.table.value), False
        name = check_table_name(self.table_name.value.strip())
        if name in self.workspace and name not in self._added:
            raise InputError(
                f"The workspace already has a table {name!r}; type another name under 'Add as "
                "table', or pick it as a Workspace table."
            )
        return name, self._added.get(name) != self._pick_key(table)

    # -------------------------------------------------------------- actions
    def _train_register(self) -> tuple[ModelInfo, TrainResult | None, pd.DataFrame]:
        seed = check_random_state(self.seed.value, name="Seed")
        table = self.data_picker.load(random_state=seed)
        sql_table, add = self._sql_table(table)
        trained = None
        if self.model_picker.trains:
            if table.target is None:
                raise InputError("Pick the target column: the model is trained to predict it.")
            if not self.features.value:  # the picker reads "none chosen" as "all"
                raise InputError("features is empty; choose at least one input column.")
            trained = train_model(
                table.frame, table.target, list(table.features), self.model_type.value,
                random_state=seed,
            )
            model, sample, metrics = trained.model, trained.X_sample, trained.metrics
        else:
            model = self.model_picker.get(None)  # the user's model, checked to be fitted
            sample = table.frame[_model_columns(model, table)].dropna()
            if sample.empty:
                raise InputError(
                    "Every row misses a value in the model's columns; the parity check needs "
                    "complete rows."
                )
            metrics = None
        with warnings.catch_warnings():
            # A model fitted on an array gets the table's columns as a DataFrame (the store
            # needs their names); _model_columns checked that they are its features, in order.
            warnings.filterwarnings("ignore", message="X has feature names, but")
            info = self.store.register(
                self.name.value, model, sample, metrics=metrics, random_state=seed
            )
        if add:
            self.workspace.add(
                sql_table, table.data, replace=sql_table in self._added, target=table.target,
                features=list(table.features), id=table.id, categorical=list(table.categorical),
            )
            self._added[sql_table] = self._pick_key(table)
            self._refresh_tables()
        return info, trained, self._score(info, sql_table, table.id)

    def _score(self, info: ModelInfo, table: str, id_column: str | None) -> pd.DataFrame:
        args = ", ".join(_quoted(f["name"]) for f in info.features)
        key = _quoted(id_column) if id_column else "rowid AS row"
        calls = f"{info.name}_predict({args}) AS prediction"
        if info.task == "classification":
            calls += f", {info.name}_proba({args}) AS probability"
        return self.store.sql(f"SELECT {key}, {calls} FROM {_quoted(table)}")

    def _on_train(self, _button: Any = None) -> None:
        out = self.run(self._train_register, busy="Training, converting, checking parity…")
        if out is None:
            return
        info, self.last_train, self.scores = out
        self.result = info
        kind = "proba" if info.task == "classification" else "predict"
        try:
            self.last_sql = self.store.to_sql(info.name, version=info.version, output=kind)
            self.sql_view.value = self.last_sql
        except WorkbenchError as exc:  # not compilable: show why instead of SQL
            self.last_sql = None
            self.sql_view.value = f"-- no compiled SQL: {exc}"
        args = ", ".join(f["name"] for f in info.features)
        calls = f"{info.name}_predict({args}) AS prediction"
        if info.task == "classification":
            calls += f",\n       {info.name}_proba({args}) AS probability"
        table = self.table_name.value.strip()
        source = table if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", table) else _quoted(table)
        self.query.value = f"SELECT {args},\n       {calls}\nFROM {source}\nLIMIT 10"
        frame = self.scores
        scored = HTML(
            f"<b>Scored in SQL</b>: {len(frame):,} row(s) of {html.escape(table)} (first 10; "
            "the whole table is offered below)" + frame.head(10).to_html(index=False)
        )
        self.show(info, also=[x for x in (self.last_train, scored) if x is not None])
        self.offer(frame, "indb_scores", tool="indb", workspace=self.workspace)
        self._refresh_lifecycle()

    def _on_alias(self, button: Any = None) -> None:
        """Point the alias at the version, or roll it back when "Roll back" was clicked."""
        name, alias = self.name.value, self.alias.value.strip()
        version = self.alias_version.value.strip()
        if button is self.rollback_button:
            info = self.run(self.store.rollback, name, alias, busy="Rolling the alias back…")
        else:
            info = self.run(self.store.set_alias, name, alias,
                            int(version) if version.isdigit() else version, busy="Moving…")
        if info is not None:
            self.last_alias = info
            self.show(info)
        self._refresh_lifecycle()

    def _refresh_lifecycle(self, _change: Any = None) -> None:
        name = self.name.value.strip()
        listed = self.store.list_models()
        listed = listed[(listed["name"] == name) & ~listed["corrupt"]].tail(LOG_ROWS)
        self.versions_frame = pd.DataFrame(
            [(v, b, self.store.describe(name, int(v)).backend_reason, e)
             for v, b, e in zip(listed["version"], listed["backend"], listed["explain"],
                                strict=True)],
            columns=["version", "backend", "why", "explain"])
        self.aliases_frame = self.store.aliases(name)[["alias", "version", "previous"]]
        log = self.store.log(name).tail(LOG_ROWS)
        log["logged_at"] = log["logged_at"].astype(str).str[:19]  # to the second
        self.log_frame = log.drop(columns=["name", "data_sha256", "detail", "row_sha256"])
        self.lifecycle.value = "".join(
            f"<b>{what} of model {html.escape(repr(name))}</b>"
            + (frame.to_html(index=False, na_rep="") if len(frame) else " <i>none yet</i><br>")
            for what, frame in (("Versions", self.versions_frame),
                                ("Aliases", self.aliases_frame), ("Audit log", self.log_frame))
        )

    def _on_query(self, _button: Any = None) -> None:
        frame = self.run(self.store.sql, self.query.value, busy="Running the query…")
        if frame is None:
            return
        self.last_frame = frame
        self.show(
            HTML(f"<b>{len(frame)} row(s)</b>" + frame.head(50).to_html(index=False, escape=True))
        )

    def __repr__(self) -> str:
        kind = self.data_picker.source.value
        what = f"table={self.data_picker.table.value!r}" if kind == "table" else f"data={kind!r}"
        return f"InDBPanel(store={self.store!r}, {what})"


def _trained_by_train_model(random_state: int | None) -> Any:
    """Model types are trained by :func:`~workbench.indb.train_model` on the table's columns."""
    raise InputError("In-database model types are trained with train_model on the table.")
