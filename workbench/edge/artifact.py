"""The result of an export: the artifact, its parity report, and how both are built and saved."""

from __future__ import annotations

import dataclasses
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench.core.errors import InputError, InputTypeError, ModelError
from workbench.core.params import FLOAT32_MAX
from workbench.core.paths import atomic_write, check_write_path
from workbench.core.results import Result
from workbench.edge.checks import check_X
from workbench.edge.cinterface import GeneratedC
from workbench.edge.compiler import Toolchain, measure_size
from workbench.edge.harness import run_model

__all__ = ["EdgeArtifact", "ParityReport", "build_artifact"]


@dataclasses.dataclass(repr=False)
class ParityReport(Result):
    """How the compiled C agrees with scikit-learn on held-out data.

    Attributes
    ----------
    n_samples : int
        Rows compared.
    n_match : int
        Rows where the C class equals ``model.predict``.
    match_rate : float
        ``100 * n_match / n_samples`` (percent).
    max_proba_error : float
        Largest absolute difference between C and ``model.predict_proba`` probabilities.
    accuracy_sklearn, accuracy_c : float or None
        Accuracy against ``y`` when it was given.
    mismatch_rows : list of int
        Indices (first 20) of the rows that differ.
    explanation : str
        Why rows differ, or that none do.
    """

    n_samples: int
    n_match: int
    match_rate: float
    max_proba_error: float
    accuracy_sklearn: float | None = None
    accuracy_c: float | None = None
    mismatch_rows: list[int] = dataclasses.field(default_factory=list)
    explanation: str = ""

    @property
    def title(self) -> str:
        """Heading of the HTML view."""
        return "Parity of the compiled C with scikit-learn"

    def summary(self) -> dict[str, Any]:
        """Match rate and probability error."""
        return {"match %": round(self.match_rate, 3), "max |Δp|": self.max_proba_error}


@dataclasses.dataclass(repr=False)
class EdgeArtifact(Result):
    """An exported model: the C header, the MicroPython CSV where there is one, and its report.

    Attributes
    ----------
    name : str
        C prefix of every symbol; the header is ``<name>.h``.
    estimator : str
        Class name of the exported estimator.
    engine : str
        ``"emlearn eml_trees.h"`` (int16 trees on emlearn's runtime) or ``"workbench"``.
    dtype : str
        Input/arithmetic type chosen (``"float32"``, ``"float64"``, ``"int16"``).
    leaves : str
        Tree leaf encoding (``"class"``, ``"uint8"``, ``"float"``, ``"double"``; empty for other
        models).
    n_features, n_classes : int
    classes : list
        ``model.classes_``; C returns an index into it.
    header : str
        The generated C header.
    csv : str or None
        emlearn's tree CSV, loadable by emlearn's MicroPython module (int16 trees only).
    parity : ParityReport
        Agreement with scikit-learn on the data given to :func:`export`.
    sizes : list of dict
        Flash/RAM per target from a minimal link (Cortex-M0 and M4F with ``arm-none-eabi-gcc``,
        else the host).
    size_target : str
        Target whose flash is compared with the budget.
    latency_ns : float
        Host nanoseconds per ``predict`` in C.
    notes : list of str
        Decisions taken and their reasons.
    extra_headers : list of str
        emlearn headers the header includes (copied by :meth:`save`).
    details : dict
        Model facts (trees, nodes, leaves, weights).
    """

    name: str
    estimator: str
    engine: str
    dtype: str
    leaves: str
    n_features: int
    n_classes: int
    classes: list[Any]
    header: str
    csv: str | None
    parity: ParityReport
    sizes: list[dict[str, Any]]
    size_target: str
    latency_ns: float
    notes: list[str]
    extra_headers: list[str]
    details: dict[str, Any]
    _code: GeneratedC | None = dataclasses.field(default=None, repr=False, compare=False)
    _toolchain: Toolchain | None = dataclasses.field(default=None, repr=False, compare=False)

    @property
    def title(self) -> str:
        """Heading of the HTML view."""
        return f"Edge export of {self.estimator} ({self.dtype}, {self.engine})"

    @property
    def code(self) -> GeneratedC | None:
        """The generated C (header, include folders, C type), or None when it was not kept."""
        return self._code

    @property
    def toolchain(self) -> Toolchain | None:
        """The compilers that proved parity and measured sizes, or None when not kept."""
        return self._toolchain

    @property
    def flash_bytes(self) -> int:
        """Flash of the model on :attr:`size_target`."""
        return int(self.size_row(self.size_target)["flash_bytes"])

    @property
    def ram_bytes(self) -> int:
        """Static RAM (data + bss) of the model on :attr:`size_target`."""
        return int(self.size_row(self.size_target)["ram_bytes"])

    def size_row(self, target: str) -> dict[str, Any]:
        """The flash/RAM measurement of one target.

        Parameters
        ----------
        target : str
            One of the targets in :attr:`sizes` (``"host"``, ``"cortex-m0"``, ``"cortex-m4f"``).

        Returns
        -------
        dict
            Its row of :attr:`sizes`: ``flash_bytes``, ``ram_bytes``, the text/data/bss split
            and the compiler.

        Raises
        ------
        InputError
            If no size was measured for ``target``.
        """
        for row in self.sizes:
            if row["target"] == target:
                return row
        raise InputError(
            f"No size measured for {target!r}; have {[r['target'] for r in self.sizes]}."
        )

    def summary(self) -> dict[str, Any]:
        """Headline numbers: parity, flash, RAM, latency."""
        return {
            "parity %": round(self.parity.match_rate, 3),
            f"flash B ({self.size_target})": self.flash_bytes,
            f"RAM B ({self.size_target})": self.ram_bytes,
            "host ns/inference": round(self.latency_ns),
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per measured target: parity, flash, RAM and host latency."""
        rows = []
        for r in self.sizes:
            rows.append(
                {
                    "estimator": self.estimator,
                    "dtype": self.dtype,
                    "leaves": self.leaves,
                    "target": r["target"],
                    "parity_%": round(self.parity.match_rate, 3),
                    "max_proba_error": self.parity.max_proba_error,
                    "flash_bytes": r["flash_bytes"],
                    "ram_bytes": r["ram_bytes"],
                    "host_ns_per_inference": round(self.latency_ns, 1),
                }
            )
        return pd.DataFrame(rows)

    def sizes_frame(self) -> pd.DataFrame:
        """Flash and RAM per target, with the text/data/bss split."""
        return pd.DataFrame(self.sizes)

    def predict(self, X: Any) -> np.ndarray:
        """Classes predicted by the compiled C code (host build).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        numpy.ndarray
        """
        pred, _ = self._run(X)
        return np.asarray(self.classes)[pred]

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities computed by the compiled C code (float32).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        numpy.ndarray of shape (n_samples, n_classes)
            What the device computes: NaN where its float arithmetic overflows on extreme
            inputs (the parity report's explanation says when that happened on ``X``).
        """
        return self._run(X)[1]

    def _run(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        if self._code is None or self._toolchain is None:
            raise ModelError("This artifact was loaded without its code generator; export again.")
        Xa = check_X(X, self.n_features, self.dtype)
        pred, proba, _ = run_model(self._code, Xa, self._toolchain, min_time_rows=0)
        return pred, proba

    def save(self, directory: str | os.PathLike[str]) -> list[Path]:
        """Write ``<name>.h``, the CSV (if any), the emlearn headers it needs and ``report.json``.

        Every file is first written to a temporary file beside it and then renamed over the
        old one, and every target is checked before the first is written, so a refused or
        failed save leaves existing files as they were.

        Parameters
        ----------
        directory : str or path
            A folder; created (with missing parents) if it does not exist.

        Returns
        -------
        list of pathlib.Path
            The files written.

        Raises
        ------
        InputTypeError
            If ``directory`` is not a path.
        InputError
            If it is a file, cannot be created or written, or one of the files to write is a
            folder.
        """
        if isinstance(directory, bytes) or not isinstance(directory, str | os.PathLike):
            raise InputTypeError(
                f"directory must be a folder path (str or pathlib.Path), got "
                f"{type(directory).__name__}."
            )
        out = Path(os.fspath(directory)).expanduser()
        if not str(out).strip() or "\x00" in str(out):
            raise InputError(f"directory {str(out)!r} is not a folder path; pass e.g. 'export/'.")
        if out.exists() and not out.is_dir():
            raise InputError(f"{str(out)!r} is a file; save() writes several files into a folder.")
        payloads: dict[str, str | bytes] = {f"{self.name}.h": self.header}
        if self.csv is not None:
            payloads[f"{self.name}.csv"] = self.csv
        if self.extra_headers and self._code is not None:
            for h in self.extra_headers:
                payloads[h] = (Path(self._code.include_dirs[0]) / h).read_bytes()
        report = {k: v for k, v in self.to_dict().items() if k not in ("header", "csv")}
        payloads["report.json"] = json.dumps(_finite(report), indent=2, allow_nan=False)
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(
                f"Cannot create the folder {str(out)!r} ({exc.strerror}); create it or choose "
                "another directory."
            ) from None
        in_the_way = [f for f in payloads if (out / f).is_dir()]
        if in_the_way:
            raise InputError(
                f"{str(out)!r} holds folder(s) named {in_the_way}, where save() writes files; "
                "remove or rename them, or save into another directory."
            )
        targets = [check_write_path(out / fname, name="directory") for fname in payloads]
        written: list[Path] = []
        for target, data in zip(targets, payloads.values(), strict=True):
            try:
                written.append(atomic_write(target, data))
            except OSError as exc:
                raise InputError(
                    f"Writing {str(target)!r} failed ({exc.strerror or exc}); it was left as it "
                    f"was (already written: {[p.name for p in written]}). Free some space or "
                    "choose another directory."
                ) from None
        return written


def _finite(value: Any) -> Any:
    """``value`` with NaN and infinities replaced by None (strict JSON has neither)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _explain(
    model: Any, X: np.ndarray, mismatch: np.ndarray, notes: list[str], n_overflow: int
) -> str:
    biggest = float(np.abs(X).max())
    overflow = ""
    if n_overflow:
        overflow = (
            f" The C code returned non-finite probabilities on {n_overflow} row(s) (counted as "
            f"probability error 1): its float arithmetic overflowed on inputs up to "
            f"{biggest:.3g}; scale the features."
        )
    elif mismatch.any() and biggest > np.sqrt(FLOAT32_MAX):
        overflow = (
            f" Inputs reach {biggest:.3g}, whose squares overflow float32 in C; scale the features."
        )
    if not mismatch.any():
        return "All predictions match scikit-learn exactly." + overflow
    n = int(mismatch.sum())
    proba = np.sort(model.predict_proba(X[mismatch]), axis=1)
    margin = proba[:, -1] - proba[:, -2] if proba.shape[1] > 1 else proba[:, -1]
    return (
        f"{n} of {len(mismatch)} predictions differ; on those rows scikit-learn's top-two "
        f"probability margin is at most {float(margin.max()):.3g} (near-ties). Causes: "
        + "; ".join(notes)
        + "."
        + overflow
    )


def build_artifact(
    model: Any,
    code: GeneratedC,
    Xa: np.ndarray,
    y: Any,
    toolchain: Toolchain,
    targets: list[str] | None,
    dtype: str,
) -> EdgeArtifact:
    """Compile and run ``code`` on ``Xa``, compare with ``model`` and measure its size.

    The building block of :func:`~workbench.edge.export`, for C from any generator that follows
    :mod:`workbench.edge.cinterface` (the benchmark measures peers with it). Arguments are
    trusted: validate them first.

    Parameters
    ----------
    model : estimator
        The fitted classifier the code was generated from.
    code : GeneratedC
        The generated header.
    Xa : numpy.ndarray of shape (n_samples, n_features)
        Validated held-out features.
    y : array-like or None
        True labels, for accuracy.
    toolchain : Toolchain
        From :func:`~workbench.edge.find_compiler`.
    targets : list of str or None
        Size targets (None: every available one).
    dtype : str
        The input type recorded in the artifact.

    Returns
    -------
    EdgeArtifact
    """
    pred_idx, proba_c, latency = run_model(code, Xa, toolchain)
    classes = np.asarray(model.classes_)
    valid = (pred_idx >= 0) & (pred_idx < len(classes))
    pred_c = np.where(valid, classes[np.clip(pred_idx, 0, len(classes) - 1)], None)
    pred_sk = model.predict(Xa)
    proba_sk = model.predict_proba(Xa)
    mismatch = ~valid | (pred_c != pred_sk)
    diff = np.abs(proba_c.astype(np.float64) - proba_sk)
    n_overflow = int((~np.isfinite(proba_c).all(axis=1)).sum())
    acc_sk = acc_c = None
    if y is not None:
        ya = np.asarray(y)
        acc_sk, acc_c = float(np.mean(pred_sk == ya)), float(np.mean(pred_c == ya))
    parity = ParityReport(
        n_samples=len(Xa),
        n_match=int((~mismatch).sum()),
        match_rate=float(100.0 * (~mismatch).mean()),
        max_proba_error=float(np.max(np.where(np.isfinite(diff), diff, 1.0), initial=0.0)),
        accuracy_sklearn=acc_sk,
        accuracy_c=acc_c,
        mismatch_rows=np.flatnonzero(mismatch)[:20].tolist(),
        explanation=_explain(model, Xa, mismatch, code.notes, n_overflow),
    )
    sizes = measure_size(
        code.header,
        f"{code.name}.h",
        call=f"wb_probe_out = {code.name}_predict(x);",
        in_type=code.in_type,
        n_in=code.n_features,
        toolchain=toolchain,
        include_dirs=code.include_dirs,
        targets=targets,
    )
    measured = [r["target"] for r in sizes]
    size_target = "cortex-m4f" if "cortex-m4f" in measured else measured[0]
    notes = list(code.notes)
    if toolchain.arm_cc is None:
        notes.append(
            "arm-none-eabi-gcc is not installed: sizes are for the host compiler "
            "(apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi for Cortex-M)"
        )
    return EdgeArtifact(
        name=code.name,
        estimator=type(model).__name__,
        engine=code.engine,
        dtype=dtype,
        leaves=code.leaves,
        n_features=code.n_features,
        n_classes=code.n_classes,
        classes=classes.tolist(),
        header=code.header,
        csv=code.csv,
        parity=parity,
        sizes=sizes,
        size_target=size_target,
        latency_ns=latency,
        notes=notes,
        extra_headers=code.extra_headers,
        details=code.details,
        _code=code,
        _toolchain=toolchain,
    )
