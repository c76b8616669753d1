"""The base every tool panel builds on: a header, controls, status/error line, progress and output.

Subclasses put their inputs into :attr:`ToolPanel.controls` and run their work through
:meth:`ToolPanel.run`, which shows progress, catches :class:`~workbench.core.errors.WorkbenchError`
and shows its message in the panel instead of a traceback.
"""

from __future__ import annotations

import html
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

import ipywidgets as widgets

from workbench.core.errors import WorkbenchError
from workbench.core.progress import observe
from workbench.ui.progress import ProgressWidget

__all__ = ["ToolPanel", "workbench_error_in"]

R = TypeVar("R")
log = logging.getLogger(__name__)

_STYLES = {
    "info": "color:#555",
    "ok": "color:#1b7a1b",
    "error": "color:#b00020;font-weight:bold",
}


def workbench_error_in(exc: BaseException) -> WorkbenchError | None:
    """The :class:`~workbench.core.errors.WorkbenchError` that ``exc`` is or wraps, if any.

    Looks at ``exc`` itself, its explicit causes (``raise ... from err``) and the members of
    exception groups, depth first. An implicit context is not followed: an exception raised while
    handling a workbench error is a bug of the handler and must be reported as one.

    Parameters
    ----------
    exc : BaseException

    Returns
    -------
    WorkbenchError or None
    """
    seen: set[int] = set()
    stack = [exc]
    while stack:
        err = stack.pop()
        if err is None or id(err) in seen:
            continue
        seen.add(id(err))
        if isinstance(err, WorkbenchError):
            return err
        nested = list(err.exceptions) if isinstance(err, BaseExceptionGroup) else []
        stack.extend([err.__cause__, *reversed(nested)])
    return None


class ToolPanel(widgets.VBox):
    """Base class of the workbench panels.

    Parameters
    ----------
    title : str
        Shown as the panel heading.
    description : str, default=""
        One line under the heading.

    Attributes
    ----------
    controls : ipywidgets.VBox
        Where subclasses put their inputs and buttons.
    status : ipywidgets.HTML
        One line of status or error text.
    progress : ProgressWidget
        Follows progress bars of the work run through :meth:`run`.
    output : ipywidgets.Output
        Where results, tables and plots are displayed.
    last_error : str or None
        Message of the last error shown, for tests and scripts.
    """

    def __init__(self, title: str, description: str = "") -> None:
        self.header = widgets.HTML(
            f"<h3 style='margin:2px 0'>{html.escape(title)}</h3>"
            + (f"<div style='color:#555'>{html.escape(description)}</div>" if description else "")
        )
        self.controls = widgets.VBox()
        self.status = widgets.HTML("")
        self.progress = ProgressWidget()
        self.output = widgets.Output()
        self.last_error: str | None = None
        self.title = title
        super().__init__([self.header, self.controls, self.progress, self.status, self.output])

    def set_main_button(self, button: widgets.Button) -> widgets.Button:
        """Mark ``button`` as the panel's main action (styled primary, found by browser tests)."""
        button.button_style = button.button_style or "primary"
        button.add_class("workbench-main")
        return button

    def show_status(self, message: str, kind: str = "info") -> None:
        """Show a one-line message; ``kind`` is ``"info"``, ``"ok"`` or ``"error"``."""
        kind = kind if kind in _STYLES else "info"
        self.status.value = f"<span style='{_STYLES[kind]}'>{html.escape(message)}</span>"
        # The state as a CSS class, so browser tests (and themes) can tell ok from error.
        for other in _STYLES:
            self.status.remove_class(f"workbench-status-{other}")
        self.status.add_class(f"workbench-status-{kind}")

    def show_error(self, message: str) -> None:
        """Show an error message (no traceback) and remember it in :attr:`last_error`."""
        self.last_error = message
        self.show_status(message, "error")

    def run(
        self, fn: Callable[..., R], *args: Any, busy: str = "Running…", **kwargs: Any
    ) -> R | None:
        """Call ``fn(*args, **kwargs)`` with progress shown and errors caught.

        The status line and :attr:`last_error` are cleared first, so a message never outlives
        the run that caused it.

        Parameters
        ----------
        fn : callable
            The work to do.
        *args, **kwargs
            Passed to ``fn``.
        busy : str, default="Running…"
            Status shown while ``fn`` runs.

        Returns
        -------
        object or None
            The result, or ``None`` when it raised; the error is then shown in the panel. A
            :class:`~workbench.core.errors.WorkbenchError` shows its own message, also when it
            arrives wrapped (as the cause of another exception, e.g. from a parallel backend, or
            inside an exception group). Anything else is a bug: it is reported as "Unexpected
            error (…)" and logged with its traceback for the developer.
        """
        self.clear_error()
        self.progress.reset()
        self.show_status(busy)
        start = time.perf_counter()
        try:
            with observe(self.progress.update):
                result = fn(*args, **kwargs)
        except Exception as exc:
            self.show_exception(exc)
            return None
        self.show_status(f"Done in {time.perf_counter() - start:.1f} s.", "ok")
        return result

    def clear_error(self) -> None:
        """Forget the last error and empty the status line."""
        self.last_error = None
        self.show_status("")

    def show_exception(self, exc: BaseException) -> None:
        """Show ``exc`` in the panel: a workbench error's message, or "Unexpected error (…)".

        Parameters
        ----------
        exc : BaseException
            The exception caught by a panel callback.
        """
        known = workbench_error_in(exc)
        if known is not None:
            self.show_error(str(known) or f"{type(known).__name__} (no details were given).")
            return
        log.error("unexpected error in %s", type(self).__name__, exc_info=exc)
        self.show_error(f"Unexpected error ({type(exc).__name__}): {exc}")

    def __repr__(self) -> str:
        # Stable text (no memory addresses) so nbval can compare notebook outputs.
        return f"{type(self).__name__}(title={self.title!r})"
