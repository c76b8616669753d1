"""Parity on an emulated Cortex-M: run an exported model on the target CPU under QEMU.

The host build proves that the C agrees with scikit-learn on the host's compiler and libm.
:func:`verify_on_target` proves it on the target: the model is cross-compiled for a Cortex-M4F
(hard float) or a Cortex-M0 (soft float) together with the test rows, run on QEMU's MPS2 boards,
and its classes and probabilities are compared with scikit-learn's and with the host C's. The
report adds instructions per prediction (counted by QEMU's ``-icount``), the image's flash and
RAM, the model's share of them and the peak stack. How the image is built and run:
:mod:`workbench.edge.target_build`.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench.core.errors import InputError, InputTypeError, ModelError
from workbench.core.params import check_size
from workbench.core.paths import private_dir
from workbench.core.results import Result
from workbench.core.validation import check_choice, check_estimator, check_positive
from workbench.edge.artifact import EdgeArtifact
from workbench.edge.checks import check_X
from workbench.edge.compiler import Toolchain, measure_size
from workbench.edge.target_build import (
    CALIBRATION_INSTRUCTIONS,
    TARGETS,
    TargetOutput,
    TargetTimeoutError,
    build_image,
    elf_arch,
    elf_size,
    find_arm_compiler,
    find_qemu,
    image_sources,
    parse_output,
    qemu_command,
    run_image,
    tool_version,
)

__all__ = ["TargetReport", "TargetTimeoutError", "verify_on_target"]

#: Most rows embedded in one image, and most float32 values (1 MiB of the 4 MiB image space).
MAX_ROWS = 20_000
MAX_VALUES = 1 << 18
#: The timed loop predicts at least this many rows (the rows repeated), so that the one-tick
#: uncertainty of each loop's SysTick reading stays below one instruction per prediction.
_MIN_TIMED = 256


@dataclasses.dataclass(repr=False)
class TargetReport(Result):
    """Parity, instructions, flash and RAM of an exported model run on an emulated Cortex-M.

    Attributes
    ----------
    cpu : str
        ``"cortex-m4f"`` or ``"cortex-m0"``.
    machine : str
        QEMU machine that ran the image (``"mps2-an386"``, ``"mps2-an385"``).
    cpu_arch : str
        The image's ``Tag_CPU_arch`` build attribute (``"v7E-M"``, ``"v6S-M"``).
    n_samples, n_match : int
        Rows run, and rows whose target class equals ``model.predict``.
    match_rate : float
        ``100 * n_match / n_samples`` (percent).
    max_proba_error : float
        Largest ``|target probability - model.predict_proba|`` (1 where the target's is not
        finite).
    mismatch_rows : list of int
        First 20 rows whose target class differs from scikit-learn's.
    host_match_rate : float
        Parity of the host build of the same C on the same rows (percent).
    n_differ_from_host : int
        Rows whose target class differs from the host C's.
    max_host_diff : float
        Largest ``|target - host C|`` probability difference: 0 when the target computes the
        same float32 bits; libm's ``expf``/``logf`` may differ by an ulp or two.
    instructions_per_prediction : float or None
        Mean instructions of one ``predict`` on these rows, counted by QEMU (``-icount``,
        ``shift=0``); None when the count could not be made sound (``instructions_note`` says
        why).
    instructions_note : str
        How the instructions were counted, their resolution, or why there is no count.
    model_flash_bytes, model_ram_bytes : int
        The model's flash and static RAM on this CPU (a minimal link with and without it,
        ``-Os``).
    image_flash_bytes, image_ram_bytes : int
        The whole test image (model, harness, rows, start-up, libm) from ``arm-none-eabi-size``.
    rows_bytes : int
        Flash taken by the embedded float32 test rows.
    stack_bytes : int
        Peak stack of the harness while it predicted (measured by painting the stack).
    explanation : str
        The verdict in words.
    compiler, emulator : str
        Versions used.
    build_s, run_s : float
        Seconds spent compiling and emulating (vary with load; not in :meth:`to_frame`).
    """

    cpu: str
    machine: str
    cpu_arch: str
    n_samples: int
    n_match: int
    match_rate: float
    max_proba_error: float
    mismatch_rows: list[int]
    host_match_rate: float
    n_differ_from_host: int
    max_host_diff: float
    instructions_per_prediction: float | None
    instructions_note: str
    model_flash_bytes: int
    model_ram_bytes: int
    image_flash_bytes: int
    image_ram_bytes: int
    rows_bytes: int
    stack_bytes: int
    explanation: str
    compiler: str
    emulator: str
    build_s: float
    run_s: float

    @property
    def title(self) -> str:
        """Heading of the HTML view."""
        return f"Parity on the emulated {self.cpu} (QEMU {self.machine})"

    def summary(self) -> dict[str, Any]:
        """Parity on the target, probability error, instructions and the model's flash."""
        ins = self.instructions_per_prediction
        return {
            "target parity %": round(self.match_rate, 3),
            "max |Δp|": self.max_proba_error,
            "instructions/prediction (icount)": None if ins is None else round(ins, 1),
            "model flash B": self.model_flash_bytes,
        }

    def to_frame(self) -> pd.DataFrame:
        """One row: target and host parity, instructions, flash and RAM (no wall times)."""
        ins = self.instructions_per_prediction
        return pd.DataFrame(
            [
                {
                    "cpu": self.cpu,
                    "machine": self.machine,
                    "n_samples": self.n_samples,
                    "target_parity_%": round(self.match_rate, 3),
                    "host_parity_%": round(self.host_match_rate, 3),
                    "max_proba_error": self.max_proba_error,
                    "max_host_diff": self.max_host_diff,
                    "instructions_icount": None if ins is None else round(ins, 1),
                    "model_flash_bytes": self.model_flash_bytes,
                    "model_ram_bytes": self.model_ram_bytes,
                    "stack_bytes": self.stack_bytes,
                    "image_flash_bytes": self.image_flash_bytes,
                    "image_ram_bytes": self.image_ram_bytes,
                }
            ]
        )


def _check_cc(cc: Any) -> None:
    if cc is None:
        return
    if isinstance(cc, bytes) or not isinstance(cc, str | os.PathLike):
        raise InputTypeError(
            f"cc must be the path of arm-none-eabi-gcc (str or path) or None, got "
            f"{type(cc).__name__}."
        )
    text = os.fspath(cc)
    if not str(text).strip() or "\x00" in str(text):
        raise InputError(f"cc={text!r} is not a compiler path; pass arm-none-eabi-gcc or None.")


def _check_inputs(
    artifact: Any, model: Any, X: Any, cpu: Any, timeout_s: Any, cc: Any
) -> tuple[np.ndarray, float]:
    if not isinstance(artifact, EdgeArtifact):
        raise InputTypeError(
            f"artifact must be an EdgeArtifact from export(), got {type(artifact).__name__}."
        )
    check_choice(cpu, TARGETS, kind="cpu")
    timeout_s = float(
        check_positive(
            timeout_s, name="timeout_s", high=3600, hint="(seconds QEMU may run; at most an hour)"
        )
    )
    _check_cc(cc)
    check_estimator(model, kind="classifier", methods=("predict", "predict_proba"), fitted=True)
    n_in, classes = getattr(model, "n_features_in_", None), np.asarray(model.classes_).tolist()
    if n_in != artifact.n_features or classes != list(artifact.classes):
        raise InputError(
            f"model ({type(model).__name__}) is not the one the artifact was exported from: it "
            f"takes {n_in} features and classes {classes}, the artifact {artifact.n_features} "
            f"and {artifact.classes}. Pass the model given to export()."
        )
    if artifact.code is None or artifact.toolchain is None:
        raise ModelError("This artifact was loaded without its C code; export the model again.")
    Xa = check_X(X, artifact.n_features, artifact.dtype)
    check_size(len(Xa), name="number of rows in X", high=MAX_ROWS, hint="pass a sample of rows")
    if Xa.size > MAX_VALUES:
        raise InputError(
            f"X holds {Xa.size} values; the target image embeds at most {MAX_VALUES} float32 "
            f"values (1 MiB of flash): pass at most {MAX_VALUES // Xa.shape[1]} rows."
        )
    return Xa, timeout_s


def _instructions(out: TargetOutput, n_timed: int) -> tuple[float | None, str]:
    """Instructions per prediction from SysTick ticks, if the calibration shows they are sound."""
    if out.ticks_calibration == 0:
        return None, "SysTick did not advance under -icount, so QEMU's count could not be read."
    ratio = CALIBRATION_INSTRUCTIONS / out.ticks_calibration
    per_tick = round(ratio)
    if per_tick < 1 or abs(ratio - per_tick) > 1e-3 * per_tick:
        return None, (
            f"the calibration loop gave {ratio:.4f} instructions per SysTick tick, not a whole "
            "number: the tick does not follow QEMU's instruction count, so no count is given."
        )
    if out.ticks_model < out.ticks_base:
        return None, "the model loop took fewer ticks than the empty loop; no count is given."
    per_prediction = (out.ticks_model - out.ticks_base) * per_tick / n_timed
    resolution = 2 * per_tick / n_timed
    return per_prediction, (
        f"QEMU -icount shift=0 (1 virtual ns per instruction), read from SysTick at {per_tick} "
        f"instructions per tick (calibrated on {CALIBRATION_INSTRUCTIONS} instructions); mean of "
        f"{n_timed} predictions, call overhead subtracted, ±{resolution:.2f}. Instructions, not "
        "cycles: cycles per instruction differ between cores."
    )


def _explain(cpu: str, n: int, mismatch: np.ndarray, max_err: float, same_bits: bool) -> str:
    host = (
        "the target computed the same float32 bits as the host C"
        if same_bits
        else "the target's probabilities differ from the host C's (its libm rounds differently)"
    )
    if not mismatch.any():
        return (
            f"All {n} predictions on the emulated {cpu} match scikit-learn; probabilities within "
            f"{max_err:.3g}; {host}."
        )
    return (
        f"{int(mismatch.sum())} of {n} predictions on the emulated {cpu} differ from "
        f"scikit-learn (rows {np.flatnonzero(mismatch)[:20].tolist()}); {host}. Compare with "
        "the export's host parity report: rows that differ there are near-ties."
    )


def verify_on_target(
    artifact: EdgeArtifact,
    model: Any,
    X: Any,
    *,
    cpu: str = "cortex-m4f",
    timeout_s: float = 60.0,
    cc: str | os.PathLike[str] | None = None,
) -> TargetReport:
    """Run an exported model on an emulated Cortex-M and compare it with scikit-learn.

    The model's C, a small harness and ``X`` (as float32) are compiled into one bare-metal image
    with ``arm-none-eabi-gcc -Os`` and run under ``qemu-system-arm`` with ARM semihosting: the
    image prints every row's class and probabilities (their float32 bits), then the SysTick
    ticks of a timed loop. The build happens in a fresh private folder, removed afterwards.

    Parameters
    ----------
    artifact : EdgeArtifact
        From :func:`~workbench.edge.export` (with its C code, i.e. not loaded from disk).
    model : estimator
        The fitted classifier the artifact was exported from.
    X : array-like of shape (n_samples, n_features)
        Test rows, at most 20,000 rows and 262,144 values.
    cpu : {"cortex-m4f", "cortex-m0"}, default="cortex-m4f"
        ``"cortex-m4f"``: hard float on QEMU's ``mps2-an386``. ``"cortex-m0"``: ARMv6-M soft
        float code, run on ``mps2-an385`` (QEMU has no M0 board; its Cortex-M3 runs the
        ARMv6-M instruction set unchanged).
    timeout_s : float, default=60
        Longest the emulator may run (compiling is bounded separately); then it is stopped.
    cc : str or path, optional
        ``arm-none-eabi-gcc`` to use; default: the one on ``PATH``.

    Returns
    -------
    TargetReport

    Raises
    ------
    InputTypeError
        If ``artifact`` is not an :class:`EdgeArtifact`, ``model`` not an estimator, or ``cc``
        not a path.
    InputError
        Bad ``X``, ``cpu``, ``timeout_s`` or ``cc``, or a ``model`` that is not the artifact's.
    DependencyError
        If ``qemu-system-arm`` (Debian package ``qemu-system-arm``) or ``arm-none-eabi-gcc``
        with newlib (``gcc-arm-none-eabi libnewlib-arm-none-eabi``) is missing.
    TargetTimeoutError
        If the emulator runs past ``timeout_s``; it is stopped first.
    ModelError
        If the image does not build, faults or exits early on the target.
    """
    Xa, timeout_s = _check_inputs(artifact, model, X, cpu, timeout_s, cc)
    qemu = find_qemu()
    arm_cc = find_arm_compiler(cc)
    code, host = artifact.code, artifact.toolchain
    assert code is not None and host is not None  # checked above
    X32 = Xa.astype(np.float32)
    reps = -(-_MIN_TIMED // len(X32))
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="wb-edge-target-") as tmp:
        folder = private_dir(Path(tmp) / "build")
        sources = image_sources(code, X32, reps)
        elf, _ = build_image(sources, cpu, arm_cc, folder, list(code.include_dirs))
        sizes, arch = elf_size(elf, arm_cc), elf_arch(elf, arm_cc)
        t1 = time.perf_counter()
        stdout, stderr, status = run_image(qemu_command(qemu, cpu, elf), timeout_s)
        t2 = time.perf_counter()
    out = parse_output(stdout, stderr, status, len(X32), code.n_classes)
    model_size = measure_size(
        code.header,
        f"{code.name}.h",
        call=f"wb_probe_out = {code.name}_predict(x);",
        in_type=code.in_type,
        n_in=code.n_features,
        toolchain=Toolchain(cc=host.cc, arm_cc=arm_cc),
        include_dirs=code.include_dirs,
        targets=[cpu],
    )[0]
    classes = np.asarray(artifact.classes, dtype=object)
    valid = (out.pred >= 0) & (out.pred < len(classes))
    pred_t = np.where(valid, classes[np.clip(out.pred, 0, len(classes) - 1)], None)
    # The device receives float32 rows: compare with scikit-learn on exactly those values (a
    # pipeline's scaler could otherwise move a row across a threshold by rounding alone).
    X_sent = X32.astype(np.float64)
    pred_sk, proba_sk = model.predict(X_sent), model.predict_proba(X_sent)
    pred_h, proba_h = artifact.predict(X_sent), artifact.predict_proba(X_sent)
    mismatch = ~valid | (pred_t != pred_sk)
    diff = np.abs(out.proba.astype(np.float64) - proba_sk)
    host_diff = np.abs(out.proba.astype(np.float64) - proba_h.astype(np.float64))
    same_bits = bool(np.array_equal(out.proba.view(np.uint32), proba_h.view(np.uint32)))
    max_err = float(np.max(np.where(np.isfinite(diff), diff, 1.0), initial=0.0))
    ins, note = _instructions(out, len(X32) * reps)
    return TargetReport(
        cpu=cpu,
        machine=TARGETS[cpu][0],
        cpu_arch=arch,
        n_samples=len(Xa),
        n_match=int((~mismatch).sum()),
        match_rate=float(100.0 * (~mismatch).mean()),
        max_proba_error=max_err,
        mismatch_rows=np.flatnonzero(mismatch)[:20].tolist(),
        host_match_rate=float(100.0 * np.mean(pred_h == pred_sk)),
        n_differ_from_host=int(np.sum(~valid | (pred_t != pred_h))),
        max_host_diff=float(np.max(np.where(np.isfinite(host_diff), host_diff, 1.0), initial=0)),
        instructions_per_prediction=ins,
        instructions_note=note,
        model_flash_bytes=int(model_size["flash_bytes"]),
        model_ram_bytes=int(model_size["ram_bytes"]),
        image_flash_bytes=sizes["text"] + sizes["data"],
        image_ram_bytes=sizes["data"] + sizes["bss"],
        rows_bytes=int(X32.nbytes),
        stack_bytes=out.stack_bytes,
        explanation=_explain(cpu, len(Xa), mismatch, max_err, same_bits),
        compiler=f"arm-none-eabi-gcc {tool_version([arm_cc, '-dumpversion'])} -Os",
        emulator=f"{tool_version([qemu, '--version'])}, -M {TARGETS[cpu][0]} -icount shift=0",
        build_s=round(t1 - t0, 3),
        run_s=round(t2 - t1, 3),
    )
