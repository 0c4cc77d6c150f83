"""The traffic generator: seeded, with the shares asked for, incidents that pull scores down."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from cxstream.ingest.kinds import input_kinds
from cxstream.errors import CxstreamError
from cxstream.ingest.generate import Event, Incident, TrafficGenerator
from cxstream.ingest.publish import Rejection
from cxstream.schemas.codec import Codec

START = 1_795_600_000_000  # a fixed instant, so runs compare
HOUR_MS = 3_600_000


def _events(seed: int = 7, seconds: int = 600, **options: object) -> list[Event]:
    gen = TrafficGenerator(seed, rate=20.0, start_ms=START, **options)  # type: ignore[arg-type]
    return list(gen.events_until(START + seconds * 1000))


def test_same_seed_gives_the_same_traffic_and_another_seed_does_not() -> None:
    first = [(e.kind, e.body) for e in _events(seed=3)]
    assert first == [(e.kind, e.body) for e in _events(seed=3)]
    assert first != [(e.kind, e.body) for e in _events(seed=4)]


def test_traffic_continues_the_same_when_drawn_in_slices() -> None:
    gen = TrafficGenerator(5, rate=20.0, start_ms=START)
    sliced = [e.body for step in range(1, 11) for e in gen.events_until(START + step * 60_000)]
    assert sliced == [e.body for e in _events(seed=5)]


def test_events_are_emitted_in_time_order_and_feedback_share_is_as_asked() -> None:
    events = _events(seconds=1800, feedback_share=0.2)
    assert [e.emit_ms for e in events] == sorted(e.emit_ms for e in events)
    kinds = Counter(e.kind for e in events)
    assert 0.17 < kinds["feedback"] / kinds["touchpoints"] < 0.23


def test_feedback_includes_early_duplicate_and_direct_surveys_and_always_the_mandatory_domains() -> None:
    events = _events(seconds=3600)
    feedback = [e.body for e in events if e.kind == "feedback"]
    assert all({"satisfaction", "trust"} <= set(f["answers"]) for f in feedback)
    assert any(len(f["answers"]) > 2 for f in feedback)
    ids = Counter(f["feedback_id"] for f in feedback)
    assert any(n == 2 for n in ids.values()), "no duplicate feedback"
    direct = [f for f in feedback if "touchpoint_id" not in f]
    assert direct and all({"agency", "service", "channel"} <= set(f) for f in direct)
    seen_touchpoints: set[str] = set()
    early = 0
    for e in events:
        if e.kind == "touchpoints":
            seen_touchpoints.add(e.body["touchpoint_id"])
        elif "touchpoint_id" in e.body and e.body["touchpoint_id"] not in seen_touchpoints:
            early += 1
    assert early > 0, "no feedback before its touchpoint"


def _pct_positive(events: list[Event], cell: tuple[str, str, str]) -> float:
    touchpoints = {e.body["touchpoint_id"]: e.body for e in events if e.kind == "touchpoints"}
    answers = [a for e in events if e.kind == "feedback" and "touchpoint_id" in e.body
               for tp in [touchpoints.get(e.body["touchpoint_id"], {})]  # late ones: still pending
               if tp and (tp["agency"], tp["service"], tp["channel"]) == cell
               for a in e.body["answers"].values()]
    assert len(answers) > 30
    return 100 * sum(a >= 4 for a in answers) / len(answers)


def test_an_incident_lowers_pct_positive_in_its_cell() -> None:
    cell = ("VA", "disability-claims", "phone")
    normal = _pct_positive(_events(seconds=7200, feedback_share=0.5), cell)
    incident = _pct_positive(_events(seconds=7200, feedback_share=0.5, incidents=(Incident(*cell),)), cell)
    assert incident < normal - 25


def test_scores_differ_by_channel() -> None:
    events = _events(seconds=7200, feedback_share=0.5)
    assert _pct_positive(events, ("VA", "disability-claims", "in_person")) > \
        _pct_positive(events, ("VA", "disability-claims", "phone")) + 5


def test_every_generated_line_passes_the_publish_validator() -> None:
    kinds = input_kinds(Codec())
    rejected = []
    for e in _events(seconds=1200):
        try:
            kinds[e.kind].to_message(json.loads(json.dumps(e.body)))
        except Rejection as rejection:
            rejected.append((e.body, rejection))
    assert rejected == []


@pytest.mark.parametrize("text", ["VA/disability-claims", "VA/nonexistent/phone", "Mars/x/phone"])
def test_an_incident_naming_no_generated_cell_is_refused(text: str) -> None:
    with pytest.raises(CxstreamError):
        Incident.parse(text)


def test_traffic_follows_a_daily_rhythm() -> None:
    def count(hour_utc: int) -> int:
        start = START - START % (24 * HOUR_MS) + hour_utc * HOUR_MS
        gen = TrafficGenerator(1, rate=20.0, start_ms=start, feedback_share=0.0)
        return len(list(gen.events_until(start + 600_000)))
    assert count(18) > 2 * count(8)  # early afternoon US Eastern against the small hours
