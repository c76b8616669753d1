"""Raw window -> class in C: the C features against numpy, the whole path against sklearn."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from workbench.core.errors import InputError, InputTypeError
from workbench.core.params import check_flag, check_number
from workbench.core.results import Result
from workbench.core.validation import check_estimator
from workbench.edge.artifact import EdgeArtifact
from workbench.edge.checks import (
    check_band_edges,
    check_fs,
    check_labels,
    check_targets,
    check_windows,
)
from workbench.edge.compiler import build_executable, find_compiler, measure_size, run_executable
from workbench.edge.emlearn_import import import_emlearn
from workbench.edge.vibration import (
    BAND_EDGES_HZ,
    feature_names,
    features_c_source,
    vibration_features,
)

__all__ = ["FeatureCheck", "PipelineReport", "verify_features", "verify_pipeline"]

_PIPE_HARNESS = """
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <time.h>
#include "vib_features.h"
{model_include}

int main(int argc, char **argv) {{
    if (argc != 4) return 2;
    const long n = atol(argv[3]);
    const int ns = VIB_N_SAMPLES, nf = VIB_N_FEATURES;
    float *w = malloc(sizeof(float) * (size_t)(n * ns + 1));
    float *f = malloc(sizeof(float) * (size_t)(n * nf + 1));
    float *q = malloc(sizeof(float) * (size_t)(n * nf + 1));
    int32_t *pred = malloc(sizeof(int32_t) * (size_t)(n + 1));
    FILE *in = fopen(argv[1], "rb");
    if (!in || fread(w, sizeof(float), (size_t)(n * ns), in) != (size_t)(n * ns)) return 3;
    fclose(in);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < n; i++) {{
        vib_features(w + i * ns, f + i * nf);
        vib_quantize(f + i * nf, q + i * nf);
        pred[i] = -1;
        {model_call}
    }}
    clock_gettime(CLOCK_MONOTONIC, &t1);
    const double ns_total = (t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec);
    printf("%.3f\\n", n > 0 ? ns_total / n : 0.0);
    FILE *out = fopen(argv[2], "wb");
    fwrite(f, sizeof(float), (size_t)(n * nf), out);
    fwrite(q, sizeof(float), (size_t)(n * nf), out);
    fwrite(pred, sizeof(int32_t), (size_t)n, out);
    fclose(out);
    return 0;
}}
"""


@dataclasses.dataclass(repr=False)
class FeatureCheck(Result):
    """C features compared with the numpy reference.

    Attributes
    ----------
    n_windows : int
    rtol : float
        Relative tolerance a float feature must meet.
    table : pandas.DataFrame
        Per feature: max absolute and relative error of the float value, and the share of
        windows whose quantized integer is identical.
    passed : bool
        Every float feature within ``rtol``.
    features_c : numpy.ndarray
        Float features computed in C (float32).
    quantized_c : numpy.ndarray
        Quantized features computed in C.
    latency_us : float
        Host microseconds per window (features, and the model when one is attached).
    """

    n_windows: int
    rtol: float
    table: pd.DataFrame
    passed: bool
    features_c: np.ndarray = dataclasses.field(repr=False)
    quantized_c: np.ndarray = dataclasses.field(repr=False)
    latency_us: float = 0.0

    @property
    def title(self) -> str:
        """Heading of the HTML view."""
        return "C features vs numpy"

    def summary(self) -> dict[str, Any]:
        """Worst relative error and quantized agreement."""
        return {
            "windows": self.n_windows,
            "max rel error": float(self.table["max_rel_error"].max()),
            "quantized match %": round(float(self.table["quantized_match_%"].min()), 2),
            "passed": self.passed,
        }

    def to_frame(self) -> pd.DataFrame:
        """Per-feature error table."""
        return self.table

    def to_dict(self) -> dict[str, Any]:
        """Summary and table (the feature matrices are left out)."""
        return {**self.summary(), "rtol": self.rtol, "table": self.table.to_dict(orient="records")}


@dataclasses.dataclass(repr=False)
class PipelineReport(Result):
    """Raw window -> class in C compared with numpy features -> scikit-learn.

    Attributes
    ----------
    n_windows : int
    quantize : bool
        Whether the model takes the quantized features.
    end_to_end_match : float
        Percent of windows where C (features and model) gives scikit-learn's class on numpy
        features.
    model_match_on_c_features : float
        Percent where the C model agrees with scikit-learn given the same (C) features: the
        model's own parity.
    accuracy_sklearn, accuracy_c : float or None
        Against the true labels when given.
    features : FeatureCheck
    sizes : list of dict
        Flash/RAM of features + model together per target.
    latency_us : float
        Host microseconds per window, raw samples to class.
    explanation : str
    """

    n_windows: int
    quantize: bool
    end_to_end_match: float
    model_match_on_c_features: float
    accuracy_sklearn: float | None
    accuracy_c: float | None
    features: FeatureCheck
    sizes: list[dict[str, Any]]
    latency_us: float
    explanation: str

    @property
    def title(self) -> str:
        """Heading of the HTML view."""
        return "Raw window to class in C"

    def summary(self) -> dict[str, Any]:
        """Match rates and the size of the whole path."""
        out: dict[str, Any] = {
            "end-to-end match %": round(self.end_to_end_match, 2),
            "model parity on C features %": round(self.model_match_on_c_features, 2),
        }
        for r in self.sizes:
            out[f"flash B ({r['target']})"] = r["flash_bytes"]
            out[f"RAM B ({r['target']})"] = r["ram_bytes"]
        return out

    def to_frame(self) -> pd.DataFrame:
        """Sizes of the whole path (features + model) per target."""
        return pd.DataFrame(self.sizes)

    def to_dict(self) -> dict[str, Any]:
        """Plain summary, sizes and the feature check."""
        return {
            **self.summary(),
            "accuracy_sklearn": self.accuracy_sklearn,
            "accuracy_c": self.accuracy_c,
            "explanation": self.explanation,
            "sizes": self.sizes,
            "features": self.features.to_dict(),
        }


def _check_common(
    windows: Any, fs: Any, band_edges: Any, rtol: Any
) -> tuple[np.ndarray, float, tuple[float, ...], float]:
    W = check_windows(windows, for_c=True)
    fs = check_fs(fs)
    edges = check_band_edges(band_edges, fs)
    rtol = check_number(rtol, name="rtol", low=0.0, low_open=True, hint="e.g. 1e-3.")
    return W, fs, edges, rtol


def _run_pipeline(
    W: np.ndarray,
    fs: float,
    band_edges: Sequence[float],
    cc: str | os.PathLike[str] | None,
    artifact: EdgeArtifact | None,
    quantize: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, dict[str, str], list[str]]:
    emlearn = import_emlearn()
    toolchain = find_compiler(cc)
    n, ns = W.shape
    feat_src = features_c_source(fs=fs, n_samples=ns, band_edges=band_edges)
    nf = 4 + len(band_edges) - 1
    sources = {"vib_features.h": feat_src}
    include_dirs = [emlearn.includedir]
    if artifact is None:
        model_include, model_call = "", ""
    else:
        code = artifact.code
        if code is None:
            raise InputTypeError("The artifact carries no generated code; export the model again.")
        if code.n_features != nf:
            raise InputError(
                f"The model takes {code.n_features} features but the vibration features are {nf}; "
                "train it on vibration_features() with the same band_edges."
            )
        sources[f"{code.name}.h"] = code.header
        include_dirs += [d for d in code.include_dirs if d not in include_dirs]
        src = "q" if quantize else "f"
        model_include = f'#include "{code.name}.h"'
        model_call = (
            f"{{ {code.name}_input_t m[{nf}]; for (int j = 0; j < {nf}; j++) "
            f"m[j] = ({code.name}_input_t){src}[i * nf + j]; pred[i] = {code.name}_predict(m); }}"
        )
    sources["pipeline.c"] = _PIPE_HARNESS.format(model_include=model_include, model_call=model_call)
    exe = build_executable(sources, "pipeline.c", toolchain=toolchain, include_dirs=include_dirs)
    files, stdout = run_executable(
        exe, ["w.bin", "out.bin", str(n)], {"w.bin": W.astype(np.float32)}, ["out.bin"]
    )
    raw = files["out.bin"]
    k = n * nf * 4
    F = np.frombuffer(raw[:k], dtype=np.float32).reshape(n, nf).astype(np.float64)
    Q = np.frombuffer(raw[k : 2 * k], dtype=np.float32).reshape(n, nf).astype(np.float64)
    pred = np.frombuffer(raw[2 * k :], dtype=np.int32).copy()
    return F, Q, pred, float(stdout.strip().splitlines()[-1]) / 1000.0, sources, include_dirs


def _feature_check(
    W: np.ndarray,
    F: np.ndarray,
    Q: np.ndarray,
    fs: float,
    band_edges: Sequence[float],
    rtol: float,
    latency_us: float,
) -> FeatureCheck:
    ref = vibration_features(W, fs=fs, band_edges=band_edges)
    refq = vibration_features(W, fs=fs, band_edges=band_edges, quantize=True)
    abs_err = np.abs(F - ref)
    rel_err = abs_err / np.maximum(np.abs(ref), 1e-12)
    table = pd.DataFrame(
        {
            "feature": feature_names(band_edges),
            "max_abs_error": abs_err.max(axis=0),
            "max_rel_error": rel_err.max(axis=0),
            "quantized_match_%": 100.0 * (Q == refq).mean(axis=0),
            "quantized_max_diff": np.abs(Q - refq).max(axis=0),
        }
    )
    return FeatureCheck(
        n_windows=len(W),
        rtol=rtol,
        table=table,
        passed=bool((table["max_rel_error"] <= rtol).all()),
        features_c=F,
        quantized_c=Q,
        latency_us=latency_us,
    )


def verify_features(
    windows: Any,
    *,
    fs: float = 4096.0,
    band_edges: Sequence[float] = BAND_EDGES_HZ,
    rtol: float = 1e-3,
    cc: str | os.PathLike[str] | None = None,
) -> FeatureCheck:
    """Compile the C feature code, run it on ``windows`` and compare with numpy.

    Parameters
    ----------
    windows : array-like of shape (n_windows, n_samples)
        Raw acceleration windows (power-of-two length).
    fs : float, default=4096.0
    band_edges : sequence of float, default=BAND_EDGES_HZ
    rtol : float, default=1e-3
        Relative tolerance for the float features (C computes in float32).
    cc : str or path, optional
        Host C compiler.

    Returns
    -------
    FeatureCheck

    Raises
    ------
    InputError
        Bad windows (NaN, infinite, float32-overflowing, swings that overflow the C kurtosis,
        not a power-of-two length), ``fs``, ``band_edges`` or ``rtol``.
    DependencyError
        If no C compiler is installed.
    """
    W, fs, band_edges, rtol = _check_common(windows, fs, band_edges, rtol)
    F, Q, _, lat, _, _ = _run_pipeline(W, fs, band_edges, cc, None, False)
    return _feature_check(W, F, Q, fs, band_edges, rtol, lat)


def verify_pipeline(
    artifact: EdgeArtifact,
    model: Any,
    windows: Any,
    y: Any = None,
    *,
    quantize: bool | None = None,
    fs: float = 4096.0,
    band_edges: Sequence[float] = BAND_EDGES_HZ,
    rtol: float = 1e-3,
    cc: str | os.PathLike[str] | None = None,
    targets: list[str] | None = None,
) -> PipelineReport:
    """Run raw windows through C features and the exported C model; compare with numpy + sklearn.

    Parameters
    ----------
    artifact : EdgeArtifact
        From :func:`~workbench.edge.export`, trained on :func:`vibration_features`.
    model : estimator
        The fitted scikit-learn model the artifact was exported from.
    windows : array-like of shape (n_windows, n_samples)
        Raw acceleration windows.
    y : array-like, optional
        True labels, for accuracy.
    quantize : bool, optional
        Whether the model takes quantized features; default: when ``artifact.dtype`` is int16.
    fs, band_edges, rtol, cc
        As in :func:`verify_features`.
    targets : list of str, optional
        Size targets, as in :func:`~workbench.edge.export`.

    Returns
    -------
    PipelineReport

    Raises
    ------
    InputTypeError
        If ``artifact`` is not an :class:`EdgeArtifact` or ``model`` not an estimator.
    InputError
        Bad windows, labels, ``fs``, ``band_edges``, ``rtol``, ``quantize`` or ``targets``; or a
        ``model`` that is not the one the artifact was exported from.
    NotFittedError
        If ``model`` is not fitted.
    """
    if not isinstance(artifact, EdgeArtifact):
        raise InputTypeError(
            f"artifact must be an EdgeArtifact from export(), got {type(artifact).__name__}."
        )
    check_estimator(model, kind="classifier", methods=("predict",), fitted=True)
    n_in, classes = getattr(model, "n_features_in_", None), np.asarray(model.classes_).tolist()
    if n_in != artifact.n_features or classes != list(artifact.classes):
        raise InputError(
            f"model ({type(model).__name__}) is not the one the artifact was exported from: it "
            f"takes {n_in} features and classes {classes}, the artifact {artifact.n_features} "
            f"and {artifact.classes}. Pass the model given to export()."
        )
    W, fs, band_edges, rtol = _check_common(windows, fs, band_edges, rtol)
    if y is not None:
        y = check_labels(y, len(W))
    quantize = check_flag(quantize, name="quantize", optional=True)
    targets = check_targets(targets)
    if quantize is None:
        quantize = artifact.dtype == "int16"
    F, Q, pred_idx, lat, sources, include_dirs = _run_pipeline(
        W, fs, band_edges, cc, artifact, bool(quantize)
    )
    fcheck = _feature_check(W, F, Q, fs, band_edges, rtol, lat)
    classes = np.asarray(artifact.classes)
    pred_c = classes[pred_idx]
    ref = vibration_features(W, fs=fs, band_edges=band_edges, quantize=bool(quantize))
    pred_ref = model.predict(ref)
    pred_on_c = model.predict(Q if quantize else F)
    e2e = 100.0 * float(np.mean(pred_c == pred_ref))
    own = 100.0 * float(np.mean(pred_c == pred_on_c))
    acc_sk = acc_c = None
    if y is not None:
        ya = np.asarray(y)
        acc_sk, acc_c = float(np.mean(pred_ref == ya)), float(np.mean(pred_c == ya))
    if e2e == 100.0:
        explanation = "Every window gets scikit-learn's class from raw samples in C."
    else:
        if quantize:
            off = int(np.any(Q != ref, axis=1).sum())
            cause = f"{off} window(s) have a quantized feature off by one from float32 rounding"
        else:
            cause = "the C features are float32, within rtol of numpy but not identical"
        explanation = (
            f"{round((100 - e2e) * len(W) / 100)} window(s) differ: {cause}; a feature next "
            "to a split threshold can cross it. The model alone matches "
            f"{own:.2f}% on identical features."
        )
    code = artifact.code
    assert code is not None  # _run_pipeline refused an artifact without code
    nf = code.n_features
    src = "q" if quantize else "f"
    call = (
        f"float f[{nf}], q[{nf}]; {code.name}_input_t m[{nf}]; vib_features(x, f); "
        f"vib_quantize(f, q); for (int j = 0; j < {nf}; j++) m[j] = ({code.name}_input_t){src}[j]; "
        f"(void)q; (void)f; wb_probe_out = {code.name}_predict(m);"
    )
    probe_header = f'#include "vib_features.h"\n#include "{code.name}.h"\n'
    sizes = measure_size(
        probe_header,
        "pipeline_probe.h",
        call=call,
        in_type="float",
        n_in=W.shape[1],
        toolchain=find_compiler(cc),
        include_dirs=include_dirs,
        targets=targets,
        extra_sources={k: v for k, v in sources.items() if k.endswith(".h")},
    )
    return PipelineReport(
        n_windows=len(W),
        quantize=bool(quantize),
        end_to_end_match=e2e,
        model_match_on_c_features=own,
        accuracy_sklearn=acc_sk,
        accuracy_c=acc_c,
        features=fcheck,
        sizes=sizes,
        latency_us=lat,
        explanation=explanation,
    )
