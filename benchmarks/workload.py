"""The benchmark's fixed, seeded workload: generated once to a file, loaded into fresh topics per run.

`cxstream generate`'s :class:`TrafficGenerator` makes the traffic (channels' rhythms, feedback sent
before its touchpoint, retried feedback, direct surveys); this module keeps exactly the first
``touchpoints`` touchpoints it generates and their feedback, validated into the contract's records,
and writes them with their send times to ``<cache>/bench/``. A run shifts every time by a whole
number of minutes so the data ends just before now (the worker judges lateness against the wall
clock) while every window holds the same feedback in every run.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from confluent_kafka import Producer

import cxstream.ingest.generate
from cxstream.ingest.generate import TrafficGenerator
from cxstream.schemas.codec import Codec
from cxstream.schemas.records import Feedback, Touchpoint
from cxstream.schemas.validation import feedback_from_json, touchpoint_from_json
from cxstream.streams.windows import WINDOW_MS, window_start_ms
from cxstream.vocabulary import TOPIC_FEEDBACK, TOPIC_TOUCHPOINTS, UNKNOWN

#: A fixed start, so the file is the same on every machine; runs shift it to the present.
START_MS = 1_767_614_400_000  # 2026-01-05T12:00:00Z
#: After the last kept touchpoint, how long to keep generating so its feedback (sent up to 45 s
#: later, retried up to 20 s after that) and late touchpoints (up to 10 s) are all emitted.
DRAIN_MS = 120_000
FORMAT_VERSION = 1

CellKey = tuple[int, str, str, str, str]  # window_start, agency, service, channel, domain
Counts = tuple[int, int, int, int, int]


@dataclass(frozen=True)
class Sent:
    """One input message and when its channel sent it (its Kafka timestamp)."""

    emit_ms: int
    record: Touchpoint | Feedback


@dataclass
class Workload:
    """The messages in send order, and the sizes a run is checked against."""

    messages: list[Sent]

    @property
    def touchpoints(self) -> int:
        return sum(isinstance(m.record, Touchpoint) for m in self.messages)

    @property
    def feedback_messages(self) -> int:
        return sum(isinstance(m.record, Feedback) for m in self.messages)

    @property
    def distinct_feedback(self) -> int:
        return len({m.record.feedback_id for m in self.messages if isinstance(m.record, Feedback)})

    def shifted(self, delta_ms: int) -> Workload:
        """Every time moved by ``delta_ms`` (a whole number of minutes keeps the windows' contents)."""
        if delta_ms % WINDOW_MS:
            raise ValueError(f"shift by whole minutes, not {delta_ms} ms")
        moved: list[Sent] = []
        for m in self.messages:
            r = m.record
            record = (replace(r, occurred_at=r.occurred_at + delta_ms) if isinstance(r, Touchpoint)
                      else replace(r, submitted_at=r.submitted_at + delta_ms))
            moved.append(Sent(m.emit_ms + delta_ms, record))
        return Workload(moved)

    def shifted_to_now(self) -> Workload:
        """Shifted so the last message was sent within the last minute before now."""
        last = max(m.emit_ms for m in self.messages)
        return self.shifted((int(time.time() * 1000) - last) // WINDOW_MS * WINDOW_MS)

    def expected_cells(self) -> dict[CellKey, Counts]:
        """Counts of answers 1..5 per cell, computed in plain Python: the first copy of a feedback_id
        wins, attribution from its touchpoint, else its own fields, else unknown."""
        attribution = {m.record.touchpoint_id: (m.record.agency, m.record.service, m.record.channel)
                       for m in self.messages if isinstance(m.record, Touchpoint)}
        counts: dict[CellKey, Counter[int]] = defaultdict(Counter)
        seen: set[str] = set()
        for m in self.messages:
            fb = m.record
            if not isinstance(fb, Feedback) or fb.feedback_id in seen:
                continue
            seen.add(fb.feedback_id)
            if fb.touchpoint_id is not None and fb.touchpoint_id in attribution:
                agency, service, channel = attribution[fb.touchpoint_id]
            else:
                agency, service, channel = fb.agency or UNKNOWN, fb.service or UNKNOWN, fb.channel or UNKNOWN
            for domain, answer in fb.answers.items():
                counts[(window_start_ms(fb.submitted_at), agency, service, channel, domain)][answer] += 1
        return {key: (c[1], c[2], c[3], c[4], c[5]) for key, c in counts.items()}


def workload_path(cache_dir: Path, seed: int, touchpoints: int, feedback_share: float) -> Path:
    """The cache file; its name carries a hash of the generator's source, so a changed generator
    makes a new workload instead of reusing one a fresh machine would not produce."""
    generator = hashlib.sha256(Path(cxstream.ingest.generate.__file__).read_bytes()).hexdigest()[:8]
    return cache_dir / "bench" / (f"workload-v{FORMAT_VERSION}-g{generator}-s{seed}-tp{touchpoints}"
                                  f"-fs{feedback_share:g}.jsonl")


def ensure_workload(cache_dir: Path, seed: int, touchpoints: int, feedback_share: float) -> Path:
    """The workload file, generated the first time these parameters are asked for."""
    path = workload_path(cache_dir, seed, touchpoints, feedback_share)
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    with open(partial, "w") as out:
        for sent in _generate(seed, touchpoints, feedback_share):
            kind = "touchpoint" if isinstance(sent.record, Touchpoint) else "feedback"
            out.write(json.dumps({"emit_ms": sent.emit_ms, "kind": kind, "record": sent.record.to_avro()}) + "\n")
    partial.rename(path)  # all or nothing: an interrupted generation is never mistaken for a workload
    return path


def read_workload(path: Path) -> Workload:
    messages: list[Sent] = []
    with open(path) as lines:
        for line in lines:
            row = json.loads(line)
            record = Touchpoint(**row["record"]) if row["kind"] == "touchpoint" else Feedback(**row["record"])
            messages.append(Sent(row["emit_ms"], record))
    return Workload(messages)


def _generate(seed: int, touchpoints: int, feedback_share: float) -> Iterator[Sent]:
    # A touchpoint and its feedback share the generator's sequence number in their ids, so the
    # first ``touchpoints`` touchpoints and exactly their feedback are the ones at or below a cut.
    rate = max(touchpoints / 3600.0, 1.0)  # about an hour of traffic whatever the size
    gen = TrafficGenerator(seed, rate, START_MS, feedback_share)
    events: list[tuple[int, int, dict[str, object], str]] = []
    tp_seqs: list[int] = []
    until = START_MS
    while len(tp_seqs) < touchpoints:
        until += 60_000
        for event in gen.events_until(until):
            seq = _seq_of(event.body)
            events.append((event.emit_ms, seq, event.body, event.kind))
            if event.kind == "touchpoints":
                tp_seqs.append(seq)
    cut_until = until
    for event in gen.events_until(cut_until + DRAIN_MS):
        events.append((event.emit_ms, _seq_of(event.body), event.body, event.kind))
        if event.kind == "touchpoints":
            tp_seqs.append(_seq_of(event.body))
    cut = sorted(tp_seqs)[touchpoints - 1]
    now_ms = START_MS + 10 * 86_400_000  # validation refuses times far in the future of "now"
    for emit_ms, seq, body, kind in events:
        if seq > cut:
            continue
        record = touchpoint_from_json(body, now_ms) if kind == "touchpoints" else feedback_from_json(body, now_ms)
        yield Sent(emit_ms, record)


def _seq_of(body: dict[str, object]) -> int:
    ident = str(body.get("touchpoint_id") if "feedback_id" not in body else body["feedback_id"])
    return int(ident.rsplit("-", 1)[1])


def publish(workload: Workload, bootstrap: str, topic_prefix: str) -> None:
    """Produce every message in send order, keyed as the contract says, with its send time as the
    Kafka timestamp; murmur2 like Java and aiokafka, so each key lands where the worker expects it."""
    codec = Codec()
    producer = Producer({"bootstrap.servers": bootstrap, "partitioner": "murmur2_random", "linger.ms": 20,
                         "batch.size": 1_000_000, "compression.type": "none", "acks": "all",
                         "queue.buffering.max.messages": 1_000_000})
    errors: list[str] = []

    def on_delivery(error: object, _message: object) -> None:
        if error is not None:
            errors.append(str(error))

    tp_topic, fb_topic = topic_prefix + TOPIC_TOUCHPOINTS, topic_prefix + TOPIC_FEEDBACK
    for m in workload.messages:
        r = m.record
        if isinstance(r, Touchpoint):
            topic, key = tp_topic, r.touchpoint_id.encode()
        else:
            topic, key = fb_topic, r.kafka_key
        while True:
            try:
                producer.produce(topic, codec.encode_record(r), key, timestamp=m.emit_ms, on_delivery=on_delivery)
                break
            except BufferError:
                producer.poll(0.1)
        producer.poll(0)
    left = producer.flush(120)
    if left or errors:
        raise RuntimeError(f"loading the workload failed: {left} undelivered, errors: {errors[:3]}")
