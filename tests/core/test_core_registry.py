"""Discovery of ``workbench.tools`` entry points from real (temporary) installed distributions."""

import sys
import textwrap
import warnings

import pytest

from workbench.core import errors, registry


def _install_fake_dist(site, dist, module, entry_points, source):
    """Write a minimal installed distribution (dist-info + module) into ``site``."""
    info = site / f"{dist}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    lines = "\n".join(f"{k} = {v}" for k, v in entry_points.items())
    (info / "entry_points.txt").write_text(f"[workbench.tools]\n{lines}\n")
    (site / f"{module}.py").write_text(textwrap.dedent(source))


@pytest.fixture
def site(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.path.remove(str(tmp_path))
    for name in (
        "good_plugin",
        "broken_plugin",
        "wrong_plugin",
        "dup_plugin",
        "exit_plugin",
        "genexit_plugin",
        "interrupt_plugin",
        "nosy_plugin",
    ):
        sys.modules.pop(name, None)
    registry.tools(refresh=True)


def test_builtin_tools_are_registered():
    own = [t.name for t in registry.tools(refresh=True) if t.source == "ml-trends-workbench"]
    assert own == ["indb", "edge", "transcribe", "valuation", "coldstart", "privacy"]


def test_broken_plugin_warns_by_name_and_others_still_load(site):
    _install_fake_dist(
        site,
        "good_plugin",
        "good_plugin",
        {"goodtool": "good_plugin:SPEC"},
        """
        from workbench.core.registry import ToolSpec
        SPEC = ToolSpec(name="goodtool", title="Good", description="Works.",
                        panel=lambda: "panel", order=1)
        """,
    )
    _install_fake_dist(
        site,
        "broken_plugin",
        "broken_plugin",
        {"badtool": "broken_plugin:SPEC"},
        "import a_module_that_does_not_exist\n",
    )
    _install_fake_dist(
        site,
        "wrong_plugin",
        "wrong_plugin",
        {"wrongtool": "wrong_plugin:SPEC"},
        "SPEC = 42\n",
    )
    with pytest.warns(registry.PluginWarning) as record:
        names = [t.name for t in registry.tools(refresh=True)]
    messages = [str(w.message) for w in record]
    assert any(
        "badtool" in m and "broken_plugin" in m and "ModuleNotFoundError" in m for m in messages
    )
    assert any("wrongtool" in m and "not a workbench.core.registry.ToolSpec" in m for m in messages)
    assert names[0] == "goodtool" and "indb" in names and "badtool" not in names
    good = registry.get("goodtool")
    assert good.source == "good_plugin" and good.create_panel() == "panel"
    assert set(registry.load_errors()) == {"badtool", "wrongtool"}


def test_spec_factory_callable_and_duplicate_name(site):
    _install_fake_dist(
        site,
        "dup_plugin",
        "dup_plugin",
        {"dup": "dup_plugin:make"},
        """
        from workbench.core.registry import ToolSpec
        def make():
            return ToolSpec(name="indb", title="Clash", description="Same name.", panel="x:y")
        """,
    )
    with pytest.warns(registry.PluginWarning, match="already registered"):
        specs = {t.name: t for t in registry.tools(refresh=True)}
    assert specs["indb"].title == "In-database inference"


def test_get_unknown_tool_lists_names():
    with pytest.raises(errors.UnknownNameError, match="indb"):
        registry.get("nope")


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"name": "Bad Name"}, "invalid"),
        ({"title": " "}, "non-empty title"),
        ({"panel": "no_colon"}, "module:attribute"),
        ({"panel": 3}, "callable"),
    ],
)
def test_toolspec_validation(kwargs, fragment):
    base = {"name": "ok", "title": "T", "description": "D", "panel": "m:a"}
    with pytest.raises(errors.PluginError, match=fragment):
        registry.ToolSpec(**{**base, **kwargs})


def test_panel_import_failure_is_a_plugin_error():
    spec = registry.ToolSpec(name="x", title="X", description="d", panel="no_such_mod:Panel")
    with pytest.raises(errors.PluginError, match="could not be imported"):
        spec.create_panel()


def test_register_and_unregister_at_runtime():
    spec = registry.ToolSpec(name="tmp_tool", title="Tmp", description="d", panel=lambda: 1)
    registry.register(spec)
    try:
        assert registry.get("tmp_tool") is spec
        with pytest.raises(errors.PluginError, match="already registered"):
            registry.register(
                registry.ToolSpec(name="indb", title="T", description="d", panel="a:b")
            )
    finally:
        registry.unregister("tmp_tool")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert "tmp_tool" not in [t.name for t in registry.tools()]


@pytest.mark.parametrize(
    ("module", "body", "kind"),
    [
        ("exit_plugin", "import sys\nsys.exit(3)\n", "SystemExit"),
        ("genexit_plugin", "raise GeneratorExit('odd')\n", "GeneratorExit"),
    ],
    ids=["SystemExit", "GeneratorExit"],
)
def test_plugin_raising_base_exception_at_import_is_isolated(site, module, body, kind):
    _install_fake_dist(site, module, module, {"quitter": f"{module}:SPEC"}, body)
    with pytest.warns(registry.PluginWarning) as record:
        names = [t.name for t in registry.tools(refresh=True)]
    assert "quitter" not in names and "indb" in names
    assert any(kind in str(w.message) and module in str(w.message) for w in record)
    assert kind in registry.load_errors()["quitter"]


def test_keyboard_interrupt_in_a_plugin_is_not_swallowed(site):
    _install_fake_dist(
        site,
        "interrupt_plugin",
        "interrupt_plugin",
        {"stopper": "interrupt_plugin:SPEC"},
        "raise KeyboardInterrupt\n",
    )
    with pytest.raises(KeyboardInterrupt):
        registry.tools(refresh=True)


def test_plugin_using_the_registry_while_loading_fails_instead_of_hanging(site):
    _install_fake_dist(
        site,
        "nosy_plugin",
        "nosy_plugin",
        {"nosy": "nosy_plugin:SPEC"},
        """
        from workbench.core import registry
        registry.tools()
        SPEC = None
        """,
    )
    with pytest.warns(registry.PluginWarning, match="while plugins were being loaded"):
        names = [t.name for t in registry.tools(refresh=True)]
    assert "nosy" not in names and "indb" in names


@pytest.mark.parametrize("exc", [RuntimeError("kaput"), SystemExit(2)])
def test_panel_factory_failure_is_a_plugin_error(exc):
    def factory():
        raise exc

    spec = registry.ToolSpec(name="x", title="X", description="d", panel=factory, source="pkg")
    with pytest.raises(errors.PluginError, match=f"failed to open: {type(exc).__name__}.*pkg"):
        spec.create_panel()


def test_panel_factory_workbench_error_passes_unchanged():
    def factory():
        raise errors.InputError("set WB_HOME first.")

    spec = registry.ToolSpec(name="x", title="X", description="d", panel=factory)
    with pytest.raises(errors.InputError, match=r"^set WB_HOME first\.$"):
        spec.create_panel()


def test_panel_import_raising_system_exit_is_a_plugin_error(site):
    (site / "exit_plugin.py").write_text("raise SystemExit('bye')\n")
    spec = registry.ToolSpec(name="x", title="X", description="d", panel="exit_plugin:Panel")
    with pytest.raises(errors.PluginError, match="could not be imported: SystemExit: bye"):
        spec.create_panel()
