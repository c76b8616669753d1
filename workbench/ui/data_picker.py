"""DataPicker: the user's table for a panel, from wherever she holds it.

Sources: the data passed to the panel, a demo dataset, a DataFrame (or Arrow table, DuckDB
relation) variable of the notebook, an uploaded CSV/Parquet file, a file path on this machine,
a workspace table, or a SQL query. Once a source is chosen the picker shows its first rows and
column types and offers the target and feature columns. :meth:`DataPicker.load` validates the
choice with :func:`workbench.core.tables.load_table`; the picker itself writes nothing.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from workbench.core.errors import InputError, WorkbenchError
from workbench.core.sources import open_source, read_upload
from workbench.core.tables import UserTable, load_table
from workbench.core.tabular import kind_of
from workbench.core.workspace import Workspace, get_workspace
from workbench.ui.namespace import resolve, set_options, user_namespace, variables

__all__ = ["DataPicker", "is_table_like"]

_LABELS = {
    "given": "Your data",
    "demo": "Demo",
    "variable": "Variable",
    "upload": "Upload",
    "path": "File path",
    "table": "Workspace table",
    "query": "SQL",
}
_PREVIEW_ROWS = 5


def is_table_like(value: Any) -> bool:
    """Whether ``value`` is something a DataPicker can read from a variable."""
    import duckdb
    import pandas as pd
    import pyarrow as pa

    return isinstance(value, pd.DataFrame | pa.Table | duckdb.DuckDBPyRelation)


def _upload_entry(value: Any) -> tuple[str, bytes] | None:
    entries = list(value.values()) if isinstance(value, dict) else list(value or ())
    if not entries:
        return None
    entry = entries[-1]
    return str(entry["name"]), bytes(entry["content"])


def _id_like(column: str) -> bool:
    low = column.lower()
    return low == "id" or low.endswith(("_id", " id"))


class DataPicker(widgets.VBox):
    """Pick a table and its target and feature columns.

    Parameters
    ----------
    data : DataFrame, arrays, Arrow table, path, relation or str, optional
        The user's data, offered first as "Your data".
    target : str, optional
        Target column to select when it exists.
    features : sequence of str, optional
        Feature columns to select; default all but the target and id.
    task : {"classification", "regression"}, optional
        Passed to :func:`~workbench.core.tables.load_table`.
    demos : mapping of str to callable, optional
        Demo datasets: name → function returning a DataFrame.
    demo_target : str, default="target"
        Target column of the demo frames.
    namespace : mapping, optional
        Where variables are looked up; default the notebook's.
    workspace : Workspace, optional
        Where tables and queries are looked up; default the shared one if its file exists.
    sources : sequence of str, optional
        Which sources to offer (keys of ``given, demo, variable, upload, path, table, query``).
    max_upload_bytes : int, optional
        Largest upload accepted (default: a quarter of free memory).
    **load_options
        More options of :func:`~workbench.core.tables.load_table` (``id``, ``time``,
        ``min_rows``, ``max_rows``, ``categorical``, ``text``).
    """

    def __init__(
        self,
        data: Any = None,
        *,
        target: str | None = None,
        features: Sequence[str] | None = None,
        task: str | None = None,
        demos: Mapping[str, Callable[[], Any]] | None = None,
        demo_target: str = "target",
        namespace: Mapping[str, Any] | None = None,
        workspace: Workspace | None = None,
        sources: Sequence[str] | None = None,
        max_upload_bytes: int | None = None,
        **load_options: Any,
    ) -> None:
        self.data = data
        self.task = task
        self.demos = dict(demos or {})
        self.demo_target = demo_target
        self.namespace = user_namespace(namespace)
        self._workspace = workspace
        self.max_upload_bytes = max_upload_bytes
        self.load_options = load_options
        self.last_error: str | None = None
        self._wanted_target, self._wanted_features = target, features
        self._uploaded: Path | None = None
        self._columns: list[str] = []
        self._kinds: dict[str, str] = {}
        self._callbacks: list[Callable[[], None]] = []
        keys = [k for k in (sources or _LABELS) if k in _LABELS]
        keys = [k for k in keys if (k != "given" or data is not None) and (k != "demo" or demos)]
        style = {"description_width": "90px"}
        self.source = widgets.ToggleButtons(
            options=[(_LABELS[k], k) for k in keys], description="Data", style=style
        )
        self.demo = widgets.Dropdown(options=list(self.demos), description="Dataset", style=style)
        self.variable = widgets.Dropdown(options=[], description="Variable", style=style)
        self.refresh_button = widgets.Button(
            description="↻", tooltip="Refresh the lists", layout=widgets.Layout(width="40px")
        )
        self.upload = widgets.FileUpload(
            accept=".csv,.tsv,.parquet,.pq", multiple=False, description="CSV / Parquet"
        )
        self.path = widgets.Text(
            placeholder="/path/to/data.parquet",
            description="Path",
            style=style,
            continuous_update=False,
        )
        self.table = widgets.Dropdown(options=[], description="Table", style=style)
        self.query = widgets.Textarea(
            placeholder="SELECT * FROM customers WHERE ...",
            description="SQL",
            style=style,
            layout=widgets.Layout(width="95%", height="70px"),
        )
        self.preview_button = widgets.Button(description="Preview", icon="eye")
        self.target = widgets.Dropdown(options=[], description="Target", style=style)
        self.features = widgets.SelectMultiple(
            options=[], description="Features", rows=6, style=style
        )
        self.message = widgets.HTML("")
        self.preview = widgets.HTML("")
        self.where = widgets.HBox()
        # Stable CSS classes: browser tests (and themes) find the parts by them.
        for part, widget in [
            ("source", self.source),
            ("upload", self.upload),
            ("target", self.target),
            ("features", self.features),
            ("preview", self.preview),
            ("message", self.message),
        ]:
            widget.add_class(f"workbench-{part}")
        self.refresh()
        self.source.observe(lambda _c: self._on_source(), names="value")
        for kind, w in [
            ("demo", self.demo),
            ("variable", self.variable),
            ("table", self.table),
            ("path", self.path),
        ]:
            w.observe(self._describe_if(kind), names="value")
        self.upload.observe(self._on_upload, names="value")
        self.refresh_button.on_click(lambda _b: self.refresh())
        self.preview_button.on_click(lambda _b: self._describe())
        self.target.observe(self._on_target, names="value")
        super().__init__(
            [self.source, self.where, self.message, self.target, self.features, self.preview]
        )
        self._on_source()

    # --- where the data comes from -------------------------------------------------------
    @property
    def workspace(self) -> Workspace | None:
        """The workspace tables and queries come from (``None`` if there is none yet)."""
        return self._workspace if self._workspace is not None else get_workspace(create=False)

    def refresh(self) -> None:
        """Re-read the notebook's variables and the workspace's tables."""
        ws = self.workspace
        set_options(self.variable, variables(self.namespace, is_table_like))
        set_options(self.table, ws.tables() if ws is not None else [])

    def _on_source(self) -> None:
        parts = {
            "given": [],
            "demo": [self.demo],
            "variable": [self.variable, self.refresh_button],
            "upload": [self.upload],
            "path": [self.path],
            "table": [self.table, self.refresh_button],
            "query": [self.query, self.preview_button],
        }
        self.where.children = parts.get(self.source.value, [])
        self._describe()

    def _describe_if(self, kind: str) -> Callable[[Any], None]:
        # A list refreshed in the background must not re-read (and reset) another source.
        def on_change(_change: Any) -> None:
            if self.source.value == kind:
                self._describe()

        return on_change

    def _on_upload(self, _change: Any = None) -> None:
        self._uploaded = None
        entry = _upload_entry(self.upload.value)
        if entry is not None:
            try:
                self._uploaded = read_upload(*entry, max_bytes=self.max_upload_bytes)
            except WorkbenchError as exc:
                self._fail(str(exc))
                return
        self._describe()

    def raw_source(self) -> tuple[Any, Any]:
        """The chosen source and the connection to read it on, before roles are applied.

        Returns
        -------
        source, con
            What :func:`~workbench.core.sources.open_source` takes.

        Raises
        ------
        InputError
            Nothing chosen, a variable that is gone, no workspace, an upload that failed.
        """
        kind = self.source.value
        ws = self.workspace
        con = ws.con if ws is not None else None
        if kind == "given":
            return self.data, con
        if kind == "demo":
            if self.demo.value is None:
                raise InputError("No demo dataset chosen.")
            return self.demos[self.demo.value](), con
        if kind == "variable":
            value = resolve(
                self.namespace,
                self.variable.value,
                is_table_like,
                "a DataFrame, Arrow table or DuckDB relation",
            )
            return value, con
        if kind == "upload":
            if self._uploaded is None:
                if self.last_error:
                    raise InputError(self.last_error)
                raise InputError("No file uploaded yet; upload a CSV or Parquet file.")
            return self._uploaded, con
        if kind == "path":
            text = self.path.value.strip()
            if not text:
                raise InputError("No file path given; type the path of a CSV or Parquet file.")
            return Path(text), con
        if ws is None:
            raise InputError(
                "There is no workspace yet; save a table to one (Workspace().add(...)) or pick "
                "another source."
            )
        if kind == "table":
            if not self.table.value:
                raise InputError("The workspace has no table yet; add one or pick another source.")
            return self.table.value, con
        text = self.query.value.strip()
        if not text:
            raise InputError("Type a SELECT query first.")
        return text, con

    # --- columns and preview ----------------------------------------------------------
    def _fail(self, message: str) -> None:
        self.last_error = message
        self.message.value = f"<span style='color:#b00020'>{html.escape(message)}</span>"

    def _describe(self) -> None:
        self.last_error = None
        self.message.value = ""
        try:
            source, con = self.raw_source()
            src = open_source(source, con=con)
            head = src.preview(_PREVIEW_ROWS)
            types = [str(t) for t in src.relation.types]
        except WorkbenchError as exc:
            self._kinds = {}
            self._set_columns([])
            self.preview.value = ""
            if self.source.value not in ("query", "upload", "path") or self._touched():
                self._fail(str(exc))
            return
        self._kinds = dict(zip(src.columns, (kind_of(t) for t in types), strict=True))
        self._set_columns(src.columns)
        dtypes = "".join(f"<td style='color:#555'>{html.escape(t)}</td>" for t in types)
        table = head.to_html(index=False, max_cols=30, na_rep="NaN", border=0)
        self.preview.value = (
            f"<div style='color:#555'>{html.escape(src.description)} — first rows and types"
            f"</div><div style='overflow-x:auto'>{table}<table><tr>{dtypes}</tr></table></div>"
        )
        for fn in self._callbacks:
            fn()

    def _touched(self) -> bool:
        kind = self.source.value
        return bool(
            (kind == "query" and self.query.value.strip())
            or (kind == "path" and self.path.value.strip())
            or (kind == "upload" and self.upload.value)
        )

    def _set_columns(self, columns: list[str]) -> None:
        self._columns = columns
        wanted = self._wanted_target
        if self.source.value == "demo" and self.demo_target in columns:
            wanted = self.demo_target
        self.target.unobserve(self._on_target, names="value")
        self.target.options = [("(none)", None), *[(c, c) for c in columns]]
        self.target.value = wanted if wanted in columns else None
        self.target.observe(self._on_target, names="value")
        self._on_target()

    def _on_target(self, _change: Any = None) -> None:
        target = self.target.value
        options = [
            c
            for c in self._columns
            if c != target and self._kinds.get(c) in ("integer", "number", "bool", "text")
        ]
        wanted = [c for c in (self._wanted_features or ()) if c in options]
        self.features.options = options
        self.features.value = tuple(wanted or [c for c in options if not _id_like(c)])

    @property
    def columns(self) -> list[str]:
        """Columns of the source read last (empty when nothing could be read)."""
        return list(self._columns)

    @property
    def kinds(self) -> dict[str, str]:
        """Kind of each column of the source read last: integer, number, bool, text, date, other."""
        return dict(self._kinds)

    def on_change(self, fn: Callable[[], None]) -> None:
        """Call ``fn()`` whenever a new source has been read (to refresh dependent widgets)."""
        self._callbacks.append(fn)

    # --- the result ---------------------------------------------------------------------
    def load(self, **overrides: Any) -> UserTable:
        """The chosen table, validated with the chosen roles.

        Parameters
        ----------
        **overrides
            Options of :func:`~workbench.core.tables.load_table` that replace the picker's.

        Returns
        -------
        UserTable

        Raises
        ------
        WorkbenchError
            Whatever is wrong with the source or the roles, with the fix in the message.
        """
        source, con = self.raw_source()
        options: dict[str, Any] = {
            "target": self.target.value,
            "features": list(self.features.value) or None,
            "task": self.task,
            "con": con,
            **self.load_options,
        }
        options.update(overrides)
        return load_table(source, **options)

    def __repr__(self) -> str:
        return f"DataPicker(source={self.source.value!r})"
