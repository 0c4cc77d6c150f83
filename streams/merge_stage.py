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
from cxstream.schemas.records import DomainScore, DriverScore, TrustScore
from cxstream.streams.alert_stage import alert_input, alert_measures
from cxstream.streams.app import Topics
from cxstream.streams.flushing import SWEEP_EVERY_TICKS, DirtyKeys
from cxstream.streams.metrics import METRICS
from cxstream.streams.partition_keys import partition_keys
from cxstream.streams.partitioning import home_partition
from cxstream.streams.score_stage import LATE_MARGIN_MS, scoring_horizon_ms
from cxstream.streams.scoring import (
    DRIVER_MEASURE,
    TRUST_MEASURE,
    MergedScore,
    Partial,
    changed_domains,
    domain_counts_from_json,
    domain_counts_to_json,
    form_counts_from_json,
    form_counts_to_json,
    measures,
    merge_partials,
    newer_partial,
)
from cxstream.streams.stage import Clock, Stage, Tables, wall_clock_ms
from cxstream.streams.table_views import CachedTableView
from cxstream.streams.windows import WINDOW_SECONDS

#: Named after the layout of its values (see score_stage.CELL_TABLE).
MERGE_TABLE = "merge-cellsets"
RETIRED_MERGE_TABLE = "merge-windows"


def _partial(partition: int, version: int, counts: Any, form: Any) -> Partial:
    trust, drivers = form_counts_from_json(form)
    return Partial(partition, version, domain_counts_from_json(counts), trust, drivers)


def _partials_from_json(raw: dict[str, list[Any]]) -> dict[int, Partial]:
    # {partition: [version, counts per domain, current-form counts (only where there are some)]}
    return {int(p): _partial(int(p), v[0], v[1], v[2] if len(v) > 2 else None) for p, v in raw.items()}


def _partials_to_json(partials: dict[int, Partial]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for p, x in partials.items():
        form = form_counts_to_json(x.trust, x.drivers)
        out[str(p)] = [x.version, domain_counts_to_json(x.counts)] + ([] if form is None else [form])
    return out


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
        # Every read, write and delete of the table goes through this view, which keeps the
        # decoded partials of the cells being updated (see CachedTableView).
        self.partials = CachedTableView(self.table, _partials_to_json, _partials_from_json)
        #: (window cell, measure) changed since the last tick of its partition.
        self.dirty: DirtyKeys[tuple[str, str]] = DirtyKeys()
        self.horizon_ms = scoring_horizon_ms(settings)
        self.ticks_topic = topics.ticks.get_topic_name()

    def sources(self) -> tuple[str, ...]:
        return (self.topics.partials.get_topic_name(), self.ticks_topic)

    def on_assigned(self, partitions: set[int]) -> None:
        self.dirty.forget_partitions(partitions)
        self.partials.forget()

    async def handle(self, message: Any) -> None:
        if message.topic == self.ticks_topic:
            await self._flush(message.partition)
            if message.offset % SWEEP_EVERY_TICKS == 0:
                self.sweep(message.partition, self.clock())
            return
        window = message.key.decode()
        incoming = json.loads(message.value)
        partial = _partial(incoming["partition"], incoming["version"], incoming["counts"], incoming.get("form"))
        stored = self.partials.get(window) or {}
        known = stored.get(partial.partition)
        if newer_partial(known, partial):
            stored[partial.partition] = partial
            self.partials[window] = stored
            domains = changed_domains(known, partial)
        else:  # a replay: the scores it caused may not have gone out before a crash
            domains = set(partial.counts)
        for domain in domains:
            self.dirty.mark(message.partition, (window, domain))

    def sweep(self, partition: int, now_ms: int) -> int:
        """Forget windows of this partition older than stage B's horizon plus a margin, so stage
        B, which stops accepting them first, never resurrects one."""
        horizon = now_ms - self.horizon_ms - LATE_MARGIN_MS
        n = self.topics.partitions
        stale = [k for k in partition_keys(self.table, partition, lambda k: home_partition(k.encode(), n))
                 if json.loads(k)[0] < horizon]
        for key in stale:
            del self.partials[key]
        return len(stale)

    async def _flush(self, partition: int) -> None:
        n = self.topics.partitions
        keys = self.dirty.take(partition, lambda: [
            (k, measure)
            for k in partition_keys(self.table, partition, lambda k: home_partition(k.encode(), n))
            for measure in measures(merge_partials(self.partials.get(k) or {}))
        ])
        changed: dict[str, list[str]] = {}
        for window, measure in sorted(keys):
            changed.setdefault(window, []).append(measure)
        for window, changed_measures in changed.items():
            stored = self.partials.get(window)
            if not stored:
                continue  # swept since it changed
            merged = merge_partials(stored)
            window_start, agency, service, channel = json.loads(window)
            for measure in changed_measures:
                await self._publish(window_start, agency, service, channel, measure, merged)
            # One alert input per window cell, with every measure (the alert stage skips what it has).
            alert_key, alert_value = alert_input(window_start, agency, service, channel, merged.version,
                                                 alert_measures(merged))
            await self.topics.alert_input.send(key=alert_key, value=alert_value)

    async def _publish(self, window_start: int, agency: str, service: str, channel: str, measure: str,
                       merged: MergedScore) -> None:
        """The score of one measure of a merged window cell, to its topic; nothing if the cell has
        no such measure (any more)."""
        cell: dict[str, Any] = {"window_start": window_start, "window_seconds": WINDOW_SECONDS, "agency": agency,
                "service": service, "channel": channel, "version": merged.version}
        if measure.startswith(TRUST_MEASURE):
            scale = measure.removeprefix(TRUST_MEASURE)
            trust = merged.trust.get(scale)
            if trust is None:
                return
            c = trust.counts
            record: Any = TrustScore(
                **cell, trust_scale=scale, responses=trust.responses, favourable=trust.favourable(scale),
                count_0=c[0], count_1=c[1], count_2=c[2], count_3=c[3], count_4=c[4], count_5=c[5],
                pct_favourable=trust.pct_favourable(scale))
            topic, name = self.topics.trust_scores, "TrustScore"
        elif measure.startswith(DRIVER_MEASURE):
            driver = measure.removeprefix(DRIVER_MEASURE)
            counts = merged.drivers.get(driver)
            if counts is None:
                return
            record = DriverScore(
                **cell, driver=driver, offered=counts.offered, went_well=counts.went_well,
                did_not_go_well=counts.did_not_go_well, pct_went_well=counts.pct_went_well,
                pct_did_not_go_well=counts.pct_did_not_go_well)
            topic, name = self.topics.driver_scores, "DriverScore"
        else:
            answers = merged.counts.get(measure)
            if answers is None:
                return
            record = DomainScore(
                **cell, domain=measure, responses=answers.responses, count_1=answers.count_1,
                count_2=answers.count_2, count_3=answers.count_3, count_4=answers.count_4, count_5=answers.count_5,
                mean=answers.mean, pct_positive=answers.pct_positive)
            topic, name = self.topics.scores, "DomainScore"
        key = json.dumps([window_start, agency, service, channel, measure.split(":", 1)[-1]]).encode()
        await topic.send(key=key, value=self.codec.encode(name, record.to_avro()))
        METRICS.scores_emitted += 1
