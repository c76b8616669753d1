"""The user's table, validated: :func:`load_table` and the :class:`UserTable` it returns.

:func:`load_table` reads any source :func:`~workbench.core.sources.open_source` accepts, checks
the column roles (target, features, id, time, categorical, text) and the values the tools rely
on, and fetches only the columns those roles name, as Arrow, sampling a table too large for
memory (and saying so). Every problem is an :class:`~workbench.core.errors.InputError` that
names the column and the fix.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from workbench.core.column_checks import (
    MAX_CLASSES,
    check_feature_column,
    check_target_column,
    guess_id_column,
)
from workbench.core.errors import InputError, InputTypeError, UnknownNameError
from workbench.core.params import check_flag, check_random_state, check_size
from workbench.core.sources import available_memory, duckdb_error, open_source
from workbench.core.tabular import encode_features, kind_of
from workbench.core.validation import check_choice

__all__ = ["MAX_CLASSES", "TASKS", "UserTable", "check_model_for", "load_table"]

TASKS = ("classification", "regression")


@dataclasses.dataclass(frozen=True, eq=False)
class UserTable:
    """A validated user table and the role of each column.

    Attributes
    ----------
    data : pyarrow.Table
        The columns the roles name (id, time, features, target), in that order.
    target : str or None
    features : tuple of str
    id : str or None
    time : str or None
    categorical : tuple of str
        Feature columns one-hot encoded in :attr:`X`.
    text : tuple of str
        Free-text columns kept for the tools that read text; not in :attr:`X`.
    task : {"classification", "regression"} or None
    source : str
        Where the table came from.
    n_source_rows : int
        Rows in the source; more than :attr:`n_rows` when the table was sampled.
    notes : tuple of str
        What was done on the way (sampling, filled missing values).
    """

    data: Any
    target: str | None
    features: tuple[str, ...]
    id: str | None = None
    time: str | None = None
    categorical: tuple[str, ...] = ()
    text: tuple[str, ...] = ()
    task: str | None = None
    source: str = "table"
    n_source_rows: int = 0
    notes: tuple[str, ...] = ()

    @property
    def n_rows(self) -> int:
        """Rows in :attr:`data`."""
        return int(self.data.num_rows)

    @property
    def sampled(self) -> bool:
        """Whether :attr:`data` is a sample of a larger source."""
        return self.n_source_rows > self.n_rows

    @property
    def columns(self) -> list[str]:
        """Column names of :attr:`data`."""
        return list(self.data.column_names)

    @functools.cached_property
    def frame(self) -> Any:
        """:attr:`data` as a pandas DataFrame (made once, on first use)."""
        return self.data.to_pandas()

    def to_frame(self) -> Any:
        """The table as a pandas DataFrame (a copy)."""
        return self.frame.copy()

    @property
    def y(self) -> np.ndarray:
        """The target column as a numpy array (labels as they are, or float64 values)."""
        if self.target is None:
            raise InputError("This table has no target column; load it with target='<column>'.")
        y = self.frame[self.target].to_numpy()
        return y.astype(np.float64) if self.task == "regression" else y

    @property
    def ids(self) -> np.ndarray:
        """The id column, or the row numbers 0, 1, ... when there is none."""
        if self.id is None:
            return np.arange(self.n_rows, dtype=np.int64)
        return self.frame[self.id].to_numpy()

    @functools.cached_property
    def _encoded(self) -> tuple[np.ndarray, list[str], tuple[str, ...]]:
        return encode_features(self.frame, self.features, self.categorical)

    @property
    def X(self) -> np.ndarray:
        """The features as float64: numbers as they are, categories one-hot, gaps filled.

        A missing number becomes the column's median; a missing category is its own
        ``<column>=<missing>`` indicator. :attr:`feature_names_out` names the columns.
        """
        return self._encoded[0]

    @property
    def feature_names_out(self) -> list[str]:
        """Names of the columns of :attr:`X` (``plan=basic`` for a one-hot category)."""
        return list(self._encoded[1])

    @property
    def encoding_notes(self) -> tuple[str, ...]:
        """What :attr:`X` changed: missing values filled, rare categories grouped."""
        return self._encoded[2]

    @property
    def dtypes(self) -> dict[str, str]:
        """Arrow type of each column, as text."""
        return {f.name: str(f.type) for f in self.data.schema}

    def head(self, n: int = 5) -> Any:
        """The first ``n`` rows as a DataFrame."""
        return self.data.slice(0, check_size(n, name="n", high=10_000)).to_pandas()

    def role_of(self, column: str) -> str:
        """The role of ``column``: target, feature, id, time or ``""``."""
        roles = {self.target: "target", self.id: "id", self.time: "time"}
        if column in roles:
            return roles[column]
        if column in self.features:
            return "categorical feature" if column in self.categorical else "feature"
        return "text" if column in self.text else ""

    def _repr_html_(self) -> str:
        import html

        rows = "".join(
            f"<tr><td>{html.escape(c)}</td><td>{html.escape(t)}</td>"
            f"<td>{html.escape(self.role_of(c))}</td></tr>"
            for c, t in self.dtypes.items()
        )
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
        return (
            f"<b>{html.escape(self.source)}</b>: {self.n_rows:,} rows"
            + (f" (sampled from {self.n_source_rows:,})" if self.sampled else "")
            + f", task {self.task or '–'}"
            + (f"<ul>{notes}</ul>" if notes else "")
            + "<table><tr><th>column</th><th>type</th><th>role</th></tr>"
            + rows
            + "</table>"
            + self.head().to_html(index=False, max_cols=20)
        )

    def __repr__(self) -> str:
        return (
            f"UserTable(source={self.source!r}, n_rows={self.n_rows}, target={self.target!r}, "
            f"n_features={len(self.features)}, task={self.task!r})"
        )


def _names(value: Any, *, name: str, columns: Sequence[str]) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, Iterable):
        raise InputTypeError(f"{name} must be a column name or a list of names.")
    out = []
    for item in value:
        if not isinstance(item, str):
            raise InputTypeError(f"{name} must hold column names (str), got {item!r}.")
        if item not in columns:
            raise UnknownNameError("column", item, columns)
        out.append(item)
    if len(set(out)) != len(out):
        raise InputError(f"{name} names a column twice: {out}.")
    return tuple(out)


def _one(value: Any, *, name: str, columns: Sequence[str]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputTypeError(f"{name} must be a column name (str), got {type(value).__name__}.")
    return _names(value, name=name, columns=columns)[0]


def _check_roles(roles: dict[str, Any], columns: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {
        k: _one(roles[k], name=k, columns=columns) for k in ("target", "id", "time")
    }
    for key in ("features", "categorical", "text"):
        out[key] = _names(roles[key], name=key, columns=columns)
    single = [out[k] for k in ("target", "id", "time") if out[k] is not None]
    if len(set(single)) != len(single):
        raise InputError(f"target, id and time must be different columns, got {single}.")
    clash = sorted(set(out["features"]) & set(single))
    if clash:
        raise InputError(
            f"Column(s) {clash} cannot be a feature and also the target, id or time column; "
            "leave them out of features."
        )
    both = sorted(set(out["categorical"]) & set(out["text"]))
    if both:
        raise InputError(f"Column(s) {both} are marked both categorical and text; pick one.")
    return out


def load_table(
    source: Any,
    *,
    target: str | None = None,
    features: Sequence[str] | None = None,
    id: str | None = None,
    time: str | None = None,
    categorical: Sequence[str] | None = None,
    text: Sequence[str] | None = None,
    task: str | None = None,
    con: Any = None,
    min_rows: int = 2,
    max_rows: int | None = None,
    random_state: int | None = 0,
    keep_all: bool = False,
) -> UserTable:
    """Read and validate a user's table, with the role of each column.

    Parameters
    ----------
    source : DataFrame, arrays, pyarrow.Table, path, str or duckdb relation
        See :func:`~workbench.core.sources.open_source`: a DataFrame, ``X`` or ``(X, y)``, an
        Arrow table, a CSV/Parquet/JSON-lines file, a DuckDB relation, a table name or a
        SELECT query on ``con``.
    target : str, optional
        The column to predict; it may not be missing in any row.
    features : sequence of str, optional
        Input columns; default every column that has no other role, except text columns.
    id, time : str, optional
        A row identifier (results refer to rows by it) and a timestamp column. Without ``id``
        and ``features``, a column named ``id`` or ``*_id`` with unique values is the id.
    categorical : sequence of str, optional
        Feature columns to one-hot encode; default the text-typed features.
    text : sequence of str, optional
        Free-text columns (kept, not encoded); default none.
    task : {"classification", "regression"}, optional
        Checks the target for the task; default inferred (labels, booleans and integers with
        at most 20 distinct values are classes).
    con : duckdb.DuckDBPyConnection, optional
        Where table names and queries are looked up.
    min_rows : int, default=2
        Fewer rows is an error.
    max_rows : int, optional
        Read at most this many rows, as a seeded random sample (said in :attr:`UserTable.notes`);
        default what a quarter of the available memory holds.
    random_state : int, optional
        Seed of that sample.
    keep_all : bool, default=False
        Fetch every column of the source (dates and columns without a role too), not only the
        columns the roles name; :meth:`Workspace.add <workbench.core.workspace.Workspace.add>`
        stores datasets this way.

    Returns
    -------
    UserTable

    Raises
    ------
    InputError
        Missing or duplicate column, all-missing column, mixed types, a target with missing
        values or one class, too few rows, text that is not UTF-8 (and the errors of
        :func:`~workbench.core.sources.open_source`).
    """
    import duckdb

    if task is not None:
        task = check_choice(task, TASKS, kind="task")
    min_rows = check_size(min_rows, name="min_rows", high=10**9)
    seed = check_random_state(random_state)
    src = open_source(source, con=con)
    rel, columns = src.relation, src.columns
    if src.kind == "arrays" and target is None and "target" in columns:
        target = "target"
    roles = _check_roles(
        {
            "target": target,
            "features": features,
            "id": id,
            "time": time,
            "categorical": categorical,
            "text": text,
        },
        columns,
    )
    try:
        kinds = dict(zip(columns, (kind_of(t) for t in rel.types), strict=True))
        notes = []
        if roles["id"] is None:
            roles["id"] = guess_id_column(rel, columns, kinds, roles)
            if roles["id"] is not None:
                notes.append(
                    f"Column {roles['id']!r} identifies the rows (unique values), so "
                    "it is the id, not a feature; pass id= or features= to change it."
                )
        taken = {roles["target"], roles["id"], roles["time"], *roles["text"]}
        feats = roles["features"] or tuple(
            c for c in columns if c not in taken and kinds[c] not in ("date", "other")
        )
        if not feats and roles["target"] is not None:
            raise InputError("The table has no feature columns besides the roles given.")
        cats = roles["categorical"] or tuple(c for c in feats if kinds[c] == "text")
        outside = sorted(set(cats) - set(feats))
        if outside:
            raise InputError(f"categorical column(s) {outside} are not among the features.")
        n_rows = rel.count("*").fetchall()[0][0]
        if n_rows < min_rows:
            raise InputError(
                f"{src.description} has {n_rows} row(s); at least {min_rows} are needed."
            )
        if roles["target"] is not None:
            task = check_target_column(rel, roles["target"], kinds[roles["target"]], task)
        for col in feats:
            check_feature_column(rel, col, "text" if col in cats else kinds[col], "feature")
        keep = [c for c in (roles["id"], roles["time"]) if c] + list(feats)
        keep += [c for c in roles["text"] if c not in keep]
        keep += [roles["target"]] if roles["target"] else []
        if check_flag(keep_all, name="keep_all"):
            keep = list(columns)
        row_bytes = 16 * len(keep) + 32
        limit = (
            max_rows if max_rows is not None else max(1000, available_memory() // 4 // row_bytes)
        )
        limit = check_size(limit, name="max_rows", high=10**10)
        picked = rel.project(", ".join(f'"{c}"' for c in keep))
        if n_rows > limit:
            picked = picked.query(
                "t",
                f"SELECT * FROM t USING SAMPLE reservoir({limit} ROWS) REPEATABLE ({seed or 0})",
            )
            notes.append(
                f"Sampled {limit:,} of {n_rows:,} rows at random (seed {seed or 0}) to fit "
                "in memory; pass max_rows= to change it."
            )
        data = picked.arrow().read_all()
    except duckdb.Error as exc:
        raise duckdb_error(exc, src.description) from None
    return UserTable(
        data=data,
        target=roles["target"],
        features=tuple(feats),
        id=roles["id"],
        time=roles["time"],
        categorical=tuple(cats),
        text=roles["text"],
        task=task,
        source=src.description,
        n_source_rows=int(n_rows),
        notes=tuple(notes),
    )


def check_model_for(
    model: Any, table: UserTable, *, kind: str | None = None, methods: Sequence[str] = ()
) -> Any:
    """Check that a user's fitted ``model`` can score ``table``'s :attr:`~UserTable.X`.

    Parameters
    ----------
    model : estimator
        Fitted; trained on ``table.X`` or on a DataFrame with the same columns.
    table : UserTable
    kind : {"classifier", "regressor"}, optional
    methods : sequence of str
        Methods the model must have (``predict_proba``).

    Returns
    -------
    estimator
        ``model``.

    Raises
    ------
    NotFittedError
        If it is not fitted.
    ModelError
        If its feature names or count differ from the table's.
    """
    from workbench.core.errors import InputTypeError, ModelError
    from workbench.core.validation import check_estimator

    if not isinstance(table, UserTable):
        raise InputTypeError(
            f"table must be a UserTable (from load_table), got {type(table).__name__}."
        )
    if (
        isinstance(methods, str)
        or not isinstance(methods, Sequence)
        or not all(isinstance(m, str) for m in methods)
    ):
        raise InputTypeError(f"methods must be a list of method names, got {methods!r}.")
    check_estimator(model, kind=kind, methods=methods, fitted=True)
    wanted = table.feature_names_out
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        names = [str(n) for n in names]
        if names != wanted:
            missing = [n for n in names if n not in wanted][:8]
            extra = [n for n in wanted if n not in names][:8]
            raise ModelError(
                f"The model was fitted on columns that do not match the table's features: "
                f"the table lacks {missing or 'none'}, and has {extra or 'none'} the model "
                "never saw (or the order differs). Choose the features the model was trained "
                "on, or fit it on table.X (columns table.feature_names_out)."
            )
    n_in = getattr(model, "n_features_in_", None)
    if n_in is not None and int(n_in) != len(wanted):
        raise ModelError(
            f"The model expects {int(n_in)} features; the table gives {len(wanted)} "
            f"({', '.join(wanted[:6])}{', ...' if len(wanted) > 6 else ''}). Choose the "
            "features it was trained on, or fit it on table.X."
        )
    return model
