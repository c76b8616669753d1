"""``ModelStore.promote``: score a candidate against an alias's version in SQL, move the alias
if it wins, and log the decision either way (the metrics live in :mod:`workbench.indb.promotion`).
"""

from __future__ import annotations

from typing import Any

from workbench.core.errors import InputError
from workbench.core.params import check_number
from workbench.core.validation import check_choice
from workbench.indb import audit_log
from workbench.indb.aliases import check_alias_name, read_aliases, resolve_version
from workbench.indb.lifecycle import ModelLifecycle
from workbench.indb.promotion import (
    METRICS,
    PromotionRejectedError,
    PromotionResult,
    check_evaluation,
    check_labels,
    evaluation_sql,
    metric_for,
)
from workbench.indb.routing import route_arguments
from workbench.indb.store_integrity import StoredModel

__all__ = ["PromotionMethods"]


class PromotionMethods(ModelLifecycle):
    """The promotion method of :class:`workbench.indb.ModelStore`."""

    def promote(
        self,
        name: str,
        candidate: int | str,
        *,
        on: Any,
        target: str,
        metric: str | None = None,
        min_gain: float = 0.0,
        alias: str = "champion",
        on_loss: str = "raise",
    ) -> PromotionResult:
        """Score a candidate version against an alias's version in SQL; move the alias if it wins.

        Both versions are scored by their SQL functions on the same labelled rows in one query
        (metrics in :mod:`workbench.indb.promotion`). The candidate wins when it scores better
        by more than 0 and at least ``min_gain``; then the alias moves to it (rollback returns
        it). Either way the log records both scores, the row count and a fingerprint of the
        rows, so a rejected promotion is on record too.

        Parameters
        ----------
        name : str
            A registered model.
        candidate : int or str
            The version to promote: ``4``, ``"v4"`` or an alias (``"challenger"``).
        on : str, DataFrame or relation
            The labelled rows: a table name, a SELECT query, a DataFrame or a DuckDB relation
            holding both versions' feature columns and ``target``.
        target : str
            The label column.
        metric : str, optional
            ``accuracy`` (default for classifiers), ``f1``, ``roc_auc``, ``log_loss``, ``r2``
            (default for regressors), ``mae`` or ``rmse``.
        min_gain : float, default=0.0
            Smallest improvement that promotes, in the metric's units (0 to 1e6).
        alias : str, default="champion"
            The alias to move; it must exist (see :meth:`set_alias`).
        on_loss : {"raise", "return"}, default="raise"
            A losing candidate raises :class:`PromotionRejectedError` (its ``result`` holds
            the scores), or returns the result with ``promoted=False``.

        Returns
        -------
        PromotionResult

        Raises
        ------
        InputError
            No label column, missing feature columns, NULL labels, no rows, a metric undefined
            on these rows (one class for roc_auc), a candidate equal to the alias's version.
        UnknownNameError
            Unknown model, version, alias or metric.
        PromotionRejectedError
            If the candidate loses and ``on_loss="raise"``; the alias stays where it was.
        StoreLockedError
            If another thread or connection changes the alias meanwhile.
        """
        from workbench.core.sources import open_source

        live = self._versions(name)
        alias = check_alias_name(alias)
        check_choice(on_loss, ["raise", "return"], kind="on_loss policy")
        min_gain = float(check_number(min_gain, name="min_gain", low=0, high=1e6))
        aliases = read_aliases(self.con).get(name, {})
        if alias not in aliases:
            raise InputError(
                f"Model {name!r} has no alias {alias!r} to promote to; set it first with "
                f"store.set_alias({name!r}, {alias!r}, version)."
            )
        by_version = {m.version: m for m in live}
        incumbent = aliases[alias][0]
        cand = resolve_version(candidate, name, list(by_version), aliases)
        if cand == incumbent:
            raise InputError(f"v{cand} already is the {alias!r} of {name!r}; pick another version.")
        if incumbent not in by_version:
            raise InputError(f"The {alias!r} of {name!r} (v{incumbent}) does not load.")
        models = (by_version[cand], by_version[incumbent])
        metric = metric_for(metric, models[0])
        if models[1].task != models[0].task or models[1].classes != models[0].classes:
            raise InputError(f"v{cand} and v{incumbent} of {name!r} predict different things.")
        if not isinstance(target, str):
            raise InputError(f"target must be the label column's name, got {target!r}.")
        rel = open_source(on, con=self.con).relation
        columns = list(rel.columns)
        check_labels(columns, [str(t) for t in rel.types], target, models[0])
        _key, feats = route_arguments(list(models))
        missing = [f for f in feats if f not in columns]
        if missing:
            raise InputError(f"The labelled rows lack feature column(s) {missing} of {name!r}.")
        with self._exclusive():
            return self._promote(name, alias, models, rel, target, feats, metric, min_gain,
                                 on_loss)

    def _promote(
        self, name: str, alias: str, models: tuple[StoredModel, StoredModel], rel: Any,
        target: str, feats: list[str], metric: str, min_gain: float, on_loss: str,
    ) -> PromotionResult:
        import duckdb

        try:
            nulls = rel.aggregate(f'count(*) - count("{target}")').fetchall()[0][0]
            data = audit_log.data_fingerprint(rel, [target, *feats])
            row = rel.query("workbench_promotion_rows", evaluation_sql(
                "workbench_promotion_rows", target, metric, models)).fetchall()[0]
        except duckdb.Error as exc:
            raise self._explain(exc) from None
        if nulls:
            raise InputError(f"{nulls} labelled row(s) have no {target!r}; filter them out.")
        n, n_pos, y_var, score_a, score_b = row
        check_evaluation(metric, int(n), n_pos, y_var)
        cand_score, inc_score = round(float(score_a), 12), round(float(score_b), 12)
        higher = METRICS[metric][2]
        gain = round(cand_score - inc_score if higher else inc_score - cand_score, 12)
        won = gain > 0 and gain >= min_gain
        cand, inc = models[0].version, models[1].version
        if gain <= 0:
            reason = (f"v{cand} scored {metric} {cand_score:.6g}, not better than v{inc}'s "
                      f"{inc_score:.6g} on {n} rows")
        else:
            reason = (f"v{cand} scored {metric} {cand_score:.6g} against v{inc}'s "
                      f"{inc_score:.6g} on {n} rows: gain {gain:.6g} "
                      f"{'reaches' if won else 'is below'} min_gain {min_gain:g}")
        result = PromotionResult(
            name=name, alias=alias, metric=metric, higher_is_better=higher, candidate=cand,
            incumbent=inc, candidate_score=cand_score, incumbent_score=inc_score, gain=gain,
            min_gain=min_gain, promoted=won, n_rows=int(n), data_sha256=data[1], reason=reason,
        )
        log = {"data": data, "metrics": {f"v{cand}": cand_score, f"v{inc}": inc_score},
               "detail": {"metric": metric, "min_gain": min_gain, "gain": gain,
                          "target": target, "reason": reason}}
        if won:
            history = read_aliases(self.con).get(name, {}).get(alias, (inc, []))[1]
            info = self._move(name, alias, cand, [*history, inc], inc, "promote",
                              versions={"candidate": cand}, **log)
            result.log_seq = info.log_seq
            return result
        result.log_seq = self._record("promote_rejected", name, alias=alias,
                                      versions={"candidate": cand, "from": inc, "to": inc},
                                      **log)
        if on_loss == "raise":
            raise PromotionRejectedError(
                f"Not promoted: {reason}; {alias!r} stays at v{inc}.", result
            )
        return result
