"""The peer: cxstream's join, dedupe and 1-minute domain scoring written idiomatically in Quix Streams.

Same input topics and bytes as cxstream (Avro single-object values, decoded and validated with the
project's codec and rules), Quix's own state store (RocksDB, changelogged) and windows:

1. ``concat`` of the touchpoint and feedback dataframes (co-partitioned by touchpoint_id; Quix
   aligns the two topics by message timestamp, i.e. the channel's send time);
2. one stateful ``apply`` per touchpoint_id key: the touchpoint's attribution is kept, feedback
   waiting for it is kept and released when it arrives, a feedback_id seen before is dropped;
3. ``set_timestamp`` to the feedback's ``submitted_at`` (event time), ``group_by`` the
   (agency, service, channel) cell, a 1-minute ``tumbling_window`` (grace 48 h, cxstream's window
   retention) reducing answer counts 1..5 per domain, ``.current()`` to the output topic.

What it leaves out, and so does less work than cxstream: join expiry on a wall-clock timer (Quix
has no timers; a feedback whose touchpoint never comes waits forever; the workload has none),
re-keying of wrongly keyed messages (the workload keys by the contract), dead letters, alerts,
the merge stage and the ClickHouse sink. Output values are cumulative per window and cell, so the
last message per (key, start) holds the totals (see :mod:`benchmarks.peers.quix_output`).

Run by the harness: ``python -m benchmarks.peers.quix_scores --bootstrap H:P --prefix P --group G
--output TOPIC --state-dir DIR --first-event-file F``; runs until SIGTERM.
"""

from __future__ import annotations

import argparse
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from quixstreams import Application, State
from quixstreams.models import TopicConfig
from quixstreams.models.serializers import Deserializer, SerializationContext

from cxstream.schemas.codec import Codec
from cxstream.schemas.errors import DecodeError, ValidationError
from cxstream.schemas.validation import check_feedback, check_touchpoint
from cxstream.vocabulary import TOPIC_FEEDBACK, TOPIC_TOUCHPOINTS, UNKNOWN

WINDOW = timedelta(minutes=1)
GRACE = timedelta(hours=48)  # cxstream's default window retention


class ContractDeserializer(Deserializer):
    """Avro single-object bytes -> the record's fields as a dict, validated by the contract's rules;
    ``{"kind": "invalid"}`` for anything that is not a valid record (filtered out next)."""

    def __init__(self, first_event_file: Path) -> None:
        super().__init__()
        self._codec = Codec()
        self._first_event_file: Path | None = first_event_file

    def __call__(self, value: bytes, ctx: SerializationContext) -> dict[str, Any]:
        if self._first_event_file is not None:
            self._first_event_file.write_text(repr(time.time()))
            self._first_event_file = None
        now_ms = int(time.time() * 1000)
        try:
            name, datum = self._codec.decode(value)
            if name == "Touchpoint":
                tp = check_touchpoint(datum, now_ms)
                return {"kind": "touchpoint", "agency": tp.agency, "service": tp.service, "channel": tp.channel}
            fb = check_feedback(datum, now_ms)
        except (DecodeError, ValidationError):
            return {"kind": "invalid"}
        return {"kind": "feedback", "feedback_id": fb.feedback_id, "touchpoint_id": fb.touchpoint_id,
                "submitted_at": fb.submitted_at, "answers": fb.answers,
                "own": [fb.agency or UNKNOWN, fb.service or UNKNOWN, fb.channel or UNKNOWN]}


def join(value: dict[str, Any], state: State) -> list[dict[str, Any]]:
    """Per touchpoint_id: keep the touchpoint's cell, release waiting feedback, drop repeated ids."""
    if value["kind"] == "touchpoint":
        if state.exists("tp"):
            return []  # the first touchpoint wins, as in cxstream
        cell = [value["agency"], value["service"], value["channel"]]
        state.set("tp", cell)
        waiting = state.get("waiting")
        if not waiting:
            return []
        state.delete("waiting")
        return [_attributed(fb, cell) for fb in waiting]
    seen = "fb:" + value["feedback_id"]
    if state.exists(seen):
        return []
    state.set(seen, 1)
    if value["touchpoint_id"] is None:
        return [_attributed(value, value["own"])]
    joined = state.get("tp")
    if joined is None:
        state.set("waiting", [*state.get("waiting", []), value])
        return []
    return [_attributed(value, joined)]


def _attributed(feedback: dict[str, Any], cell: list[str]) -> dict[str, Any]:
    return {"cell": "|".join(cell), "submitted_at": feedback["submitted_at"], "answers": feedback["answers"]}


def first_counts(value: dict[str, Any]) -> dict[str, list[int]]:
    """A window's first feedback: answer counts 1..5 per domain."""
    return add_counts({}, value)


def add_counts(counts: dict[str, list[int]], value: dict[str, Any]) -> dict[str, list[int]]:
    for domain, answer in value["answers"].items():
        row = counts.setdefault(domain, [0, 0, 0, 0, 0])
        row[answer - 1] += 1
    return counts


def build(bootstrap: str, prefix: str, group: str, output: str, state_dir: Path, first_event_file: Path,
          partitions: int) -> Application:
    app = Application(broker_address=bootstrap, consumer_group=group, auto_offset_reset="earliest",
                      state_dir=str(state_dir), loglevel="WARNING")
    deserializer = ContractDeserializer(first_event_file)
    touchpoints = app.dataframe(app.topic(prefix + TOPIC_TOUCHPOINTS, value_deserializer=deserializer))
    feedback = app.dataframe(app.topic(prefix + TOPIC_FEEDBACK, value_deserializer=deserializer))
    out = app.topic(output, key_serializer="string", value_serializer="json",
                    config=TopicConfig(num_partitions=partitions, replication_factor=1))
    sdf = touchpoints.concat(feedback)
    sdf = sdf.filter(lambda v: v["kind"] != "invalid")
    sdf = sdf.apply(join, stateful=True, expand=True)
    sdf = sdf.set_timestamp(lambda value, key, timestamp, headers: value["submitted_at"])
    sdf = sdf.group_by(lambda v: v["cell"], name="cell")
    sdf = sdf.tumbling_window(WINDOW, grace_ms=GRACE).reduce(add_counts, first_counts).current()
    sdf.to_topic(out)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--prefix", required=True, help="topic prefix of the loaded input topics")
    parser.add_argument("--group", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--first-event-file", type=Path, required=True)
    parser.add_argument("--partitions", type=int, default=6)
    args = parser.parse_args()
    build(args.bootstrap, args.prefix, args.group, args.output, args.state_dir, args.first_event_file,
          args.partitions).run()


if __name__ == "__main__":
    main()
