"""Registration checks: the ONNX model and the compiled SQL against scikit-learn, on clean rows and
on rows with NaN.

Parity on clean rows decides whether a model is stored at all. Parity on rows with NaN decides
what a NaN argument does in SQL (the model's ``nan_policy``): ``"pass"`` only when scikit-learn
accepts NaN for the model *and* the ONNX model gives its answers on probe rows with NaN (measured:
HistGradientBoosting exact; trees and forests route NaN differently from scikit-learn, up to 40 %
of labels), else ``"error"``: the SQL functions refuse NaN. Tags alone cannot decide acceptance:
a Pipeline reports ``allow_nan=False`` even when it ends in a forest that accepts NaN, so
scikit-learn is asked directly, by predicting on the probe rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from workbench.core.errors import ModelError
from workbench.indb.features import NUMERIC, Feature
from workbench.indb.udf import OnnxRunner

__all__ = ["compiled_sql_parity", "nan_parity", "nan_rows", "onnx_parity", "sklearn_accepts_nan"]

_PARITY_VIEW = "__workbench_parity_sample"
#: Clean rows a NaN probe is built from (each gives one probe row per numeric feature, + 2).
PROBE_BASE_ROWS = 64


def nan_rows(X: pd.DataFrame, features: list[Feature]) -> np.ndarray:
    """Boolean mask of the rows of ``X`` with NaN in a numeric feature."""
    numeric = [f.name for f in features if f.kind == NUMERIC]
    if not numeric:
        return np.zeros(len(X), dtype=bool)
    values = X[numeric].to_numpy(dtype=np.float64, na_value=np.nan)
    return np.isnan(values).any(axis=1)


def _probe(clean: pd.DataFrame, features: list[Feature], random_state: int | None) -> pd.DataFrame:
    """Rows with NaN made from clean rows: one NaN column at a time, all of them, a random half."""
    rng = np.random.default_rng(random_state)
    numeric = [f.name for f in features if f.kind == NUMERIC]
    take = rng.choice(len(clean), size=min(len(clean), PROBE_BASE_ROWS), replace=False)
    base = clean.iloc[np.sort(take)].reset_index(drop=True).astype({c: float for c in numeric})
    parts = []
    for col in numeric:
        part = base.copy()
        part[col] = np.nan
        parts.append(part)
    every = base.copy()
    every[numeric] = np.nan
    half = base.copy()
    mask = rng.random((len(base), len(numeric))) < 0.5
    mask[np.arange(len(base)), rng.integers(0, len(numeric), len(base))] = True
    half[numeric] = half[numeric].mask(mask)
    return pd.concat([*parts, every, half], ignore_index=True)


def sklearn_accepts_nan(model: Any, rows: pd.DataFrame) -> bool:
    """Whether scikit-learn predicts on rows with NaN for ``model`` instead of raising.

    Parameters
    ----------
    model : estimator
        Fitted estimator or Pipeline.
    rows : pandas.DataFrame
        Rows with NaN in numeric columns.

    Returns
    -------
    bool
    """
    try:
        with threadpool_limits(limits=1):
            model.predict(rows)
    except (ValueError, TypeError):
        return False
    return True


def _max_diff(report: dict[str, Any], diff: np.ndarray) -> int:
    """Record the largest finite difference; return how many were not finite (NaN answers)."""
    finite = np.isfinite(diff)
    report["max_abs_diff"] = float(diff[finite].max()) if finite.any() else 0.0
    odd = int((~finite).sum())
    if odd:
        report["nonfinite_answers"] = odd
    return odd


def _compare(
    model: Any, task: str, X: pd.DataFrame, first: np.ndarray, proba: Any, tolerance: float
) -> tuple[dict[str, Any], bool]:
    """ONNX outputs against scikit-learn's on ``X``: (report, within tolerance)."""
    report: dict[str, Any] = {"rows": len(X), "tolerance": float(tolerance)}
    with threadpool_limits(limits=1):
        if task == "regression":
            ref = np.asarray(model.predict(X), dtype=np.float64)
            got = np.asarray(first, np.float64)
            diff = np.abs(got - ref) / np.maximum(1.0, np.abs(ref))
            odd = _max_diff(report, diff)
            report["label_mismatches"] = 0
            return report, report["max_abs_diff"] <= tolerance and not odd
        ref_p = np.asarray(model.predict_proba(X), dtype=np.float64)
        ref_y = np.asarray(model.predict(X))
    odd = _max_diff(report, np.abs(proba - ref_p))
    flips = np.asarray(first).astype(ref_y.dtype) != ref_y
    top2 = np.sort(ref_p, axis=1)[:, -2:]
    unexplained = flips & ((top2[:, 1] - top2[:, 0]) > 2 * tolerance)
    report["label_mismatches"] = int(flips.sum())
    return report, report["max_abs_diff"] <= tolerance and not unexplained.any() and not odd


def _run(runner: OnnxRunner, X: pd.DataFrame, features: list[Feature]) -> tuple[Any, Any]:
    cols = [
        X[f.name].to_numpy(dtype=np.float64, na_value=np.nan)
        if f.kind == NUMERIC
        else X[f.name].to_numpy()
        for f in features
    ]
    try:
        return runner.run(cols)
    except Exception as exc:  # onnxruntime raises its own exception classes
        raise ModelError(f"onnxruntime could not run the converted model: {exc}") from None


def onnx_parity(
    model: Any,
    runner: OnnxRunner,
    features: list[Feature],
    clean: pd.DataFrame,
    task: str,
    tolerance: float,
) -> dict[str, Any]:
    """Check the ONNX model against scikit-learn on clean rows.

    Parameters
    ----------
    model : estimator
    runner : OnnxRunner
        The converted model.
    features : list of Feature
    clean : pandas.DataFrame
        Sample rows without NaN.
    task : {"classification", "regression"}
    tolerance : float

    Returns
    -------
    dict
        ``rows``, ``tolerance``, ``max_abs_diff``, ``label_mismatches``.

    Raises
    ------
    ModelError
        If they differ beyond ``tolerance`` (label flips count only where scikit-learn's two
        top probabilities are further apart than ``2 * tolerance``).
    """
    first, proba = _run(runner, clean, features)
    report, ok = _compare(model, task, clean, first, proba, tolerance)
    if not ok:
        raise ModelError(
            f"ONNX parity check failed on {len(clean)} rows: max abs difference "
            f"{report['max_abs_diff']:.3g} (tolerance {tolerance:g}), "
            f"{report['label_mismatches']} label mismatch(es). The model was not registered; "
            "raise tolerance if float32 inputs are acceptable for this model."
        )
    return report


def nan_parity(
    model: Any,
    runner: OnnxRunner,
    features: list[Feature],
    sample: pd.DataFrame,
    task: str,
    tolerance: float,
    *,
    allow_nan: bool | None,
    random_state: int | None,
) -> dict[str, Any]:
    """Decide the model's NaN policy (see the module docstring) and record why.

    Parameters
    ----------
    model : estimator
    runner : OnnxRunner
    features : list of Feature
    sample : pandas.DataFrame
        The parity sample; its rows with NaN join the probe rows.
    task : {"classification", "regression"}
    tolerance : float
    allow_nan : bool or None
        None decides from the measurement; True requires ``"pass"``; False forces ``"error"``.
    random_state : int or None
        Seed of the probe rows.

    Returns
    -------
    dict
        ``policy``, ``sklearn_accepts_nan``, ``rows``, ``max_abs_diff``, ``label_mismatches``
        (where measured) and ``reason``.

    Raises
    ------
    ModelError
        If ``allow_nan`` is True and the policy cannot be ``"pass"``.
    """
    if not any(f.kind == NUMERIC for f in features):
        return {"policy": "pass", "sklearn_accepts_nan": None, "rows": 0,
                "reason": "no numeric arguments, so no NaN can reach the model"}
    has_nan = nan_rows(sample, features)
    probe = pd.concat(
        [sample[has_nan], _probe(sample[~has_nan], features, random_state)], ignore_index=True
    )
    accepts = sklearn_accepts_nan(model, probe)
    report: dict[str, Any] = {"policy": "error", "sklearn_accepts_nan": accepts, "rows": 0}
    if allow_nan is False:
        report["reason"] = "registered with allow_nan=False"
        return report
    if not accepts:
        report["reason"] = "scikit-learn refuses NaN for this model"
    else:
        first, proba = _run(runner, probe, features)
        measured, ok = _compare(model, task, probe, first, proba, tolerance)
        report.update({k: v for k, v in measured.items() if k != "tolerance"})
        if ok:
            report["policy"] = "pass"
            report["reason"] = f"ONNX matches scikit-learn on {len(probe)} rows with NaN"
        else:
            what = (
                f"{measured['label_mismatches']} of {len(probe)} labels, max abs difference "
                f"{measured['max_abs_diff']:.3g}"
                if task == "classification"
                else f"max relative difference {measured['max_abs_diff']:.3g} on {len(probe)} rows"
            )
            report["reason"] = (
                f"ONNX differs from scikit-learn on rows with NaN ({what}): the converted model "
                "routes missing values differently"
            )
    if allow_nan and report["policy"] != "pass":
        raise ModelError(
            f"allow_nan=True, but {report['reason']}. The model was not registered. Impute NaN "
            "inside the Pipeline (SimpleImputer), use HistGradientBoosting (exact on NaN), or "
            "register with allow_nan=None so that the SQL functions refuse NaN."
        )
    return report


def compiled_sql_parity(
    con: Any,
    model: Any,
    features: list[Feature],
    clean: pd.DataFrame,
    task: str,
    tolerance: float,
    max_nodes: int,
) -> tuple[str | None, str | None, str, dict[str, Any]]:
    """Compile the model to SQL where supported and keep what matches scikit-learn on clean rows.

    Returns
    -------
    sql_predict, sql_proba : str or None
    note : str
        Why an output was not compiled or not kept.
    report : dict
        ``sql_max_abs_diff``/``sql_label_mismatches``/``sql_proba_max_abs_diff``.
    """
    from workbench.indb.sql_compile import compile_sql

    names = [f.name for f in features]
    outputs = ["predict"] if task == "regression" else ["predict", "proba"]
    exprs: dict[str, str | None] = {}
    notes: list[str] = []
    report: dict[str, Any] = {}
    con.register(_PARITY_VIEW, clean[names])
    try:
        for out in outputs:
            try:
                expr = compile_sql(model, names, output=out, max_nodes=max_nodes)
            except ModelError as exc:
                exprs[out] = None
                if str(exc) not in notes:
                    notes.append(str(exc))
                continue
            got = [r[0] for r in con.execute(f"SELECT {expr} FROM {_PARITY_VIEW}").fetchall()]
            with threadpool_limits(limits=1):
                if out == "proba":
                    diff = np.abs(np.asarray(got, float) - model.predict_proba(clean)[:, 1])
                    report["sql_proba_max_abs_diff"] = float(diff.max())
                    ok = diff.max() <= tolerance
                elif task == "regression":
                    ref = np.asarray(model.predict(clean), float)
                    diff = np.abs(np.asarray(got, float) - ref) / np.maximum(1.0, np.abs(ref))
                    report["sql_max_abs_diff"] = float(diff.max())
                    ok = diff.max() <= tolerance
                else:
                    ref_y = model.predict(clean)
                    mism = int((np.asarray(got, dtype=ref_y.dtype) != ref_y).sum())
                    report["sql_label_mismatches"] = mism
                    ok = mism == 0
            exprs[out] = expr if ok else None
            if not ok:
                notes.append(f"{out}: compiled SQL failed the parity check")
    finally:
        con.unregister(_PARITY_VIEW)
    return exprs.get("predict"), exprs.get("proba"), "; ".join(notes), report
