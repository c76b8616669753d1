"""``export``: a fitted estimator -> C header, MicroPython CSV, and a parity and size report."""

from __future__ import annotations

import dataclasses
import json
import keyword
import os
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench.core.errors import InputError, ModelError
from workbench.core.results import Result
from workbench.core.validation import (
    check_array,
    check_choice,
    check_consistent_length,
    check_fitted,
    check_positive,
)
from workbench.edge.codegen import SUPPORTED_ESTIMATORS, GeneratedC, generate
from workbench.edge.compiler import ARM_TARGETS, Toolchain, find_compiler, measure_size
from workbench.edge.harness import run_model

__all__ = ["DTYPES", "LEAVES", "EdgeArtifact", "ParityReport", "export"]

#: Accepted ``dtype`` values of :func:`export`.
DTYPES = ("auto", "float32", "float64", "int16")
#: Accepted ``leaves`` values of :func:`export`.
LEAVES = ("auto", "class", "uint8", "float")

_C_KEYWORDS = {
    "auto",
    "break",
    "case",
    "char",
    "const",
    "continue",
    "default",
    "do",
    "double",
    "else",
    "enum",
    "extern",
    "float",
    "for",
    "goto",
    "if",
    "inline",
    "int",
    "long",
    "register",
    "restrict",
    "return",
    "short",
    "signed",
    "sizeof",
    "static",
    "struct",
    "switch",
    "typedef",
    "union",
    "unsigned",
    "void",
    "volatile",
    "while",
    "main",
}


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
        Tree leaf encoding (``"class"``, ``"uint8"``, ``"float"``; empty for other models).
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
    def flash_bytes(self) -> int:
        """Flash of the model on :attr:`size_target`."""
        return int(self._size_row(self.size_target)["flash_bytes"])

    @property
    def ram_bytes(self) -> int:
        """Static RAM (data + bss) of the model on :attr:`size_target`."""
        return int(self._size_row(self.size_target)["ram_bytes"])

    def _size_row(self, target: str) -> dict[str, Any]:
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
        """Class probabilities computed by the compiled C code (float32)."""
        return self._run(X)[1]

    def _run(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        if self._code is None or self._toolchain is None:
            raise ModelError("This artifact was loaded without its code generator; export again.")
        Xa = _check_X(X, self.n_features, self.dtype)
        pred, proba, _ = run_model(self._code, Xa, self._toolchain, min_time_rows=0)
        return pred, proba

    def save(self, directory: str | os.PathLike[str]) -> list[Path]:
        """Write ``<name>.h``, the CSV (if any), the emlearn headers it needs and ``report.json``.

        Parameters
        ----------
        directory : str or path
            Created if missing.

        Returns
        -------
        list of pathlib.Path
            The files written.
        """
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        written = [out / f"{self.name}.h"]
        written[0].write_text(self.header, encoding="utf-8")
        if self.csv is not None:
            written.append(out / f"{self.name}.csv")
            written[-1].write_text(self.csv, encoding="utf-8")
        if self.extra_headers and self._code is not None:
            for h in self.extra_headers:
                src = Path(self._code.include_dirs[0]) / h
                shutil.copyfile(src, out / h)
                written.append(out / h)
        report = {k: v for k, v in self.to_dict().items() if k not in ("header", "csv")}
        written.append(out / "report.json")
        written[-1].write_text(json.dumps(report, indent=2, allow_nan=False), encoding="utf-8")
        return written


def _check_model(model: Any) -> str:
    kind = type(model).__name__
    if kind not in SUPPORTED_ESTIMATORS:
        raise ModelError(
            f"{kind} cannot be exported; supported estimators: {', '.join(SUPPORTED_ESTIMATORS)}."
        )
    check_fitted(model)
    multi = np.ndim(model.classes_) != 1 or isinstance(model.classes_, list)
    if kind == "MLPClassifier":
        multi = multi or (model.out_activation_ == "logistic" and model.n_outputs_ > 1)
    elif SUPPORTED_ESTIMATORS[kind] == "tree":
        multi = multi or model.n_outputs_ != 1
    if multi:
        raise ModelError(f"{kind} was fitted on several outputs; only single-output models export.")
    return SUPPORTED_ESTIMATORS[kind]


def _check_X(X: Any, n_features: int, dtype: str) -> np.ndarray:
    Xa = check_array(X, name="X")
    if Xa.shape[1] != n_features:
        raise InputError(
            f"X has {Xa.shape[1]} features but the model was fitted with {n_features}; pass the "
            "same columns as in training."
        )
    if dtype == "int16":
        if not np.array_equal(Xa, np.round(Xa)) or Xa.min() < -32768 or Xa.max() > 32767:
            raise InputError(
                "dtype='int16' needs integer-valued features in [-32768, 32767]; quantize them "
                "first (e.g. vibration_features(..., quantize=True)) or use dtype='float32'."
            )
    return Xa


def _check_targets(targets: Any) -> list[str] | None:
    if targets is None:
        return None
    if isinstance(targets, str) or not isinstance(targets, list | tuple) or not targets:
        raise InputError(f"targets must be a non-empty list of target names, got {targets!r}.")
    return [check_choice(t, ("host", *ARM_TARGETS), kind="size target") for t in targets]


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,40}", name):
        raise InputError(
            f"name must be a C identifier (letters, digits, '_', not starting with a digit, "
            f"at most 41 characters), got {name!r}."
        )
    if name in _C_KEYWORDS or keyword.iskeyword(name):
        raise InputError(f"name {name!r} is a reserved word; choose another, e.g. 'model'.")
    return name


def _explain(model: Any, X: np.ndarray, mismatch: np.ndarray, notes: list[str]) -> str:
    if not mismatch.any():
        return "All predictions match scikit-learn exactly."
    n = int(mismatch.sum())
    proba = np.sort(model.predict_proba(X[mismatch]), axis=1)
    margin = proba[:, -1] - proba[:, -2] if proba.shape[1] > 1 else proba[:, -1]
    return (
        f"{n} of {len(mismatch)} predictions differ; on those rows scikit-learn's top-two "
        f"probability margin is at most {float(margin.max()):.3g} (near-ties). Causes: "
        + "; ".join(notes)
        + "."
    )


def _build_artifact(
    model: Any,
    code: GeneratedC,
    Xa: np.ndarray,
    y: Any,
    toolchain: Toolchain,
    targets: list[str] | None,
    dtype: str,
) -> EdgeArtifact:
    """Compile and run ``code`` on ``Xa``, compare with ``model`` and measure its size."""
    pred_idx, proba_c, latency = run_model(code, Xa, toolchain)
    classes = np.asarray(model.classes_)
    valid = (pred_idx >= 0) & (pred_idx < len(classes))
    pred_c = np.where(valid, classes[np.clip(pred_idx, 0, len(classes) - 1)], None)
    pred_sk = model.predict(Xa)
    proba_sk = model.predict_proba(Xa)
    mismatch = ~valid | (pred_c != pred_sk)
    acc_sk = acc_c = None
    if y is not None:
        ya = np.asarray(y)
        acc_sk, acc_c = float(np.mean(pred_sk == ya)), float(np.mean(pred_c == ya))
    parity = ParityReport(
        n_samples=len(Xa),
        n_match=int((~mismatch).sum()),
        match_rate=float(100.0 * (~mismatch).mean()),
        max_proba_error=float(np.max(np.abs(proba_c.astype(np.float64) - proba_sk))),
        accuracy_sklearn=acc_sk,
        accuracy_c=acc_c,
        mismatch_rows=np.flatnonzero(mismatch)[:20].tolist(),
        explanation=_explain(model, Xa, mismatch, code.notes),
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


def export(
    model: Any,
    X: Any,
    y: Any = None,
    *,
    name: str = "model",
    dtype: str = "auto",
    leaves: str = "auto",
    flash_budget: int | None = None,
    engine: str = "auto",
    cc: str | os.PathLike[str] | None = None,
    targets: list[str] | None = None,
) -> EdgeArtifact:
    """Export a fitted classifier to C and prove, by compiling it, that it predicts the same.

    The generated header is compiled with the host C compiler into a harness that runs on ``X``;
    its predictions are compared with ``model.predict(X)`` row by row. Flash and RAM are measured
    by a minimal link for Cortex-M0 and Cortex-M4F when ``arm-none-eabi-gcc`` is installed (else
    for the host, and the report says so).

    Parameters
    ----------
    model : estimator
        A fitted ``DecisionTreeClassifier``, ``RandomForestClassifier``,
        ``ExtraTreesClassifier``, ``MLPClassifier``, ``GaussianNB`` or
        ``KNeighborsClassifier``.
    X : array-like of shape (n_samples, n_features)
        Held-out data the parity is proven on.
    y : array-like of shape (n_samples,), optional
        True labels; adds the accuracy of scikit-learn and of the C code to the report.
    name : str, default="model"
        C identifier prefixed to every symbol; the header is ``<name>.h``.
    dtype : {"auto", "float32", "float64", "int16"}, default="auto"
        Input and arithmetic type. ``"auto"`` picks ``"int16"`` for trees when every value of
        ``X`` is an integer in int16 range (exact, smaller) and ``"float32"`` otherwise. Trees
        always compare in float32 like scikit-learn, so ``"float64"`` applies to MLP, naive Bayes
        and k-NN only; ``"int16"`` applies to trees only.
    leaves : {"auto", "class", "uint8", "float"}, default="auto"
        Tree leaves: the class (hard voting; exact for a single tree), 8-bit probabilities
        (emlearn's soft voting) or float32 probabilities (exact soft voting). ``"auto"``:
        ``"class"`` for a single tree; for ensembles the smaller ``"uint8"`` when it keeps every
        prediction on ``X``, else ``"float"`` (the report's notes say which and why). Every
        int16 tree export also carries emlearn's CSV for MicroPython.
    engine : {"auto", "workbench", "emlearn"}, default="auto"
        Tree runtime: ``"auto"``/``"workbench"`` use our compact tables; ``"emlearn"`` uses
        emlearn's ``eml_trees.h`` (int16 features, ``"class"`` or ``"uint8"`` leaves).
    flash_budget : int, optional
        Bytes of flash the model may take on :attr:`EdgeArtifact.size_target`; a larger model
        raises :class:`~workbench.core.errors.ModelError` (use :func:`fit_to_budget` to shrink).
    cc : str or path, optional
        Host C compiler; default ``$CC``, ``cc`` or ``gcc``.
    targets : list of str, optional
        Size targets among ``"host"``, ``"cortex-m0"``, ``"cortex-m4f"``; default: both
        Cortex-M targets when the ARM toolchain is installed, else ``"host"``.

    Returns
    -------
    EdgeArtifact

    Raises
    ------
    ModelError
        Unsupported estimator (the message lists the supported ones), or over the flash budget.
    NotFittedError
        If the model is not fitted.
    InputError
        Feature-count mismatch, bad ``name``/``dtype``/``leaves``, non-integer data for int16.
    DependencyError
        If no C compiler is installed (``apt-get install gcc``).

    Examples
    --------
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from workbench.core.datasets import load_dataset
    >>> ds = load_dataset("wine")
    >>> clf = DecisionTreeClassifier(max_depth=4, random_state=0).fit(ds.X, ds.y)
    >>> art = export(clf, ds.X, ds.y)
    >>> art.parity.match_rate
    100.0
    """
    family = _check_model(model)
    name = _check_name(name)
    dtype = check_choice(dtype, DTYPES, kind="dtype")
    leaves = check_choice(leaves, LEAVES, kind="leaf encoding")
    engine = check_choice(engine, ("auto", "workbench", "emlearn"), kind="engine")
    if flash_budget is not None:
        check_positive(flash_budget, name="flash_budget", integer=True)
    targets = _check_targets(targets)
    n_features = int(model.n_features_in_)
    Xa = _check_X(X, n_features, "float32")
    if y is not None:
        check_consistent_length(X=Xa, y=np.asarray(y))
    integer_X = bool(np.array_equal(Xa, np.round(Xa)) and Xa.min() >= -32768 and Xa.max() <= 32767)
    if dtype == "auto":
        dtype = "int16" if family == "tree" and integer_X else "float32"
    if family == "tree" and dtype == "float64":
        raise InputError(
            "Trees compare float32 features, like scikit-learn; use dtype='float32' or 'int16'."
        )
    if family != "tree" and dtype == "int16":
        raise InputError(
            f"dtype='int16' is for trees; {type(model).__name__} exports as 'float32' or 'float64'."
        )
    if dtype == "int16":
        _check_X(Xa, n_features, "int16")
    n_trees = len(getattr(model, "estimators_", [model]))
    if family != "tree":
        leaves = ""
    auto_leaves = family == "tree" and leaves == "auto" and n_trees > 1
    if family == "tree" and leaves == "auto":
        leaves = "class" if n_trees == 1 else "uint8"
    toolchain = find_compiler(cc)
    if engine == "emlearn" and family != "tree":
        raise InputError(f"engine='emlearn' is for trees; {type(model).__name__} has no choice.")
    eng = "emlearn" if engine == "emlearn" else "workbench"
    code = generate(model, name=name, dtype=dtype, leaves=leaves, engine=eng)
    artifact = _build_artifact(model, code, Xa, y, toolchain, targets, dtype)
    if auto_leaves:
        if artifact.parity.match_rate < 100.0:
            lost = artifact.parity.n_samples - artifact.parity.n_match
            code = generate(model, name=name, dtype=dtype, leaves="float", engine="workbench")
            artifact = _build_artifact(model, code, Xa, y, toolchain, targets, dtype)
            artifact.notes.append(
                f"leaves='auto': 8-bit leaf probabilities changed {lost} prediction(s) on X, so "
                "float32 leaves (exact soft voting) were used"
            )
        else:
            artifact.notes.append(
                "leaves='auto': 8-bit leaf probabilities (the smaller encoding) kept every "
                "prediction on X; pass leaves='float' for exact soft voting on any input"
            )
    if flash_budget is not None and artifact.flash_bytes > flash_budget:
        raise ModelError(
            f"The exported {artifact.estimator} needs {artifact.flash_bytes} bytes of flash on "
            f"{artifact.size_target}, over the budget of {flash_budget}; shrink it with "
            "fit_to_budget() (fewer or shallower trees) or raise the budget."
        )
    return artifact
