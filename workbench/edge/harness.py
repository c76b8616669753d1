"""The host harness: run a generated header on a matrix of inputs and time it."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from workbench.edge.cinterface import GeneratedC
from workbench.edge.compiler import Toolchain, build_executable, run_executable

__all__ = ["run_model"]

_HARNESS = """
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <time.h>
#include "{header}"

int main(int argc, char **argv) {{
    if (argc != 5) {{ fprintf(stderr, "usage: harness in out n_rows reps\\n"); return 2; }}
    const long n = atol(argv[3]);
    const long reps = atol(argv[4]);
    const int nf = {NAME}_N_FEATURES, nc = {NAME}_N_CLASSES;
    float *raw = malloc(sizeof(float) * (size_t)(n * nf + 1));
    {name}_input_t *x = malloc(sizeof({name}_input_t) * (size_t)(n * nf + 1));
    int32_t *pred = malloc(sizeof(int32_t) * (size_t)(n + 1));
    float *proba = malloc(sizeof(float) * (size_t)(n * nc + 1));
    FILE *f = fopen(argv[1], "rb");
    if (!f || fread(raw, sizeof(float), (size_t)(n * nf), f) != (size_t)(n * nf)) return 3;
    fclose(f);
    for (long i = 0; i < n * nf; i++) x[i] = ({name}_input_t)raw[i];
    for (long i = 0; i < n; i++) {{
        pred[i] = {name}_predict(x + i * nf);
        {name}_predict_proba(x + i * nf, proba + i * nc);
    }}
    /* The fastest of several passes: other processes on a shared machine only slow passes down. */
    struct timespec t0, t1;
    volatile int32_t sink = 0;
    double best = -1.0;
    for (int pass = 0; pass < 7 && reps > 0 && n > 0; pass++) {{
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (long r = 0; r < reps; r++)
            for (long i = 0; i < n; i++) sink += {name}_predict(x + i * nf);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        const double ns = (t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec);
        if (best < 0 || ns < best) best = ns;
    }}
    printf("%.3f\\n", best > 0 ? best / ((double)reps * n) : 0.0);
    f = fopen(argv[2], "wb");
    fwrite(pred, sizeof(int32_t), (size_t)n, f);
    fwrite(proba, sizeof(float), (size_t)(n * nc), f);
    fclose(f);
    return 0;
}}
"""


def harness_source(code: GeneratedC) -> str:
    """C source of the parity/latency harness for ``code``."""
    return _HARNESS.format(header=f"{code.name}.h", name=code.name, NAME=code.name.upper())


def build_harness(code: GeneratedC, toolchain: Toolchain) -> Path:
    """Compile (or fetch from the cache) the harness executable of ``code``."""
    return build_executable(
        {f"{code.name}.h": code.header, "harness.c": harness_source(code)},
        "harness.c",
        toolchain=toolchain,
        include_dirs=code.include_dirs,
    )


def run_model(
    code: GeneratedC, X: np.ndarray, toolchain: Toolchain, *, min_time_rows: int = 5_000
) -> tuple[np.ndarray, np.ndarray, float]:
    """Run the compiled model on ``X``.

    Parameters
    ----------
    code : GeneratedC
        The generated header.
    X : numpy.ndarray of shape (n_samples, n_features)
        Inputs; passed to C as float32 (the same rounding scikit-learn applies to tree inputs).
    toolchain : Toolchain
        Compilers.
    min_time_rows : int, default=5000
        Each of 7 timing passes repeats the data until at least this many predictions ran;
        the fastest pass is reported.

    Returns
    -------
    pred : numpy.ndarray of int32
        Class indices (into ``classes_``).
    proba : numpy.ndarray of float32, shape (n_samples, n_classes)
    ns_per_inference : float
        Host nanoseconds per ``predict`` call.
    """
    exe = build_harness(code, toolchain)
    X32 = np.asarray(X, dtype=np.float32)
    n = X32.shape[0]
    reps = max(1, -(-min_time_rows // max(n, 1)))
    files, stdout = run_executable(
        exe, ["x.bin", "out.bin", str(n), str(reps)], {"x.bin": X32}, ["out.bin"]
    )
    raw = files["out.bin"]
    pred = np.frombuffer(raw[: 4 * n], dtype=np.int32).copy()
    proba = np.frombuffer(raw[4 * n :], dtype=np.float32).reshape(n, code.n_classes).copy()
    return pred, proba, float(stdout.strip().splitlines()[-1])
