"""`make bench` in miniature: every contender runs on the real stack and the scorers agree cell by cell.

No timing is asserted here (timings belong in BENCHMARKS.md); this pins that the harness works
and that Quix Streams and cxstream compute the same scores as plain Python on the same input.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.bench import CONTENDERS, run
from cxstream.config import Settings
from cxstream.stack import StackStatus

pytestmark = pytest.mark.integration


def test_every_contender_reads_the_whole_workload_and_the_scores_match(
        stack: StackStatus, settings: Settings, tmp_path: Path) -> None:
    report = run(touchpoints=2000, settings=settings, workdir=tmp_path, timeout=300)

    events = report.touchpoints + report.feedback_messages
    assert report.touchpoints == 2000
    assert report.feedback_messages > report.distinct_feedback  # retried feedback is in the input
    assert list(report.outcomes) == list(CONTENDERS)
    assert all(o.events == events and o.seconds > 0 and o.peak_rss > 0 for o in report.outcomes.values())
    assert report.differences == []
    quix, cx = report.outcomes["quix"].cells, report.outcomes["cxstream"].cells
    assert quix and quix == cx
    assert sum(sum(counts) for counts in cx.values()) == report.answers
