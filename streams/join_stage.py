"""Stage A, the join: touchpoints and feedback in, feedback with its attribution out.

Consumes both input topics (co-partitioned by touchpoint_id), the re-key topic and the ticks.
Tables: ``join-touchpoints`` (touchpoint_id -> attribution) and ``join-pending`` (touchpoint_id ->
feedback waiting for it). Emits EnrichedFeedback keyed by feedback_id to the internal joined topic,
each tagged with the input copy it stems from, and a claim for each copy it holds back (see
streams/joined_records.py). Input of the wrong record type for its topic, input that breaks the
contract, and feedback too late for the live windows are dead-lettered here, with the position,
key and bytes the channel sent.
"""

from __future__ import annotations

from typing import Any

from cxstream.config import Settings
from cxstream.deadletters import dead_letter_message
from cxstream.logs import get_logger
from cxstream.redaction import redact
from cxstream.schemas.codec import Codec
from cxstream.schemas.errors import DecodeError, ValidationError
from cxstream.schemas.records import EnrichedFeedback
from cxstream.schemas.validation import check_feedback, check_touchpoint, touchpoint_is_valid
from cxstream.streams.app import Topics
from cxstream.streams.join import Attribution, Join, JoinInput, JoinResult, StoredTouchpoint, own_attribution
from cxstream.streams.joined_records import Origin, claim_headers, origin_of, rekey_headers, release_headers
from cxstream.streams.flushing import SWEEP_EVERY_TICKS
from cxstream.streams.metrics import METRICS
from cxstream.streams.partition_keys import delete_stale, partition_keys
from cxstream.streams.partitioning import home_partition
from cxstream.streams.stage import Clock, Stage, Tables, wall_clock_ms
from cxstream.streams.table_views import TableView
from cxstream.streams.windows import window_start_ms

log = get_logger(__name__)


def _stored_to_json(value: StoredTouchpoint) -> list[Any]:
    a = value.attribution
    released = [[r.feedback_id, r.waited_ms, r.payload, r.source, r.late] for r in value.released]
    return [a.agency, a.service, a.channel, value.occurred_at, value.stored_at,
            list(value.source) if value.source else None, released]


def _stored_from_json(raw: list[Any]) -> StoredTouchpoint:
    attribution = Attribution(raw[0], raw[1], raw[2])
    # Values written before sources existed have three fields per released feedback.
    released = tuple(JoinResult(r[0], attribution, True, r[1], r[2], *r[3:5]) for r in raw[6])
    return StoredTouchpoint(attribution, raw[3], raw[4], tuple(raw[5]) if raw[5] else None, released)


def _results_to_json(results: list[JoinResult]) -> list[Any]:
    return [[r.feedback_id, r.attribution.agency, r.attribution.service, r.attribution.channel, r.matched,
             r.waited_ms, r.payload, r.source, r.late] for r in results]


def _results_from_json(raw: list[Any]) -> list[JoinResult]:
    return [JoinResult(r[0], Attribution(r[1], r[2], r[3]), r[4], r[5], r[6], *r[7:9]) for r in raw]


TOUCHPOINT_TABLE = "join-touchpoints"
PENDING_TABLE = "join-pending"
EXPIRED_TABLE = "join-expired"

#: Most distinct (agency, service, channel) Attribution objects the join keeps to reuse.
ATTRIBUTIONS_KEPT = 10_000

#: How long the results of a tick's expiry are kept to be re-emitted if that tick is replayed.
#: Far longer than any commit interval: a replay can only start after the last commit.
EXPIRED_KEEP_MS = 3_600_000


def _pending_to_json(value: tuple[JoinInput, ...]) -> list[Any]:
    return [[w.feedback_id, w.touchpoint_id, w.own.agency, w.own.service, w.own.channel, w.received_at, w.payload,
             w.source, w.late] for w in value]


def _pending_from_json(raw: list[Any]) -> tuple[JoinInput, ...]:
    return tuple(JoinInput(i[0], i[1], Attribution(i[2], i[3], i[4]), i[5], i[6], *i[7:9]) for i in raw)


class JoinStage(Stage):
    """Wires the pure :class:`Join` to its tables and topics."""

    name = "join"
    table_names = (TOUCHPOINT_TABLE, PENDING_TABLE, EXPIRED_TABLE)

    def __init__(self, settings: Settings, topics: Topics, codec: Codec, tables: Tables,
                 clock: Clock = wall_clock_ms) -> None:
        self.settings = settings
        self.topics = topics
        self.codec = codec
        self.clock = clock
        self.touchpoint_table = tables[TOUCHPOINT_TABLE]
        self.pending_table = tables[PENDING_TABLE]
        # (partition, tick offset) -> what that tick released, so a replayed tick releases it again.
        self.expired_table = tables[EXPIRED_TABLE]
        self.join = Join(
            TableView(self.touchpoint_table, _stored_to_json, _stored_from_json),
            TableView(self.pending_table, _pending_to_json, _pending_from_json),
            settings.join_wait_seconds * 1000,
            scope_of=self._home,
            keys_of_scope=lambda partition: partition_keys(self.pending_table, int(partition), self._home),  # type: ignore[call-overload]
        )
        self.retention_ms = settings.window_retention_seconds * 1000
        # What each input topic carries; the re-key topic carries both, already checked.
        self.expected_type = {topics.touchpoints.get_topic_name(): "Touchpoint",
                              topics.feedback.get_topic_name(): "Feedback"}
        self.input_topics = set(self.expected_type)
        self.ticks_topic = topics.ticks.get_topic_name()
        self._attributions: dict[tuple[str, str, str], Attribution] = {}

    def sources(self) -> tuple[str, ...]:
        return (*self.input_topics, self.topics.rekeyed.get_topic_name(), self.ticks_topic)

    def on_assigned(self, partitions: set[int]) -> None:
        self.join.forget_scopes(partitions)

    def _attribution(self, agency: str, service: str, channel: str) -> Attribution:
        """One Attribution object per (agency, service, channel) seen (they are immutable), instead
        of a new one per touchpoint; bounded, as a flood of distinct names must not grow memory."""
        key = (agency, service, channel)
        attribution = self._attributions.get(key)
        if attribution is None:
            if len(self._attributions) >= ATTRIBUTIONS_KEPT:
                self._attributions.clear()
            attribution = self._attributions[key] = Attribution(agency, service, channel)
        return attribution

    def _home(self, touchpoint_id: str) -> int:
        return home_partition(touchpoint_id.encode(), self.topics.partitions)

    async def handle(self, message: Any) -> None:
        now_ms = self.clock()
        if message.topic == self.ticks_topic:
            await self._tick(message, now_ms)
        else:
            await self._handle(message, now_ms)

    async def _tick(self, message: Any, now_ms: int) -> None:
        p = message.partition
        key = f"{p}:{message.offset}"
        replayed = self.expired_table.get(key)
        if replayed is not None:
            for result in _results_from_json(replayed[1]):
                await self._emit(result)
        expired = self.join.expire(now_ms, scope=p)
        if expired:
            earlier = replayed[1] if replayed is not None else []
            self.expired_table[key] = [now_ms, earlier + _results_to_json(expired)]
        for result in expired:
            METRICS.join_fallbacks += 1
            await self._emit(result)
        if message.offset % SWEEP_EVERY_TICKS == 0:
            log.info("join.swept", partition=p, deleted=await self.sweep(p, now_ms))

    async def sweep(self, partition: int, now_ms: int) -> int:
        """Forget this partition's touchpoints past their retention and old expiry records."""
        retention_ms = self.settings.touchpoint_retention_seconds * 1000
        records = await delete_stale(self.expired_table, partition, lambda k: int(k.split(":")[0]),
                                     lambda record: now_ms - record[0] > EXPIRED_KEEP_MS)
        # raw[4] is stored_at (see _stored_to_json): no need to build every stored touchpoint.
        touchpoints = await delete_stale(self.touchpoint_table, partition, self._home,
                                         lambda raw: now_ms - raw[4] > retention_ms)
        return records + touchpoints

    async def _handle(self, message: Any, now_ms: int) -> None:
        METRICS.events_in[message.topic] += 1
        try:
            name, datum = self.codec.decode(message.value, expected=self.expected_type.get(message.topic))
            if name == "Touchpoint":
                # The datum itself is read below: building a Touchpoint cost more than the check.
                if not touchpoint_is_valid(datum, now_ms):
                    check_touchpoint(datum, now_ms)  # names every broken rule
                join_key = datum["touchpoint_id"].encode()
            elif name == "Feedback":
                # Producers writing Avro straight to Kafka skip the entry points' redaction: the
                # worker redacts too, so nothing downstream (storage, insights, the page) sees PII.
                feedback = check_feedback(datum, now_ms, redact=redact)
                join_key = (feedback.touchpoint_id or feedback.feedback_id).encode()
            else:
                raise DecodeError("wrong_record_type", f"a {name} on an input topic")
        except (DecodeError, ValidationError) as error:
            await self._dead_letter(origin_of(message), message.value, error.reason, error.detail, now_ms)
            return
        home = home_partition(join_key, self.topics.partitions)
        if message.topic in self.input_topics and message.partition != home:
            # Keyed wrongly (or not at all) by its producer: its partner lives elsewhere.
            METRICS.rekeyed += 1
            await self.topics.rekeyed.send(key=join_key, value=message.value, partition=home,
                                           headers=rekey_headers(origin_of(message)))
            return
        if name == "Touchpoint":
            stored = StoredTouchpoint(
                self._attribution(datum["agency"], datum["service"], datum["channel"]),
                datum["occurred_at"], now_ms, (message.topic, message.partition, message.offset),
            )
            for released in self.join.on_touchpoint(datum["touchpoint_id"], stored, now_ms, scope=home):
                METRICS.join_released += 1
                await self._emit(released)
            return
        # Too late for the live windows (judged on the wall clock: stream time would let one
        # message from a skewed clock shrink every other message's retention): dead-lettered
        # here, where the input's own position and bytes are known; still joined and stored.
        origin = origin_of(message)
        late = window_start_ms(feedback.submitted_at) < now_ms - self.retention_ms
        if late:
            await self._dead_letter(
                origin, message.value, "too_late",
                f"submitted_at is more than {self.settings.window_retention_seconds}s before the worker's clock: "
                "stored as feedback (if it is the first of its feedback_id), not scored", now_ms)
        join_input = JoinInput(feedback.feedback_id, feedback.touchpoint_id,
                               own_attribution(feedback.agency, feedback.service, feedback.channel), now_ms,
                               feedback.to_avro(), origin.source, late)
        result = self.join.on_feedback(join_input, now_ms)
        if result is None:
            METRICS.join_buffered += 1
            # Held back: announce the copy now, so it wins against a later copy released first.
            await self.topics.joined.send(key=feedback.feedback_id.encode(), value=b"",
                                          headers=claim_headers(origin.source))
            return
        METRICS.join_hits += int(result.matched)
        await self._emit(result)

    async def _emit(self, result: JoinResult) -> None:
        payload = result.payload
        a = result.attribution
        enriched = EnrichedFeedback(
            feedback_id=result.feedback_id, touchpoint_id=payload.get("touchpoint_id"),
            submitted_at=payload["submitted_at"], agency=a.agency, service=a.service, channel=a.channel,
            matched=result.matched, answers=payload["answers"], comment=payload.get("comment"),
            a11_v2=payload.get("a11_v2"),
        )
        await self.topics.joined.send(key=result.feedback_id.encode(),
                                      value=self.codec.encode("EnrichedFeedback", enriched.to_avro()),
                                      headers=release_headers(result.source, result.late))

    async def _dead_letter(self, origin: Origin, raw: bytes, reason: str, detail: str, now_ms: int) -> None:
        key, value = dead_letter_message(
            self.codec, source_topic=origin.topic, partition=origin.partition, offset=origin.offset,
            key=origin.key, raw=raw, reason=reason, detail=detail, now_ms=now_ms,
        )
        METRICS.dead_letters[reason] += 1
        await self.topics.deadletters.send(key=key, value=value)
