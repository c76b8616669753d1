"""scikit-learn preprocessing in a ``Pipeline``: which steps export, and as what affine maps.

A fitted ``Pipeline([*transformers, classifier])`` whose transformers are in
:data:`SUPPORTED_STEPS` exports as one C function on the *raw* features, with the interface of
:mod:`workbench.edge.cinterface`. Every supported step is affine, ``z = W (x - c) + b`` with a
diagonal ``W`` for the scalers (plus a clamp for ``clip=True``), so consecutive steps are
composed on the host in float64 into as few stages as the clamps allow (:func:`affine_stages`).
Two ways to put them on the device:

- **Folded into tree thresholds** (scalers only, before a decision tree or forest;
  :mod:`workbench.edge.folding`): exact parity, no transform code, and int16 inputs, emlearn's
  runtime and the MicroPython CSV work as for a bare tree.
- **Transform code** (:mod:`workbench.edge.pipeline_codegen`): the stages run in C, then the
  model's own generated ``predict``, in the arithmetic type :func:`transform_ctype` derives
  from what float32 would lose.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from sklearn.decomposition import PCA
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler, RobustScaler, StandardScaler

from workbench.core.errors import InputError, ModelError
from workbench.core.validation import check_fitted
from workbench.edge.codegen import SUPPORTED_ESTIMATORS

__all__ = [
    "APPROXIMATE_FAMILIES",
    "CANCELLATION_LIMIT",
    "SUPPORTED_STEPS",
    "AffineStage",
    "affine_stages",
    "check_stage_values",
    "check_step_values",
    "describe_pipeline",
    "split_pipeline",
    "step_stage",
    "transform_ctype",
    "transform_features",
]

#: Transformers a Pipeline may hold before its classifier (exact classes, not subclasses).
SUPPORTED_STEPS: dict[str, type] = {
    "StandardScaler": StandardScaler,
    "MinMaxScaler": MinMaxScaler,
    "RobustScaler": RobustScaler,
    "MaxAbsScaler": MaxAbsScaler,
    "PCA": PCA,
}
#: Largest ``|centre| / spread`` of a stage's inputs for which float32 transforms are used: a
#: float32 subtraction ``x - c`` errs by up to ``2**-24 * |c|``, so at this ratio the result
#: keeps 24 - 8 = 16 significant bits of the input's spread (error <= 1.5e-5 of a std).
CANCELLATION_LIMIT = 2.0**8
#: Model families whose C arithmetic only approximates scikit-learn's (within float32
#: rounding); every other family compares features with thresholds, so its inputs must be
#: right to the last float32 bit and transforms in front of it run in double.
APPROXIMATE_FAMILIES = ("mlp", "naive_bayes", "knn")
_F32_MAX = float(np.finfo(np.float32).max)


def _supported_text() -> str:
    return (
        f"supported steps: {', '.join(SUPPORTED_STEPS)} (any number, in any order), then one "
        f"classifier: {', '.join(SUPPORTED_ESTIMATORS)}"
    )


def _flatten(pipeline: Pipeline, prefix: str = "") -> list[tuple[str, Any]]:
    steps: list[tuple[str, Any]] = []
    for step_name, step in pipeline.steps:
        label = prefix + str(step_name)
        if isinstance(step, Pipeline):
            steps += _flatten(step, label + "__")
        elif step is not None and not (isinstance(step, str) and step == "passthrough"):
            steps.append((label, step))
    return steps


def split_pipeline(model: Any) -> tuple[list[tuple[str, Any]], Any]:
    """Split a fitted ``Pipeline`` into its transformers and its final classifier.

    Nested pipelines are flattened and ``"passthrough"`` steps dropped. A bare estimator comes
    back as ``([], model)``; it is checked by :func:`~workbench.edge.checks.check_model`.

    Parameters
    ----------
    model : estimator or sklearn.pipeline.Pipeline

    Returns
    -------
    steps : list of (str, transformer)
        The transformers in order, each of a class in :data:`SUPPORTED_STEPS`, fitted.
    final : estimator
        The last step.

    Raises
    ------
    ModelError
        If a transformer cannot be exported: the message names the step and lists the
        supported ones. Also for an empty pipeline.
    NotFittedError
        If a step is not fitted.
    """
    if not isinstance(model, Pipeline):
        return [], model
    steps = _flatten(model)
    if not steps:
        raise ModelError(f"The Pipeline holds no estimator; {_supported_text()}.")
    *transformers, (_, final) = steps
    for step_name, step in transformers:
        kind = type(step).__name__
        if SUPPORTED_STEPS.get(kind) is not type(step):
            raise ModelError(
                f"Pipeline step {step_name!r} ({kind}) cannot be exported to C; "
                f"{_supported_text()}. Apply it before export (and pass its output as X), or "
                "replace it with a supported step."
            )
        check_fitted(step, name=f"Pipeline step {step_name!r}")
    return transformers, final


def describe_pipeline(steps: list[tuple[str, Any]], final: Any) -> str:
    """``"Pipeline(StandardScaler, PCA, MLPClassifier)"``: the classes of the exported steps."""
    return f"Pipeline({', '.join(type(s).__name__ for _, s in [*steps, ('', final)])})"


def transform_features(steps: list[tuple[str, Any]], X: np.ndarray) -> np.ndarray:
    """Run the transformers' own ``transform`` on ``X`` in float64, as the Pipeline does.

    Parameters
    ----------
    steps : list of (str, transformer)
        From :func:`split_pipeline`.
    X : numpy.ndarray of shape (n_samples, n_features)

    Returns
    -------
    numpy.ndarray of shape (n_samples, n_features_out)
    """
    Z = np.asarray(X, dtype=np.float64)
    for _, step in steps:
        Z = np.asarray(step.transform(Z), dtype=np.float64)
    return Z


@dataclasses.dataclass
class AffineStage:
    """One C stage: ``z = W (x - center) + offset``, then an optional clamp.

    Attributes
    ----------
    center : numpy.ndarray of shape (n_in,)
    weights : numpy.ndarray
        Shape ``(n_in,)`` for an element-wise stage (then ``offset`` is zero), else
        ``(n_out, n_in)``.
    offset : numpy.ndarray of shape (n_out,)
    clip : tuple of float or None
        ``(low, high)`` of ``MinMaxScaler(clip=True)``.
    steps : list of str
        Names of the Pipeline steps composed into this stage.
    """

    center: np.ndarray
    weights: np.ndarray
    offset: np.ndarray
    clip: tuple[float, float] | None
    steps: list[str]

    @property
    def dense(self) -> bool:
        """Whether the stage mixes features (a PCA is in it)."""
        return self.weights.ndim == 2

    @property
    def n_out(self) -> int:
        """Features the stage writes."""
        return int(self.weights.shape[0])


def step_stage(step_name: str, step: Any) -> AffineStage:
    """One fitted step as an :class:`AffineStage` (float64), exactly its ``transform``'s map.

    Parameters
    ----------
    step_name : str
    step : transformer
        Of a class in :data:`SUPPORTED_STEPS`, fitted.

    Returns
    -------
    AffineStage
    """
    n = int(step.n_features_in_)
    ones, zeros = np.ones(n), np.zeros(n)
    clip = None
    if isinstance(step, PCA):
        weights = np.asarray(step.components_, dtype=np.float64)
        if step.whiten:
            # PCA.transform clamps tiny variances to machine epsilon before dividing.
            scale = np.sqrt(np.asarray(step.explained_variance_))
            scale[scale < np.finfo(scale.dtype).eps] = np.finfo(scale.dtype).eps
            weights = weights / scale.astype(np.float64)[:, None]
        center = np.asarray(step.mean_, dtype=np.float64)
        return AffineStage(center, weights, np.zeros(len(weights)), None, [step_name])
    if isinstance(step, MinMaxScaler):  # x * scale_ + min_  ==  (x + min_ / scale_) * scale_
        mult = np.asarray(step.scale_, dtype=np.float64)
        center = -np.asarray(step.min_, dtype=np.float64) / mult
        if step.clip:
            clip = (float(step.feature_range[0]), float(step.feature_range[1]))
    elif isinstance(step, MaxAbsScaler):
        mult, center = 1.0 / np.asarray(step.scale_, dtype=np.float64), zeros
        if getattr(step, "clip", False):
            clip = (-1.0, 1.0)
    elif isinstance(step, StandardScaler):
        center = step.mean_ if step.with_mean else zeros
        mult = 1.0 / np.asarray(step.scale_, dtype=np.float64) if step.with_std else ones
    else:  # RobustScaler
        center = step.center_ if step.with_centering else zeros
        mult = 1.0 / np.asarray(step.scale_, dtype=np.float64) if step.with_scaling else ones
    center = np.asarray(center, dtype=np.float64)
    return AffineStage(center, np.asarray(mult, dtype=np.float64), zeros, clip, [step_name])


def _compose(a: AffineStage, b: AffineStage) -> AffineStage:
    """``b`` after ``a`` (``a`` unclamped) as one stage, in float64."""
    names = a.steps + b.steps
    if not a.dense:  # a: (x - ca) * wa, offset 0; push b's centre through it
        center = a.center + b.center / a.weights
        if not b.dense:
            return AffineStage(center, a.weights * b.weights, b.offset, b.clip, names)
        return AffineStage(center, b.weights * a.weights[None, :], b.offset, b.clip, names)
    shifted = a.offset - b.center
    if not b.dense:
        weights, offset = a.weights * b.weights[:, None], shifted * b.weights
    else:
        weights, offset = b.weights @ a.weights, b.weights @ shifted + b.offset
    return AffineStage(a.center, weights, offset, b.clip, names)


def affine_stages(steps: list[tuple[str, Any]]) -> list[AffineStage]:
    """The transformers as C stages: consecutive steps composed until a clamp ends a stage.

    Parameters
    ----------
    steps : list of (str, transformer)
        From :func:`split_pipeline` (at least one).

    Returns
    -------
    list of AffineStage
    """
    stages = [step_stage(n, s) for n, s in steps]
    out = [stages[0]]
    for stage in stages[1:]:
        if out[-1].clip is None:
            out[-1] = _compose(out[-1], stage)
        else:
            out.append(stage)
    return out


def transform_ctype(
    stages: list[AffineStage], X: np.ndarray, family: str, dtype: str, *, derive: bool = True
) -> tuple[str, str]:
    """C type of the transform arithmetic, and why.

    ``double`` when the model computes in double (``dtype="float64"``); ``float`` when
    float32 is asked for explicitly (``derive=False``). Otherwise derived: ``double`` when the
    model compares thresholds (its float32 inputs must match scikit-learn's to the last bit,
    and double leaves them different only when a value lies within 1e-16 of a float32
    rounding boundary), or when a stage's centre is more than :data:`CANCELLATION_LIMIT`
    spreads away from its inputs on ``X`` (float32 would cancel more than 8 bits); else
    ``float``.

    Parameters
    ----------
    stages : list of AffineStage
    X : numpy.ndarray
        Held-out raw features.
    family : str
        Family of the final model.
    dtype : {"float32", "float64"}
    derive : bool, default=True
        False when ``dtype="float32"`` was asked for rather than picked by ``"auto"``.

    Returns
    -------
    ctype : {"float", "double"}
    reason : str
    """
    if dtype == "float64":
        return "double", "transforms in double, as dtype='float64' asks"
    if not derive:
        why = "transforms in float32, as dtype='float32' asks"
        if family not in APPROXIMATE_FAMILIES:
            why += (
                ": rows within float32 rounding of a threshold may go the other way than in "
                "scikit-learn (dtype='auto' computes the transforms in double, exactly, at the "
                "cost of soft-double code on Cortex-M)"
            )
        return "float", why
    if family not in APPROXIMATE_FAMILIES:
        return "double", (
            "transforms in double: the model compares thresholds, so its float32 inputs must "
            "equal scikit-learn's, which double guarantees unless a value lies within 1e-16 "
            "of a float32 rounding boundary"
        )
    worst, where = 0.0, ""
    Z = np.asarray(X, dtype=np.float64)
    for stage in stages:
        spread = Z.std(axis=0)
        ratio = np.abs(stage.center) / np.where(spread > 0, spread, np.inf)
        if ratio.size and float(ratio.max()) > worst:
            worst, where = float(ratio.max()), f"step {stage.steps[0]!r}"
        Z = _apply(stage, Z)
    if worst > CANCELLATION_LIMIT:
        return "double", (
            f"transforms in double: {where} centres features {worst:.3g} standard deviations "
            f"away, where float32 would cancel more than 8 of its 24 bits"
        )
    return "float", (
        f"transforms in float32: every centre lies within {worst:.3g} standard deviations of "
        f"its inputs on X (float32 keeps >= 16 bits below {CANCELLATION_LIMIT:g})"
    )


def _apply(stage: AffineStage, Z: np.ndarray) -> np.ndarray:
    D = Z - stage.center
    out = D * stage.weights if not stage.dense else D @ stage.weights.T + stage.offset
    return out if stage.clip is None else np.clip(out, *stage.clip)


#: Fitted attributes of each step that hold values in the units of its input columns.
_STEP_VALUES: dict[str, tuple[str, ...]] = {
    "StandardScaler": ("mean_", "scale_"),
    "MinMaxScaler": ("data_min_", "data_max_", "scale_", "min_"),
    "RobustScaler": ("center_", "scale_"),
    "MaxAbsScaler": ("max_abs_", "scale_"),
    "PCA": ("mean_",),
}


def check_step_values(steps: list[tuple[str, Any]], names: list[str]) -> None:
    """Refuse steps fitted on columns beyond float32's range (the C inputs are float32).

    Parameters
    ----------
    steps : list of (str, transformer)
    names : list of str
        Labels of the raw columns (``"column 2 ('ash')"``).

    Raises
    ------
    InputError
        Naming the step and the column.
    """
    for k, (step_name, step) in enumerate(steps):
        for attr in _STEP_VALUES[type(step).__name__]:
            values = getattr(step, attr, None)
            if values is None:
                continue
            bad = ~(np.abs(np.asarray(values, dtype=np.float64)) <= _F32_MAX)
            if bad.any():
                col = int(np.flatnonzero(bad)[0])
                label = names[col] if k == 0 else f"input {col} of step {step_name!r}"
                value = float(np.asarray(values, dtype=np.float64)[col])
                raise InputError(
                    f"The pipeline was trained on features that overflow float32: step "
                    f"{step_name!r} ({type(step).__name__}) has {attr}={value:.3g} for {label}, "
                    f"beyond float32's range (|v| <= {_F32_MAX:.3g}) that the C inputs and "
                    "transforms use. Rescale that column (e.g. other units) and train again."
                )


def check_stage_values(stages: list[AffineStage], ctype: str, names: list[str]) -> None:
    """Refuse stage parameters that overflow the C type (features beyond float32's range).

    Parameters
    ----------
    stages : list of AffineStage
    ctype : {"float", "double"}
    names : list of str
        Labels of the raw columns (``"column 2 ('ash')"``).

    Raises
    ------
    InputError
        Naming the column and the step.
    """
    big = _F32_MAX if ctype == "float" else float(np.finfo(np.float64).max)
    for k, stage in enumerate(stages):
        arrays = (("centre", stage.center), ("scale", stage.weights), ("offset", stage.offset))
        for what, values in arrays:
            bad = ~(np.abs(values) <= big)
            if bad.any():
                col = int(np.nonzero(bad)[-1][0])
                label = names[col] if k == 0 else f"input {col} of step {stage.steps[0]!r}"
                if what == "offset":
                    label = f"output {col} of step {stage.steps[-1]!r}"
                raise InputError(
                    f"The pipeline was trained on features that overflow {ctype}: composing "
                    f"steps {stage.steps} gives a {what} for {label} beyond {ctype}'s range "
                    "in C. Rescale that column (e.g. other units) and train again."
                )
