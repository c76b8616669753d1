"""Lazy exports: a package lists its public names and the submodule of each, loaded on first use.

Every tool package is imported by the launcher (through its spec) and by every joblib worker, so
``import workbench.<tool>`` must not pull in onnxruntime, faster-whisper or scikit-learn. A tool's
``__init__.py`` therefore writes::

    from workbench.core.lazy import lazy_exports

    __getattr__, __dir__, __all__ = lazy_exports(__name__, {"train_model": "training", ...})

Names resolve on first attribute access and are cached in the package namespace, so later accesses
cost nothing.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, where: Mapping[str, str], *, eager: tuple[str, ...] = ()
) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """Build a package's ``__getattr__``, ``__dir__`` and ``__all__`` for lazily loaded names.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    where : mapping of str to str
        Public name → submodule (relative to ``package``) that defines it.
    eager : tuple of str, default=()
        Public names defined in the package itself (listed in ``__all__`` too).

    Returns
    -------
    __getattr__ : callable
    __dir__ : callable
    __all__ : list of str
    """
    exports = dict(where)
    public = sorted({*exports, *eager})

    def __getattr__(name: str) -> Any:
        if name in exports:
            module = importlib.import_module(f"{package}.{exports[name]}")
            value = getattr(module, name)
            setattr(sys.modules[package], name, value)
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *public})

    return __getattr__, __dir__, public
