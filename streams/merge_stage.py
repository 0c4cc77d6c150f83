"""Stage C, merge: the latest partial of every partition, summed, is the window's score.

Consumes the partials topic (keyed by window cell, so every partition's partial of a cell meets
here) and the ticks. Table ``merge-cellsets``: window cell -> {partition: [version, {domain:
counts}]}. A partial replaces the stored one only with a higher version, so replays and
reordering are harmless. On each tick the (cell, domain) scores changed since the last one go to
cx.scores.v1 as DomainScore, with version = sum of the cell's partial versions: at most one
update per window, domain and tick.
"""

from __future__ import annotations

import json
from typing import Any

from cxstream.config import Settings
from cxstream.schemas.codec import Codec
from cxstream.schemas.records import DomainScore
from cxstream.streams.alert_stage import alert_input
from cxstream.streams.app import Topics
from cxstream.streams.flushing import SWEEP_EVERY_TICKS, DirtyKeys
from cxstream.streams.metrics import METRICS
from cxstream.streams.partition_keys import partition_keys
from cxstream.streams.partitioning import home_partition
from cxstream.streams.score_stage import LATE_MARGIN_MS, scoring_horizon_ms
from cxstream.streams.scoring import (
    Partial,
    changed_domains,
    domain_counts_from_json,
    domain_counts_to_json,
    merge_partials,
    newer_partial,
)
from cxstream.streams.stage import Clock, Stage, Tables, wall_clock_ms
from cxstream.streams.windows import WINDOW_SECONDS

#: Named after the layout of its values (see score_stage.CELL_TABLE).
MERGE_TABLE = "merge-cellsets"
RETIRED_MERGE_TABLE = "merge-windows"


def _partials_from_json(raw: dict[str, list[Any]]) -> dict[int, Partial]:
    return {int(p): Partial(int(p), v[0], domain_counts_from_json(v[1])) for p, v in raw.items()}


def _partials_to_json(partials: dict[int, Partial]) -> dict[str, list[Any]]:
    return {str(p): [x.version, domain_counts_to_json(x.counts)] for p, x in partials.items()}


def score_key(window_cell: str, domain: str) -> str:
    """The cx.scores.v1 key (and a dirty mark here): the window cell's fields and the domain."""
    return json.dumps([*json.loads(window_cell), domain])


class MergeStage(Stage):
    """Wires partial merging to its table and the scores topic."""

    name = "merge"
    table_names = (MERGE_TABLE,)

    def __init__(self, settings: Settings, topics: Topics, codec: Codec, tables: Tables,
                 clock: Clock = wall_clock_ms) -> None:
        self.topics = topics
        self.codec = codec
        self.clock = clock
        self.table = tables[MERGE_TABLE]
        self.dirty = DirtyKeys()
        self.horizon_ms = scoring_horizon_ms(settings)
        self.ticks_topic = topics.ticks.get_topic_name()

    def sources(self) -> tuple[str, ...]:
        return (self.topics.partials.get_topic_name(), self.ticks_topic)

    def on_assigned(self, partitions: set[int]) -> None:
        self.dirty.forget_partitions(partitions)

    async def handle(self, message: Any) -> None:
        if message.topic == self.ticks_topic:
            await self._flush(message.partition)
            if message.offset % SWEEP_EVERY_TICKS == 0:
                self.sweep(message.partition, self.clock())
            return
        window = message.key.decode()
        incoming = json.loads(message.value)
        partial = Partial(incoming["partition"], incoming["version"], domain_counts_from_json(incoming["counts"]))
        stored = _partials_from_json(self.table.get(window) or {})
        known = stored.get(partial.partition)
        if newer_partial(known, partial):
            stored[partial.partition] = partial
            self.table[window] = _partials_to_json(stored)
            domains = changed_domains(known, partial)
        else:  # a replay: the scores it caused may not have gone out before a crash
            domains = set(partial.counts)
        for domain in domains:
            self.dirty.mark(message.partition, score_key(window, domain))

    def sweep(self, partition: int, now_ms: int) -> int:
        """Forget windows of this partition older than stage B's horizon plus a margin, so stage
        B, which stops accepting them first, never resurrects one."""
        horizon = now_ms - self.horizon_ms - LATE_MARGIN_MS
        n = self.topics.partitions
        stale = [k for k in partition_keys(self.table, partition, lambda k: home_partition(k.encode(), n))
                 if json.loads(k)[0] < horizon]
        for key in stale:
            del self.table[key]
        return len(stale)

    async def _flush(self, partition: int) -> None:
        n = self.topics.partitions
        keys = self.dirty.take(partition, lambda: [
            score_key(k, domain)
            for k in partition_keys(self.table, partition, lambda k: home_partition(k.encode(), n))
            for domain in merge_partials(_partials_from_json(self.table.get(k) or {})).counts
        ])
        merged_cells: dict[str, Any] = {}
        for key in sorted(keys):
            window_start, agency, service, channel, domain = json.loads(key)
            window = json.dumps([window_start, agency, service, channel])
            if window not in merged_cells:
                stored = self.table.get(window)
                merged_cells[window] = merge_partials(_partials_from_json(stored)) if stored else None
            merged = merged_cells[window]
            if merged is None or domain not in merged.counts:
                continue
            counts = merged.counts[domain]
            score = DomainScore(
                window_start=window_start, window_seconds=WINDOW_SECONDS, agency=agency, service=service,
                channel=channel, domain=domain, responses=counts.responses, count_1=counts.count_1,
                count_2=counts.count_2, count_3=counts.count_3, count_4=counts.count_4, count_5=counts.count_5,
                mean=counts.mean, pct_positive=counts.pct_positive, version=merged.version,
            )
            await self.topics.scores.send(key=key.encode(), value=self.codec.encode("DomainScore", score.to_avro()))
            METRICS.scores_emitted += 1
        # One alert input per window cell, with every domain (the alert stage skips what it has).
        for window, merged in merged_cells.items():
            if merged is None:
                continue
            window_start, agency, service, channel = json.loads(window)
            alert_key, alert_value = alert_input(window_start, agency, service, channel, merged.version, merged.counts)
            await self.topics.alert_input.send(key=alert_key, value=alert_value)
