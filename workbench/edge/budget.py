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

from workbench.core.errors import InputError, ModelError
from workbench.core.parallel import parallel_map
from workbench.core.results import Result
from workbench.core.validation import check_positive, check_X_y
from workbench.edge.codegen import SUPPORTED_ESTIMATORS
from workbench.edge.compiler import find_compiler
from workbench.edge.exporter import EdgeArtifact, export

__all__ = ["BudgetResult", "fit_to_budget"]


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
        One row per candidate: ``n_estimators``, ``max_depth``, ``flash_bytes``, ``ram_bytes``,
        ``accuracy``, ``parity_%``, ``fits``.
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


def _candidate(
    params: dict[str, Any],
    *,
    base: Any,
    data: tuple[np.ndarray, ...],
    export_kwargs: dict[str, Any],
) -> tuple[dict[str, Any], Any, EdgeArtifact]:
    X, y, X_test, y_test = data
    model = clone(base).set_params(**params).fit(X, y)
    art = export(model, X_test, y_test, **export_kwargs)
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
    measured by compiling; the most accurate one on ``(X_test, y_test)`` that fits wins.

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
    ModelError
        If the estimator is not a tree model, or no candidate fits the budget.
    """
    kind = type(estimator).__name__
    if SUPPORTED_ESTIMATORS.get(kind) != "tree":
        raise ModelError(
            f"fit_to_budget shrinks tree models (fewer/shallower trees); {kind} is not one. "
            "Supported: DecisionTreeClassifier, RandomForestClassifier, ExtraTreesClassifier."
        )
    check_positive(flash_budget, name="flash_budget", integer=True)
    Xa, ya = check_X_y(X, y, classification=True)
    Xt, yt = check_X_y(X_test, y_test, classification=True)
    if Xt.shape[1] != Xa.shape[1]:
        raise InputError(
            f"X_test has {Xt.shape[1]} features but X has {Xa.shape[1]}; pass the same columns."
        )
    if grid is None:
        grid = _default_grid(estimator)
    grid = list(grid)
    if not grid:
        raise InputError("grid is empty; pass at least one parameter set.")
    valid = set(estimator.get_params())
    for params in grid:
        bad = set(params) - valid
        if bad:
            raise InputError(f"grid has parameters {sorted(bad)} that {kind} does not take.")
    toolchain = find_compiler(cc)
    target = "cortex-m4f" if toolchain.arm_cc else "host"
    fn = functools.partial(
        _candidate,
        base=estimator,
        data=(Xa, ya, Xt, yt),
        export_kwargs={"dtype": dtype, "leaves": leaves, "cc": cc, "targets": [target]},
    )
    results = parallel_map(fn, grid, n_jobs=n_jobs, desc="Candidates", show_progress=show_progress)
    rows = []
    for params, model, art in results:
        rows.append(
            {
                **{k: params.get(k) for k in ("n_estimators", "max_depth")},
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
