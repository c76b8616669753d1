"""The base every tool panel builds on: a header, controls, status/error line, progress and output.

The one panel contract, for built-in tools and plugins alike: a subclass puts its inputs into
:attr:`ToolPanel.controls`, marks its main action with :meth:`ToolPanel.set_main_button` (kept in
:attr:`ToolPanel.main_button`), runs its work through :meth:`ToolPanel.run` (progress shown, a
:class:`~workbench.core.errors.WorkbenchError` shown as its message instead of a traceback), keeps
the last result object in :attr:`ToolPanel.result` and displays it with :meth:`ToolPanel.show`.
"""

from __future__ import annotations

import base64
import html
import io
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import ipywidgets as widgets
import pandas as pd

from workbench.core.errors import WorkbenchError
from workbench.core.progress import observe
from workbench.ui.progress import ProgressWidget

__all__ = ["MAIN_CLASS", "ToolPanel", "display_data", "mark_main", "workbench_error_in"]

#: CSS class of a main action button; browser tests find the button to click by it.
MAIN_CLASS = "workbench-main"

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


def mark_main(button: widgets.Button) -> widgets.Button:
    """Mark ``button`` as the main action of its widget.

    The button gets the CSS class :data:`MAIN_CLASS` (what browser tests look for) and the
    ``"primary"`` style unless it already has a style.

    Parameters
    ----------
    button : ipywidgets.Button

    Returns
    -------
    ipywidgets.Button
        The same button.
    """
    button.button_style = button.button_style or "primary"
    button.add_class(MAIN_CLASS)
    return button


def display_data(obj: Any) -> dict[str, Any]:
    """``obj`` as a Jupyter ``display_data`` output, formatted the way IPython's ``display`` does.

    The running shell's formatters are used when there is one (so ``_repr_html_``,
    ``_repr_mimebundle_`` of widgets and any formatter the user registered apply), IPython's
    default formatters otherwise (scripts and tests).

    Parameters
    ----------
    obj : object

    Returns
    -------
    dict
        ``{"output_type": "display_data", "data": ..., "metadata": ...}``.
    """
    from IPython import get_ipython
    from IPython.core.formatters import DisplayFormatter

    shell = get_ipython()
    formatter = shell.display_formatter if shell is not None else DisplayFormatter()
    data, metadata = formatter.format(obj)
    return {"output_type": "display_data", "data": data, "metadata": metadata}


def _figure_data(fig: Any) -> dict[str, Any]:
    # Rendered here, like the inline backend does, so the picture needs no backend set up.
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    png = base64.b64encode(buf.getvalue()).decode("ascii")
    text = f"<Figure with {len(fig.axes)} Axes>"
    return {
        "output_type": "display_data",
        "data": {"image/png": png, "text/plain": text},
        "metadata": {},
    }


def _default_plots(result: Any) -> list[Callable[..., Any]]:
    plot = getattr(result, "plot", None)
    # pandas' .plot is an accessor for any chart of the table, not a picture of a result.
    if result is None or not callable(plot) or isinstance(result, pd.DataFrame | pd.Series):
        return []
    return [plot]


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
    main_button : ipywidgets.Button or None
        The panel's main action, set by :meth:`set_main_button`.
    status : ipywidgets.HTML
        One line of status or error text.
    progress : ProgressWidget
        Follows progress bars of the work run through :meth:`run`.
    output : ipywidgets.Output
        Where :meth:`show` displays results, tables and plots.
    result : object or None
        The last result object of the panel's main action (``None`` before the first success).
    figure : matplotlib.figure.Figure or None
        The figure :meth:`show` drew last.
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
        self.output.add_class("workbench-output")  # where browser tests look for results
        self.main_button: widgets.Button | None = None
        self.export: Any = None
        self.result: Any = None
        self.figure: Any = None
        self.last_error: str | None = None
        self.title = title
        super().__init__([self.header, self.controls, self.progress, self.status, self.output])

    def set_main_button(self, button: widgets.Button) -> widgets.Button:
        """Make ``button`` the panel's main action (:attr:`main_button`, see :func:`mark_main`).

        Parameters
        ----------
        button : ipywidgets.Button

        Returns
        -------
        ipywidgets.Button
            The same button.
        """
        self.main_button = mark_main(button)
        return button

    def offer(
        self, frame: Any, name: str, *, tool: str, workspace: Any = None
    ) -> Any:
        """Offer ``frame`` (a result's table) to save in the workspace or download as CSV.

        The first call adds a :class:`~workbench.ui.export.ResultExport` row under the status
        line, kept in :attr:`export`; later calls replace what it offers.

        Parameters
        ----------
        frame : pandas.DataFrame or None
            The rows to offer, with the user's ids where the result refers to rows.
        name : str
            Table name proposed (the user may change it).
        tool : str
            Which tool made it.
        workspace : Workspace, optional
            Where to save; default the shared workspace.

        Returns
        -------
        ResultExport
        """
        from workbench.ui.export import ResultExport

        if self.export is None:
            self.export = ResultExport(name, tool=tool, workspace=workspace, run=self.run)
            kids = list(self.children)
            kids.insert(kids.index(self.output), self.export)
            self.children = tuple(kids)
        elif workspace is not None:
            self.export.workspace = workspace
        self.export.set_frame(frame, f"{name}.csv")
        return self.export

    def show(
        self,
        result: Any,
        *,
        plots: Sequence[Callable[..., Any]] | None = None,
        also: Sequence[Any] = (),
        clear: bool = True,
        figsize: tuple[float, float] | None = None,
        ncols: int | None = None,
    ) -> Any:
        """Display ``result`` in :attr:`output`: its plot, its notebook view, then ``also``.

        The picture comes first, the tables under it. The view is what IPython's ``display``
        shows (a result's ``_repr_html_``). The plots are drawn side by side on one figure that
        pyplot never holds, shown as a PNG and kept in :attr:`figure`: no figure is left open,
        and ``plt.show()`` never shows it again. An error while drawing or formatting is shown
        in the panel (see :meth:`show_exception`), not raised; call it after :meth:`run`, or
        inside the work ``run`` does (``run`` then reports that error instead of "Done").

        Parameters
        ----------
        result : object or None
            What to display; ``None`` displays nothing (``show(None)`` just clears the area).
        plots : sequence of callable, optional
            Drawing functions, each called as ``plot(ax=ax)``. Default: ``[result.plot]`` when
            the result has a ``plot`` method (pandas objects excepted); ``[]`` draws nothing.
        also : sequence of object, default=()
            Displayed after the result (further tables or results).
        clear : bool, default=True
            Empty the output area (and :attr:`figure`) first; ``False`` appends below.
        figsize : (float, float), optional
            Size of the figure in inches; default 5.5 wide per column and 3.8 high per row.
        ncols : int, optional
            Plots per row (e.g. a grid of images); default all in one row.

        Returns
        -------
        matplotlib.figure.Figure or None
            The figure drawn, or ``None`` when there was nothing to plot or drawing failed.
        """
        if clear:
            self.output.clear_output()
            self.output.outputs = ()
            self.figure = None
        plots = _default_plots(result) if plots is None else list(plots)
        try:
            shown: list[dict[str, Any]] = []
            fig = None
            if plots:
                from matplotlib.figure import Figure

                cols = max(1, min(ncols or len(plots), len(plots)))
                rows = -(-len(plots) // cols)
                fig = Figure(figsize=figsize or (5.5 * cols, 3.8 * rows))
                axes = fig.subplots(rows, cols, squeeze=False).ravel()
                for ax in axes[len(plots) :]:
                    ax.set_axis_off()
                for plot, ax in zip(plots, axes, strict=False):
                    plot(ax=ax)
                fig.tight_layout()
                shown.append(_figure_data(fig))
            shown += [display_data(obj) for obj in ([] if result is None else [result])]
            shown += [display_data(obj) for obj in also]
        except Exception as exc:
            self.show_exception(exc)
            return None
        self.output.outputs += tuple(shown)
        if fig is not None:
            self.figure = fig
        return fig

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
        if self.last_error is None:  # fn may have shown an error of its own (e.g. via show())
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
