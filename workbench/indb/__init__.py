"""In-database inference: train a scikit-learn model, store it inside DuckDB and call it from SQL.

Importing this package is cheap: the public names are loaded on first use, and
``%load_ext workbench.indb`` adds a ``%%sql`` cell magic on the default store's connection.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "MODEL_TYPES",
    "TABLE",
    "Feature",
    "ModelInfo",
    "ModelStore",
    "TrainResult",
    "compile_sql",
    "connect",
    "create_customers_table",
    "get_store",
    "load_ipython_extension",
    "make_customers",
    "set_store",
    "train_model",
]

_LAZY = {
    "Feature": "workbench.indb.features",
    "ModelInfo": "workbench.indb.results",
    "ModelStore": "workbench.indb.store",
    "connect": "workbench.indb.session",
    "get_store": "workbench.indb.session",
    "set_store": "workbench.indb.session",
    "compile_sql": "workbench.indb.sql_compile",
    "make_customers": "workbench.indb.demo",
    "create_customers_table": "workbench.indb.demo",
    "TABLE": "workbench.indb.store_integrity",
    "MODEL_TYPES": "workbench.indb.training",
    "TrainResult": "workbench.indb.training",
    "train_model": "workbench.indb.training",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'workbench.indb' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)


def load_ipython_extension(ipython: Any) -> None:
    """Register the ``%%sql`` magic (``%load_ext workbench.indb``).

    Parameters
    ----------
    ipython : IPython.core.interactiveshell.InteractiveShell
        The running shell.

    Raises
    ------
    InputTypeError
        If ``ipython`` is not a shell.
    """
    from workbench.core.errors import InputTypeError
    from workbench.indb.magic import register_magics

    if not callable(getattr(ipython, "register_magic_function", None)):
        raise InputTypeError(
            f"ipython must be an IPython shell (get_ipython()), got {type(ipython).__name__}; "
            "in a notebook run %load_ext workbench.indb."
        )
    register_magics(ipython)
