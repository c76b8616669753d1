"""Print the fuzz outcome counts at the end of the run."""

from __future__ import annotations


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    from tests.fuzz.test_fuzz_public_api import pytest_terminal_summary_lines

    for line in pytest_terminal_summary_lines():
        terminalreporter.write_line(line)
