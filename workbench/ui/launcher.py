"""The launcher: one card per registered tool; "Open" shows the tool's panel in a tab.

Each card's "Open" button is marked as its main action (:func:`~workbench.ui.base.mark_main`),
the same mark a panel's main button carries.
"""

from __future__ import annotations

import html
import logging

import ipywidgets as widgets

from workbench.core import registry
from workbench.core.errors import PluginError, WorkbenchError
from workbench.ui.base import mark_main

__all__ = ["Launcher", "ToolCard"]

log = logging.getLogger(__name__)


class ToolCard(widgets.VBox):
    """Title, description and an "Open" button for one tool."""

    def __init__(self, spec: registry.ToolSpec) -> None:
        self.spec = spec
        notebook = (
            f"<div style='color:#777;font-size:0.85em'>notebook: {html.escape(spec.notebook)}</div>"
            if spec.notebook
            else ""
        )
        source = (
            f"<div style='color:#777;font-size:0.85em'>from {html.escape(spec.source)}</div>"
            if spec.source and spec.source != "ml-trends-workbench"
            else ""
        )
        self.text = widgets.HTML(
            f"<b>{html.escape(spec.title)}</b><div>{html.escape(spec.description)}</div>"
            f"{notebook}{source}"
        )
        self.button = mark_main(widgets.Button(description="Open", icon="play"))
        super().__init__(
            [self.text, self.button],
            layout=widgets.Layout(
                border="1px solid #ddd", padding="6px", margin="4px", width="300px"
            ),
        )

    def __repr__(self) -> str:
        return f"ToolCard({self.spec.name!r})"


class Launcher(widgets.VBox):
    """Cards for every installed tool and a tab area with the panels opened so far.

    Parameters
    ----------
    refresh : bool, default=False
        Re-scan the installed plugins before building the cards.

    Attributes
    ----------
    cards : dict of str to ToolCard
    panels : dict of str to widget
        Panels opened so far, by tool name.
    """

    def __init__(self, refresh: bool = False) -> None:
        self.specs = registry.tools(refresh=refresh)
        self.cards = {spec.name: ToolCard(spec) for spec in self.specs}
        for name, card in self.cards.items():
            card.button.on_click(lambda _b, name=name: self.open_tool(name))
        self.panels: dict[str, widgets.Widget] = {}
        self.tabs = widgets.Tab()
        self.message = widgets.HTML("")
        errors = registry.load_errors()
        notes = "".join(
            f"<div style='color:#b00020'>{html.escape(m)}</div>" for m in errors.values()
        )
        intro = widgets.HTML(
            f"<h3 style='margin:2px 0'>ML Trends Workbench</h3><div>{len(self.specs)} tool(s) "
            f"installed. Open one below.</div>{notes}"
            if self.specs
            else "<h3>ML Trends Workbench</h3><div>No tools are installed.</div>" + notes
        )
        grid = widgets.HBox(list(self.cards.values()), layout=widgets.Layout(flex_flow="row wrap"))
        super().__init__([intro, grid, self.message, self.tabs])

    def open_tool(self, name: str) -> widgets.Widget | None:
        """Open (or re-select) the panel of tool ``name`` and return it.

        Any failure of the tool's panel (it cannot be imported, its factory raises, it returns
        something that is not a widget) is shown in :attr:`message` and ``None`` is returned; the
        launcher and the other tools keep working. Only :class:`KeyboardInterrupt` is passed on.

        Parameters
        ----------
        name : str
            Name of a registered tool.

        Returns
        -------
        ipywidgets.Widget or None
            The panel, or ``None`` when it could not be opened.
        """
        # A message belongs to the last click only: never leave another tool's error standing.
        self.message.value = ""
        if name in self.panels:
            self.tabs.selected_index = list(self.panels).index(name)
            return self.panels[name]
        try:
            spec = registry.get(name)
            panel = spec.create_panel()
            if not isinstance(panel, widgets.Widget):
                raise PluginError(
                    f"The panel factory of tool {name!r} returned {type(panel).__name__}, not an "
                    f"ipywidgets widget; fix {spec.source or 'the package that provides it'}."
                )
        except KeyboardInterrupt:
            raise
        except WorkbenchError as exc:
            self._show_error(str(exc))
            return None
        except BaseException as exc:  # a plugin's bug (even sys.exit()) must not end the launcher
            log.exception("panel of tool %r failed to open", name)
            self._show_error(
                f"The panel of tool {name!r} failed to open: {type(exc).__name__}: {exc}"
            )
            return None
        self.panels[name] = panel
        titles = (*self.tabs.titles[: len(self.panels) - 1], spec.title)
        self.tabs.children = list(self.panels.values())
        self.tabs.titles = titles
        self.tabs.selected_index = len(self.panels) - 1
        return panel

    def _show_error(self, text: str) -> None:
        self.message.value = f"<span style='color:#b00020'>{html.escape(text)}</span>"

    def __repr__(self) -> str:
        return f"Launcher(tools={[s.name for s in self.specs]})"
