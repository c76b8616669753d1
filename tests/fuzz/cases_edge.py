"""Fuzz cases of ``workbench.edge``: one valid call per public name (host compiler only)."""

from __future__ import annotations

import functools
import tempfile

from sklearn.ensemble import RandomForestClassifier

from tests.fuzz.harness import Case
from workbench import edge

CONSTANTS = {"edge.SUPPORTED_ESTIMATORS", "edge.SUPPORTED_STEPS"}


@functools.cache
def _vib():
    data = edge.make_vibration_windows(12, n_samples=1024, random_state=1)
    Xq = edge.vibration_features(data.windows, quantize=True)
    return data, Xq


@functools.cache
def _rf():
    data, Xq = _vib()
    return RandomForestClassifier(n_estimators=3, max_depth=4, random_state=0).fit(Xq, data.y)


@functools.cache
def _pipeline():
    from sklearn.decomposition import PCA
    from sklearn.naive_bayes import GaussianNB
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    data, Xq = _vib()
    return make_pipeline(StandardScaler(), PCA(3), GaussianNB()).fit(Xq, data.y)


@functools.cache
def _artifact():
    data, Xq = _vib()
    return edge.export(_rf(), Xq, data.y, targets=["host"])


def _export(**kw):
    return edge.export(**kw).to_dict()


def _save(directory):
    return [str(p) for p in _artifact().save(directory)]


CASES = [
    Case("edge.make_vibration_windows", edge.make_vibration_windows,
         lambda: {"n_per_class": 2, "fs": 4096.0, "n_samples": 256, "random_state": 0},
         ("edge.make_vibration_windows", "edge.VibrationData")),
    Case("edge.vibration_features", edge.vibration_features,
         lambda: {"windows": _vib()[0].windows[:6], "fs": 4096.0,
                  "band_edges": (0.0, 35.0, 75.0, 150.0, 400.0, 1000.0, 2048.0),
                  "quantize": False}, ("edge.vibration_features",)),
    Case("edge.feature_names", edge.feature_names,
         lambda: {"band_edges": (0.0, 35.0, 75.0, 150.0, 400.0, 1000.0, 2048.0)},
         ("edge.feature_names",)),
    Case("edge.features_c_source", edge.features_c_source,
         lambda: {"fs": 4096.0, "n_samples": 1024,
                  "band_edges": (0.0, 35.0, 75.0, 150.0, 400.0, 1000.0, 2048.0)},
         ("edge.features_c_source",)),
    Case("edge.export", _export,
         lambda: {"model": _rf(), "X": _vib()[1], "y": _vib()[0].y, "name": "model",
                  "dtype": "auto", "leaves": "auto", "targets": ["host"]},
         ("edge.export", "edge.EdgeArtifact", "edge.ParityReport"), max_examples=30),
    Case("edge.export_emlearn_default",
         lambda **kw: edge.export_emlearn_default(**kw).to_dict(),
         lambda: {"model": _rf(), "X": _vib()[1], "y": _vib()[0].y, "targets": ["host"]},
         ("edge.export_emlearn_default",), params=("model", "X", "y", "targets"),
         max_examples=15),
    Case("edge.EdgeArtifact.predict", lambda X: _artifact().predict(X),
         lambda: {"X": _vib()[1][:5]}, ("edge.EdgeArtifact",)),
    Case("edge.EdgeArtifact.save", _save,
         lambda: {"directory": tempfile.mkdtemp(prefix="wb-fuzz-")}, ("edge.EdgeArtifact",),
         max_examples=15),
    Case("edge.csv_predict", edge.csv_predict,
         lambda: {"text": _artifact().csv or "", "X": _vib()[1][:5]}, ("edge.csv_predict",)),
    Case("edge.verify_features", lambda **kw: edge.verify_features(**kw).to_dict(),
         lambda: {"windows": _vib()[0].windows[:4], "fs": 4096.0, "rtol": 1e-3},
         ("edge.verify_features", "edge.FeatureCheck"), max_examples=15),
    Case("edge.verify_pipeline", lambda **kw: edge.verify_pipeline(**kw).to_dict(),
         lambda: {"artifact": _artifact(), "model": _rf(), "windows": _vib()[0].windows[:8],
                  "y": _vib()[0].y[:8], "targets": ["host"]},
         ("edge.verify_pipeline", "edge.PipelineReport"), max_examples=15),
    Case("edge.fit_to_budget", lambda **kw: edge.fit_to_budget(**kw).to_dict(),
         lambda: {"estimator": RandomForestClassifier(n_estimators=2, random_state=0),
                  "X": _vib()[1], "y": _vib()[0].y, "X_test": _vib()[1], "y_test": _vib()[0].y,
                  "flash_budget": 100_000, "grid": [{"n_estimators": 2, "max_depth": 3}],
                  "show_progress": False},
         ("edge.fit_to_budget", "edge.BudgetResult"), max_examples=15),
    Case("edge.find_compiler", lambda **kw: str(edge.find_compiler(**kw)),
         lambda: {"cc": None}, ("edge.find_compiler",), max_examples=10),
    Case("edge.import_emlearn", lambda: edge.import_emlearn() and "ok", lambda: {},
         ("edge.import_emlearn",), params=(), max_examples=1),
]

# Parity on an emulated target (issue 20): needs qemu-system-arm and arm-none-eabi-gcc, which
# .ci/run installs. The artifact is the int16 forest above, run on the soft-float Cortex-M0.
CASES.append(
    Case("edge.verify_on_target", lambda **kw: edge.verify_on_target(**kw).to_dict(),
         lambda: {"artifact": _artifact(), "model": _rf(), "X": _vib()[1][:8],
                  "cpu": "cortex-m0", "timeout_s": 60.0, "cc": None},
         ("edge.verify_on_target", "edge.TargetReport", "edge.TargetTimeoutError"),
         max_examples=15)
)

# A scikit-learn Pipeline (issue 20): scaler and PCA compiled in front of the model.
CASES.append(
    Case("edge.export[pipeline]", _export,
         lambda: {"model": _pipeline(), "X": _vib()[1], "y": _vib()[0].y, "dtype": "auto",
                  "cc": None, "targets": ["host"]},
         ("edge.export", "edge.UnscaledFeaturesWarning"), max_examples=20)
)

# Boosted trees (issue 20): a HistGradientBoostingClassifier through export, with the raw
# score summed in double and its trees as generated if/else code.
@functools.cache
def _hgb():
    from sklearn.ensemble import HistGradientBoostingClassifier

    data, Xq = _vib()
    return HistGradientBoostingClassifier(max_iter=4, max_leaf_nodes=6, random_state=0).fit(
        Xq, data.y
    )


CASES.append(
    Case("edge.export[boosted]", _export,
         lambda: {"model": _hgb(), "X": _vib()[1], "y": _vib()[0].y, "dtype": "auto",
                  "targets": ["host"]},
         ("edge.export",), max_examples=20)
)

# The form of the trees' C (issue 20): compact tables on request, or when if/else code is over
# the flash budget.
CASES.append(
    Case("edge.export[form]", _export,
         lambda: {"model": _rf(), "X": _vib()[1], "y": _vib()[0].y, "form": "tables",
                  "flash_budget": 100_000, "targets": ["host"]},
         ("edge.export",), max_examples=20)
)
