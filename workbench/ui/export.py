"""Take a panel's result elsewhere: save it as a workspace table, or download it as CSV."""

from __future__ import annotations

import base64
import html
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from workbench.core.errors import InputError
from workbench.core.workspace import Workspace, check_table_name, get_workspace

__all__ = ["MAX_DOWNLOAD_BYTES", "ResultExport", "csv_link"]

#: Largest CSV offered as a download link (it travels inside the notebook's widget state).
MAX_DOWNLOAD_BYTES = 20 * 2**20


def csv_link(frame: Any, filename: str) -> str:
    """An HTML download link holding ``frame`` as CSV (or a note when it is too large).

    Parameters
    ----------
    frame : pandas.DataFrame
    filename : str

    Returns
    -------
    str
        HTML.
    """
    data = frame.to_csv(index=False).encode("utf-8")
    if len(data) > MAX_DOWNLOAD_BYTES:
        return (
            "<span style='color:#555'>Too large to download here "
            f"({len(data) / 2**20:.0f} MiB); save it to the workspace and export it with "
            "DuckDB's COPY ... TO.</span>"
        )
    b64 = base64.b64encode(data).decode("ascii")
    name = html.escape(filename)
    return (
        f"<a download='{name}' href='data:text/csv;base64,{b64}' "
        f"class='workbench-download'>⬇ {name}</a>"
    )


class ResultExport(widgets.HBox):
    """A table name, "Save to workspace" and a CSV download link for a panel's result.

    Parameters
    ----------
    default_name : str
        Table name proposed for the result.
    tool : str
        Recorded with the saved table.
    workspace : Workspace, optional
        Where to save; default the shared workspace (created on first save).
    run : callable, optional
        How the save is run: the owning panel's :meth:`~workbench.ui.base.ToolPanel.run`, so a
        failure shows in the panel.
    """

    def __init__(
        self,
        default_name: str,
        *,
        tool: str,
        workspace: Workspace | None = None,
        run: Callable[..., Any] | None = None,
    ) -> None:
        self.tool = tool
        self.workspace = workspace
        self.frame: Any = None
        self.saved: str | None = None
        self._run = run or (lambda fn, *a, **k: fn(*a, **k))
        self.name = widgets.Text(
            value=default_name, description="Table", style={"description_width": "50px"}
        )
        self.save_button = widgets.Button(
            description="Save to workspace", icon="database", disabled=True
        )
        self.download = widgets.HTML("")
        self.save_button.on_click(lambda _b: self._run(self.save, busy="Saving…"))
        super().__init__([self.name, self.save_button, self.download])

    def set_frame(self, frame: Any, filename: str | None = None) -> None:
        """Offer ``frame`` (a DataFrame, or ``None`` to offer nothing)."""
        self.frame = frame
        self.save_button.disabled = frame is None
        self.download.value = (
            "" if frame is None else csv_link(frame, filename or f"{self.name.value}.csv")
        )

    def save(self) -> str:
        """Write the offered frame as workspace table :attr:`name` (one transaction).

        Returns
        -------
        str
            The table name.
        """
        if self.frame is None:
            raise InputError("There is no result to save yet; run the panel first.")
        name = check_table_name(self.name.value.strip())
        ws = self.workspace if self.workspace is not None else get_workspace()
        self.saved = ws.save(name, self.frame, tool=self.tool)
        return self.saved

    def __repr__(self) -> str:
        return f"ResultExport(tool={self.tool!r})"
