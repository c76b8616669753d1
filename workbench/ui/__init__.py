"""ipywidgets layer: the panel base, the data and model pickers, result export and the launcher.

Only panels and notebooks import this package; the tools' APIs never do.
"""

from workbench.ui.base import ToolPanel, mark_main
from workbench.ui.data_picker import DataPicker
from workbench.ui.export import ResultExport
from workbench.ui.launcher import Launcher
from workbench.ui.model_picker import ModelPicker
from workbench.ui.progress import ProgressWidget

__all__ = [
    "DataPicker",
    "Launcher",
    "ModelPicker",
    "ProgressWidget",
    "ResultExport",
    "ToolPanel",
    "mark_main",
]
