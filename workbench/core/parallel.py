"""Parallel map over joblib that honours ``n_jobs`` and the active ``joblib.parallel_config``.

No backend is hard-coded: inside ``with joblib.parallel_config(backend="dask"):`` (or ``"ray"``)
the same call runs on that cluster. Results come back in input order and drive a progress bar as
they complete.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import joblib

from workbench.core.progress import progress
from workbench.core.validation import check_n_jobs

__all__ = ["effective_n_jobs", "parallel_map"]

T = TypeVar("T")
R = TypeVar("R")


def effective_n_jobs(n_jobs: int | None = None) -> int:
    """Number of workers joblib will use for ``n_jobs`` under the active configuration."""
    return int(joblib.effective_n_jobs(check_n_jobs(n_jobs)))


def parallel_map(
    func: Callable[..., R],
    items: Iterable[T],
    *,
    n_jobs: int | None = None,
    desc: str | None = None,
    show_progress: bool | None = None,
    total: int | None = None,
    **parallel_kwargs: Any,
) -> list[R]:
    """Apply ``func`` to every item with joblib and return the results in order.

    Parameters
    ----------
    func : callable
        A picklable function of one argument (use ``functools.partial`` for constants). A tuple
        item is passed as a single argument, not unpacked.
    items : iterable
        The work items.
    n_jobs : int, optional
        Number of workers; ``None`` defers to ``joblib.parallel_config`` (1 by default), ``-1``
        uses every core.
    desc : str, optional
        Progress-bar label.
    show_progress : bool, optional
        Force the progress bar on or off; ``None`` follows :mod:`workbench.core.progress`.
    total : int, optional
        Number of items when ``items`` has no ``len``.
    **parallel_kwargs
        Extra ``joblib.Parallel`` arguments such as ``batch_size`` or ``prefer``.

    Returns
    -------
    list
        ``[func(item) for item in items]``.
    """
    n_jobs = check_n_jobs(n_jobs)
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    disable = None if show_progress is None else not show_progress
    delayed = joblib.delayed(func)
    runner = joblib.Parallel(n_jobs=n_jobs, return_as="generator", **parallel_kwargs)
    results = runner(delayed(item) for item in items)
    return list(progress(results, total=total, desc=desc, disable=disable))
