"""The ``%sql`` / ``%%sql`` IPython magic on the default model store's DuckDB connection.

``%load_ext workbench.indb`` registers it. ``%%sql`` runs the cell as SQL and returns a
DataFrame; ``%%sql result`` also stores the DataFrame in the variable ``result``. ``%sql
SELECT ...`` does the same on one line. The connection is :func:`workbench.indb.get_store`'s (set
it with :func:`workbench.indb.connect` or :func:`workbench.indb.set_store`), so registered models
are callable from SQL cells.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from workbench.core.errors import InputTypeError
from workbench.indb.checks import check_variable_name

__all__ = ["register_magics", "sql_magic"]


def sql_magic(line: str, cell: str | None = None, *, namespace: dict[str, Any] | None = None):
    """Run SQL on the default store and return a DataFrame.

    Parameters
    ----------
    line : str
        Line magic: the SQL. Cell magic: optional name of a variable to store the result in.
    cell : str, optional
        Cell magic body: the SQL.
    namespace : dict, optional
        Where the named variable is stored (the user namespace in IPython).

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    InputTypeError
        If ``line`` or ``cell`` is not text.
    InputError
        If the variable name is not an identifier, or the SQL fails (see ModelStore.sql).
    """
    from workbench.indb.session import get_store

    if not isinstance(line, str) or not (cell is None or isinstance(cell, str)):
        raise InputTypeError("%%sql takes text: the SQL on the line or in the cell.")
    if cell is None:
        query, target = line, None
    else:
        query, target = cell, (line.strip() or None)
    if target is not None:
        check_variable_name(target)
    frame: pd.DataFrame = get_store().sql(query)
    if target is not None and namespace is not None:
        namespace[target] = frame
    return frame


def register_magics(ipython: Any) -> None:
    """Register ``%sql``/``%%sql`` on an IPython shell.

    Parameters
    ----------
    ipython : IPython.core.interactiveshell.InteractiveShell
        The shell; results named in ``%%sql name`` go to its user namespace.
    """

    def sql(line: str, cell: str | None = None) -> pd.DataFrame:
        return sql_magic(line, cell, namespace=ipython.user_ns)

    sql.__doc__ = sql_magic.__doc__
    ipython.register_magic_function(sql, magic_kind="line_cell", magic_name="sql")
