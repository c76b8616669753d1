"""Tool registry: every tool, built-in or plugin, is a ``workbench.tools`` entry point.

An entry point names either a :class:`ToolSpec` object or a zero-argument callable returning one::

    [project.entry-points."workbench.tools"]
    drift = "workbench_drift.spec:SPEC"

A plugin that fails to import, or does not produce a valid spec, is skipped with a
:class:`PluginWarning` naming it; the other tools still load. "Fails" means any exception except
:class:`KeyboardInterrupt`: a plugin that calls ``sys.exit()`` or raises ``SystemExit`` or
``GeneratorExit`` while importing is isolated like one that raises ``ImportError``, so it cannot end
the process that opened the launcher. The launcher lists :func:`tools`.
"""

from __future__ import annotations

import dataclasses
import importlib
import re
import threading
import warnings
from collections.abc import Callable
from importlib import metadata
from typing import Any

from workbench.core.errors import PluginError, UnknownNameError, WorkbenchError

__all__ = [
    "GROUP",
    "PluginWarning",
    "ToolSpec",
    "get",
    "load_errors",
    "register",
    "tools",
    "unregister",
]

GROUP = "workbench.tools"
_OWN_DIST = "ml-trends-workbench"
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class PluginWarning(UserWarning):
    """Issued when a ``workbench.tools`` entry point cannot be loaded."""


@dataclasses.dataclass(frozen=True)
class ToolSpec:
    """Describes one tool to the launcher.

    Parameters
    ----------
    name : str
        Short identifier: lowercase letters, digits and underscores (``"indb"``).
    title : str
        Human title shown on the launcher card.
    description : str
        One line saying what the tool does.
    panel : str or callable
        ``"package.module:attribute"`` of a zero-argument panel factory (imported only when the
        panel is opened, so listing tools never imports ipywidgets code), or the factory itself.
    notebook : str, optional
        File name of the tool's notebook under ``notebooks/``.
    order : int, default=100
        Position on the launcher; lower comes first.
    source : str, default=""
        Distribution that provided the tool; filled in by discovery.
    """

    name: str
    title: str
    description: str
    panel: str | Callable[[], Any]
    notebook: str | None = None
    order: int = 100
    source: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise PluginError(
                f"Tool name {self.name!r} is invalid; use lowercase letters, digits and '_'."
            )
        for field in ("title", "description"):
            if not isinstance(getattr(self, field), str) or not getattr(self, field).strip():
                raise PluginError(f"Tool {self.name!r} needs a non-empty {field}.")
        if isinstance(self.panel, str):
            if ":" not in self.panel:
                raise PluginError(
                    f"Tool {self.name!r}: panel {self.panel!r} must look like 'module:attribute'."
                )
        elif not callable(self.panel):
            raise PluginError(
                f"Tool {self.name!r}: panel must be a 'module:attr' string or callable."
            )

    def panel_factory(self) -> Callable[[], Any]:
        """Import and return the zero-argument panel factory."""
        if callable(self.panel):
            return self.panel
        module_name, _, attr = self.panel.partition(":")
        try:
            obj: Any = importlib.import_module(module_name)
            for part in attr.split("."):
                obj = getattr(obj, part)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # SystemExit in a plugin's import must not end the process
            raise PluginError(
                f"Panel of tool {self.name!r} ({self.panel}) could not be imported: "
                f"{type(exc).__name__}: {exc}. "
                f"Reinstall {self.source or 'the package that provides it'}."
            ) from exc
        return obj

    def create_panel(self) -> Any:
        """Build a fresh panel widget for this tool.

        Returns
        -------
        object
            What the panel factory returned (an ipywidgets widget).

        Raises
        ------
        PluginError
            If the factory cannot be imported or raises anything but :class:`KeyboardInterrupt`;
            the message names the tool, the original error and the distribution to fix. A
            :class:`~workbench.core.errors.WorkbenchError` raised by the factory is passed on
            unchanged, as its message already says what to do.
        """
        factory = self.panel_factory()
        try:
            return factory()
        except (KeyboardInterrupt, WorkbenchError):
            raise
        except BaseException as exc:
            raise PluginError(
                f"The panel of tool {self.name!r} failed to open: {type(exc).__name__}: {exc}. "
                f"This is a bug in {self.source or 'the package that provides it'}; "
                "report it or reinstall that package."
            ) from exc


_lock = threading.Lock()
_cache: dict[str, ToolSpec] | None = None
_errors: dict[str, str] = {}
_manual: dict[str, ToolSpec] = {}
_loading_thread: int | None = None


def _load_entry_point(ep: metadata.EntryPoint) -> ToolSpec:
    obj = ep.load()
    if not isinstance(obj, ToolSpec) and callable(obj):
        obj = obj()
    if not isinstance(obj, ToolSpec):
        raise PluginError(f"it gave {type(obj).__name__}, not a workbench.core.registry.ToolSpec")
    if not obj.source and ep.dist is not None:
        obj = dataclasses.replace(obj, source=ep.dist.name)
    return obj


def _discover() -> dict[str, ToolSpec]:
    found: dict[str, ToolSpec] = {}
    _errors.clear()
    # The workbench's own tools come first so a plugin cannot shadow one by reusing its name;
    # plugins follow in distribution-name order, independent of sys.path order.
    eps = sorted(
        metadata.entry_points(group=GROUP),
        key=lambda ep: (
            ep.dist is None or ep.dist.name != _OWN_DIST,
            ep.dist.name if ep.dist is not None else "",
            ep.name,
        ),
    )
    for ep in eps:
        dist = ep.dist.name if ep.dist is not None else "unknown distribution"
        label = f"{ep.name} = {ep.value} (from {dist})"
        try:
            spec = _load_entry_point(ep)
        except KeyboardInterrupt:
            raise
        # A broken plugin must not take down the others nor the process: SystemExit (sys.exit()
        # at import) and GeneratorExit are isolated too. _discover is no generator, so a
        # GeneratorExit seen here came from the plugin's code, not from closing this frame.
        except BaseException as exc:
            msg = (
                f"workbench plugin {label} failed to load: {type(exc).__name__}: {exc}. "
                f"The other tools are unaffected; fix, reinstall or uninstall {dist!r}."
            )
            _errors[ep.name] = msg
            warnings.warn(msg, PluginWarning, stacklevel=3)
            continue
        if spec.name in found:
            msg = (
                f"workbench plugin {label} registers the tool name {spec.name!r} that "
                f"{found[spec.name].source!r} already registered; keeping the first."
            )
            _errors[ep.name] = msg
            warnings.warn(msg, PluginWarning, stacklevel=3)
            continue
        found[spec.name] = spec
    return found


def tools(refresh: bool = False) -> list[ToolSpec]:
    """Return every registered tool, sorted by ``order`` then ``name``.

    Parameters
    ----------
    refresh : bool, default=False
        Re-scan installed entry points (after installing or removing a plugin).
    """
    global _cache, _loading_thread
    if _loading_thread == threading.get_ident():
        # A plugin's import asked for the tools while the registry was importing it: waiting on
        # the lock would hang for ever, so that plugin fails (and is isolated) instead.
        raise PluginError(
            "The tool registry was used (tools(), get() or register()) while plugins were being "
            "loaded, from inside a plugin's import; look tools up later, e.g. in the panel factory."
        )
    with _lock:
        if _cache is None or refresh:
            _loading_thread = threading.get_ident()
            try:
                _cache = _discover()
            finally:
                _loading_thread = None
        merged = {**_cache, **_manual}
    return sorted(merged.values(), key=lambda s: (s.order, s.name))


def get(name: str) -> ToolSpec:
    """Return the tool called ``name``; raise :class:`UnknownNameError` listing the others."""
    for spec in tools():
        if spec.name == name:
            return spec
    raise UnknownNameError("tool", name, [s.name for s in tools()])


def register(spec: ToolSpec, *, replace: bool = False) -> ToolSpec:
    """Register a tool at run time (for notebooks and tests; packages use entry points)."""
    if not isinstance(spec, ToolSpec):
        raise PluginError(f"register() needs a ToolSpec, got {type(spec).__name__}.")
    names = {s.name for s in tools()}
    if spec.name in names and not replace and spec.name not in _manual:
        raise PluginError(f"A tool named {spec.name!r} is already registered; pass replace=True.")
    _manual[spec.name] = spec
    return spec


def unregister(name: str) -> None:
    """Remove a tool added with :func:`register`."""
    _manual.pop(name, None)


def load_errors() -> dict[str, str]:
    """Messages of the entry points that failed in the last discovery, by entry-point name."""
    tools()
    return dict(_errors)
