"""Direct dispatch: each fetched record handed straight to the stages that read its topic.

Faust's path from a fetched record to an agent is the conductor's callback (a lock, flow
control, the producer's ebb, an Event per record, a queue per channel) and then the stream
iterator (a queue get, the sensors, a context variable, the acking) in the agent's task. With a
no-op agent on this project's VM that path alone ran 17,800 records/s, against 157,000 for a
callback that only counts: 50 us of every record before any cxstream work (BENCHMARKS.md).

Here the consumer's callback is :meth:`DirectDispatch.on_message`: Faust's fetcher calls it for
each record in fetch order, and it runs every stage that reads the record's topic, in the
stages' data-flow order, then holds the record for confirmation (streams/acking.py) exactly as
the agents did. Faust still runs the group, the assignment, the tables and their recovery, the
commits and the fetcher; only the hand-over changed. What the stream iterator did that matters
is kept, with the same meaning:

- a record fetched while flow control is off (a rebalance or a stop is in progress) or under an
  earlier generation is not processed, as the iterator skipped it: the seek that ends the
  rebalance fetches it again from the committed offset;
- Faust's tables find the partition of a read or write through ``current_event()``: it is set to
  a stand-in that carries the record (tables read nothing else of the event);
- the monitor's per-partition time of the last record taken, which the driver reads to report a
  stalled partition;
- a processed record is tracked as unacked until its confirmation round, so Faust's wait before
  a rebalance or a stop lets partitions go covers it.

A record's stages run to the end before the fetcher takes the next one: a stage that has to wait
(the producer's queue is full while the broker is away) holds the fetcher, which is the
back-pressure wanted. The record is never raced against a flow suspension (see
:func:`deliver_whole`): a rebalance waits for it, like it waited for an agent's event.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import weakref
from collections.abc import Iterable
from time import monotonic
from typing import Any, cast

import faust
from faust.streams import _current_event
from faust.types import TP

from cxstream.logs import get_logger, log_enabled_for
from cxstream.streams.acking import ConfirmedAcks, fail_stop
from cxstream.streams.alignment import AheadHold
from cxstream.streams.stage import Stage

log = get_logger(__name__)

#: Most records held for confirmation before the fetcher waits for a round to take them: a round
#: that takes long (the broker is slow to acknowledge) must not let held records pile up in memory.
HELD_LIMIT = 20_000
HELD_WAIT_SECONDS = 0.01


class CurrentRecord:
    """What Faust's tables read of the event being processed: ``message`` (its topic, partition,
    offset). A weak reference to one is what ``current_event()`` returns while stages run."""

    __slots__ = ("message", "__weakref__")

    def __init__(self, message: Any) -> None:
        self.message = message


class DirectDispatch:
    """The consumer callback that runs the stages on each fetched record."""

    def __init__(self, app: faust.App, acks: ConfirmedAcks, stages: Iterable[Stage],
                 align: tuple[str, str, str] | None = None) -> None:
        """``align``: (touchpoints, feedback, ticks) topic names, to hold feedback read ahead of
        its touchpoints (streams/alignment.py); None: every record goes on at once."""
        self._app = app
        self._acks = acks
        self._stages: dict[str, tuple[Stage, ...]] = {}
        for stage in stages:
            channel = app.topic(*stage.sources(), key_type=bytes, value_type=bytes)
            acks.register(stage.name, channel)
            app.topics.add(channel)  # subscribed like an agent's channel, but no agent reads it
            for topic in channel.topics:
                self._stages[topic] = (*self._stages.get(topic, ()), stage)
        self.processed = 0
        self.skipped = 0
        self.hold: AheadHold | None = None
        self._touchpoints = self._feedback = self._ticks = ""
        if align is not None:
            self._touchpoints, self._feedback, self._ticks = align
            self.hold = AheadHold(self._touchpoints_left)

    def _touchpoints_left(self, partition: int, last_offset: int | None) -> bool:
        """Whether touchpoint partition ``partition`` has records this worker has not taken yet
        (its end as the fetcher last saw it, against the last one taken or the start position)."""
        tp = TP(self._touchpoints, partition)
        try:
            end = self._app.consumer.highwater(tp)
        except Exception:  # noqa: BLE001 - not assigned (a rebalance): nothing to wait for
            return False
        if end is None:
            return True  # not fetched yet: it may well have records
        taken = last_offset + 1 if last_offset is not None else self._acks.positions.position(tp)
        return taken is None or taken < end

    def forget(self) -> None:
        """A rebalance: held records are read again from the committed offsets."""
        if self.hold is not None:
            self.hold.forget()

    def install(self) -> None:
        """Make this the consumer's callback (before the worker starts its fetcher)."""
        consumer: Any = self._app.consumer
        self._faust_callback = consumer.callback
        consumer.callback = self.on_message
        deliver_whole(consumer)

    async def on_message(self, message: Any) -> None:
        hold, topic = self.hold, message.topic
        if hold is None:
            await self._process(message)
        elif topic == self._feedback:
            for ready in hold.offer(message):
                await self._process(ready)
        elif topic == self._touchpoints:
            if await self._process(message):
                for ready in hold.on_touchpoint(message):
                    await self._process(ready)
        else:
            await self._process(message)
            if topic == self._ticks:
                for ready in hold.due(message.partition):
                    await self._process(ready)

    async def _process(self, message: Any) -> bool:
        """Run the record's stages and hold it for confirmation; False if it was skipped."""
        stages = self._stages.get(message.topic)
        if stages is None:  # a topic some other part of Faust subscribed: its own path
            await self._faust_callback(message)
            return False
        app = self._app
        if message.generation_id != app.consumer_generation_id or not app.flow_control.is_active():
            self.skipped += 1
            return False
        app.monitor.stream_inbound_time[message.tp] = monotonic()
        acks = self._acks
        acks.track(message)
        current = CurrentRecord(message)  # held here: the context variable keeps only a weak reference
        token = _current_event.set(cast(Any, weakref.ref(current)))
        try:
            for stage in stages:
                try:
                    await stage.handle(message)
                except Exception as exc:  # noqa: BLE001 - nothing unexpected may be acked
                    fail_stop("stage.failed", stage=stage.name, topic=message.topic, partition=message.partition,
                              offset=message.offset, error=repr(exc))
                acks.hold(message, stage.name)
        finally:
            _current_event.reset(token)
        self.processed += 1
        while acks.held >= HELD_LIMIT:  # the confirmation rounds are behind: let one take them
            await asyncio.sleep(HELD_WAIT_SECONDS)
        return True


def trace_dispatch(dispatch: DirectDispatch) -> None:
    """At debug level: one ``stage.event`` line per record, as the agents' loop writes."""
    if not log_enabled_for(logging.DEBUG):
        return
    handle = dispatch.on_message
    pid = os.getpid()

    async def on_message(message: Any) -> None:
        log.debug("stage.event", pid=pid, stage="direct", topic=message.topic, partition=message.partition,
                  offset=message.offset, generation=message.generation_id)
        await handle(message)

    dispatch.on_message = on_message  # type: ignore[method-assign]
    consumer: Any = dispatch._app.consumer
    if consumer.callback == handle:  # already installed: the consumer must call the traced one
        consumer.callback = on_message


def deliver_whole(consumer: Any) -> None:
    """The fetcher waits for each record's delivery to finish, never racing it against a flow
    suspension (Faust's ``wait_first(callback(message), suspend_flow.wait())`` would cancel a
    stage midway, with some of its table writes made and others not). A record fetched while
    flow is suspended is skipped by :meth:`DirectDispatch.on_message` itself, before any work."""
    race = consumer.wait_first

    async def wait_first(*coros: Any, timeout: Any = None) -> Any:
        if len(coros) != 2 or timeout is not None or not inspect.iscoroutine(coros[0]):
            return await race(*coros, timeout=timeout)
        delivery, suspended = coros
        if inspect.iscoroutine(suspended):
            suspended.close()  # never started: no "was never awaited" warning
        await delivery
        return None  # _drain_messages ignores the result

    consumer.wait_first = wait_first
