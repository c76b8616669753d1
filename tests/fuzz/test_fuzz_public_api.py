"""Every public name of every tool, driven with generated bad input (Hypothesis).

Accepted outcomes: a ``WorkbenchError`` or a valid result. Another exception, a hang, or NaN/inf in
a numeric result fails. The counts of cases and outcomes are printed at the end of the run.
"""

from __future__ import annotations

import importlib

import matplotlib
import pytest
from hypothesis import HealthCheck, Phase, given, settings

from tests.fuzz import (
    cases_coldstart,
    cases_data,
    cases_drift,
    cases_edge,
    cases_indb,
    cases_privacy,
    cases_transcribe,
    cases_valuation,
)
from tests.fuzz.harness import OUTCOMES, bad_call, check_outcome, non_finite, run_bounded

matplotlib.use("Agg")

TOOLS = {
    "indb": ("workbench.indb", cases_indb),
    "edge": ("workbench.edge", cases_edge),
    "transcribe": ("workbench.transcribe", cases_transcribe),
    "valuation": ("workbench.valuation", cases_valuation),
    "coldstart": ("workbench.coldstart", cases_coldstart),
    "privacy": ("workbench.privacy", cases_privacy),
    "drift": ("workbench_drift", cases_drift),
    "sources": ("workbench.core.sources", cases_data.SOURCES),
    "tables": ("workbench.core.tables", cases_data.TABLES),
    "workspace": ("workbench.core.workspace", cases_data.WORKSPACE),
}
CASES = [case for _, mod in TOOLS.values() for case in mod.CASES]


@pytest.fixture(autouse=True)
def _in_a_scratch_folder(tmp_path, monkeypatch):
    """Generated text reaches path arguments (databases, exports): keep what it creates here."""
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize("tool", sorted(TOOLS))
def test_every_public_name_has_a_case(tool):
    module_name, cases = TOOLS[tool]
    public = {f"{tool}.{n}" for n in importlib.import_module(module_name).__all__}
    covered = {name for case in cases.CASES for name in case.covers} | cases.CONSTANTS
    assert public - covered == set(), f"public names with no fuzz case: {public - covered}"
    assert covered - public == set(), f"cases name what is not public: {covered - public}"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_valid_call_gives_a_finite_result(case):
    """The recipe itself is valid: otherwise every corrupted call would fail for its own reason."""
    if case.needs:
        pytest.importorskip(case.needs)
    result = run_bounded(lambda: case.call(**case.kwargs()))
    assert non_finite(result, case.nan_ok) is None


@pytest.mark.parametrize("case", [c for c in CASES if c.params != ()], ids=lambda c: c.name)
def test_bad_input_gets_a_workbench_error_or_a_valid_result(case):
    @settings(
        max_examples=case.max_examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=(Phase.explicit, Phase.generate),
        suppress_health_check=list(HealthCheck),
    )
    @given(drawn=bad_call(case))
    def run(drawn):
        desc, kwargs = drawn
        check_outcome(case, desc, kwargs)

    run()


def pytest_terminal_summary_lines() -> list[str]:
    """Lines for the terminal summary (called from tests/fuzz/conftest.py)."""
    if not OUTCOMES:
        return []
    by_outcome: dict[str, int] = {}
    for (_, outcome), n in OUTCOMES.items():
        by_outcome[outcome] = by_outcome.get(outcome, 0) + n
    total = sum(by_outcome.values())
    names = len({name for case in CASES for name in case.covers})
    lines = [f"bad-input fuzz: {total} calls over {len(CASES)} cases covering {names} names"]
    lines += [f"  {k}: {v}" for k, v in sorted(by_outcome.items())]
    return lines
