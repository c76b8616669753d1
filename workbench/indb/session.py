"""The default store: the one the ``%%sql`` magic and the panel use unless given another."""

from __future__ import annotations

from typing import Any

from workbench.core.errors import InputTypeError
from workbench.indb.store import ModelStore

__all__ = ["connect", "get_store", "set_store"]

_default: ModelStore | None = None


def connect(database: Any = ":memory:", *, read_only: bool = False, **kwargs: Any) -> ModelStore:
    """Open a :class:`ModelStore` and make it the default one (used by the ``%%sql`` magic).

    Parameters
    ----------
    database : str, path or duckdb connection, default=":memory:"
    read_only : bool, default=False
        Open the file as a reader: it writes nothing, creates the SQL functions of every stored
        model in this connection only, and lets other reader processes open the file at once.
        A process that writes needs the file alone; otherwise
        :class:`~workbench.indb.database.StoreLockedError` names the process holding it.
    **kwargs
        Passed to :class:`ModelStore` (``on_corrupt``, ``onnx_threads``).

    Returns
    -------
    ModelStore

    Examples
    --------
    >>> reader = connect("models.duckdb", read_only=True)            # doctest: +SKIP
    >>> reader.sql("SELECT churn_proba(tenure, plan) FROM customers")  # doctest: +SKIP
    """
    store = ModelStore(database, read_only=read_only, **kwargs)
    set_store(store)
    return store


def set_store(store: ModelStore) -> None:
    """Make ``store`` the default store of the ``%%sql`` magic.

    Parameters
    ----------
    store : ModelStore
    """
    global _default
    if not isinstance(store, ModelStore):
        raise InputTypeError(f"Expected a ModelStore, got {type(store).__name__}.")
    _default = store


def get_store() -> ModelStore:
    """The default store; an in-memory one is created on first use.

    Returns
    -------
    ModelStore
    """
    global _default
    if _default is None:
        _default = ModelStore()
    return _default
