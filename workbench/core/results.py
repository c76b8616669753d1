"""A small base for result objects: ``to_frame``, ``to_dict``/JSON and a notebook HTML view.

Tools define their results as dataclasses that inherit :class:`Result` and override
:meth:`Result.to_frame` (the main table) and, where a picture helps, ``plot(ax=None)``.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import html
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench.core.paths import atomic_write

__all__ = ["Result", "to_jsonable"]


def to_jsonable(value: Any) -> Any:
    """Convert numpy, pandas and dataclass values into plain JSON-compatible Python objects.

    Non-finite floats become ``None`` so the output is strict JSON.
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, pd.DataFrame):
        return [to_jsonable(r) for r in value.to_dict(orient="records")]
    if isinstance(value, pd.Series):
        return to_jsonable(value.to_dict())
    if isinstance(value, np.ndarray):
        return [to_jsonable(v) for v in value.tolist()]
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return to_jsonable(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, _dt.datetime | _dt.date | pd.Timestamp):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, str | int | bool) or value is None:
        return value
    return repr(value)


@dataclasses.dataclass
class Result:
    """Base class of the workbench's result dataclasses.

    Subclasses are dataclasses; fields whose name starts with ``_`` are private and left out of
    :meth:`to_dict`.
    """

    def to_dict(self) -> dict[str, Any]:
        """Public fields as plain JSON-compatible Python objects."""
        return {
            f.name: to_jsonable(getattr(self, f.name))
            for f in dataclasses.fields(self)
            if not f.name.startswith("_")
        }

    def to_json(self, path: str | os.PathLike[str] | None = None, **kwargs: Any) -> str:
        """Serialize :meth:`to_dict` as JSON; also write it to ``path`` when given.

        The file is written atomically: a failed write leaves an existing file as it was.
        """
        kwargs.setdefault("indent", 2)
        text = json.dumps(self.to_dict(), allow_nan=False, **kwargs)
        if path is not None:
            atomic_write(path, text, name="path")
        return text

    def to_frame(self) -> pd.DataFrame:
        """The result as a table; the default is one row of the scalar fields."""
        row = {k: v for k, v in self.to_dict().items() if not isinstance(v, list | dict)}
        return pd.DataFrame([row])

    def summary(self) -> dict[str, Any]:
        """Headline numbers shown above the table in the notebook view (override)."""
        return {}

    @property
    def title(self) -> str:
        """Heading of the HTML view."""
        return type(self).__name__

    def _repr_html_(self, max_rows: int = 20) -> str:
        items = "".join(
            f"<li><b>{html.escape(str(k))}</b>: {html.escape(_fmt(v))}</li>"
            for k, v in self.summary().items()
        )
        head = f"<h4 style='margin:4px 0'>{html.escape(self.title)}</h4>"
        lst = f"<ul style='margin:2px 0'>{items}</ul>" if items else ""
        table = self.to_frame().to_html(max_rows=max_rows, index=False, float_format=_fmt)
        return f"<div class='workbench-result'>{head}{lst}{table}</div>"

    def __repr__(self) -> str:
        # A short, stable repr keeps notebooks free of memory addresses (nbval compares text).
        parts = ", ".join(f"{k}={_fmt(v)}" for k, v in self.summary().items())
        return f"{type(self).__name__}({parts})"


def _fmt(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return f"{value:.4g}"
    return str(value)
