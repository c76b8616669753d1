"""Fit a tree model into a flash budget: retrain fewer/shallower trees, measure, pick the best."""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from workbench.core.errors import InputError, InputTypeError, ModelError, WorkbenchError
from workbench.core.parallel import parallel_map
from workbench.core.params import check_flag, check_number, check_random_state, check_size
from workbench.core.results import Result
from workbench.core.validation import check_array, check_estimator, check_n_jobs
from workbench.edge.artifact import EdgeArtifact
from workbench.edge.checks import (
    check_flash_budget,
    check_labels,
    check_option,
    check_X,
)
from workbench.edge.codegen import SUPPORTED_ESTIMATORS
from workbench.edge.compiler import find_compiler
from workbench.edge.exporter import DTYPES, LEAVES, export

__all__ = ["BudgetResult", "fit_to_budget"]

#: Most candidates one call trains, exports and compiles.
_MAX_GRID = 100
#: Most trees per candidate (a forest this large never fits a microcontroller).
_MAX_TREES = 1000


@dataclasses.dataclass(repr=False)
class BudgetResult(Result):
    """The accuracy/size trade-off of a model shrunk into a flash budget.

    Attributes
    ----------
    flash_budget : int
        Bytes allowed.
    target : str
        Target the flash was measured on (``"cortex-m4f"`` with the ARM toolchain, else host).
    table : pandas.DataFrame
        One row per candidate: ``n_estimators``, ``max_depth``, ``form`` (of the trees' C),
        ``flash_bytes``, ``ram_bytes``, ``accuracy``, ``parity_%``, ``fits``.
    chosen : dict
        Parameters of the most accurate candidate that fits (smallest flash among equals).
    artifact : EdgeArtifact
        Its export.
    model : estimator
        The chosen, fitted estimator.
    """

    flash_budget: int
    target: str
    table: pd.DataFrame
    chosen: dict[str, Any]
    artifact: EdgeArtifact = dataclasses.field(repr=False)
    model: Any = dataclasses.field(repr=False)

    @property
    def title(self) -> str:
        """Heading of the HTML view."""
        return f"Accuracy vs flash on {self.target} (budget {self.flash_budget} B)"

    def summary(self) -> dict[str, Any]:
        """The chosen candidate."""
        row = self.table[self.table["chosen"]].iloc[0]
        return {
            "chosen": ", ".join(f"{k}={v}" for k, v in self.chosen.items()),
            "flash B": int(row["flash_bytes"]),
            "accuracy": round(float(row["accuracy"]), 4),
            "parity %": round(float(row["parity_%"]), 3),
        }

    def to_frame(self) -> pd.DataFrame:
        """The trade-off table."""
        return self.table

    def to_dict(self) -> dict[str, Any]:
        """Budget, chosen parameters, table and the chosen artifact's report."""
        return {
            "flash_budget": self.flash_budget,
            "target": self.target,
            "chosen": self.chosen,
            "table": self.table.to_dict(orient="records"),
            "artifact": {k: v for k, v in self.artifact.to_dict().items() if k != "header"},
        }

    def plot(self, ax: Any = None) -> Any:
        """Accuracy against flash bytes, with the budget line and the chosen model marked.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5))
        t = self.table
        ax.scatter(t["flash_bytes"], t["accuracy"], c=np.where(t["fits"], "tab:blue", "tab:gray"))
        ch = t[t["chosen"]]
        ax.scatter(ch["flash_bytes"], ch["accuracy"], s=120, facecolors="none", edgecolors="red")
        ax.axvline(self.flash_budget, color="red", linestyle="--", label="flash budget")
        ax.set_xlabel(f"flash bytes ({self.target})")
        ax.set_ylabel("held-out accuracy")
        ax.legend(loc="lower right")
        ax.set_title("Shrinking the model into the budget")
        return ax


def _default_grid(model: Any) -> list[dict[str, Any]]:
    depth0 = model.get_params().get("max_depth") or 12
    depths = sorted({d for d in (depth0, 10, 8, 6, 4, 3, 2) if d <= depth0}, reverse=True)
    if "n_estimators" not in model.get_params():
        return [{"max_depth": d} for d in depths]
    n0 = int(model.get_params()["n_estimators"])
    ns = sorted({max(1, n0 // k) for k in (1, 2, 4, 8)}, reverse=True)
    return [{"n_estimators": n, "max_depth": d} for n in ns for d in depths]


def _check_grid(estimator: Any, grid: Any) -> list[dict[str, Any]]:
    kind = type(estimator).__name__
    if isinstance(grid, str | bytes | dict) or not isinstance(grid, Sequence):
        raise InputTypeError(
            f"grid must be a list of parameter dicts such as [{{'max_depth': 4}}], got "
            f"{type(grid).__name__}."
        )
    grid = list(grid)
    if not grid:
        raise InputError("grid is empty; pass at least one parameter set.")
    check_size(len(grid), name="len(grid)", high=_MAX_GRID, hint="Each entry is compiled.")
    valid = set(estimator.get_params())
    for params in grid:
        if not isinstance(params, dict):
            raise InputTypeError(f"grid entries must be dicts of parameters, got {params!r}.")
        bad = set(params) - valid
        if bad:
            raise InputError(f"grid has parameters {sorted(bad)} that {kind} does not take.")
        _check_tree_params({**estimator.get_params(), **params})
    return grid


def _check_tree_params(params: dict[str, Any]) -> None:
    if "n_estimators" in params:
        check_size(
            params["n_estimators"],
            name="n_estimators",
            high=_MAX_TREES,
            hint="More trees never fit a microcontroller's flash.",
        )
    if params.get("max_depth") is not None:
        check_number(params["max_depth"], name="max_depth", low=1, integer=True)


def _candidate(
    params: dict[str, Any],
    *,
    base: Any,
    data: tuple[np.ndarray, ...],
    export_kwargs: dict[str, Any],
    flash_budget: int,
) -> tuple[dict[str, Any], Any, EdgeArtifact]:
    X, y, X_test, y_test = data
    model = clone(base).set_params(**params)
    try:
        model.fit(X, y)
    except WorkbenchError:
        raise
    except (ValueError, TypeError) as exc:  # scikit-learn's parameter validation
        raise InputError(
            f"The grid entry {params} cannot be fitted: {exc}. Fix its values."
        ) from None
    art = export(model, X_test, y_test, **export_kwargs)
    if art.flash_bytes > flash_budget and art.details.get("form") == "ifelse":
        # The form rule spent flash on speed; the compact tables may fit where if/else does not.
        tables = export(model, X_test, y_test, form="tables", **export_kwargs)
        if tables.flash_bytes < art.flash_bytes:
            art = tables
    return params, model, art


def fit_to_budget(
    estimator: Any,
    X: Any,
    y: Any,
    X_test: Any,
    y_test: Any,
    *,
    flash_budget: int,
    grid: Sequence[dict[str, Any]] | None = None,
    dtype: str = "auto",
    leaves: str = "auto",
    cc: str | os.PathLike[str] | None = None,
    n_jobs: int | None = None,
    show_progress: bool | None = None,
) -> BudgetResult:
    """Retrain fewer/shallower trees until the exported model fits ``flash_budget``.

    Every candidate is trained on ``(X, y)``, exported (parity proven on ``X_test``) and
    measured by compiling; the most accurate one on ``(X_test, y_test)`` that fits wins. A
    candidate whose if/else code (chosen for speed by the form rule) is over the budget is
    exported again as compact tables (``form="tables"``), the smaller form.

    Parameters
    ----------
    estimator : estimator
        A tree model (``DecisionTreeClassifier``, ``RandomForestClassifier``,
        ``ExtraTreesClassifier``); fitted or not, it is cloned. Its ``random_state`` is kept.
    X, y : array-like
        Training data.
    X_test, y_test : array-like
        Held-out data for accuracy and parity.
    flash_budget : int
        Bytes of flash allowed on Cortex-M4F (host when the ARM toolchain is missing).
    grid : sequence of dict, optional
        Parameter sets to try, e.g. ``[{"n_estimators": 5, "max_depth": 6}]``; default: the
        model's own size, then halved tree counts times depths 10, 8, 6, 4, 3, 2.
    dtype, leaves : str
        Passed to :func:`~workbench.edge.export`.
    cc : str or path, optional
        Host C compiler.
    n_jobs : int, optional
        Candidates trained and compiled in parallel (joblib; honours ``parallel_config``).
    show_progress : bool, optional
        Force the progress bar on or off.

    Returns
    -------
    BudgetResult

    Raises
    ------
    InputTypeError
        If ``estimator`` is not an estimator instance or ``grid`` not a list of dicts.
    InputError
        Bad data (NaN, infinite, float32-overflowing, continuous labels, mismatched columns),
        ``flash_budget``, ``grid`` (unknown parameters, more than 100 entries, more than
        1000 trees), ``dtype``, ``leaves``, ``n_jobs`` or the estimator's ``random_state``.
    ModelError
        If the estimator is not a tree classifier, or no candidate fits the budget.
    """
    check_estimator(estimator, name="estimator")
    kind = type(estimator).__name__
    if SUPPORTED_ESTIMATORS.get(kind) != "tree":
        raise ModelError(
            f"fit_to_budget shrinks tree models (fewer/shallower trees); {kind} is not one. "
            "Supported: DecisionTreeClassifier, RandomForestClassifier, ExtraTreesClassifier."
        )
    seed = estimator.get_params().get("random_state")
    if not isinstance(seed, np.random.RandomState):
        check_random_state(seed, name=f"{kind}'s random_state")
    flash_budget = check_flash_budget(flash_budget)
    if flash_budget is None:
        raise InputError("flash_budget is needed: the bytes of flash the model may take.")
    Xa = check_array(X, name="X", float32=True)
    ya = check_labels(y, len(Xa), min_classes=2)
    Xt = check_X(X_test, Xa.shape[1], name="X_test")
    yt = check_labels(y_test, len(Xt), name="y_test")
    dtype = check_option(dtype, DTYPES, kind="dtype")
    leaves = check_option(leaves, LEAVES, kind="leaf encoding")
    n_jobs = check_n_jobs(n_jobs)
    show_progress = check_flag(show_progress, name="show_progress", optional=True)
    if grid is None:
        _check_tree_params(estimator.get_params())
        grid = _default_grid(estimator)
    grid = _check_grid(estimator, grid)
    toolchain = find_compiler(cc)
    target = "cortex-m4f" if toolchain.arm_cc else "host"
    fn = functools.partial(
        _candidate,
        base=estimator,
        data=(Xa, ya, Xt, yt),
        export_kwargs={"dtype": dtype, "leaves": leaves, "cc": cc, "targets": [target]},
        flash_budget=flash_budget,
    )
    results = parallel_map(fn, grid, n_jobs=n_jobs, desc="Candidates", show_progress=show_progress)
    rows = []
    for params, model, art in results:
        rows.append(
            {
                **{k: params.get(k) for k in ("n_estimators", "max_depth")},
                "form": art.details.get("form"),
                "flash_bytes": art.flash_bytes,
                "ram_bytes": art.ram_bytes,
                "accuracy": float(np.mean(model.predict(Xt) == yt)),
                "parity_%": art.parity.match_rate,
                "fits": art.flash_bytes <= flash_budget,
            }
        )
    table = pd.DataFrame(rows)
    if "n_estimators" not in estimator.get_params():
        table = table.drop(columns="n_estimators")
    fitting = table[table["fits"]]
    if fitting.empty:
        raise ModelError(
            f"No candidate fits {flash_budget} bytes on {target}; the smallest needs "
            f"{int(table['flash_bytes'].min())}. Raise the budget or add smaller settings to grid."
        )
    best = fitting.sort_values(["accuracy", "flash_bytes"], ascending=[False, True]).index[0]
    table["chosen"] = table.index == best
    params, model, art = results[best]
    return BudgetResult(
        flash_budget=int(flash_budget),
        target=target,
        table=table,
        chosen=dict(params),
        artifact=art,
        model=model,
    )
