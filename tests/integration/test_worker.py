"""The streaming worker on the real broker: join in any order, dedupe, fallbacks, bad input, late input."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from cxstream.config import Settings
from cxstream.schemas.records import Feedback, Touchpoint
from cxstream.stack import StackStatus
from cxstream.streams.partitioning import home_partition
from cxstream.streams.windows import window_start_ms
from cxstream.vocabulary import TOPIC_FEEDBACK, TOPIC_TOUCHPOINTS
from tests.support.worker import WorkerRun, running_worker, wait_for

pytestmark = pytest.mark.integration
NOW = int(time.time() * 1000)
WINDOW = window_start_ms(NOW - 120_000)


@pytest.fixture(scope="module")
def worker(stack: StackStatus, settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkerRun]:
    """One worker for the module: join wait 3 s, window retention 1 h, scores every 200 ms."""
    with running_worker(settings, tmp_path_factory.mktemp("worker"), join_wait_seconds=3,
                        window_retention_seconds=3600) as run:
        yield run


def _agency() -> str:
    """A fresh agency name per test, so tests sharing the worker never share a cell."""
    return f"AG-{uuid.uuid4().hex[:6]}"


def _tp(tp_id: str, agency: str, channel: str = "phone") -> Touchpoint:
    return Touchpoint(tp_id, NOW - 180_000, agency, "claims", channel)


def _fb(fb_id: str, tp_id: str | None, answers: dict[str, int], at: int = NOW - 120_000, **own: str) -> Feedback:
    return Feedback(fb_id, at, answers, tp_id, None, own.get("agency"), own.get("service"), own.get("channel"))


def _cell(worker: WorkerRun, agency: str, channel: str, domain: str, service: str = "claims",
          window: int = WINDOW) -> tuple[int, ...] | None:
    score = worker.scores().get((window, agency, service, channel, domain))
    return None if score is None else (score.count_1, score.count_2, score.count_3, score.count_4, score.count_5)


def test_feedback_before_touchpoint_is_joined_when_it_arrives(worker: WorkerRun) -> None:
    agency = _agency()
    worker.send_feedback(_fb(f"fb-{agency}", f"tp-{agency}", {"satisfaction": 4, "trust": 2}))
    time.sleep(1.0)
    worker.send_touchpoint(_tp(f"tp-{agency}", agency))
    wait_for(lambda: _cell(worker, agency, "phone", "trust") == (0, 1, 0, 0, 0), what="the joined trust score")
    assert _cell(worker, agency, "phone", "satisfaction") == (0, 0, 0, 1, 0)
    [stored] = [e for e in worker.enriched() if e.feedback_id == f"fb-{agency}"]
    assert stored.matched and stored.agency == agency and stored.channel == "phone"


def test_feedback_after_touchpoint_is_attributed_at_once(worker: WorkerRun) -> None:
    agency = _agency()
    worker.send_touchpoint(_tp(f"tp-{agency}", agency, channel="website"))
    time.sleep(1.0)
    worker.send_feedback(_fb(f"fb-{agency}", f"tp-{agency}", {"ease": 5}))
    wait_for(lambda: _cell(worker, agency, "website", "ease") == (0, 0, 0, 0, 1), what="the ease score")


def test_a_retried_feedback_counts_once(worker: WorkerRun) -> None:
    agency = _agency()
    worker.send_touchpoint(_tp(f"tp-{agency}", agency))
    time.sleep(1.0)
    feedback = _fb(f"fb-{agency}", f"tp-{agency}", {"quality": 3})
    for _ in range(3):
        worker.send_feedback(feedback)
    wait_for(lambda: _cell(worker, agency, "phone", "quality") is not None, what="the quality score")
    time.sleep(2.0)  # time for any duplicate to be (wrongly) counted
    assert _cell(worker, agency, "phone", "quality") == (0, 0, 1, 0, 0)
    assert [e.feedback_id for e in worker.enriched()].count(f"fb-{agency}") == 1


def test_wrong_and_missing_keys_still_meet_their_partner(worker: WorkerRun) -> None:
    agency = _agency()
    tp_id = f"tp-{agency}"
    home = home_partition(tp_id.encode(), worker.settings.partitions)
    elsewhere = (home + 1) % worker.settings.partitions
    worker.send_touchpoint(_tp(tp_id, agency), key=b"not-the-touchpoint-id", partition=elsewhere)
    worker.send_feedback(_fb(f"fb-{agency}", tp_id, {"efficiency": 1}), key=None, partition=(home + 2) % 6)
    wait_for(lambda: _cell(worker, agency, "phone", "efficiency") == (1, 0, 0, 0, 0),
             what="the efficiency score of wrongly keyed input")
    [stored] = [e for e in worker.enriched() if e.feedback_id == f"fb-{agency}"]
    assert stored.matched


def test_direct_survey_uses_its_own_attribution(worker: WorkerRun) -> None:
    agency = _agency()
    worker.send_feedback(_fb(f"fb-{agency}", None, {"equity": 4}, agency=agency, service="farm-loans",
                             channel="paper"))
    wait_for(lambda: _cell(worker, agency, "paper", "equity", service="farm-loans") == (0, 0, 0, 1, 0),
             what="the direct survey's score")


def test_feedback_without_its_touchpoint_falls_back_after_join_wait(worker: WorkerRun) -> None:
    agency = _agency()
    worker.send_feedback(_fb(f"fb-{agency}-own", f"tp-{agency}-missing", {"helpfulness": 5}, agency=agency,
                             service="claims", channel="fax"))
    worker.send_feedback(_fb(f"fb-{agency}-none", f"tp-{agency}-missing2", {"trust": 1}))
    wait_for(lambda: _cell(worker, agency, "fax", "helpfulness") == (0, 0, 0, 0, 1), timeout=30,
             what="the fallback to the feedback's own attribution")
    [unmatched] = [e for e in worker.enriched() if e.feedback_id == f"fb-{agency}-none"]
    assert (unmatched.agency, unmatched.service, unmatched.channel, unmatched.matched) == (
        "unknown", "unknown", "unknown", False)


def test_bad_input_is_dead_lettered_and_the_worker_keeps_scoring(worker: WorkerRun) -> None:
    agency = _agency()
    worker.send_raw(TOPIC_FEEDBACK, b"k1", b'{"json": "where Avro is expected"}')
    bad_answer = worker.codec.encode("Feedback", {**_fb(f"fb-{agency}-bad", None, {"trust": 4}, agency=agency,
                                                          service="s", channel="phone").to_avro(),
                                                  "answers": {"trust": 6}})
    worker.send_raw(TOPIC_FEEDBACK, b"k2", bad_answer)
    worker.send_feedback(_fb(f"fb-{agency}-good", None, {"trust": 4}, agency=agency, service="s", channel="phone"))
    wait_for(lambda: _cell(worker, agency, "phone", "trust", service="s") == (0, 0, 0, 1, 0), what="the good score")
    letters = {letter.raw: letter for letter in wait_for(lambda: worker.dead_letters(), what="dead letters")}
    assert letters[b'{"json": "where Avro is expected"}'].reason == "not_single_object"
    assert letters[bad_answer].reason == "invalid" and "answers.trust: out_of_range" in letters[bad_answer].detail
    assert worker.process.poll() is None


def test_feedback_older_than_retention_is_stored_and_dead_lettered_too_late_with_its_own_position(
    worker: WorkerRun,
) -> None:
    agency = _agency()
    late_at = NOW - 2 * 3600 * 1000
    late = _fb(f"fb-{agency}", None, {"trust": 1}, at=late_at, agency=agency, service="s", channel="phone")
    raw = worker.codec.encode("Feedback", late.to_avro())
    partition, offset = worker.send_raw(TOPIC_FEEDBACK, late.kafka_key, raw)
    letter = wait_for(lambda: next((d for d in worker.dead_letters() if d.reason == "too_late" and d.raw == raw), None),
                      what="the too_late dead letter")
    # The message the channel sent, not the worker's internal record.
    assert (letter.source_topic, letter.partition, letter.offset, letter.key) == (
        worker.settings.topic(TOPIC_FEEDBACK), partition, offset, late.kafka_key)
    wait_for(lambda: any(e.feedback_id == late.feedback_id for e in worker.enriched()), what="it stored as feedback")
    assert _cell(worker, agency, "phone", "trust", service="s", window=window_start_ms(late_at)) is None


def test_one_message_from_a_fast_clock_does_not_shrink_the_retention_of_others(worker: WorkerRun) -> None:
    """Validation accepts submitted_at up to a day ahead; retention is still judged on the worker's
    clock, so a feedback from an hour-ahead clock cannot make a 40-minute-old one too late."""
    agency = _agency()
    n = worker.settings.partitions
    ids = [f"fb-{agency}-{i}" for i in range(200)]
    same = [i for i in ids if home_partition(i.encode(), n) == home_partition(ids[0].encode(), n)][:2]
    ahead, behind = NOW + 55 * 60_000, NOW - 40 * 60_000  # the worker keeps windows for 1 h
    worker.send_feedback(_fb(same[0], None, {"ease": 5}, at=ahead, agency=agency, service="s", channel="phone"))
    wait_for(lambda: any(e.feedback_id == same[0] for e in worker.enriched()), what="the fast clock's feedback")
    worker.send_feedback(_fb(same[1], None, {"ease": 2}, at=behind, agency=agency, service="s", channel="phone"))
    wait_for(lambda: _cell(worker, agency, "phone", "ease", service="s", window=window_start_ms(behind))
             == (0, 1, 0, 0, 0), what="the 40-minute-old feedback's score")
    assert not [d for d in worker.dead_letters() if d.reason == "too_late" and d.key == same[1].encode()]


def test_the_copy_received_first_wins_even_when_a_later_copy_is_joined_sooner(worker: WorkerRun) -> None:
    """fw-1 names a touchpoint that never comes (it waits the join wait, 3 s, then falls back);
    its retry 1 s later names a known touchpoint and is joined at once. The first one received wins."""
    agency = _agency()
    worker.send_touchpoint(_tp(f"tp-{agency}-known", agency, channel="website"))
    worker.send_feedback(_fb(f"probe-{agency}", f"tp-{agency}-known", {"trust": 3}))
    wait_for(lambda: any(e.feedback_id == f"probe-{agency}" and e.matched for e in worker.enriched()),
             what="the known touchpoint to be stored in the join")
    first = _fb(f"fw-{agency}", f"tp-{agency}-never", {"satisfaction": 1}, agency=agency, service="claims",
                channel="fax")
    retry = _fb(f"fw-{agency}", f"tp-{agency}-known", {"satisfaction": 5})
    worker.send_feedback(first)
    time.sleep(1.0)
    worker.send_feedback(retry)
    wait_for(lambda: _cell(worker, agency, "fax", "satisfaction") == (1, 0, 0, 0, 0), timeout=30,
             what="the first copy's score after its join wait")
    time.sleep(1.0)  # time for the retry to be (wrongly) counted
    assert _cell(worker, agency, "website", "satisfaction") is None
    [stored] = [e for e in worker.enriched() if e.feedback_id == f"fw-{agency}"]
    assert (stored.channel, stored.matched, stored.answers) == ("fax", False, {"satisfaction": 1})


def test_a_record_on_the_other_input_topic_is_dead_lettered_as_the_wrong_type(worker: WorkerRun) -> None:
    agency = _agency()
    feedback = worker.codec.encode("Feedback", _fb(f"fb-{agency}", None, {"trust": 4}, agency=agency, service="s",
                                                   channel="phone").to_avro())
    touchpoint = worker.codec.encode("Touchpoint", _tp(f"tp-{agency}", agency).to_avro())
    worker.send_raw(TOPIC_TOUCHPOINTS, f"fb-{agency}".encode(), feedback)
    worker.send_raw(TOPIC_FEEDBACK, f"tp-{agency}".encode(), touchpoint)
    letters = wait_for(lambda: [d for d in worker.dead_letters() if d.raw in (feedback, touchpoint)]
                       if len([d for d in worker.dead_letters() if d.raw in (feedback, touchpoint)]) == 2 else None,
                       what="both dead letters")
    assert {(d.source_topic, d.reason) for d in letters} == {
        (worker.settings.topic(TOPIC_TOUCHPOINTS), "wrong_record_type"),
        (worker.settings.topic(TOPIC_FEEDBACK), "wrong_record_type")}
    time.sleep(1.0)
    assert _cell(worker, agency, "phone", "trust", service="s") is None
    assert not [e for e in worker.enriched() if e.feedback_id == f"fb-{agency}"]


def test_a_drop_in_a_rolling_score_fires_an_alert_and_recovery_resolves_it(worker: WorkerRun) -> None:
    agency = _agency()
    own = {"agency": agency, "service": "claims", "channel": "phone"}
    for i in range(35):  # 35 strongly-disagree answers: 0% positive, above the min-n of 30
        worker.send_feedback(_fb(f"fb-{agency}-low-{i}", None, {"trust": 1}, **own))
    fired = wait_for(lambda: [a for a in worker.alerts() if a.agency == agency], what="the firing alert")
    # It fires once, as soon as a merged score carries at least min-n answers (when depends on timing).
    assert [(a.state, a.domain) for a in fired] == [("firing", "trust")]
    assert 30 <= fired[0].responses <= 35
    assert fired[0].pct_positive == 0.0 and fired[0].threshold == 60.0 and fired[0].min_responses == 30
    for i in range(100):
        worker.send_feedback(_fb(f"fb-{agency}-high-{i}", None, {"trust": 5}, **own))
    resolved = wait_for(lambda: [a for a in worker.alerts() if a.agency == agency and a.state == "resolved"],
                        what="the resolved alert")
    assert resolved[-1].pct_positive >= 60.0
