"""Repository-wide pytest setup for unit tests and notebooks run under nbval."""

from __future__ import annotations

import os
import time

import pytest

# Offline for every test and every notebook kernel started by nbval. MPLBACKEND is left alone:
# set to Agg it would reach the kernels and drop the inline figures that notebooks show.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
# The shared workspace (workbench.core.workspace) lives in memory: tests and notebook kernels
# never leave a workbench.duckdb in the checkout.
os.environ.setdefault("WORKBENCH_WORKSPACE", ":memory:")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """Fail a notebook cell that printed an IPython ``UsageError``.

    nbval passes such a cell (nbval issue #147): a magic that was never loaded would otherwise
    go unnoticed.
    """
    outcome = yield
    outputs = getattr(item, "test_outputs", None)
    if outcome.excinfo is None and outputs:
        for out in outputs:
            if out.get("name") == "stderr" and "UsageError" in out.get("text", ""):
                pytest.fail(f"cell printed a UsageError:\n{out['text']}", pytrace=False)


class SimulatedClock:
    """A clock that moves only when the test moves it.

    While the :func:`simulated_clock` fixture is active, ``time.time`` and ``time.perf_counter``
    read this clock, so code that measures durations or checks deadlines (time budgets,
    streaming delay) behaves the same on an idle laptop and on a loaded CI machine: the test
    charges each unit of work a fixed simulated cost with :meth:`advance`.
    """

    #: Reads after which the clock gives up: code waiting for a clock that nobody advances.
    MAX_READS = 5_000_000

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        if self.reads > self.MAX_READS:
            raise RuntimeError(
                "the simulated clock was read 5,000,000 times without the test advancing it "
                "enough: the code under test waits on a clock that only the test moves"
            )
        return self.now

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` of simulated time pass."""
        self.now += seconds


@pytest.fixture
def simulated_clock(monkeypatch: pytest.MonkeyPatch) -> SimulatedClock:
    """Replace ``time.time`` and ``time.perf_counter`` with a :class:`SimulatedClock`.

    Patched on the ``time`` module, so every module that calls ``time.time()`` sees it
    (pytest's own timing imported its functions by name and keeps the real clock).
    """
    clock = SimulatedClock()
    monkeypatch.setattr(time, "time", clock)
    monkeypatch.setattr(time, "perf_counter", clock)
    return clock
