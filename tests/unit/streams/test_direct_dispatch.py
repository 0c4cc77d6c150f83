"""streams/dispatch.py: records handed straight from Faust's fetcher to the stages, with what
Faust's stream iterator did that matters kept (skips, the current event, tracking, holding)."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import faust
import pytest
from faust.streams import current_event
from faust.transport import consumer as faust_consumer
from faust.types import TP
from faust.types.tuples import ConsumerMessage

from cxstream.streams import dispatch as dispatch_module
from cxstream.streams.acking import ConfirmedAcks
from cxstream.streams.dispatch import DirectDispatch, deliver_whole
from cxstream.streams.stage import Stage


class _Recording(Stage):
    """Records what it handled and which event Faust's tables would have seen meanwhile."""

    table_names = ()

    def __init__(self, name: str, topics: tuple[str, ...], seen: list[tuple[str, str, int, Any]]) -> None:
        self.name = name  # type: ignore[misc]
        self._topics = topics
        self._seen = seen

    def sources(self) -> tuple[str, ...]:
        return self._topics

    async def handle(self, message: Any) -> None:
        event = current_event()
        self._seen.append((self.name, message.topic, message.offset, event.message if event is not None else None))


def _message(topic: str, offset: int, generation: int = 0, partition: int = 1) -> ConsumerMessage:
    return ConsumerMessage(topic, partition, offset, 0.0, 0, [], b"k", b"v", None, generation_id=generation)


def _wired(stages: list[Stage]) -> tuple[faust.App, ConfirmedAcks, DirectDispatch]:
    app = faust.App("cxstream-unit-dispatch", broker="kafka://127.0.0.1:1", store="memory://", web_enabled=False)
    acks = ConfirmedAcks(app, app.topic("confirms", key_type=bytes, value_type=bytes))
    dispatch = DirectDispatch(app, acks, stages)
    dispatch.install()
    app.flow_control.resume()
    return app, acks, dispatch


def test_each_record_reaches_every_stage_reading_its_topic_in_order_and_is_held_per_stage() -> None:
    seen: list[tuple[str, str, int, Any]] = []
    join = _Recording("join", ("touchpoints", "ticks"), seen)
    score = _Recording("score", ("joined", "ticks"), seen)
    app, acks, dispatch = _wired([join, score])
    consumer: Any = app.consumer
    assert consumer.callback == dispatch.on_message
    records = [_message("touchpoints", 5), _message("ticks", 9), _message("joined", 2)]

    async def scenario() -> None:
        for record in records:
            await consumer.callback(record)

    asyncio.run(scenario())
    assert [(stage, topic, offset) for stage, topic, offset, _ in seen] == [
        ("join", "touchpoints", 5), ("join", "ticks", 9), ("score", "ticks", 9), ("score", "joined", 2)]
    # While a stage ran, Faust's current_event() carried the record (tables find the partition there).
    assert [event for *_, event in seen] == [records[0], records[1], records[1], records[2]]
    assert current_event() is None  # and nothing is left behind after it
    assert acks.held == 4
    # Tracked like the stream iterator tracks: Faust waits for them before it lets partitions go.
    assert set(consumer._unacked_messages) == set(records)
    # Subscribed like agents' channels, and every topic's stages are registered for its commits.
    assert {t for channel in app.topics for t in channel.topics} == {"touchpoints", "ticks", "joined"}
    assert acks.positions.reads("ticks") and acks.positions.reads("joined")


def test_a_confirmation_round_makes_the_records_done_for_their_commit_and_acks_them() -> None:
    seen: list[tuple[str, str, int, Any]] = []
    app, acks, dispatch = _wired([_Recording("join", ("ticks",), seen), _Recording("score", ("ticks",), seen)])
    consumer: Any = app.consumer
    tp = TP("ticks", 1)
    acks.positions.start(tp, 0)

    async def flushed() -> None:
        return None

    async def sent(**_: Any) -> None:
        return None

    acks.marker_topic.send_soon = sent
    app.producer.flush = flushed  # type: ignore[method-assign]

    async def scenario() -> None:
        for offset in (0, 1):
            await consumer.callback(_message("ticks", offset))
        assert acks.positions.position(tp) == 0  # nothing is done before its round
        assert await acks.confirm() == 4
        assert acks.positions.position(tp) == 2  # both stages are done with both ticks

    asyncio.run(scenario())
    assert not consumer._unacked_messages


def test_records_of_an_earlier_generation_or_fetched_during_a_rebalance_are_skipped_untouched() -> None:
    seen: list[tuple[str, str, int, Any]] = []
    app, acks, dispatch = _wired([_Recording("join", ("touchpoints",), seen)])
    consumer: Any = app.consumer
    app.consumer_generation_id = 3

    async def scenario() -> None:
        await consumer.callback(_message("touchpoints", 1, generation=2))  # the assignment before
        app.flow_control.suspend()  # a rebalance in progress
        await consumer.callback(_message("touchpoints", 2, generation=3))
        app.flow_control.resume()
        await consumer.callback(_message("touchpoints", 3, generation=3))

    asyncio.run(scenario())
    assert [offset for _, _, offset, _ in seen] == [3]
    assert dispatch.skipped == 2 and dispatch.processed == 1
    assert acks.held == 1 and len(consumer._unacked_messages) == 1  # the seek fetches the others again


def test_a_stage_that_raises_stops_the_process_and_the_record_is_not_held(monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken(Stage):
        name = "join"
        table_names = ()

        def sources(self) -> tuple[str, ...]:
            return ("touchpoints",)

        async def handle(self, message: Any) -> None:
            raise ValueError("a bug")

    stopped: list[dict[str, Any]] = []

    def fail_stop(event: str, **details: Any) -> None:
        stopped.append({"event": event, **details})
        raise SystemExit(70)

    monkeypatch.setattr(dispatch_module, "fail_stop", fail_stop)
    app, acks, _ = _wired([Broken()])
    with pytest.raises(SystemExit):
        asyncio.run(app.consumer.callback(_message("touchpoints", 7)))  # type: ignore[attr-defined]
    assert stopped == [{"event": "stage.failed", "stage": "join", "topic": "touchpoints", "partition": 1,
                        "offset": 7, "error": "ValueError('a bug')"}]
    assert acks.held == 0
    assert current_event() is None


class _Consumer:
    """What deliver_whole needs of Faust's consumer."""

    def __init__(self) -> None:
        self.suspend_flow = asyncio.Event()
        self.raced = 0

    async def wait_first(self, *coros: Any, timeout: Any = None) -> Any:
        self.raced += 1
        for coro in coros:
            coro.close()


def test_a_delivery_that_waits_is_never_cancelled_by_a_flow_suspension() -> None:
    steps: list[str] = []

    async def scenario() -> None:
        consumer = _Consumer()
        deliver_whole(consumer)
        queue: asyncio.Queue[int] = asyncio.Queue(maxsize=1)
        queue.put_nowait(0)

        async def deliver() -> None:
            steps.append("start")
            await queue.put(1)  # waits for room (a full producer queue)
            steps.append("queued")

        async def rebalance_then_room() -> None:
            await asyncio.sleep(0.02)
            consumer.suspend_flow.set()  # with Faust's race, this would cancel the delivery midway
            await asyncio.sleep(0.02)
            queue.get_nowait()

        other = asyncio.create_task(rebalance_then_room())
        await consumer.wait_first(deliver(), consumer.suspend_flow.wait())
        await other
        assert consumer.raced == 0

    asyncio.run(scenario())
    assert steps == ["start", "queued"]


def test_the_fetcher_hands_records_to_the_consumer_callback_as_this_module_relies_on() -> None:
    source = inspect.getsource(faust_consumer.Consumer._drain_messages)
    assert "callback = self.callback" in source
    assert "await self.wait_first(\n                                callback(message), self.suspend_flow.wait()" in source
    assert "_current_event" in inspect.getsource(dispatch_module)


def test_with_alignment_feedback_ahead_reaches_the_join_after_the_touchpoint_of_its_time() -> None:
    seen: list[tuple[str, str, int, Any]] = []
    app = faust.App("cxstream-unit-align", broker="kafka://127.0.0.1:1", store="memory://", web_enabled=False)
    acks = ConfirmedAcks(app, app.topic("confirms", key_type=bytes, value_type=bytes))
    join = _Recording("join", ("touchpoints", "feedback", "ticks"), seen)
    dispatch = DirectDispatch(app, acks, [join], align=("touchpoints", "feedback", "ticks"))
    dispatch.install()
    app.flow_control.resume()
    consumer: Any = app.consumer
    consumer.highwater = lambda tp: 2 if tp.topic == "touchpoints" else 0  # two touchpoints to read

    def record(topic: str, offset: int, sent: float) -> ConsumerMessage:
        return ConsumerMessage(topic, 0, offset, sent, 0, [], b"k", b"v", None, generation_id=0)

    async def scenario() -> None:
        await consumer.callback(record("feedback", 0, 5.0))  # fetched first, sent after touchpoint 1
        await consumer.callback(record("touchpoints", 0, 1.0))
        await consumer.callback(record("touchpoints", 1, 4.0))

    asyncio.run(scenario())
    assert [(topic, offset) for _, topic, offset, _ in seen] == [("touchpoints", 0), ("touchpoints", 1), ("feedback", 0)]
    assert acks.held == 3


def test_the_fetcher_waits_while_too_many_records_are_held_until_a_round_takes_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dispatch_module, "HELD_LIMIT", 2)
    seen: list[tuple[str, str, int, Any]] = []
    app, acks, _ = _wired([_Recording("join", ("touchpoints",), seen)])
    consumer: Any = app.consumer

    async def scenario() -> None:
        await consumer.callback(_message("touchpoints", 0))
        second = asyncio.create_task(consumer.callback(_message("touchpoints", 1)))
        await asyncio.sleep(0.05)
        assert not second.done()  # two held: the second record's delivery waits
        acks._held.clear()  # what a confirmation round does first
        await asyncio.wait_for(second, 1)

    asyncio.run(scenario())
    assert len(seen) == 2


def test_the_worker_asks_glibc_for_two_malloc_arenas() -> None:
    from cxstream.streams.worker import limit_malloc_arenas

    assert limit_malloc_arenas() is True  # Debian's glibc accepts M_ARENA_MAX


def test_at_debug_level_each_record_is_traced_through_the_installed_callback(monkeypatch: pytest.MonkeyPatch) -> None:
    lines: list[dict[str, Any]] = []
    monkeypatch.setattr(dispatch_module, "log_enabled_for", lambda _level: True)
    monkeypatch.setattr(dispatch_module.log, "debug", lambda event, **fields: lines.append({"event": event, **fields}))
    seen: list[tuple[str, str, int, Any]] = []
    app = faust.App("cxstream-unit-trace", broker="kafka://127.0.0.1:1", store="memory://", web_enabled=False)
    acks = ConfirmedAcks(app, app.topic("confirms", key_type=bytes, value_type=bytes))
    dispatch = DirectDispatch(app, acks, [_Recording("join", ("touchpoints",), seen)])
    dispatch.install()
    dispatch_module.trace_dispatch(dispatch)  # after install (either order works)
    app.flow_control.resume()
    asyncio.run(app.consumer.callback(_message("touchpoints", 4)))  # type: ignore[attr-defined]
    assert [(line["event"], line["offset"]) for line in lines] == [("stage.event", 4)]
    assert len(seen) == 1
