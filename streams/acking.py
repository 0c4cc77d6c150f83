"""Which input offsets may be committed: decided by cxstream, never by Faust's own bookkeeping.

An offset is committed only when every record below it was processed by every stage that reads
its topic *and* everything that processing produced (table changelog records, outputs) has been
acknowledged by the broker. :class:`CommitPositions` (streams/commit_positions.py, pure
bookkeeping) keeps that per source partition; :class:`ConfirmedAcks` feeds it and wires it into
Faust. Faust still decides *when* to commit (its interval timer, and before a rebalance or a
shutdown lets partitions go) and sends the commit; it no longer decides *what*.

Why not Faust's bookkeeping (faust-streaming 0.15.3, paths under
``.venv/lib/python3.11/site-packages/``; docs/research/faust-internals.md has more):

- **Skipped events are acked.** The pure-Python stream iterator acks events it skips during a
  rebalance or a shutdown (stale generation, flow control off), even on a ``noack`` stream
  (``faust/streams.py:1287-1300`` and its ``finally`` at 1330-1340). Faust also acks as soon as
  the agent asks for the next event, and commits after a flush that does not cover every send.
- **Gaps.** The fetcher remembers the last offset it handed to the streams per partition and
  drops any record at or below it as a duplicate (``faust/transport/consumer.py:1206-1226``); a
  jump above it is recorded as a "gap" (``_add_gap``, 1157-1170) which ``_new_offset``
  (1097-1155) adds to the acked offsets as if those records did not exist, and its guard against
  a hole at the committed offset is off by one (``min(acked) - committed_offset > 1``, 1139).
- **Delivered events are thrown away.** After a rebalance, recovery resumes the source
  partitions while the fetcher is already running, *then* seeks them to the committed offsets,
  *then* resumes flow control (``faust/tables/recovery.py:646-660``, also 312-329), and resuming
  clears every stream queue (``mode/utils/queues.py:97-108``, ``clear_on_resume`` in
  ``faust/channels.py:143-146``). Records fetched before the seek are delivered to the queues,
  cleared unprocessed, and never fetched again: the fetcher, still finishing its pre-seek batch,
  records them as a gap, and drops the re-fetch after the seek as duplicates.

  Seen in the rebalance scenario (worker log, ``CXSTREAM_LOG_LEVEL=debug``): the new owner of
  joined partition 1 fetched offsets 55-60 before its seek, the seek set the read offset to the
  committed 55, the resume cleared 55 and 56 from the score stage's queue, 57 arrived as a gap
  56-57, the commit after 57 was confirmed committed 58 (the gap plus the off-by-one), and the
  re-fetch of 55-65 was dropped up to 59. Offsets 55 and 56 were never processed anywhere.

So, here:

- every stage's records come from streams/dispatch.py (or, with ``CXSTREAM_DISPATCH=faust``,
  from ``stream.noack().events()`` in an agent); a processed record is *held*, and a task
  confirms held events in rounds: it has the tables queue their kept writes
  (streams/state_tables.py), drains the producers (librdkafka's flush; for Faust's own, a marker
  record sent through its producer buffer, a FIFO, after everything queued before it, then an
  aiokafka flush) and only then marks them done in :class:`CommitPositions`;
- a partition's commit position starts at the committed offset its seek returned (the log start
  if nothing was committed yet) and advances only over offsets done by every stage that reads
  the topic; ``Consumer._filter_committable_offsets`` returns exactly those positions, so gaps,
  skipped acks and ``_new_offset`` never reach a commit. An offset missing for good (a record a
  bug dropped, or a transaction marker: transactional producers on the input topics are not
  supported) stops the partition's commits, which is safe, and is logged as
  ``acks.commit_stalled``;
- stream queues are not cleared on resume: a stale event left in a queue is skipped by the
  stream iterator's own generation and flow-control check (the lines above, and
  ``faust/_cython/streams.pyx:181-193``), and a current one is processed;
- ``Consumer.ack`` only does the shutdown bookkeeping (the unacked set ``wait_empty`` waits for);
  while flow control is off (a rebalance or a shutdown in progress) messages that no stage is
  processing or holding, such as a tick read by three stages and skipped by one of them, are
  marked acked so ``wait_empty`` can finish. That never moves a commit position;
- a failed send, or an unexpected error in a stage, stops the process at once (``os._exit``):
  nothing more is confirmed or committed, and the next owner replays from the last commit, which
  the stages' idempotent state makes harmless.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, NoReturn

import faust
from faust.sensors import Sensor
from faust.types import TP
from mode.utils.futures import notify

from cxstream.logs import get_logger, log_enabled_for
from cxstream.streams.commit_positions import CommitPositions

log = get_logger(__name__)

#: Exit status of a fail-stop: the process must be restarted, it must not limp on.
FAIL_STOP_EXIT = 70
#: A partition whose commit position has not moved for this long while later offsets are done is
#: reported: some record below them was never processed.
STALL_WARNING_SECONDS = 60.0


def fail_stop(event: str, **details: Any) -> NoReturn:
    """Log why, then end the process without acking, committing or flushing anything more."""
    log.critical(event, action="exiting at once so that no offset is committed past the failure", **details)
    os._exit(FAIL_STOP_EXIT)


class _SendFailureSensor(Sensor):
    """A record the producer could not deliver ends the process before its event is confirmed."""

    def on_send_error(self, producer: Any, exc: BaseException, state: Any) -> None:
        fail_stop("producer.send_failed", error=repr(exc))


class ConfirmedAcks:
    """Holds processed events, confirms their effects with the broker, and owns the commit offsets."""

    def __init__(self, app: faust.App, marker_topic: Any,
                 also_flush: Callable[[], Awaitable[None]] | None = None) -> None:
        self.app = app
        self.marker_topic = marker_topic
        self._also_flush = also_flush  # another producer the stages write through (streams/fast_producer.py)
        #: Called first in every round: queue the table changelog records written since the last
        #: (streams/state_tables.py), so the flush that follows covers them.
        self.before_flush: list[Callable[[], int]] = []
        self.positions = CommitPositions()
        self._held: list[tuple[Any, str]] = []  # (message, stage)
        self._in_flight: Counter[int] = Counter()  # id(message) -> stages processing it right now
        self.confirmed = 0
        self.released = 0
        self.rounds = 0
        app.sensors.add(_SendFailureSensor())
        self._take_over(app)

    def register(self, stage: str, channel: Any) -> None:
        """``stage`` consumes ``channel`` (a Faust topic, possibly of several topics)."""
        self.positions.register(stage, channel.topics)

    # -- the Faust internals this module replaces (see the module docstring for why) ------------

    def _take_over(self, app: faust.App) -> None:
        consumer: Any = app.consumer
        positions = self.positions
        pid = os.getpid()

        # faust/transport/consumer.py:825-852. Only the shutdown bookkeeping stays: the offset
        # lists it kept (``_acked``) would never be read, commits come from ``positions``.
        def ack(message: Any) -> bool:
            if message.acked:
                return False
            message.acked = True
            consumer._unacked_messages.discard(message)
            notify(consumer._waiting_for_ack)
            return True

        consumer.ack = ack

        # faust/transport/consumer.py:1010-1018, called by every commit (interval, rebalance, stop).
        # Its argument (partitions with acks in Faust's lists) is ignored: every commit here is a
        # full one, of every partition whose position moved.
        def committable_offsets(_tps: Iterable[TP]) -> dict[TP, int]:
            for tp, missing, later in positions.newly_stalled(time.monotonic(), STALL_WARNING_SECONDS):
                log.warning("acks.commit_stalled", topic=tp.topic, partition=tp.partition, missing_offset=missing,
                            done_after_it=later, seconds=STALL_WARNING_SECONDS,
                            meaning="this record was never processed; the partition commits nothing until it is")
            return positions.committable()

        consumer._filter_committable_offsets = committable_offsets

        # faust/transport/drivers/aiokafka.py:793-823: commits what it is given, within the assignment.
        commit = consumer._commit

        async def commit_and_record(offsets: Mapping[TP, int]) -> bool:
            done = bool(await commit(offsets))
            if done:
                positions.committed(offsets)
            log.debug("acks.committed", pid=pid, done=done,
                      offsets={f"{tp.topic}:{tp.partition}": offset for tp, offset in offsets.items()})
            return done

        consumer._commit = commit_and_record

        # faust/transport/consumer.py:565-585: every seek of the streams' partitions (the end of
        # each rebalance's recovery) goes through ``seek_to_committed``; where it puts a partition
        # is where our processing of it starts.
        seek_to_committed = consumer.seek_to_committed

        async def seek_and_start() -> Mapping[Any, int | None]:
            committed = await seek_to_committed()
            ours: dict[TP, int | None] = {
                TP(tp.topic, tp.partition): offset for tp, offset in committed.items() if positions.reads(tp.topic)
            }
            unknown = [tp for tp, offset in ours.items() if offset is None or offset < 0]
            if unknown:  # nothing committed yet: the fetcher starts at the log start (auto reset "earliest")
                earliest = await consumer.earliest_offsets(*unknown)
                ours.update({TP(tp.topic, tp.partition): offset for tp, offset in earliest.items()})
            for tp, offset in ours.items():
                if offset is None or offset < 0:  # no start known: the partition commits nothing (safe)
                    log.warning("acks.start_unknown", topic=tp.topic, partition=tp.partition)
                    continue
                positions.start(tp, offset)
            log.debug("acks.started", pid=pid, generation=app.consumer_generation_id,
                      positions={f"{tp.topic}:{tp.partition}": offset for tp, offset in ours.items()})
            return committed

        consumer.seek_to_committed = seek_and_start

        # mode/utils/queues.py:97-108: resuming flow control clears every stream queue, and so do
        # faust/app/base.py:1736 and 1823. Kept: the stream iterator skips stale events by itself.
        app.flow_control.clear = lambda: None  # type: ignore[method-assign]

        @app.on_partitions_revoked.connect  # type: ignore[arg-type]
        async def forget_revoked(_app: Any, revoked: set[Any], **_: Any) -> None:
            positions.forget(TP(tp.topic, tp.partition) for tp in revoked)

    # -- holding and confirming ------------------------------------------------------------------

    def begin(self, message: Any) -> None:
        """A stage starts processing ``message`` (Faust's streams: their events are in flight
        between the queue and the hold; direct dispatch hands a record over whole and needs no begin)."""
        self._in_flight[id(message)] += 1

    def hold(self, message: Any, stage: str) -> None:
        """``stage`` processed ``message``: it is done once the next confirmation round is through."""
        key = id(message)
        if key in self._in_flight:
            self._in_flight[key] -= 1
            if self._in_flight[key] <= 0:
                del self._in_flight[key]
        self._held.append((message, stage))

    def track(self, message: Any) -> None:
        """Count ``message`` among those Faust waits for before a rebalance or a stop lets its
        partition go (what Faust's stream iterator does for the events it takes); the
        confirmation round acks it. Direct dispatch calls this for every record it processes."""
        if not message.tracked:
            message.tracked = True
            consumer: Any = self.app.consumer
            consumer._unacked_messages.add(message)

    @property
    def held(self) -> int:
        return len(self._held)

    async def confirm(self) -> int:
        """Drain the producer, then mark done every event held before the drain started."""
        if not self._held:
            return 0
        batch, self._held = self._held, []
        started = time.monotonic()
        for send in self.before_flush:
            send()
        # Faust's producer buffer is a FIFO worked by one task: once the marker has been delivered,
        # every record queued before it (table changelogs) is inside aiokafka, and the flush below
        # waits for those batches. Records sent with ``await topic.send`` are already inside aiokafka.
        await self.marker_topic.send_soon(key=b"confirm", value=b"", partition=0)
        await self.app.producer.flush()
        if self._also_flush is not None:  # the stages' records produced through librdkafka
            await self._also_flush()
        generation = self.app.consumer_generation_id
        consumer = self.app.consumer
        done = self.positions.done
        for message, stage in batch:
            # An event of an earlier generation was processed while its partition was ours, but
            # that assignment is over: its position was settled by the commit that ended it.
            if message.generation_id == generation:
                done(message.tp, message.offset, stage)
            message.ack(consumer)  # the last of a message's stages makes Consumer.ack (above) run
        self.confirmed += len(batch)
        self.rounds += 1
        elapsed_ms = (time.monotonic() - started) * 1000
        log.debug("acks.confirmed", pid=os.getpid(), events=len(batch), elapsed_ms=round(elapsed_ms))
        if elapsed_ms > 1000:
            log.warning("acks.slow_confirmation", events=len(batch), elapsed_ms=round(elapsed_ms))
        return len(batch)

    def release_stranded(self) -> int:
        """Mark acked the delivered messages no stage is processing or holding, so that Faust's
        wait for unacked messages can end; commit positions are not touched."""
        busy = set(self._in_flight) | {id(message) for message, _ in self._held}
        consumer: Any = self.app.consumer
        released = 0
        for message in list(consumer._unacked_messages):
            if not message.acked and id(message) not in busy:
                consumer.ack(message)
                released += 1
                log.debug("acks.released", topic=message.topic, partition=message.partition,
                          offset=message.offset, refcount=message.refcount)
        self.released += released
        return released

    async def run(self, interval_seconds: float) -> None:
        """Confirm in rounds until cancelled. Not an ``app.timer``: timers end as soon as the app
        starts stopping, but Faust's shutdown then waits for every delivered event to be acked, so
        the rounds must go on until the app cancels this task after the consumer has stopped.
        While flow control is off (a rebalance or a shutdown), delivered messages that no stage
        will process are released after each round."""
        while True:
            await self.confirm()
            if not self.app.flow_control.is_active():
                self.release_stranded()
            await asyncio.sleep(interval_seconds)


async def consume(stream: Any, acks: ConfirmedAcks, handle: Callable[[Any], Awaitable[None]], stage: str) -> None:
    """The loop of every stage: process each event with ``handle(message)``, then hold it for
    confirmation. Anything unexpected escaping ``handle`` is a bug: stop the process."""
    trace = log_enabled_for(logging.DEBUG)  # once: building the line per event costs even when filtered out
    pid = os.getpid()
    async for event in stream.noack().events():
        message = event.message
        acks.begin(message)
        try:
            if trace:
                log.debug("stage.event", pid=pid, stage=stage, topic=message.topic, partition=message.partition,
                          offset=message.offset, generation=message.generation_id)
            await handle(message)
        except Exception as exc:  # noqa: BLE001 - the whole point: nothing unexpected may be acked
            fail_stop("stage.failed", stage=stage, topic=message.topic, partition=message.partition,
                      offset=message.offset, error=repr(exc))
        acks.hold(message, stage)
