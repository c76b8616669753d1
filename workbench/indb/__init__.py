"""In-database inference: train a scikit-learn model, store it inside DuckDB and call it from SQL.

Importing this package is cheap: the public names are loaded on first use, and
``%load_ext workbench.indb`` adds a ``%%sql`` cell magic on the default store's connection.
"""

from __future__ import annotations

from typing import Any

from workbench.core.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "Feature": "features",
        "ModelInfo": "results",
        "ModelStore": "store",
        "StoreLockedError": "database",
        "AliasInfo": "aliases",
        "PromotionResult": "promotion",
        "PromotionRejectedError": "promotion",
        "RouteInfo": "routing",
        "connect": "session",
        "get_store": "session",
        "set_store": "session",
        "compile_sql": "sql_compile",
        "BackendChoice": "backend",
        "choose_backend": "backend",
        "Explainer": "explain",
        "Explanation": "explain",
        "make_explainer": "explain",
        "make_customers": "demo",
        "create_customers_table": "demo",
        "TABLE": "store_integrity",
        "MODEL_TYPES": "training",
        "TrainResult": "training",
        "train_model": "training",
    },
    eager=("load_ipython_extension",),
)


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
