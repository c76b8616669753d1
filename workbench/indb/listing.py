"""The table of ``ModelStore.list_models``: one row per stored version, corrupt ones included."""

from __future__ import annotations

from typing import Any

import pandas as pd

from workbench.core.errors import IntegrityError
from workbench.indb.store_integrity import StoredModel, verify_row

__all__ = ["LISTING_COLUMNS", "model_listing"]

LISTING_COLUMNS = [
    "name", "version", "created_at", "task", "estimator", "n_features", "sha256",
    "compiled_sql", "backend", "explain", "nan_policy", "corrupt", "legacy",
]


def model_listing(rows: list[dict[str, Any]], corrupt: list[str]) -> pd.DataFrame:
    """The table of ``ModelStore.list_models`` from raw rows (corrupt ones included).

    Parameters
    ----------
    rows : list of dict
        Stored rows (see :func:`workbench.indb.store_integrity.select_rows`).
    corrupt : list of str
        ``"name v<k>"`` of rows refused on opening.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`LISTING_COLUMNS`; ``backend`` (``"sql"`` or ``"udf"``), ``explain``
        (whether an explainer is stored) and ``nan_policy`` are None where the row is corrupt.
    """
    out = []
    for r in rows:
        label = f"{r['name']} v{r['version']}"
        try:
            m: StoredModel | None = verify_row(r)
        except IntegrityError:
            m = None
        out.append(
            {
                "name": r["name"],
                "version": int(r["version"]),
                "created_at": r["created_at"],
                "task": r["task"],
                "estimator": r["estimator"],
                "n_features": len(m.features) if m is not None else None,
                "sha256": str(r["sha256"])[:12],
                "compiled_sql": bool(r["sql_predict"]),
                "backend": m.backend if m is not None else None,
                "explain": (m.explainer is not None) if m is not None else None,
                "nan_policy": m.nan_policy if m is not None else None,
                "corrupt": m is None or label in corrupt,
                "legacy": m is not None and m.legacy,
            }
        )
    return pd.DataFrame(out, columns=LISTING_COLUMNS)
