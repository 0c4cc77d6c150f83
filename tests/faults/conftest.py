"""The fault scenarios' figures, printed as one table at the end of the run (tests/conftest.py).

Each scenario records what it sent, what it injected and how many differences the checker found
(0 when it passed; the count it raised with when it failed), so `make faults` and `make test`
end with the summary the issue asks for.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field

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


#: The name under which a scenario's figures travel in its test report (tests/conftest.py prints
#: the table from the reports, so it also works when an xdist worker ran the scenario).
FIGURES_PROPERTY = "cxstream_fault_figures"


@pytest.fixture
def fault_figures(request: pytest.FixtureRequest) -> Iterator[FaultFigures]:
    figures = FaultFigures(scenario=request.node.name.removeprefix("test_"))
    yield figures
    request.node.user_properties.append((FIGURES_PROPERTY, asdict(figures)))
