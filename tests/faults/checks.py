"""The checker every fault scenario ends with: wait for zero differences, record the count either way."""

from __future__ import annotations

from collections.abc import Callable

from tests.faults.conftest import FaultFigures
from tests.support.worker import wait_for


def expect_no_differences(figures: FaultFigures, differences: Callable[[], list[str]], *, timeout: float,
                          what: str) -> None:
    """Poll ``differences`` until it is empty; on time-out fail listing them. Adds their number to
    ``figures.differences`` (scores in Kafka and facts in ClickHouse are checked separately)."""
    try:
        wait_for(lambda: not differences(), timeout=timeout, what=what)
    except AssertionError:
        problems = differences()
        figures.differences = (figures.differences or 0) + len(problems)
        raise AssertionError(f"{len(problems)} differences waiting for {what}:\n" + "\n".join(problems[:30])) from None
    figures.differences = figures.differences or 0
