"""Checks of single columns of a user table, run in DuckDB on the source before it is fetched.

Each counts in SQL (missing values, distinct values, values that are not numbers), so a check of
a large file reads one column, not the table.
"""

from __future__ import annotations

from typing import Any

from workbench.core.errors import InputError

__all__ = [
    "MAX_CLASSES",
    "check_feature_column",
    "check_target_column",
    "guess_id_column",
    "infer_task",
]

#: A target with more distinct values than this is not a classification target.
MAX_CLASSES = 200
_AUTO_CLASSES = 20


def infer_task(kind: str, n_distinct: int, column: str) -> str:
    if kind in ("text", "bool"):
        return "classification"
    if kind == "integer" and n_distinct <= _AUTO_CLASSES:
        return "classification"
    if kind in ("integer", "number"):
        return "regression"
    raise InputError(
        f"Target column {column!r} holds {kind} values; a target must be numbers or labels."
    )


def check_target_column(rel: Any, column: str, kind: str, task: str | None) -> str:
    q = f'"{column}"'
    n_missing, n_distinct = rel.aggregate(f"count(*) - count({q}), count(DISTINCT {q})").fetchall()[
        0
    ]
    if kind == "number":
        n_missing += rel.filter(f"isnan({q})").count("*").fetchall()[0][0]
    if n_missing:
        raise InputError(
            f"Target column {column!r} has {n_missing:,} missing value(s); a target needs a "
            f"value in every row. Drop those rows (df.dropna(subset=[{column!r}]) or "
            f"WHERE {q} IS NOT NULL) or fill them."
        )
    task = infer_task(kind, n_distinct, column) if task is None else task
    if task == "classification":
        if n_distinct < 2:
            raise InputError(
                f"Target column {column!r} has only one class; a classifier needs at least "
                "two. Check the filter that made the table, or choose another target."
            )
        if n_distinct > MAX_CLASSES or kind == "number":
            raise InputError(
                f"Target column {column!r} has {n_distinct:,} distinct "
                f"{'numbers' if kind == 'number' else 'values'}: that is a regression target, "
                "not classes. Use task='regression', or bin the values into classes."
            )
    elif kind not in ("integer", "number", "bool"):
        raise InputError(
            f"Target column {column!r} holds {kind}; a regression target must be numbers."
        )
    return task


def check_feature_column(rel: Any, column: str, kind: str, role: str) -> None:
    q = f'"{column}"'
    if kind == "other":
        raise InputError(
            f"Column {column!r} has a type the workbench cannot use as a {role} "
            "(lists, structs, bytes); cast it to numbers, text or a date, or leave it out."
        )
    n_present = rel.aggregate(
        f"count({q}) - count(*) FILTER (WHERE isnan(TRY_CAST({q} AS DOUBLE)))"
        if kind == "number"
        else f"count({q})"
    ).fetchall()[0][0]
    if n_present == 0:
        raise InputError(
            f"Column {column!r} has no values (all missing); leave it out of the {role}s."
        )
    if kind == "text" and role == "feature":
        n_numeric = rel.aggregate(f"count(TRY_CAST({q} AS DOUBLE))").fetchall()[0][0]
        if 0.9 * n_present <= n_numeric < n_present:
            bad = rel.filter(f"{q} IS NOT NULL AND TRY_CAST({q} AS DOUBLE) IS NULL")
            example = bad.project(q).limit(1).fetchall()[0][0]
            raise InputError(
                f"Column {column!r} mixes types: {n_numeric:,} of {n_present:,} values are "
                f"numbers, the rest text such as {example!r}. Clean those values, or mark the "
                "column categorical=[...] if it really holds labels."
            )


def guess_id_column(rel: Any, columns: list[str], kinds: dict[str, str], roles: dict) -> str | None:
    taken = {
        roles["target"],
        roles["time"],
        *roles["text"],
        *roles["categorical"],
        *roles["features"],
    }
    for col in columns:
        low = col.lower()
        if col in taken or kinds[col] not in ("integer", "text"):
            continue
        if low == "id" or low.endswith("_id") or low.endswith(" id"):
            n, n_distinct, n_null = rel.aggregate(
                f'count(*), count(DISTINCT "{col}"), count(*) - count("{col}")'
            ).fetchall()[0]
            if n_null == 0 and n_distinct == n:
                return col
    return None
