"""ML Trends Workbench: six machine-learning trends as offline tools.

Each tool lives in its own subpackage (``workbench.indb``, ``workbench.edge`` ...) and is usable as
a plain Python API, as an ipywidgets panel and from a notebook. The shared kernel is
:mod:`workbench.core`; the widget layer is :mod:`workbench.ui`, imported only on demand so the API
works headless.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workbench import core

__version__ = "0.1.0"
__all__ = ["__version__", "core", "launcher"]

if TYPE_CHECKING:  # pragma: no cover
    from workbench.ui.launcher import Launcher


def launcher(**kwargs: Any) -> Launcher:
    """Return the launcher widget listing every installed workbench tool.

    ``ipywidgets`` is imported only here, so ``import workbench`` stays headless.

    Parameters
    ----------
    **kwargs
        Passed to :class:`workbench.ui.launcher.Launcher`.

    Returns
    -------
    Launcher
        An ipywidgets container; display it as the last expression of a notebook cell.
    """
    from workbench.ui.launcher import Launcher

    return Launcher(**kwargs)
