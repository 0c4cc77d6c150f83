"""A stage: one agent's logic, built from what it is given, so it runs with or without Faust.

A stage gets its settings, its topics (anything with ``send`` and ``get_topic_name``: Faust topics
in the worker, recording ones in tests) and its tables (any MutableMapping: Faust tables in the
worker, dicts in tests), and handles one message at a time. :func:`attach` is the only place that
knows Faust: it declares the stage's tables and source channel and runs ``handle`` on every event
through the commit bookkeeping (streams/acking.py). Tests build stages the way Faust's
``test_context()`` or Quix Streams' ``app_factory`` do, and feed them messages (tests/support/pipeline.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, MutableMapping
from typing import Any, ClassVar, Protocol

#: Milliseconds since the epoch; stages read time through one of these so tests can set it.
Clock = Callable[[], int]


def wall_clock_ms() -> int:
    return int(time.time() * 1000)


class Sendable(Protocol):
    """What a stage needs of a topic."""

    async def send(self, *, key: Any = None, value: Any = None, partition: int | None = None,
                   headers: Any = None) -> Any: ...

    def get_topic_name(self) -> str: ...


class Stage:
    """Base of the four stages: a name, the tables it declares, the topics it reads."""

    #: The agent's name (``cxstream.<name>``) and the stage's name in the commit bookkeeping.
    name: ClassVar[str]
    #: The tables the stage keeps, by Faust table name (the changelog topic is named after it).
    table_names: ClassVar[tuple[str, ...]]

    def sources(self) -> tuple[str, ...]:
        """Names of the topics this stage consumes."""
        raise NotImplementedError

    async def handle(self, message: Any) -> None:
        """Process one consumed message (``topic``, ``partition``, ``offset``, ``key``, ``value``,
        ``headers``). Bad input is data; anything raised here is a bug and stops the worker."""
        raise NotImplementedError

    def on_assigned(self, partitions: set[int]) -> None:
        """These partitions were (re)assigned to this worker: forget what is known of them."""


Tables = dict[str, MutableMapping[str, Any]]


def faust_tables(app: Any, names: tuple[str, ...], partitions: int, options: dict[str, int]) -> Tables:
    """Faust tables named ``names`` (changelogged, RocksDB per partition with ``options``)."""
    return {name: app.Table(name, partitions=partitions, options=options) for name in names}


def attach(app: Any, acks: Any, stage: Stage) -> None:
    """Run ``stage`` as a Faust agent over its sources, each event held for confirmation."""
    from cxstream.streams.acking import consume

    channel = app.topic(*stage.sources(), key_type=bytes, value_type=bytes)
    acks.register(stage.name, channel)

    async def agent(stream: Any) -> None:
        await consume(stream, acks, stage.handle, stage.name)

    app.agent(channel, name=f"cxstream.{stage.name}")(agent)
