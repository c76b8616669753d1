"""Result objects of the valuation tool: per-point values and value-guided retraining curves."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from workbench.core.errors import InputError, InputTypeError, ModelError
from workbench.core.params import check_ax, check_size, check_text
from workbench.core.results import Result
from workbench.core.validation import check_array, check_choice
from workbench.valuation.checks import MAX_POINTS, check_mask

__all__ = ["CurveResult", "ValuationResult"]


@dataclasses.dataclass(repr=False)
class ValuationResult(Result):
    """Values of the training points, with their uncertainty and the cost of computing them.

    Higher values mean more helpful points; the lowest values are the most suspicious.

    Attributes
    ----------
    method : str
        Name of the valuation method.
    values : numpy.ndarray of shape (n_points,)
    stderr : numpy.ndarray of shape (n_points,)
        Standard error of each value; 0 for exact methods, NaN where it is not estimated (a
        rank ensemble, or a point with fewer than two updates).
    counts : numpy.ndarray of shape (n_points,)
        Number of updates (samples) behind each value.
    n_samples : int
        Samples used (permutations, subsets, bags, folds or test points).
    n_fits : int
        Model fits attempted.
    n_failed_fits : int
        Fits that failed (counted, not hidden); their utility is ``default_score``.
    failures : dict of str to int
        Failure reason → count.
    n_warned_fits : int
        Fits that raised a warning such as ``ConvergenceWarning``.
    elapsed_s : float
        Wall-clock seconds of the run.
    stop_reason : str
        Why the run stopped (budget, convergence, exact).
    params : dict
        The method's parameters.
    utility_backend : str
        What fitted the models: ``"numpy-batched-logistic"`` (batched solver of the same
        LogisticRegression), ``"sklearn"`` (a fit of a clone of the model per subset) or ``""``
        for methods without model fits.
    """

    method: str
    values: np.ndarray
    stderr: np.ndarray
    counts: np.ndarray
    n_samples: int = 0
    n_fits: int = 0
    n_failed_fits: int = 0
    failures: dict[str, int] = dataclasses.field(default_factory=dict)
    n_warned_fits: int = 0
    elapsed_s: float = 0.0
    stop_reason: str = ""
    params: dict[str, Any] = dataclasses.field(default_factory=dict)
    utility_backend: str = ""

    def __post_init__(self) -> None:
        check_text(self.method, name="method")
        values = _floats(self.values, "values")
        if values.ndim != 1:
            raise InputError(f"values must be 1-dimensional, got shape {values.shape}.")
        bad = ~np.isfinite(values)
        if bad.any():
            raise ModelError(
                f"{self.method} gave {int(bad.sum())} NaN or infinite value(s): the utility (the "
                "scorer's output on the test data) was not finite. Check the scorer, or scale "
                "the features (e.g. StandardScaler)."
            )
        self.values = values
        n = values.size
        stderr = _floats(self.stderr, "stderr").ravel()
        counts = _floats(self.counts, "counts").ravel()
        if stderr.size != n or counts.size != n:
            raise InputError(
                f"values, stderr and counts need one entry per point ({n}); got "
                f"{stderr.size} and {counts.size}."
            )
        if not np.isfinite(counts).all():
            raise InputError("counts must be finite numbers of updates.")
        # An undefined standard error (fewer than two updates) is reported as NaN, never inf.
        self.stderr = np.where(np.isfinite(stderr), stderr, np.nan)
        self.counts = counts

    @property
    def title(self) -> str:
        """Heading of the notebook view."""
        return f"Data values ({self.method})"

    @property
    def ranking(self) -> np.ndarray:
        """Point indices from most to least valuable (ties keep index order)."""
        return np.argsort(-self.values, kind="stable")

    @property
    def fits_per_second(self) -> float:
        """Model fits per wall-clock second (0 when no time was measured)."""
        return self.n_fits / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def lowest(self, k: int = 10) -> np.ndarray:
        """Indices of the ``k`` least valuable (most suspicious) points, lowest first."""
        k = _check_k(k, self.values.size)
        return np.argsort(self.values, kind="stable")[:k]

    def summary(self) -> dict[str, Any]:
        """Headline numbers: method, points, samples, fits, failed fits, time, stop reason."""
        return {
            "method": self.method,
            "n_points": int(self.values.size),
            "n_samples": self.n_samples,
            "n_fits": self.n_fits,
            "n_failed_fits": self.n_failed_fits,
            "elapsed_s": round(float(self.elapsed_s), 3),
            "stop_reason": self.stop_reason,
            "utility_backend": self.utility_backend,
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per point: index, value, stderr, count and rank (1 = most valuable)."""
        rank = np.empty(self.values.size, dtype=int)
        rank[self.ranking] = np.arange(1, self.values.size + 1)
        return pd.DataFrame(
            {
                "index": np.arange(self.values.size),
                "value": self.values,
                "stderr": self.stderr,
                "count": self.counts,
                "rank": rank,
            }
        )

    def detect(self, noisy: Any, k: int | None = None) -> dict[str, float]:
        """Noisy-label detection scores of these values; see :func:`detection_scores`."""
        from workbench.valuation.detection import detection_scores

        return detection_scores(self.values, noisy, k=k)

    def plot(self, ax: Any = None, *, noisy: Any = None, bins: int = 40) -> Any:
        """Histogram of the values; with ``noisy`` given, clean and noisy points are stacked.

        Parameters
        ----------
        ax : matplotlib Axes, optional
        noisy : array-like of bool, optional
            Mask of known noisy (e.g. flipped) points.
        bins : int, default=40

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt

        check_ax(ax)
        bins = check_size(bins, name="bins", high=10_000, hint="Use e.g. 40 bins.")
        mask = None if noisy is None else check_mask(noisy, self.values.size)
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5))
        if mask is None:
            ax.hist(self.values, bins=bins, color="#4c72b0")
        else:
            ax.hist(
                [self.values[~mask], self.values[mask]],
                bins=bins,
                stacked=True,
                label=["clean", "noisy"],
                color=["#4c72b0", "#dd5555"],
            )
            ax.legend()
        ax.set_xlabel("value")
        ax.set_ylabel("points")
        ax.set_title(self.title)
        return ax


@dataclasses.dataclass(repr=False)
class CurveResult(Result):
    """Test score after removing (or adding) points in value order.

    Attributes
    ----------
    kind : {"removal", "addition"}
    order : str
        Which points go first: ``"lowest"``, ``"highest"`` or ``"random"``.
    fractions : numpy.ndarray
        Share of training points removed (removal) or used (addition).
    scores : numpy.ndarray
        Test score at each fraction.
    n_failed_fits : int
        Fits that failed; their score is NaN.
    """

    kind: str
    order: str
    fractions: np.ndarray
    scores: np.ndarray
    n_failed_fits: int = 0

    def __post_init__(self) -> None:
        check_choice(self.kind, ["removal", "addition"], kind="curve kind")
        check_choice(self.order, ["lowest", "highest", "random"], kind="order")
        self.fractions = check_array(self.fractions, name="fractions", ndim=1)
        self.scores = _floats(self.scores, "scores").ravel()
        if self.scores.size != self.fractions.size:
            raise InputError(
                f"scores has {self.scores.size} entries but fractions {self.fractions.size}."
            )

    @property
    def title(self) -> str:
        """Heading of the notebook view."""
        return f"Point {self.kind} curve ({self.order} value first)"

    def summary(self) -> dict[str, Any]:
        """First score and the best one (None where every fit failed)."""
        finite = self.scores[np.isfinite(self.scores)]  # failed fits are NaN
        first = float(self.scores[0])
        return {
            "kind": self.kind,
            "order": self.order,
            "first_score": round(first, 4) if np.isfinite(first) else None,
            "best_score": round(float(finite.max()), 4) if finite.size else None,
            "n_failed_fits": self.n_failed_fits,
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per fraction."""
        return pd.DataFrame({"fraction": self.fractions, "score": self.scores})

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """Score against fraction; extra keyword arguments go to ``ax.plot``.

        Raises
        ------
        InputError
            If matplotlib refuses one of the keyword arguments.
        """
        import matplotlib.pyplot as plt

        check_ax(ax)
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5))
        kwargs.setdefault("label", f"{self.order} first")
        try:
            ax.plot(self.fractions, self.scores, marker="o", **kwargs)
        except (AttributeError, TypeError, ValueError) as exc:
            raise InputError(f"ax.plot refused the arguments {sorted(kwargs)}: {exc}") from None
        what = "removed" if self.kind == "removal" else "used"
        ax.set_xlabel(f"fraction of training points {what}")
        ax.set_ylabel("test score")
        ax.set_title(f"Point {self.kind} curve")
        ax.legend()
        return ax


def _floats(values: Any, name: str) -> np.ndarray:
    try:
        return np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise InputTypeError(f"{name} must hold numbers only.") from None


def _check_k(k: Any, n: int) -> int:
    return min(check_size(k, name="k", high=MAX_POINTS, hint="k is a number of points."), n)
