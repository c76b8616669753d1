"""A progress widget that follows :mod:`workbench.core.progress` bars."""

from __future__ import annotations

import ipywidgets as widgets

__all__ = ["ProgressWidget"]


class ProgressWidget(widgets.HBox):
    """A bar and a label, updated by :meth:`update` (an observer callback).

    Hidden until the first update, so idle panels stay compact.
    """

    def __init__(self) -> None:
        self.bar = widgets.FloatProgress(value=0.0, min=0.0, max=1.0, bar_style="info")
        self.label = widgets.Label("")
        super().__init__([self.bar, self.label])
        self.layout.display = "none"

    def update(self, done: int, total: int | None, desc: str = "") -> None:
        """Show ``done`` of ``total`` steps (``total`` may be unknown)."""
        self.layout.display = None
        if total:
            self.bar.value = min(done / total, 1.0)
            self.label.value = f"{desc} {done}/{total}".strip()
        else:
            self.label.value = f"{desc} {done}".strip()

    def reset(self) -> None:
        """Hide the widget and zero the bar."""
        self.bar.value = 0.0
        self.label.value = ""
        self.layout.display = "none"

    def __repr__(self) -> str:
        return f"ProgressWidget({self.label.value!r})"
