"""streams/acking.py replaces a few Faust internals; these tests fail first if a Faust upgrade
moves them, and show that a commit carries our positions, not what Faust's bookkeeping says."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import faust
from faust.transport import consumer as faust_consumer
from faust.types import TP
from mode.utils import queues

from cxstream.streams.acking import ConfirmedAcks


def _app() -> tuple[faust.App, ConfirmedAcks]:
    app = faust.App("cxstream-unit", broker="kafka://127.0.0.1:1", store="memory://", web_enabled=False)
    marker = app.topic("confirms", key_type=bytes, value_type=bytes)
    acks = ConfirmedAcks(app, marker)
    acks.register("stage", app.topic("joined", key_type=bytes, value_type=bytes))
    return app, acks


def test_the_faust_internals_replaced_are_where_the_module_says() -> None:
    assert faust.__version__ == "0.15.3"  # re-read the module docstring's line references on an upgrade
    assert "_filter_committable_offsets" in inspect.getsource(faust_consumer.Consumer._commit_tps)
    assert "self.seek_to_committed()" in inspect.getsource(faust_consumer.Consumer.perform_seek)
    assert "self.clear()" in inspect.getsource(queues.FlowControlEvent.resume)
    assert "self._unacked_messages" in inspect.getsource(faust_consumer.Consumer.wait_empty)


def test_a_commit_carries_our_position_not_faust_gaps_or_acks() -> None:
    app, acks = _app()
    consumer: Any = app.consumer
    tp = TP("joined", 1)
    # What the rebalance loss looked like inside Faust: 57 acked, 56 recorded as a gap, 55 never
    # processed; Faust's own bookkeeping commits 58 from that.
    consumer._committed_offset[tp] = 55
    consumer._acked[tp] = [57]
    consumer._acked_index[tp] = {57}
    consumer._gap[tp].addi(56, 58)
    acks.positions.start(tp, 55)
    acks.positions.done(tp, 57, "stage")
    committed: list[dict[TP, int]] = []

    async def broker_commit(offsets: dict[TP, int]) -> bool:
        committed.append(dict(offsets))
        return True

    async def flush() -> None:
        return None

    consumer._thread.commit = broker_commit
    consumer.assignment = lambda: {tp}
    app.producer.flush = flush  # type: ignore[method-assign]

    asyncio.run(consumer.force_commit())
    assert committed == []  # 55 and 56 are not done: nothing to commit

    acks.positions.done(tp, 55, "stage")
    acks.positions.done(tp, 56, "stage")
    asyncio.run(consumer.force_commit())
    assert committed == [{tp: 58}]
    asyncio.run(consumer.force_commit())
    assert committed == [{tp: 58}]  # nothing new


def test_acks_do_only_the_shutdown_bookkeeping_and_queues_are_not_cleared() -> None:
    app, _ = _app()
    consumer: Any = app.consumer

    class Message:
        acked = False

    message = Message()
    consumer._unacked_messages.add(message)
    assert consumer.ack(message) is True
    assert message.acked and message not in consumer._unacked_messages
    assert not consumer._acked  # no offset bookkeeping
    queue = app.FlowControlQueue(maxsize=10, clear_on_resume=True)
    queue.put_nowait("delivered")
    app.flow_control.resume()
    assert queue.qsize() == 1
