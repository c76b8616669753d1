"""emlearn, imported and called without its side effect on numpy's error handling."""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from typing import Any

import numpy as np

from workbench.core.errors import DependencyError

__all__ = ["import_emlearn", "numpy_errors_restored"]


@contextlib.contextmanager
def numpy_errors_restored() -> Iterator[None]:
    """Restore numpy's floating-point error settings when the block ends.

    emlearn sets ``numpy.seterr(all="raise")`` for the whole process on import; wrap every
    import of and call into emlearn with this.

    Yields
    ------
    None
    """
    saved = np.geterr()
    try:
        yield
    finally:
        np.seterr(**saved)


def import_emlearn() -> Any:
    """Import emlearn without its side effect on numpy's error handling.

    ``import emlearn`` calls ``numpy.seterr(all="raise")`` for the whole process, which makes
    unrelated code (scikit-learn's MLP training, for one) crash on harmless underflows. The
    previous settings are restored right after the import.

    Returns
    -------
    module
        The ``emlearn`` module.

    Raises
    ------
    DependencyError
        If emlearn is not installed.
    """
    with numpy_errors_restored():
        try:
            module = importlib.import_module("emlearn")
            for sub in ("trees", "net", "bayes"):
                importlib.import_module(f"emlearn.{sub}")
        except ImportError as exc:
            raise DependencyError(
                f"emlearn is needed for tree export ({exc}); `pip install emlearn`."
            ) from None
    return module
