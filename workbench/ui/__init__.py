"""ipywidgets layer: the panel base, a progress widget and the launcher.

Only panels and notebooks import this package; the tools' APIs never do.
"""

from workbench.ui.base import ToolPanel, mark_main
from workbench.ui.launcher import Launcher
from workbench.ui.progress import ProgressWidget

__all__ = ["Launcher", "ProgressWidget", "ToolPanel", "mark_main"]
