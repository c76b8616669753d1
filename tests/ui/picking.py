"""Test helpers for panels: uploads as the browser sends them, and the bad data choices.

Every panel with a DataPicker must refuse the same bad choices with the same messages; the
panel tests take them from here so the list is written once.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from datetime import datetime
from typing import Any

__all__ = ["bad_picks", "upload_value"]


def upload_value(name: str, content: bytes) -> tuple[dict[str, Any], ...]:
    """A ``FileUpload.value`` holding one file, as ipywidgets 8 stores an upload."""
    return (
        {
            "name": name,
            "content": content,
            "type": "",
            "size": len(content),
            "last_modified": datetime(2026, 1, 1),
        },
    )


def bad_picks(
    picker: Any, namespace: MutableMapping[str, Any], variable: str, *, target: str | None = None
) -> list[tuple[Callable[[], None], str]]:
    """The bad data choices of issue 16, each with words its message must contain.

    Parameters
    ----------
    picker : DataPicker
    namespace : mutable mapping
        The picker's namespace; ``variable`` is deleted from it by the first choice.
    variable : str
        A table variable in ``namespace``.
    target : str, optional
        Target to select after choosing the variable.

    Returns
    -------
    list of (callable, str)
        ``(make_the_choice, words)`` pairs: a variable that no longer exists, a SQL syntax
        error, an upload that is not CSV/Parquet, an empty upload.
    """

    def variable_gone() -> None:
        picker.source.value = "variable"
        picker.variable.value = variable
        if target is not None:
            picker.target.value = target
        del namespace[variable]

    def bad_sql() -> None:
        picker.source.value = "query"
        picker.query.value = "SELEC * FROM nowhere"

    def not_a_table() -> None:
        picker.source.value = "upload"
        picker.upload.value = upload_value("report.xlsx", b"PK\x03\x04 not a table")

    def empty_file() -> None:
        picker.source.value = "upload"
        picker.upload.value = upload_value("empty.csv", b"")

    return [
        (variable_gone, "no longer exists"),
        (bad_sql, "syntax error"),
        (not_a_table, "neither a CSV nor a Parquet"),
        (empty_file, "empty"),
    ]
