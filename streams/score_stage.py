"""Stage B, dedupe and score: the first occurrence of each feedback_id is counted, exactly once.

Consumes the joined topic (keyed by feedback_id) and the ticks. Tables: ``score-seen``
(feedback_id -> the input copy received first, see streams/dedupe.py) and ``score-cellsets``
(partial cell -> counts per domain and the last applied offset). A copy the join marked late is
stored, not scored. On each tick, the cells changed since the last one are
published as partials (full state, versioned) to the internal partials topic, keyed by window cell.
"""

from __future__ import annotations

import json
from typing import Any

from cxstream.config import Settings
from cxstream.deadletters import dead_letter_message
from cxstream.logs import get_logger
from cxstream.schemas.codec import Codec
from cxstream.schemas.errors import DecodeError
from cxstream.schemas.records import EnrichedFeedback
from cxstream.streams.app import Topics
from cxstream.streams.dedupe import FirstSeen, claim, is_first_occurrence
from cxstream.streams.joined_records import is_claim, is_late, source_or
from cxstream.streams.flushing import SWEEP_EVERY_TICKS, DirtyKeys
from cxstream.streams.metrics import METRICS
from cxstream.streams.partition_keys import delete_stale, partition_keys
from cxstream.streams.partitioning import home_partition
from cxstream.streams.scoring import (
    CellKey,
    CellState,
    apply_answers,
    domain_counts_from_json,
    domain_counts_to_json,
    form_counts_from_json,
    form_counts_to_json,
)
from cxstream.streams.stage import Clock, Stage, Tables, wall_clock_ms
from cxstream.streams.table_views import CachedTableView, TableView
from cxstream.streams.windows import window_start_ms

log = get_logger(__name__)


#: Table names carry the layout of their values: a worker never reads another layout's state.
CELL_TABLE = "score-cellsets"
SEEN_TABLE = "score-seen"
#: The table of the earlier layout (one cell per domain), which this worker cannot read.
RETIRED_CELL_TABLE = "score-cells"


def cell_key_text(key: CellKey) -> str:
    return json.dumps([key.partition, key.window_start, key.agency, key.service, key.channel])


def cell_key_from_text(text: str) -> CellKey:
    p, window, agency, service, channel = json.loads(text)
    return CellKey(p, window, agency, service, channel)


def window_key_text(key: CellKey) -> str:
    """The partials topic key: the window cell without the partition (all partitions meet there)."""
    return json.dumps([key.window_start, key.agency, key.service, key.channel])


#: How long a scoring cell outlives the window retention: the join decides lateness on receipt,
#: and a feedback it accepted may wait up to join_wait, then travel, before it is scored here.
LATE_MARGIN_MS = 3_600_000


def scoring_horizon_ms(settings: Settings) -> int:
    """Cells of windows older than this (behind the wall clock) are swept; feedback for them that
    the join accepted is dead-lettered here rather than scored into a recreated cell."""
    return (settings.window_retention_seconds + settings.join_wait_seconds) * 1000 + LATE_MARGIN_MS


def _first_seen_from_json(raw: list[Any]) -> FirstSeen:
    if isinstance(raw[0], int):  # an entry of an earlier release: [the winner's joined offset, seen_at]
        return FirstSeen(f"offset:{raw[0]}", raw[1], raw[0])
    return FirstSeen(raw[0], raw[1], raw[2])


def _cell_to_json(state: CellState) -> list[Any]:
    value = [state.applied_offset, domain_counts_to_json(state.counts)]
    form = form_counts_to_json(state.trust, state.drivers)
    return value if form is None else [*value, form]


def _cell_from_json(raw: list[Any]) -> CellState:
    # [applied offset, counts per domain] and, for cells with current-form answers, their counts.
    trust, drivers = form_counts_from_json(raw[2] if len(raw) > 2 else None)
    return CellState(domain_counts_from_json(raw[1]), raw[0], trust, drivers)


class ScoreStage(Stage):
    """Wires dedupe and scoring cells to their tables and topics."""

    name = "score"
    table_names = (SEEN_TABLE, CELL_TABLE)

    def __init__(self, settings: Settings, topics: Topics, codec: Codec, tables: Tables,
                 clock: Clock = wall_clock_ms) -> None:
        self.settings = settings
        self.topics = topics
        self.codec = codec
        self.clock = clock
        self.seen_table = tables[SEEN_TABLE]
        self.cell_table = tables[CELL_TABLE]
        self.seen = TableView(self.seen_table, lambda v: [v.source, v.seen_at, v.released_at], _first_seen_from_json)
        # Every read, write and delete of the cells goes through this view, which keeps the decoded
        # state of the cells being filled (see CachedTableView); states are never changed in place.
        self.cells = CachedTableView(self.cell_table, _cell_to_json, _cell_from_json)
        self.dirty: DirtyKeys[str] = DirtyKeys()
        self.horizon_ms = scoring_horizon_ms(settings)
        self.ticks_topic = topics.ticks.get_topic_name()

    def sources(self) -> tuple[str, ...]:
        return (self.topics.joined.get_topic_name(), self.ticks_topic)

    def on_assigned(self, partitions: set[int]) -> None:
        self.dirty.forget_partitions(partitions)
        self.cells.forget()

    async def handle(self, message: Any) -> None:
        if message.topic != self.ticks_topic:
            await self._score(message, self.clock())
            return
        await self._flush(message.partition)
        if message.offset % SWEEP_EVERY_TICKS == 0:
            deleted = await self.sweep(message.partition, self.clock())
            log.info("score.swept", partition=message.partition, deleted=deleted)

    async def _score(self, message: Any, now_ms: int) -> None:
        p, offset = message.partition, message.offset
        source = source_or(message.headers, f"offset:{offset}")
        if is_claim(message.headers):
            claim(self.seen, message.key.decode(), source, now_ms)
            return
        try:
            _, datum = self.codec.decode(message.value, expected="EnrichedFeedback")
        except DecodeError as error:  # only the join writes here; this would be a bug, not bad input
            log.error("score.undecodable", partition=p, offset=offset, reason=error.reason)
            return
        feedback = EnrichedFeedback(**datum)
        if not is_first_occurrence(self.seen, feedback.feedback_id, source, offset, now_ms):
            METRICS.dedupe_hits += 1
            return
        await self.topics.enriched.send(key=message.key, value=message.value)
        if is_late(message.headers):
            return  # the join dead-lettered it: stored, not scored
        window = window_start_ms(feedback.submitted_at)
        if window < now_ms - self.horizon_ms:
            # The join judged it in time, but it reached this stage so much later that its cell
            # may be swept: scoring it into a new cell would replace the window's partial. Its
            # input bytes are not here: the dead letter names the joined record instead.
            key, value = dead_letter_message(
                self.codec, source_topic=message.topic, partition=p, offset=offset, key=message.key,
                raw=message.value, reason="too_late",
                detail=f"reached scoring more than {self.horizon_ms // 1000}s after its window (the join held it "
                       "or the worker lagged): stored as feedback, not scored; the input copy is "
                       f"{source}",
                now_ms=now_ms,
            )
            METRICS.dead_letters["too_late"] += 1
            await self.topics.deadletters.send(key=key, value=value)
            return
        text = cell_key_text(CellKey(p, window, feedback.agency, feedback.service, feedback.channel))
        state = apply_answers(self.cells.get(text), feedback.answers, offset, feedback.a11_v2)
        if state is not None:
            self.cells[text] = state
        self.dirty.mark(p, text)  # also on a skipped replay: its partial may not have gone out

    async def sweep(self, partition: int, now_ms: int) -> int:
        """Forget this partition's cells past the window retention and dedupe entries past the
        dedupe horizon; returns how many keys were deleted."""
        horizon = now_ms - self.horizon_ms
        cells = [text for text in partition_keys(self.cell_table, partition, lambda k: cell_key_from_text(k).partition)
                 if cell_key_from_text(text).window_start < horizon]
        for text in cells:
            del self.cells[text]
        dedupe_ms = self.settings.dedupe_horizon_seconds * 1000
        n = self.topics.partitions
        # An entry is [offset, seen_at] (see self.seen).
        seen = await delete_stale(self.seen_table, partition, lambda k: home_partition(k.encode(), n),
                                  lambda raw: now_ms - raw[1] > dedupe_ms)
        return len(cells) + seen

    async def _flush(self, partition: int) -> None:
        # The local store holds every owned partition; a tick touches only its own.
        keys = self.dirty.take(partition, lambda: partition_keys(
            self.cell_table, partition, lambda k: cell_key_from_text(k).partition))
        for text in keys:
            state = self.cells.get(text)
            if state is None:
                continue
            cell = cell_key_from_text(text)
            partial = {"partition": cell.partition, "version": state.version,
                       "counts": domain_counts_to_json(state.counts)}
            form = form_counts_to_json(state.trust, state.drivers)
            if form is not None:
                partial["form"] = form
            await self.topics.partials.send(key=window_key_text(cell).encode(), value=json.dumps(partial).encode())
            METRICS.partials_emitted += 1
