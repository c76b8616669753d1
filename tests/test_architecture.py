"""The house rules that can be checked mechanically: import direction, notebooks, Binder."""

from __future__ import annotations

import ast
import importlib
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


# --- Small rooms: line limit, no private reaches across files, no import cycles -----------------

MAX_LINES = 500
EXT = ROOT / "extensions"


def _source_files() -> list[Path]:
    files = list(PKG.rglob("*.py"))
    for pkg in EXT.glob("*/*/__init__.py"):
        files += [p for p in pkg.parent.rglob("*.py") if "tests" not in p.parts]
    return sorted(files)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(EXT if EXT in path.parents else ROOT).with_suffix("").parts)
    if parts[0] != "workbench":
        parts = parts[1:]  # extensions/<dist>/<package>/...
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[str, str | None, int]]:
    """(module, imported name or None, line) for every import, at any depth, relative resolved."""
    mod = _module_name(path)
    package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(a.name, None, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            out += [(target, a.name, node.lineno) for a in node.names]
    return out


def _ours(module: str) -> bool:
    return module.split(".")[0] in {"workbench", "workbench_drift"}


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def test_no_module_is_over_500_lines():
    long = {
        str(p.relative_to(ROOT)): n
        for p in _source_files()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, f"split these modules along their seams: {long}"


def test_no_private_name_is_imported_across_files():
    files = _source_files() + sorted((ROOT / "benchmarks").glob("*.py"))
    bad = [
        f"{p.relative_to(ROOT)}:{line} imports {target}.{name}"
        for p in files
        for target, name, line in _imports(p)
        if _ours(target)
        and ((name and _private(name)) or any(_private(part) for part in target.split(".")))
    ]
    assert not bad, "make these public inside their tool:\n" + "\n".join(bad)


def _defined_names(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.keyword) and node.arg:
            names.add(node.arg)
    return names


def test_no_private_attribute_is_read_across_modules():
    """``obj._name`` (not on self/cls) where the module never defines ``_name`` itself.

    The few allowed reaches into scikit-learn's privates are listed with their reason.
    """
    allowed = {
        # scikit-learn has no public accessor for a fitted k-NN's training data.
        ("workbench/edge/neighbors.py", "_fit_X"),
        ("workbench/edge/neighbors.py", "_y"),
        # HistGradientBoosting's fitted trees and baseline, and GradientBoosting's init score,
        # have no public accessor; exporting them to C needs the exact fitted values.
        ("workbench/edge/boosting.py", "_predictors"),
        ("workbench/edge/boosting.py", "_baseline_prediction"),
        ("workbench/edge/boosting.py", "_raw_predict_init"),
        # The same fitted values, compiled to SQL; HistGradientBoosting's category bitsets and
        # bin mapper are how it decodes categorical splits and missing values.
        ("workbench/indb/sql_boosting.py", "_predictors"),
        ("workbench/indb/sql_boosting.py", "_baseline_prediction"),
        ("workbench/indb/sql_boosting.py", "_raw_predict_init"),
        ("workbench/indb/sql_boosting.py", "_preprocessor"),
        ("workbench/indb/sql_boosting.py", "_bin_mapper"),
    }
    files = _source_files() + sorted((ROOT / "benchmarks").glob("*.py"))
    bad = []
    for p in files:
        tree = ast.parse(p.read_text(encoding="utf-8"))
        defined = _defined_names(tree)
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Attribute) and _private(node.attr)):
                continue
            if node.attr in defined or node.attr.startswith("_repr_"):
                continue
            owner = node.value
            if isinstance(owner, ast.Name) and owner.id in {"self", "cls"}:
                continue
            if isinstance(owner, ast.Call) and getattr(owner.func, "id", "") == "super":
                continue
            if (str(p.relative_to(ROOT)), node.attr) not in allowed:
                bad.append(f"{p.relative_to(ROOT)}:{node.lineno} reads .{node.attr}")
    assert not bad, "use a public name instead:\n" + "\n".join(bad)


def _import_graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for p in _source_files()}
    graph: dict[str, set[str]] = {m: set() for m in files}
    for mod, path in files.items():
        for target, name, _ in _imports(path):
            for cand in (f"{target}.{name}" if name else None, target):
                if cand in files and cand != mod:
                    graph[mod].add(cand)
                    break
    # A package's lazy __init__ (core.lazy.lazy_exports) imports its submodules only on
    # attribute access, and submodules import siblings directly: package edges are not cycles.
    for mod in graph:
        graph[mod] = {t for t in graph[mod] if not mod.startswith(t + ".")}
    return graph


def test_no_import_cycles_even_through_imports_inside_functions():
    graph = _import_graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while (w := stack.pop()) != v:
                comp.append(w)
            if comp:
                cycles.append(sorted([v, *comp]))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    assert not cycles, f"import cycles: {cycles}"


@pytest.mark.parametrize("panel", sorted(PKG.glob("*/panel.py")) + sorted(EXT.glob("*/*/panel.py")),
                         ids=lambda p: p.parent.name)
def test_panels_use_only_their_tools_public_api(panel):
    """A panel imports its tool's package (its ``__all__``), core and ui, never a submodule."""
    tool = _module_name(panel).rpartition(".")[0]
    public = set(importlib.import_module(tool).__all__)
    bad = []
    for target, name, line in _imports(panel):
        if not _ours(target) or target.startswith(("workbench.core", "workbench.ui")):
            continue
        if target != tool or (name and name not in public):
            bad.append(f"line {line}: {target}.{name}" if name else f"line {line}: {target}")
    assert not bad, f"{panel.relative_to(ROOT)} reaches past {tool}.__all__: {bad}"


DOC_SECTIONS = {
    "indb": "## In-database inference",
    "edge": "## Edge model export",
    "transcribe": "## Local transcription",
    "valuation": "## Data valuation",
    "coldstart": "## Cold-start forecasting",
    "privacy": "## Privacy audit",
    "drift": "## Drift monitoring",
    "your_data": "## Your own data",
}


@pytest.mark.parametrize("tool", sorted(DOC_SECTIONS))
def test_docs_page_is_the_readme_section(tool):
    """docs/<tool>.md is the README's section, word for word, so the two never disagree."""
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if line.startswith("## ")]
    i = next(k for k in starts if lines[k].startswith(DOC_SECTIONS[tool]))
    j = next((k for k in starts if k > i), len(lines))
    section = "".join(lines[i:j]).rstrip("\n") + "\n"
    assert (ROOT / "docs" / f"{tool}.md").read_text(encoding="utf-8") == section
