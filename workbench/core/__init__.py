"""Shared kernel: errors, boundary checks, progress, parallelism, results, tool registry.

The boundary checks are :mod:`~workbench.core.validation` (arrays, targets, estimators),
:mod:`~workbench.core.params` (seeds, numbers, sizes, dates) and :mod:`~workbench.core.paths`
(files to write, private folders, atomic writes).

``workbench.core`` imports no other workbench module (see the README's Architecture section).
Submodules load on first attribute access, so ``import workbench`` stays cheap: every joblib
worker process pays the import again.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "column_checks",
    "customers",
    "datasets",
    "errors",
    "lazy",
    "models",
    "parallel",
    "params",
    "paths",
    "progress",
    "registry",
    "results",
    "sources",
    "tables",
    "tabular",
    "validation",
    "workspace",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return importlib.import_module(f"workbench.core.{name}")
    raise AttributeError(f"module 'workbench.core' has no attribute {name!r}")
