"""Test helpers shared by the in-database tests and their child processes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Tripwire:
    """A DuckDB connection wrapper that runs ``action`` at one statement of the store's own work.

    ``keyword`` is the first word of the statement (``"INSERT"``, ``"COMMIT"``) or ``"CLOSE"``
    for ``close()``; ``when`` is ``"before"`` or ``"after"``. Everything else is passed through,
    so a store whose ``con`` is a Tripwire behaves exactly as before until the wire trips.
    """

    def __init__(self, con: Any, keyword: str, when: str, action: Callable[[], None]) -> None:
        self.con = con
        self.keyword = keyword.upper()
        self.when = when
        self.action = action
        self.fired = False

    def _trip(self, when: str) -> None:
        if self.when == when and not self.fired:
            self.fired = True
            self.action()

    def execute(self, query: str, *args: Any) -> Any:
        hit = query.lstrip().upper().startswith(self.keyword)
        if hit:
            self._trip("before")
        out = self.con.execute(query, *args)
        if hit:
            self._trip("after")
        return out

    def close(self) -> None:
        hit = self.keyword == "CLOSE"
        if hit:
            self._trip("before")
        self.con.close()
        if hit:
            self._trip("after")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.con, name)


def fixed_timings(sql: tuple[float, float], udf: tuple[float, float]) -> Callable[..., dict]:
    """A stand-in for ``backend._timed``: fixed ``(plan_s, per_row_us)`` per backend."""

    def timed(con: Any, exprs: dict[str, str], table: str, repeats: int) -> dict:
        fixed = {"sql": sql, "udf": udf}
        return {
            b: {"plan_s": fixed[b][0], "per_row_us": fixed[b][1], "timed_rows": 1000.0}
            for b in exprs
        }

    return timed
