"""The launcher and panel base, driven like a user would: set values, click buttons."""

import ipywidgets as widgets
import pytest

import workbench
from workbench.core import registry
from workbench.core.errors import InputError
from workbench.core.progress import progress
from workbench.ui import ToolPanel


class _EchoPanel(ToolPanel):
    def __init__(self):
        super().__init__("Echo", "Repeats its input.")
        self.text = widgets.Text(value="hi")
        self.go = self.set_main_button(widgets.Button(description="Go"))
        self.go.on_click(lambda _b: self._go())
        self.controls.children = [self.text, self.go]
        self.result = None

    def _go(self):
        self.result = self.run(self._work, self.text.value)

    @staticmethod
    def _work(value):
        if not value:
            raise InputError("text is empty; type something.")
        for _ in progress(range(4), desc="echo", disable=True):
            pass
        return value * 2


@pytest.fixture
def echo_tool():
    spec = registry.register(
        registry.ToolSpec(
            name="echo", title="Echo", description="Repeats.", panel=_EchoPanel, order=0
        )
    )
    yield spec
    registry.unregister("echo")


def test_launcher_lists_every_tool_as_a_card(echo_tool):
    launcher = workbench.launcher()
    assert next(iter(launcher.cards)) == "echo"
    assert {"indb", "privacy"} <= set(launcher.cards)
    card = launcher.cards["echo"]
    assert "Repeats." in card.text.value and card.button.description == "Open"
    assert repr(launcher).startswith("Launcher(tools=['echo', 'indb'")


def test_open_button_shows_panel_in_a_tab_once(echo_tool):
    launcher = workbench.launcher()
    launcher.cards["echo"].button.click()
    panel = launcher.panels["echo"]
    assert isinstance(panel, _EchoPanel)
    assert launcher.tabs.children == (panel,)
    assert launcher.tabs.get_title(0) == "Echo"
    launcher.cards["echo"].button.click()
    assert launcher.tabs.children == (panel,) and launcher.tabs.selected_index == 0


def test_each_opened_tool_keeps_its_tab_title(echo_tool):
    registry.register(
        registry.ToolSpec(name="echo2", title="Echo two", description="d", panel=_EchoPanel)
    )
    try:
        launcher = workbench.launcher()
        launcher.open_tool("echo")
        launcher.open_tool("echo2")
        assert launcher.tabs.titles == ("Echo", "Echo two")
        assert launcher.tabs.selected_index == 1
        launcher.open_tool("echo")
        assert launcher.tabs.selected_index == 0 and launcher.tabs.titles == ("Echo", "Echo two")
    finally:
        registry.unregister("echo2")


def test_panel_failing_to_import_shows_message_not_traceback():
    registry.register(
        registry.ToolSpec(name="ghost", title="Ghost", description="d", panel="nowhere:Panel")
    )
    try:
        launcher = workbench.launcher()
        launcher.cards["ghost"].button.click()
    finally:
        registry.unregister("ghost")
    assert "ghost" not in launcher.panels
    assert "could not be imported" in launcher.message.value


def test_panel_run_reports_result_progress_and_errors():
    panel = _EchoPanel()
    panel.go.click()
    assert panel.result == "hihi" and panel.last_error is None
    assert "Done in" in panel.status.value
    assert panel.status._dom_classes == ("workbench-status-ok",)
    assert panel.progress.bar.value == 1.0 and "echo 4/4" in panel.progress.label.value
    panel.text.value = ""
    panel.go.click()
    assert panel.result is None
    assert panel.last_error == "text is empty; type something."
    assert "text is empty" in panel.status.value
    assert panel.status._dom_classes == ("workbench-status-error",)
    assert repr(panel) == "_EchoPanel(title='Echo')"
    assert "workbench-main" in panel.go._dom_classes and panel.go.button_style == "primary"


def test_panel_run_catches_unexpected_errors():
    panel = ToolPanel("T")

    def boom():
        raise RuntimeError("kaput")

    assert panel.run(boom) is None
    assert panel.last_error == "Unexpected error (RuntimeError): kaput"


def test_launcher_import_keeps_api_headless():
    import subprocess
    import sys

    code = (
        "import sys, workbench, workbench.core; "
        "[s.name for s in workbench.core.registry.tools()]; "
        "print('ipywidgets' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
