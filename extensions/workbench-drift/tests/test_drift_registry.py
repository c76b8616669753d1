"""The extension mechanism: the launcher lists the drift tool when installed, not when absent."""

from __future__ import annotations

import ast
import html
import importlib.metadata
import subprocess
import sys
from pathlib import Path

import pytest
import workbench_drift
from workbench_drift.panel import DriftPanel

from workbench.core import registry
from workbench.core.errors import UnknownNameError
from workbench.ui.launcher import Launcher

PACKAGE = Path(workbench_drift.__file__).parent


@pytest.fixture
def fresh_registry():
    registry.tools(refresh=True)
    yield
    registry.tools(refresh=True)


@pytest.fixture
def uninstalled(monkeypatch, fresh_registry):
    """Entry points as they are after ``pip uninstall workbench-drift``."""
    real = importlib.metadata.entry_points

    def without_drift(**params):
        found = real(**params)
        return importlib.metadata.EntryPoints(
            ep for ep in found if not ep.value.startswith("workbench_drift")
        )

    monkeypatch.setattr(importlib.metadata, "entry_points", without_drift)
    registry.tools(refresh=True)


def test_distribution_declares_the_entry_point():
    dist = importlib.metadata.distribution("workbench-drift")
    eps = [ep for ep in dist.entry_points if ep.group == registry.GROUP]
    assert [(ep.name, ep.value) for ep in eps] == [("drift", "workbench_drift.spec:SPEC")]
    assert any(r.startswith("ml-trends-workbench") for r in dist.requires)


def test_registry_and_launcher_show_the_installed_tool(fresh_registry):
    spec = registry.get("drift")
    assert spec.source == "workbench-drift"
    assert spec.title == "Drift monitoring"
    assert spec.notebook == "07_drift_monitoring.ipynb"
    assert spec.panel_factory() is DriftPanel
    assert "drift" not in registry.load_errors()
    launcher = Launcher(refresh=True)
    assert "drift" in launcher.cards
    assert "from workbench-drift" in launcher.cards["drift"].text.value
    panel = launcher.open_tool("drift")
    assert isinstance(panel, DriftPanel)
    assert launcher.tabs.get_title(launcher.tabs.selected_index) == "Drift monitoring"


def test_launcher_hides_the_tool_when_its_entry_point_is_absent(uninstalled):
    names = [s.name for s in registry.tools()]
    assert "drift" not in names
    assert {"indb", "privacy"} <= set(names)  # the built-in tools are unaffected
    with pytest.raises(UnknownNameError, match="Unknown tool 'drift'"):
        registry.get("drift")
    launcher = Launcher(refresh=True)
    assert "drift" not in launcher.cards
    assert launcher.open_tool("drift") is None
    assert "Unknown tool 'drift'" in html.unescape(launcher.message.value)


def test_it_comes_back_after_reinstall(uninstalled, monkeypatch):
    assert "drift" not in [s.name for s in registry.tools()]
    monkeypatch.undo()
    assert "drift" in [s.name for s in registry.tools(refresh=True)]


def test_listing_tools_does_not_import_widgets():
    code = (
        "import sys, workbench_drift.spec, workbench_drift\n"
        "workbench_drift.DriftMonitor, workbench_drift.monitor_table\n"
        "assert 'ipywidgets' not in sys.modules, 'ipywidgets imported'\n"
        "assert 'workbench_drift.monitor' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_imports_only_workbench_core_and_ui_in_the_panel():
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                top = name.split(".")
                if top[0] != "workbench":
                    assert top[0] != "ipywidgets" or path.name == "panel.py", path.name
                    continue
                allowed = {"core", "ui"} if path.name == "panel.py" else {"core"}
                assert len(top) > 1 and top[1] in allowed, f"{path.name} imports {name}"


def test_lazy_attributes():
    assert "DriftMonitor" in dir(workbench_drift)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        workbench_drift.nope  # noqa: B018
