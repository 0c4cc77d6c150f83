"""The streaming worker on the real broker, one test per behaviour family: join and dedupe, dead
letters, first wins over a real join wait, alerts. Each behaviour alone, and many more cases, run
in process in tests/unit/streams/test_pipeline.py; crashes, restarts and rebalances in tests/faults."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest

from cxstream.config import Settings
from cxstream.schemas.records import Feedback, Touchpoint
from cxstream.stack import StackStatus
from cxstream.streams.partitioning import home_partition
from cxstream.streams.windows import window_start_ms
from cxstream.vocabulary import TOPIC_FEEDBACK
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


def test_join_and_dedupe_in_every_arrival_order_on_the_real_broker(worker: WorkerRun) -> None:
    """One batch for the join and dedupe family (each case alone: tests/unit/streams/test_pipeline.py):
    feedback before and after its touchpoint, retried, wrongly keyed, direct, and without a touchpoint."""
    agency = _agency()
    n = worker.settings.partitions
    worker.send_feedback(_fb(f"fb-{agency}-early", f"tp-{agency}-1", {"satisfaction": 4, "trust": 2}))
    worker.send_touchpoint(_tp(f"tp-{agency}-1", agency))
    worker.send_touchpoint(_tp(f"tp-{agency}-2", agency, channel="website"))
    home = home_partition(f"tp-{agency}-3".encode(), n)
    worker.send_touchpoint(_tp(f"tp-{agency}-3", agency), key=b"not-the-touchpoint-id", partition=(home + 1) % n)
    worker.send_feedback(_fb(f"fb-{agency}-wrong-key", f"tp-{agency}-3", {"efficiency": 1}), key=None,
                         partition=(home + 2) % n)
    worker.send_feedback(_fb(f"fb-{agency}-direct", None, {"equity": 4}, agency=agency, service="farm-loans",
                             channel="paper"))
    worker.send_feedback(_fb(f"fb-{agency}-alone", f"tp-{agency}-missing", {"helpfulness": 5}, agency=agency,
                             service="claims", channel="fax"))
    wait_for(lambda: _cell(worker, agency, "phone", "trust") == (0, 1, 0, 0, 0), what="the early feedback joined")
    for _ in range(3):  # after its touchpoint, and retried by its channel
        worker.send_feedback(_fb(f"fb-{agency}-late", f"tp-{agency}-2", {"ease": 5}))
    expected = {("phone", "satisfaction", "claims"): (0, 0, 0, 1, 0), ("website", "ease", "claims"): (0, 0, 0, 0, 1),
                ("phone", "efficiency", "claims"): (1, 0, 0, 0, 0), ("paper", "equity", "farm-loans"): (0, 0, 0, 1, 0),
                ("fax", "helpfulness", "claims"): (0, 0, 0, 0, 1)}
    wait_for(lambda: all(_cell(worker, agency, ch, d, service=s) == want for (ch, d, s), want in expected.items()),
             timeout=60, what="every cell of the batch (the fax one after the 3 s join wait)")
    stored = {e.feedback_id: e for e in worker.enriched() if e.feedback_id.startswith(f"fb-{agency}")}
    assert [e.feedback_id for e in worker.enriched()].count(f"fb-{agency}-late") == 1
    assert stored[f"fb-{agency}-early"].matched and stored[f"fb-{agency}-wrong-key"].matched
    assert (stored[f"fb-{agency}-alone"].matched, stored[f"fb-{agency}-alone"].channel) == (False, "fax")


def test_bad_late_and_misplaced_input_is_dead_lettered_with_its_own_position(worker: WorkerRun) -> None:
    """The dead-letter family: undecodable, invalid, the wrong type for its topic, and too late (each
    with the position, key and bytes the channel sent); a fast clock's feedback shrinks nobody's
    retention; scoring goes on."""
    agency = _agency()
    own = {"agency": agency, "service": "s", "channel": "phone"}
    not_avro = b'{"json": "where Avro is expected"}'
    bad_answer = worker.codec.encode("Feedback", {**_fb(f"fb-{agency}-bad", None, {"trust": 4}, **own).to_avro(),
                                                  "answers": {"trust": 6}})
    wrong_type = worker.codec.encode("Touchpoint", _tp(f"tp-{agency}", agency).to_avro())
    late = worker.codec.encode("Feedback", _fb(f"fb-{agency}-late", None, {"trust": 1}, at=NOW - 2 * 3_600_000,
                                               **own).to_avro())
    sent = {reason: worker.send_raw(TOPIC_FEEDBACK, f"k-{reason}".encode(), value)
            for reason, value in (("not_single_object", not_avro), ("invalid", bad_answer),
                                  ("wrong_record_type", wrong_type), ("too_late", late))}
    ahead, behind = NOW + 55 * 60_000, NOW - 40 * 60_000  # the worker keeps windows for 1 h
    worker.send_feedback(_fb(f"fb-{agency}-ahead", None, {"ease": 5}, at=ahead, **own), partition=0)
    worker.send_feedback(_fb(f"fb-{agency}-behind", None, {"ease": 2}, at=behind, **own), partition=0)
    worker.send_feedback(_fb(f"fb-{agency}-good", None, {"trust": 4}, **own))
    wait_for(lambda: _cell(worker, agency, "phone", "trust", service="s") == (0, 0, 0, 1, 0), what="the good score")
    wait_for(lambda: _cell(worker, agency, "phone", "ease", service="s", window=window_start_ms(behind))
             == (0, 1, 0, 0, 0), what="the 40-minute-old feedback scored")
    topic = worker.settings.topic(TOPIC_FEEDBACK)
    letters = wait_for(lambda: (lambda found: found if len(found) == len(sent) else None)(
        {(d.partition, d.offset): d for d in worker.dead_letters() if d.source_topic == topic
         and d.key is not None and d.key.startswith(b"k-")}), what="the four dead letters")
    for reason, (partition, offset) in sent.items():
        letter = letters[(partition, offset)]
        assert (letter.reason, letter.key) == (reason, f"k-{reason}".encode())
    assert letters[sent["too_late"]].raw == late
    assert "answers.trust: out_of_range" in letters[sent["invalid"]].detail
    assert any(e.feedback_id == f"fb-{agency}-late" for e in worker.enriched())  # too late, still stored
    assert worker.process.poll() is None


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
