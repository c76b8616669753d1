"""Progress bars for long work, built on ``tqdm.auto`` (a widget in Jupyter, text elsewhere).

Bars can be silenced globally (``WORKBENCH_PROGRESS=0`` or :func:`set_enabled`), for a block
(:func:`silenced`), or per call (``progress(..., disable=True)``). Panels observe bars through
:func:`observe`, which forwards every update to a callback so a panel can drive its own widget.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from tqdm.auto import tqdm

__all__ = ["Observer", "is_enabled", "observe", "progress", "set_enabled", "silenced"]

Observer = Callable[[int, "int | None", str], None]
"""Callback ``(done, total, description)`` called after each update."""

_enabled: contextvars.ContextVar[bool | None] = contextvars.ContextVar("wb_progress", default=None)
_observers: contextvars.ContextVar[tuple[Observer, ...]] = contextvars.ContextVar(
    "wb_progress_observers", default=()
)
_global_enabled = os.environ.get("WORKBENCH_PROGRESS", "1").strip().lower() not in {"0", "false"}


def set_enabled(enabled: bool) -> None:
    """Turn progress bars on or off for the whole process."""
    global _global_enabled
    _global_enabled = bool(enabled)


def is_enabled() -> bool:
    """Whether progress bars are shown in the current context."""
    local = _enabled.get()
    return _global_enabled if local is None else local


@contextlib.contextmanager
def silenced() -> Iterator[None]:
    """Hide progress bars inside the ``with`` block (observers are still called)."""
    token = _enabled.set(False)
    try:
        yield
    finally:
        _enabled.reset(token)


@contextlib.contextmanager
def observe(callback: Observer) -> Iterator[None]:
    """Call ``callback(done, total, desc)`` on every progress update inside the block."""
    token = _observers.set((*_observers.get(), callback))
    try:
        yield
    finally:
        _observers.reset(token)


class _ObservedBar(tqdm):  # type: ignore[misc]
    """A tqdm bar that also notifies the observers active when it was created."""

    def __init__(
        self,
        *args: Any,
        observers: tuple[Observer, ...] = (),
        total: int | None = None,
        desc: str | None = None,
        **kwargs: Any,
    ) -> None:
        # A disabled tqdm keeps no count, total or description, so the bar keeps its own.
        self._wb_observers = observers
        self._wb_done = 0
        self._wb_total = total
        self._wb_desc = desc or ""
        super().__init__(*args, total=total, desc=desc, **kwargs)

    def update(self, n: float | None = 1) -> bool | None:
        out = super().update(n)
        self._wb_done += int(n or 0)
        for cb in self._wb_observers:
            cb(self._wb_done, self._wb_total, self._wb_desc)
        return out


def progress(
    iterable: Iterable[Any] | None = None,
    *,
    total: int | None = None,
    desc: str | None = None,
    disable: bool | None = None,
    **kwargs: Any,
) -> tqdm:
    """Wrap ``iterable`` (or create a manual bar) with a tqdm progress bar.

    Parameters
    ----------
    iterable : iterable, optional
        Items to iterate; omit it to create a bar advanced with ``.update(n)``.
    total : int, optional
        Number of steps, when ``iterable`` has no ``len``.
    desc : str, optional
        Label shown beside the bar.
    disable : bool, optional
        Force the bar off (True) or on (False); ``None`` follows :func:`is_enabled`.
    **kwargs
        Passed on to ``tqdm.auto.tqdm``.

    Returns
    -------
    tqdm.auto.tqdm
    """
    if disable is None:
        disable = not is_enabled()
    observers = _observers.get()
    if total is None and iterable is not None and hasattr(iterable, "__len__"):
        total = len(iterable)  # type: ignore[arg-type]
    if observers:
        # tqdm skips update() when disabled, so observed bars iterate through update themselves.
        bar = _ObservedBar(total=total, desc=desc, disable=disable, observers=observers, **kwargs)
        if iterable is None:
            return bar
        return _iterate_observed(iterable, bar)  # type: ignore[return-value]
    return tqdm(iterable, total=total, desc=desc, disable=disable, **kwargs)


def _iterate_observed(iterable: Iterable[Any], bar: _ObservedBar) -> Iterator[Any]:
    try:
        for item in iterable:
            yield item
            bar.update(1)
    finally:
        bar.close()
