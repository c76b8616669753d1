"""Edge model export: a model and its feature extraction as C for microcontrollers.

Parity with scikit-learn and flash/RAM size are proven by compiling the generated code.

The public names are loaded on first use (:func:`workbench.core.lazy.lazy_exports`), so
importing this package (the launcher imports every tool's spec) stays cheap and pulls in
neither scikit-learn nor emlearn nor ipywidgets.
"""

from __future__ import annotations

from workbench.core.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
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
        "TargetReport": "target",
        "TargetTimeoutError": "target",
        "verify_on_target": "target",
        "SUPPORTED_STEPS": "preprocessing",
        "UnscaledFeaturesWarning": "checks",
    },
)
