"""Stage C, merge: the latest partial of every partition, summed, is the window's score.

Consumes the partials topic (keyed by window, so every partition's partial of a window meets
here) and the ticks. Table ``merge-windows``: window -> {partition: [version, counts...]}. A
partial replaces the stored one only with a higher version, so replays and reordering are
harmless. On each tick the windows changed since the last one go to cx.scores.v1 as
DomainScore, with version = sum of partial versions: at most one update per window per tick.
"""

from __future__ import annotations

import json
import time
from typing import Any

import faust

from cxstream.config import Settings
from cxstream.schemas.codec import Codec
from cxstream.schemas.records import DomainScore
from cxstream.scores import AnswerCounts
from cxstream.streams.alert_stage import alert_input
from cxstream.streams.acking import ConfirmedAcks, consume
from cxstream.streams.app import Topics
from cxstream.streams.flushing import SWEEP_EVERY_TICKS, DirtyKeys
from cxstream.streams.metrics import METRICS
from cxstream.streams.partitioning import home_partition
from cxstream.streams.scoring import Partial, merge_partials, newer_partial
from cxstream.streams.windows import WINDOW_SECONDS


def _partials_from_json(raw: dict[str, list[int]]) -> dict[int, Partial]:
    return {int(p): Partial(int(p), v[0], AnswerCounts(*v[1:6])) for p, v in raw.items()}


def _partials_to_json(partials: dict[int, Partial]) -> dict[str, list[int]]:
    return {str(p): [x.version, *x.counts.as_tuple()] for p, x in partials.items()}


class MergeStage:
    """Wires partial merging to a Faust table and the scores topic."""

    def __init__(self, app: faust.App, settings: Settings, topics: Topics, codec: Codec, acks: ConfirmedAcks) -> None:
        self.acks = acks
        self.topics = topics
        self.codec = codec
        self.table = app.Table("merge-windows", partitions=topics.partitions)
        self.dirty = DirtyKeys()
        self.retention_ms = settings.window_retention_seconds * 1000
        self.ticks_topic = topics.ticks.get_topic_name()
        channel = app.topic(topics.partials.get_topic_name(), self.ticks_topic, key_type=bytes, value_type=bytes)
        acks.register("merge", channel)
        app.agent(channel, name="cxstream.merge")(self.run)

    async def run(self, stream: Any) -> None:
        await consume(stream, self.acks, self._dispatch, "merge")

    async def _dispatch(self, message: Any) -> None:
        if message.topic == self.ticks_topic:
            await self._flush(message.partition)
            if message.offset % SWEEP_EVERY_TICKS == 0:
                self.sweep(message.partition, int(time.time() * 1000))
            return
        window = message.key.decode()
        incoming = json.loads(message.value)
        partial = Partial(incoming["partition"], incoming["version"], AnswerCounts(*incoming["counts"]))
        stored = _partials_from_json(self.table.get(window) or {})
        if newer_partial(stored.get(partial.partition), partial):
            stored[partial.partition] = partial
            self.table[window] = _partials_to_json(stored)
        self.dirty.mark(message.partition, window)

    def sweep(self, partition: int, now_ms: int) -> int:
        """Forget windows of this partition older than the window retention (plus an hour, so
        stage B, which stops accepting them first, never resurrects one)."""
        horizon = now_ms - self.retention_ms - 3_600_000
        n = self.topics.partitions
        stale = [k for k in list(self.table.keys())
                 if home_partition(k.encode(), n) == partition and json.loads(k)[0] < horizon]
        for key in stale:
            del self.table[key]
        return len(stale)

    async def _flush(self, partition: int) -> None:
        n = self.topics.partitions
        windows = self.dirty.take(partition, lambda: [
            k for k in list(self.table.keys()) if home_partition(k.encode(), n) == partition])
        for window in windows:
            stored = self.table.get(window)
            if not stored:
                continue
            merged = merge_partials(_partials_from_json(stored))
            window_start, agency, service, channel, domain = json.loads(window)
            counts = merged.counts
            score = DomainScore(
                window_start=window_start, window_seconds=WINDOW_SECONDS, agency=agency, service=service,
                channel=channel, domain=domain, responses=counts.responses, count_1=counts.count_1,
                count_2=counts.count_2, count_3=counts.count_3, count_4=counts.count_4, count_5=counts.count_5,
                mean=counts.mean, pct_positive=counts.pct_positive, version=merged.version,
            )
            await self.topics.scores.send(key=window.encode(), value=self.codec.encode("DomainScore", score.to_avro()))
            alert_key, alert_value = alert_input(window_start, agency, service, channel, domain, merged.version, counts)
            await self.topics.alert_input.send(key=alert_key, value=alert_value)
            METRICS.scores_emitted += 1
