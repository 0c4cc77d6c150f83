"""Acks owned by cxstream: a source offset is marked done only after everything the event caused
(table changelog records, output records) has been acknowledged by the broker.

Why not Faust's own acks (docs/research/faust-internals.md has the source references):

- Faust acks an event as soon as the agent asks for the next one, and commits after a producer
  flush that gives up waiting after 0.1 s and does not cover a record inside aiokafka's ``send``;
  a failed send is only logged. An offset can be committed without the changelog record of the
  state it changed.
- Events a stream skips during a rebalance or a shutdown (stale generation, flow control off) are
  acked unprocessed, even on a ``noack`` stream (both the Cython and the Python iterator do it).
  The commit that follows then jumps over events nobody processed: the loss the rebalance
  scenario found (a worker stopping committed two offsets its stage had skipped, and the worker
  that took over started after them).
- An exception escaping an agent acks the failing event and the agent is restarted.

So every stage iterates a ``noack`` stream and hands each processed event to
:class:`ConfirmedAcks`; a task confirms the held events in rounds: it drains the producer (a
marker record sent through Faust's producer buffer after everything queued before it, then an
aiokafka flush) and only then acks. The consumer's ``ack`` is wrapped so that only offsets
confirmed here are recorded for the commit; any other ack (a skip) is refused, and the offset is
read again after the seek to the committed offset that follows every rebalance. An unexpected error in a stage, or a failed send, stops the
process at once (``os._exit``): nothing more is acked or committed, and the next owner of the
partitions replays from the last commit, which the stages' idempotent state makes harmless.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn

import faust
from faust.sensors import Sensor

from cxstream.logs import get_logger

log = get_logger(__name__)

#: Exit status of a fail-stop: the process must be restarted, it must not limp on.
FAIL_STOP_EXIT = 70


def fail_stop(event: str, **details: Any) -> NoReturn:
    """Log why, then end the process without acking, committing or flushing anything more."""
    log.critical(event, action="exiting at once so that no offset is committed past the failure", **details)
    os._exit(FAIL_STOP_EXIT)


class _SendFailureSensor(Sensor):
    """A record the producer could not deliver ends the process before its event can be acked."""

    def on_send_error(self, producer: Any, exc: BaseException, state: Any) -> None:
        fail_stop("producer.send_failed", error=repr(exc))


class ConfirmedAcks:
    """Holds processed events and acks them once their effects are confirmed by the broker."""

    def __init__(self, app: faust.App, marker_topic: Any) -> None:
        self.app = app
        self.marker_topic = marker_topic
        self._held: list[Any] = []
        self._confirming: set[tuple[str, int, int]] = set()
        self.confirmed = 0
        self.refused = 0
        self.rounds = 0
        app.sensors.add(_SendFailureSensor())
        self._install_ack_filter(app.consumer)

    def _install_ack_filter(self, consumer: Any) -> None:
        """Let the consumer record an offset as done only if this object confirmed it."""
        record_ack = consumer.ack
        confirming = self._confirming

        def ack(message: Any) -> bool:
            key = (message.topic, message.partition, message.offset)
            if key in confirming:
                confirming.discard(key)
                return bool(record_ack(message))
            # Acked by Faust itself: a skipped event. Marked acked so shutdown and rebalances do
            # not wait for it, but its offset is not recorded, so no commit can pass it.
            message.acked = True
            self.refused += 1
            log.debug("acks.refused_skipped_event", topic=message.topic, partition=message.partition,
                     offset=message.offset)
            return False

        consumer.ack = ack

        commit_offsets = consumer._commit

        async def traced_commit(offsets: Any) -> bool:
            done = bool(await commit_offsets(offsets))
            log.debug("acks.committed", pid=os.getpid(), done=done,
                      offsets={f"{tp.topic}:{tp.partition}": offset for tp, offset in offsets.items()})
            return done

        consumer._commit = traced_commit

    def hold(self, event: Any) -> None:
        """``event`` is processed: ack it in the next confirmation round."""
        self._held.append(event)

    @property
    def held(self) -> int:
        return len(self._held)

    async def confirm(self) -> int:
        """Drain the producer, then ack every event held before the drain started."""
        if not self._held:
            return 0
        batch, self._held = self._held, []
        started = time.monotonic()
        # Faust's producer buffer is a FIFO worked by one task: once the marker has been delivered,
        # every record queued before it (table changelogs) is inside aiokafka, and the flush below
        # waits for those batches. Records sent with ``await topic.send`` are already inside aiokafka.
        await self.marker_topic.send_soon(key=b"confirm", value=b"", partition=0)
        await self.app.producer.flush()
        for event in batch:
            message = event.message
            self._confirming.add((message.topic, message.partition, message.offset))
            event.ack()
        log.debug("acks.confirmed", pid=os.getpid(), events=[f"{e.message.topic}:{e.message.partition}:{e.message.offset}" for e in batch])
        self.confirmed += len(batch)
        self.rounds += 1
        elapsed_ms = (time.monotonic() - started) * 1000
        if elapsed_ms > 1000:
            log.warning("acks.slow_confirmation", events=len(batch), elapsed_ms=round(elapsed_ms))
        return len(batch)

    async def run(self, interval_seconds: float) -> None:
        """Confirm in rounds until cancelled. Not an ``app.timer``: timers end as soon as the app
        starts stopping, but Faust's shutdown then waits for every delivered event to be acked, so
        the rounds must go on until the app cancels this task after the consumer has stopped."""
        while True:
            await self.confirm()
            await asyncio.sleep(interval_seconds)


async def consume(stream: Any, acks: ConfirmedAcks, handle: Callable[[Any], Awaitable[None]], stage: str) -> None:
    """The loop of every stage: process each event with ``handle(message)``, then hold it for
    confirmation. Anything unexpected escaping ``handle`` is a bug: stop the process."""
    async for event in stream.noack().events():
        message = event.message
        try:
            log.debug("stage.event", pid=os.getpid(), stage=stage, topic=message.topic, partition=message.partition,
                      offset=message.offset, generation=message.generation_id)
            await handle(message)
        except Exception as exc:  # noqa: BLE001 - the whole point: nothing unexpected may be acked
            fail_stop("stage.failed", stage=stage, topic=message.topic, partition=message.partition,
                      offset=message.offset, error=repr(exc))
        acks.hold(event)
