"""Shared kernel of the workbench: errors, validation, progress, parallelism, results, registry.

``workbench.core`` imports no other workbench module (see the README's Architecture section).
Submodules load on first attribute access, so ``import workbench`` stays cheap: every joblib
worker process pays the import again.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["datasets", "errors", "parallel", "progress", "registry", "results", "validation"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return importlib.import_module(f"workbench.core.{name}")
    raise AttributeError(f"module 'workbench.core' has no attribute {name!r}")
