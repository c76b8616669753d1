"""The house rules that can be checked mechanically: import direction, notebooks, Binder."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "workbench"
TOOLS = ["indb", "edge", "transcribe", "valuation", "coldstart", "privacy"]


def _workbench_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("workbench")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.startswith("workbench"):
                found.add(node.module)
    return found


def _second(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_core_imports_no_other_workbench_module():
    for path in (PKG / "core").rglob("*.py"):
        bad = {m for m in _workbench_imports(path) if _second(m) not in {"core"}}
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


@pytest.mark.parametrize("tool", TOOLS)
def test_tool_imports_only_core_and_ui_only_in_panel(tool):
    for path in (PKG / tool).rglob("*.py"):
        allowed = {"core", tool} | ({"ui"} if path.name == "panel.py" else set())
        bad = {m for m in _workbench_imports(path) if _second(m) not in allowed}
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


@pytest.mark.parametrize("tool", TOOLS)
def test_tool_package_import_is_headless(tool):
    code = (
        f"import sys, workbench.{tool}, workbench.{tool}.spec; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'ipywidgets', 'workbench'} and (m.startswith('ipywidgets') or "
        "m.startswith('workbench.ui'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _notebooks() -> list[Path]:
    return sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_every_notebook_is_linked_from_the_tour():
    tour = json.loads((ROOT / "notebooks" / "00_tour.ipynb").read_text(encoding="utf-8"))
    text = "".join("".join(c["source"]) for c in tour["cells"] if c["cell_type"] == "markdown")
    linked = set(re.findall(r"\(([0-9]{2}_[a-z_]+\.ipynb)\)", text))
    present = {p.name for p in _notebooks()} - {"00_tour.ipynb"}
    assert present <= linked, f"not linked from the tour: {sorted(present - linked)}"
    for spec_file in PKG.glob("*/spec.py"):
        nb = re.search(r'notebook="([^"]+)"', spec_file.read_text()).group(1)
        assert nb in linked, f"{spec_file.parent.name}'s notebook {nb} is not in the tour"


def test_notebooks_are_committed_with_outputs_and_fixed_kernel():
    for path in _notebooks():
        nb = json.loads(path.read_text(encoding="utf-8"))
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        assert code, f"{path.name} has no code"
        assert all(c.get("execution_count") for c in code), f"{path.name} is not executed"
        assert nb["metadata"]["kernelspec"]["name"] == "python3"


def test_binder_installs_the_package_and_extensions():
    req = (ROOT / "binder" / "requirements.txt").read_text().split()
    assert "-e" in req and "." in req, "binder/requirements.txt must install the repo (-e .)"
    assert (ROOT / "binder" / "runtime.txt").read_text().strip() == "python-3.11"
    post = (ROOT / "binder" / "postBuild").read_text()
    assert "set -e" in post and "extensions/*/" in post
    assert (ROOT / "binder" / "postBuild").stat().st_mode & 0o111
    assert "gcc" in (ROOT / "binder" / "apt.txt").read_text().split()


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"^make (\w+)", readme, flags=re.M)[:2]
    assert commands == ["lab", "test"]
    assert re.search(r"^make test$", (ROOT / ".ci" / "run").read_text(), flags=re.M)
