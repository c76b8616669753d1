"""The launcher and panel base, driven like a user would: set values, click buttons."""

import html
import sys

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


def _failing_factory(exc):
    def factory():
        raise exc

    return factory


@pytest.fixture
def broken_tools():
    names = []

    def add(name, panel):
        registry.register(registry.ToolSpec(name=name, title=name, description="d", panel=panel))
        names.append(name)

    yield add
    for name in names:
        registry.unregister(name)


@pytest.mark.parametrize(
    "exc",
    [RuntimeError("kaput"), SystemExit(1), GeneratorExit(), InputError("no data; load some.")],
)
def test_panel_factory_that_raises_shows_message_in_launcher(broken_tools, exc):
    broken_tools("crasher", _failing_factory(exc))
    launcher = workbench.launcher()
    launcher.cards["crasher"].button.click()
    assert "crasher" not in launcher.panels and launcher.tabs.children == ()
    assert launcher.open_tool("crasher") is None
    expected = str(exc) if isinstance(exc, InputError) else type(exc).__name__
    assert expected in launcher.message.value and "b00020" in launcher.message.value


def test_keyboard_interrupt_in_panel_factory_is_passed_on(broken_tools):
    broken_tools("stopper", _failing_factory(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        workbench.launcher().open_tool("stopper")


def test_panel_factory_returning_no_widget_is_refused(broken_tools):
    broken_tools("textual", lambda: "not a widget")
    launcher = workbench.launcher()
    assert launcher.open_tool("textual") is None
    assert "not an ipywidgets widget" in launcher.message.value


def test_unknown_tool_name_shows_message():
    launcher = workbench.launcher()
    assert launcher.open_tool("nope") is None
    assert "Unknown tool" in launcher.message.value


def test_stale_error_of_another_tool_is_cleared(echo_tool, broken_tools):
    broken_tools("crasher", _failing_factory(RuntimeError("kaput")))
    launcher = workbench.launcher()
    launcher.open_tool("echo")
    launcher.open_tool("crasher")
    assert "kaput" in launcher.message.value
    launcher.cards["echo"].button.click()  # re-selects the open tab
    assert launcher.message.value == ""
    launcher.open_tool("crasher")
    assert "kaput" in launcher.message.value
    registry.register(
        registry.ToolSpec(name="echo3", title="E3", description="d", panel=_EchoPanel)
    )
    try:
        assert isinstance(launcher.open_tool("echo3"), _EchoPanel)
        assert launcher.message.value == ""
    finally:
        registry.unregister("echo3")


def test_plugin_exiting_at_import_does_not_end_the_launcher(tmp_path, monkeypatch):
    info = tmp_path / "exit_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: exit_plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[workbench.tools]\nquitter = exit_plugin:SPEC\n")
    (tmp_path / "exit_plugin.py").write_text("import sys\nsys.exit('plugin says bye')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        with pytest.warns(registry.PluginWarning, match="SystemExit: plugin says bye"):
            launcher = workbench.launcher(refresh=True)
        assert "quitter" not in launcher.cards and "indb" in launcher.cards
        assert "plugin says bye" in launcher.children[0].value
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("exit_plugin", None)
        registry.tools(refresh=True)


class _Fixed(InputError):
    pass


def test_panel_shows_any_workbench_error_and_clears_it_next_run():
    from workbench.core.errors import IntegrityError, ModelError, PluginError, UnknownNameError

    panel = ToolPanel("T")
    raised = [
        IntegrityError("file.duckdb is not a DuckDB file; pick another."),
        ModelError("model failed; refit it."),
        PluginError("plugin broke; reinstall it."),
        UnknownNameError("column", "z", ["a"]),
        _Fixed("subclass message."),
    ]
    for exc in raised:

        def fail(exc=exc):
            raise exc

        assert panel.run(fail) is None
        assert panel.last_error == str(exc) and "Unexpected" not in panel.last_error
        assert html.escape(str(exc)) in panel.status.value
        assert panel.run(lambda: 1) == 1
        assert panel.last_error is None and "Done in" in panel.status.value
        assert str(exc) not in panel.status.value


def test_panel_shows_wrapped_workbench_error_but_not_bugs_in_handlers():
    panel = ToolPanel("T")

    def wrapped():
        try:
            raise InputError("rows missing; pass rows.")
        except InputError as err:
            raise RuntimeError("worker failed") from err

    def grouped():
        raise ExceptionGroup("workers", [ValueError("v"), InputError("bad window; widen it.")])

    def handler_bug():
        try:
            raise InputError("first")
        except InputError:
            return {}["missing"]

    def empty():
        raise InputError()

    assert panel.run(wrapped) is None and panel.last_error == "rows missing; pass rows."
    assert panel.run(grouped) is None and panel.last_error == "bad window; widen it."
    assert panel.run(handler_bug) is None
    assert panel.last_error.startswith("Unexpected error (KeyError)")
    assert panel.run(empty) is None and panel.last_error.startswith("InputError")


def test_panel_error_shown_outside_run_is_cleared_by_next_run():
    panel = _EchoPanel()
    panel.show_error("Select something first.")
    panel.go.click()
    assert panel.last_error is None and "Select something" not in panel.status.value
