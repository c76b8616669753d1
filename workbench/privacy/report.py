"""Result objects of the privacy audit: :class:`AuditReport` and :class:`MitigationReport`."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from workbench.core.errors import InputError
from workbench.core.params import check_ax, check_size
from workbench.core.results import Result
from workbench.core.validation import check_choice

__all__ = ["AuditReport", "MitigationReport"]

_FPR_COLUMNS = {0.01: "tpr@1%fpr", 0.001: "tpr@0.1%fpr"}


@dataclasses.dataclass(repr=False)
class MitigationReport(Result):
    """Privacy/accuracy trade-off of mitigated variants of the audited model.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per variant (the original first): ``variant``, ``train_accuracy``,
        ``test_accuracy``, ``auc``, ``tpr@1%fpr``, ``tpr@0.1%fpr`` and ``advantage`` of ``attack``.
    attack : str
        The attack whose numbers the table shows.
    notes : list of str
        Variants that could not be run and why (e.g. diffprivlib missing).
    """

    table: pd.DataFrame
    attack: str
    notes: list[str] = dataclasses.field(default_factory=list)

    @property
    def title(self) -> str:
        """Heading of the HTML view."""
        return f"Mitigations ({self.attack})"

    def to_frame(self) -> pd.DataFrame:
        """The trade-off table.

        Returns
        -------
        pandas.DataFrame
            A copy of :attr:`table`.
        """
        return self.table.copy()

    def summary(self) -> dict[str, Any]:
        """Number of variants and the notes.

        Returns
        -------
        dict
        """
        out: dict[str, Any] = {"variants": len(self.table)}
        if self.notes:
            out["notes"] = "; ".join(self.notes)
        return out

    def plot(self, ax: Any = None) -> Any:
        """Test accuracy against TPR at 1% FPR, one labelled point per variant.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt

        if check_ax(ax) is None:
            _, ax = plt.subplots(figsize=(5, 3.5))
        t = self.table
        ax.scatter(t["test_accuracy"], t["tpr@1%fpr"], color="tab:red")
        for _, row in t.iterrows():
            ax.annotate(
                str(row["variant"]),
                (row["test_accuracy"], row["tpr@1%fpr"]),
                textcoords="offset points",
                xytext=(4, 4),
                fontsize=8,
            )
        ax.set_xlabel("test accuracy")
        ax.set_ylabel(f"{self.attack} TPR at 1% FPR")
        ax.set_title("Privacy / accuracy trade-off")
        ax.grid(alpha=0.3)
        return ax


@dataclasses.dataclass(repr=False)
class AuditReport(Result):
    """Outcome of :func:`workbench.privacy.audit`.

    Attributes
    ----------
    model : str
        Class name of the audited estimator.
    mode : {"pooled", "given"}
        ``"pooled"``: the audit trained ``n_models`` models on random halves and scored each as
        the target once; ``"given"``: a fitted model with known members was audited.
    n_records : int
        Records in the audit.
    n_models : int
        Models trained by the audit (target and shadows).
    metrics : pandas.DataFrame
        One row per attack: ``auc``, ``tpr@1%fpr``, ``tpr@0.1%fpr``, ``advantage``, the numbers
        of member and non-member scores and whether each low-FPR value is ``reliable`` (at least
        ``10 / fpr`` non-members).
    records : pandas.DataFrame
        One row per record: ``record`` (row index in ``X``), ``label``, ``risk`` (mean score of the
        ``risk_attack`` while a member), ``detected`` (share of its member instances above the
        1%-FPR threshold), ``outlier`` score and ``is_outlier`` flag; ``member`` in given mode.
    risk_attack : str
        The attack behind ``risk`` (the strongest available, LiRA online by default).
    outlier_method : str
        How ``outlier`` was computed.
    outlier_risk_spearman : float
        Rank correlation between outlier score and risk over records with a risk.
    train_accuracy, test_accuracy : float
        Accuracy on members and on non-members (mean over models in pooled mode).
    mitigations : MitigationReport or None
        Privacy/accuracy trade-off when mitigations were requested.
    """

    model: str
    mode: str
    n_records: int
    n_models: int
    metrics: pd.DataFrame
    records: pd.DataFrame
    risk_attack: str
    outlier_method: str
    outlier_risk_spearman: float
    train_accuracy: float
    test_accuracy: float
    mitigations: MitigationReport | None = None
    _curves: dict[str, tuple[np.ndarray, np.ndarray]] = dataclasses.field(default_factory=dict)
    _scores: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    _labels: np.ndarray | None = None

    @classmethod
    def with_attack_scores(
        cls,
        curves: dict[str, tuple[np.ndarray, np.ndarray]],
        scores: dict[str, np.ndarray],
        labels: np.ndarray,
        **fields: Any,
    ) -> AuditReport:
        """Build a report that keeps the attacks' ROC curves and raw scores.

        Parameters
        ----------
        curves : dict of str to (numpy.ndarray, numpy.ndarray)
            Attack name to ROC ``(fpr, tpr)``, for :meth:`roc_curve` and :meth:`plot`.
        scores : dict of str to numpy.ndarray
            Attack name to raw scores, for :meth:`attack_scores`.
        labels : numpy.ndarray of bool
            Membership behind the scores (same shape).
        **fields
            The report's public fields (:attr:`model`, :attr:`metrics`, :attr:`records`, ...).

        Returns
        -------
        AuditReport
        """
        return cls(**fields, _curves=curves, _scores=scores, _labels=labels)

    @property
    def title(self) -> str:
        """Heading of the HTML view."""
        return f"Privacy audit of {self.model}"

    def to_frame(self) -> pd.DataFrame:
        """Per-attack metrics.

        Returns
        -------
        pandas.DataFrame
            A copy of :attr:`metrics`.
        """
        return self.metrics.copy()

    def summary(self) -> dict[str, Any]:
        """Headline numbers: the risk attack's AUC and low-FPR TPRs, accuracy gap, correlation.

        Returns
        -------
        dict
        """
        row = self.metrics.set_index("attack").loc[self.risk_attack]
        return {
            "records": self.n_records,
            "models": self.n_models,
            "train accuracy": round(self.train_accuracy, 3),
            "test accuracy": round(self.test_accuracy, 3),
            f"{self.risk_attack} AUC": round(float(row["auc"]), 3),
            f"{self.risk_attack} TPR@1%FPR": round(float(row["tpr@1%fpr"]), 3),
            f"{self.risk_attack} TPR@0.1%FPR": round(float(row["tpr@0.1%fpr"]), 3),
            "outlier/risk Spearman": round(self.outlier_risk_spearman, 3),
        }

    def most_exposed(self, k: int = 10) -> pd.DataFrame:
        """The ``k`` records with the highest membership risk.

        Parameters
        ----------
        k : int, default=10

        Returns
        -------
        pandas.DataFrame
        """
        k = check_size(k, name="k", high=10**9, hint="k is a number of records.")
        rec = self.records.dropna(subset=["risk"])
        return rec.sort_values("risk", ascending=False, kind="mergesort").head(k)

    def roc_curve(self, attack: str) -> tuple[np.ndarray, np.ndarray]:
        """``(fpr, tpr)`` arrays of one attack's ROC curve.

        Parameters
        ----------
        attack : str
            An attack that was run.

        Returns
        -------
        fpr, tpr : numpy.ndarray

        Raises
        ------
        UnknownNameError
            If the attack was not run.
        """
        check_choice(attack, self._curves, kind="attack")
        return self._curves[attack]

    def attack_scores(self, attack: str) -> tuple[np.ndarray, np.ndarray]:
        """Raw membership scores of one attack and the true membership behind them.

        Parameters
        ----------
        attack : str
            An attack that was run.

        Returns
        -------
        scores : numpy.ndarray
            Pooled mode: shape ``(n_models, n_records)``, row ``k`` scoring model ``k`` as the
            target (models as in :func:`workbench.privacy.shadows.pooled_splits`). Given mode:
            shape ``(n_members + n_nonmembers,)``, members first.
        members : numpy.ndarray of bool
            Same shape: whether the target trained on the record.

        Raises
        ------
        UnknownNameError
            If the attack was not run.
        """
        check_choice(attack, self._scores, kind="attack")
        return self._scores[attack].copy(), np.asarray(self._labels).copy()

    def plot(self, ax: Any = None) -> Any:
        """ROC curves on log-log axes, where the low-FPR regime is visible.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt

        if check_ax(ax) is None:
            _, ax = plt.subplots(figsize=(5, 4))
        n_neg = int(self.metrics["n_nonmembers"].max())
        lo = 1.0 / max(n_neg, 1)
        for _, row in self.metrics.iterrows():
            fpr, tpr = self._curves[row["attack"]]
            ax.plot(
                np.maximum(fpr, lo),
                np.maximum(tpr, lo),
                label=f"{row['attack']} (AUC {row['auc']:.2f}, TPR@0.1% {row['tpr@0.1%fpr']:.2f})",
            )
        ax.plot([lo, 1], [lo, 1], color="grey", linestyle="--", linewidth=1)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(lo, 1)
        ax.set_ylim(lo, 1)
        ax.set_xlabel("false-positive rate")
        ax.set_ylabel("true-positive rate")
        ax.set_title(f"Membership inference on {self.model}")
        ax.legend(fontsize=7, loc="lower right")
        return ax

    def plot_risk(self, ax: Any = None) -> Any:
        """Risk against outlier score per record, the talk's "outliers are memorized" picture.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt

        if check_ax(ax) is None:
            _, ax = plt.subplots(figsize=(5, 3.5))
        rec = self.records.dropna(subset=["risk"])
        flag = rec["is_outlier"].to_numpy(bool)
        ax.scatter(rec["outlier"][~flag], rec["risk"][~flag], s=8, alpha=0.6, label="typical")
        ax.scatter(rec["outlier"][flag], rec["risk"][flag], s=14, color="tab:red", label="outlier")
        ax.set_xlabel(f"outlier score ({self.outlier_method})")
        ax.set_ylabel(f"membership risk ({self.risk_attack})")
        ax.set_title(f"Spearman {self.outlier_risk_spearman:.2f}")
        ax.legend(fontsize=8)
        return ax

    def plot_tradeoff(self, ax: Any = None) -> Any:
        """The mitigation trade-off plot (see :meth:`MitigationReport.plot`).

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional

        Returns
        -------
        matplotlib.axes.Axes

        Raises
        ------
        InputError
            If the audit ran without mitigations.
        """
        check_ax(ax)
        if self.mitigations is None:
            raise InputError("This audit ran without mitigations; pass mitigations='auto'.")
        return self.mitigations.plot(ax=ax)
