"""The fault scenarios' figures, printed as one table at the end of the run.

Each scenario records what it sent, what it injected and how many differences the checker found
(0 when it passed; the count it raised with when it failed), so `make faults` and `make test`
end with the summary the issue asks for.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest


def scale() -> int:
    """`make faults` runs the soak: CXSTREAM_FAULTS_SCALE multiplies events, kills and outages."""
    return max(1, int(os.environ.get("CXSTREAM_FAULTS_SCALE", "1")))


@dataclass
class FaultFigures:
    scenario: str
    events: int = 0
    faults: str = ""
    differences: int | None = None
    notes: list[str] = field(default_factory=list)


_RECORDED: list[FaultFigures] = []


@pytest.fixture
def fault_figures(request: pytest.FixtureRequest) -> Iterator[FaultFigures]:
    figures = FaultFigures(scenario=request.node.name.removeprefix("test_"))
    yield figures
    _RECORDED.append(figures)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _RECORDED:
        return
    terminalreporter.section("fault scenarios")
    width = max(len(f.scenario) for f in _RECORDED)
    terminalreporter.write_line(f"{'scenario':<{width}}  {'events':>7}  {'differences':>11}  faults injected")
    for f in _RECORDED:
        differences = "not reached" if f.differences is None else str(f.differences)
        terminalreporter.write_line(f"{f.scenario:<{width}}  {f.events:>7}  {differences:>11}  {f.faults}")
