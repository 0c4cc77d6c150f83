"""Bad input at volume: malformed messages of every kind mixed into valid traffic. Each one must
appear in the dead letters with a reason, the valid traffic must still count exactly, and the
worker must never stop.

`make test` sends BAD_MESSAGES_CI of them; `make faults` (CXSTREAM_FAULTS_BAD_MESSAGES) more.
"""

from __future__ import annotations

import os
import random
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from kafka import KafkaProducer

from cxstream.config import Settings
from cxstream.schemas.codec import Codec
from cxstream.schemas.records import Alert, Feedback, Touchpoint
from cxstream.stack import StackStatus
from cxstream.vocabulary import TOPIC_FEEDBACK, TOPIC_TOUCHPOINTS
from tests.faults.checks import expect_no_differences
from tests.faults.conftest import FaultFigures
from tests.support.ground_truth import generate
from tests.support.worker import running_worker, wait_for

from .test_worker_kill import _differences

pytestmark = [pytest.mark.integration, pytest.mark.faults]

BAD_MESSAGES_CI = 5_000
BAD_MESSAGES = int(os.environ.get("CXSTREAM_FAULTS_BAD_MESSAGES", BAD_MESSAGES_CI))
NOW = int(time.time() * 1000)


def _bad_messages(codec: Codec, n: int, rng: random.Random) -> list[tuple[str, bytes | None, bytes, str]]:
    """(topic, key, value, kind) of ``n`` malformed messages, every kind about equally often."""
    good_fb = codec.encode("Feedback", Feedback("fb-x", NOW, {"trust": 4}, "tp-x").to_avro())
    makers = {
        "random_bytes": lambda i: bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 64))),
        "truncated_avro": lambda i: good_fb[: rng.randint(1, len(good_fb) - 1)],
        "json_not_avro": lambda i: b'{"feedback_id": "j%d", "answers": {"trust": 4}}' % i,
        "unknown_fingerprint": lambda i: b"\xc3\x01" + rng.randbytes(8) + b"\x00\x00",
        "answer_out_of_range": lambda i: codec.encode("Feedback", Feedback(
            f"bad-a{i}", NOW, {"trust": rng.choice([0, 6, -1, 99])}, f"tp-{i}").to_avro()),
        "unknown_domain": lambda i: codec.encode("Feedback", Feedback(
            f"bad-d{i}", NOW, {"happiness": 4}, f"tp-{i}").to_avro()),
        "missing_required": lambda i: codec.encode("Feedback", Feedback("", NOW, {"trust": 4}, f"tp-{i}").to_avro()),
        "year_1970": lambda i: codec.encode("Feedback", Feedback(f"bad-t{i}", 0, {"trust": 4}, f"tp-{i}").to_avro()),
        "year_2100": lambda i: codec.encode("Touchpoint", Touchpoint(
            f"bad-tp{i}", 4_102_444_800_000, "VA", "claims", "phone").to_avro()),
        "wrong_record_type": lambda i: codec.encode_record(Alert(
            agency="VA", service="s", domain="trust", state="firing", pct_positive=1.0, responses=40,
            threshold=60.0, min_responses=30, window_end=NOW, raised_at=NOW)),
    }
    kinds = list(makers)
    out = []
    for i in range(n):
        kind = kinds[i % len(kinds)]
        topic = TOPIC_TOUCHPOINTS if kind == "year_2100" else TOPIC_FEEDBACK
        key = rng.choice([None, b"\xff\xfe invalid utf-8 \x80", f"tp-{i}".encode()])
        out.append((topic, key, makers[kind](i), kind))
    # Two huge ones: a comment far over the length rule, and a value at Kafka's own size limit.
    huge_comment = Feedback("bad-huge", NOW, {"trust": 4}, "tp-huge", comment="x" * 1_000_000)
    out.append((TOPIC_FEEDBACK, b"tp-huge", codec.encode("Feedback", huge_comment.to_avro()), "huge_comment"))
    out.append((TOPIC_FEEDBACK, None, b"\xc3\x01" + b"z" * 1_040_000, "at_kafka_limit"))
    return out


def test_malformed_messages_at_volume_are_dead_lettered_and_valid_traffic_counts_exactly(
    stack: StackStatus, settings: Settings, tmp_path: Path, fault_figures: FaultFigures
) -> None:
    prefix = f"B{uuid.uuid4().hex[:6]}"
    dataset = generate(seed=31, agency_prefix=prefix, touchpoints=300, now_ms=NOW)
    rng = random.Random(7)
    with running_worker(settings, tmp_path, join_wait_seconds=60, sink_enabled=False) as run:
        bad = _bad_messages(run.codec, BAD_MESSAGES, rng)
        fault_figures.events = len(bad) + len(dataset.messages)
        fault_figures.faults = f"{len(bad)} malformed messages"
        good = [(TOPIC_TOUCHPOINTS, m.touchpoint_id.encode(), run.codec.encode_record(m)) if isinstance(m, Touchpoint)
                else (TOPIC_FEEDBACK, m.kafka_key, run.codec.encode_record(m)) for m in dataset.messages]
        # Bad messages at random places; the valid ones keep their order (the dataset has feedback
        # before its touchpoint on purpose).
        slots: list[tuple[str, bytes | None, bytes] | None] = [b[:3] for b in bad] + [None] * len(good)
        rng.shuffle(slots)
        good_iter = iter(good)
        mixed = [slot if slot is not None else next(good_iter) for slot in slots]
        producer = KafkaProducer(bootstrap_servers=run.settings.bootstrap_servers, acks="all", linger_ms=20,
                                 max_request_size=1_100_000)
        for topic, key, value in mixed:
            producer.send(run.settings.topic(topic), key=key, value=value)
        producer.flush()
        producer.close()

        def all_dead_lettered() -> bool:
            return len({(d.source_topic, d.partition, d.offset) for d in run.dead_letters()}) >= len(bad)

        wait_for(all_dead_lettered, timeout=300, what=f"{len(bad)} dead letters")
        letters = run.dead_letters()
        positions = Counter((d.source_topic, d.partition, d.offset) for d in letters)
        assert len(positions) == len(bad), "one dead letter per malformed message, no valid one among them"
        assert all(d.reason for d in letters)
        reasons = Counter(d.reason for d in letters)
        assert len(reasons) >= 6, reasons
        expect_no_differences(fault_figures, lambda: _differences(run, dataset, prefix), timeout=180,
                              what="exact scores of the valid traffic")
        assert run.process.poll() is None, "bad input must never stop the worker"
        fault_figures.faults = f"{len(bad)} malformed messages, {len(reasons)} reasons"
        print(f"\nbad input: {len(bad)} malformed messages, reasons {dict(reasons)}")
