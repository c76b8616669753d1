"""Shared kernel of the workbench: errors, validation, progress, parallelism, results, registry.

``workbench.core`` imports no other workbench module (see the README's Architecture section).
"""

from workbench.core import datasets, errors, parallel, progress, registry, results, validation

__all__ = ["datasets", "errors", "parallel", "progress", "registry", "results", "validation"]
