"""Repository-wide pytest setup for unit tests and notebooks run under nbval."""

from __future__ import annotations

import os

import pytest

# Offline for every test and every notebook kernel started by nbval. MPLBACKEND is left alone:
# set to Agg it would reach the kernels and drop the inline figures that notebooks show.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")


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
