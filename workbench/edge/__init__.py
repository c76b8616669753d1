"""Edge model export: a model and its feature extraction as C for microcontrollers.

Parity with scikit-learn and flash/RAM size are proven by compiling the generated code.

The public names are loaded on first use, so importing this package (the launcher imports every
tool's spec) stays cheap and pulls in neither scikit-learn nor emlearn nor ipywidgets.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "SUPPORTED_ESTIMATORS",
    "BudgetResult",
    "EdgeArtifact",
    "FeatureCheck",
    "ParityReport",
    "PipelineReport",
    "VibrationData",
    "csv_predict",
    "export",
    "export_emlearn_default",
    "feature_names",
    "features_c_source",
    "find_compiler",
    "fit_to_budget",
    "import_emlearn",
    "make_vibration_windows",
    "verify_features",
    "verify_pipeline",
    "vibration_features",
]

_WHERE = {
    "SUPPORTED_ESTIMATORS": "codegen",
    "import_emlearn": "emlearn_import",
    "find_compiler": "compiler",
    "csv_predict": "micropython",
    "EdgeArtifact": "artifact",
    "ParityReport": "artifact",
    "export": "exporter",
    "export_emlearn_default": "reference",
    "BudgetResult": "budget",
    "fit_to_budget": "budget",
    "VibrationData": "vibration",
    "make_vibration_windows": "vibration",
    "vibration_features": "vibration",
    "feature_names": "vibration",
    "features_c_source": "vibration",
    "FeatureCheck": "pipeline",
    "PipelineReport": "pipeline",
    "verify_features": "pipeline",
    "verify_pipeline": "pipeline",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        module = importlib.import_module(f"workbench.edge.{_WHERE[name]}")
        return getattr(module, name)
    raise AttributeError(f"module 'workbench.edge' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
