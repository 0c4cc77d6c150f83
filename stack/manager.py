"""``up``, ``down`` and ``status`` over the stack's two servers, and over the local cluster.

``up`` is idempotent and reports what it started, so a caller (the test suite) can stop exactly
that and leave alone a stack somebody else brought up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from cxstream.config import Settings
from cxstream.logs import get_logger
from cxstream.stack.clickhouse import ClickHouseServer
from cxstream.stack.cluster_layout import ClusterLayout
from cxstream.stack.kafka import KafkaBroker
from cxstream.topics import ensure_topics

log = get_logger(__name__)


@dataclass
class StackStatus:
    """What runs, where, and (after ``up``) what this call started."""

    running: dict[str, bool]
    where: dict[str, str]
    started: list[str] = field(default_factory=list)
    topics: dict[str, int] = field(default_factory=dict)
    clickhouse_version: str | None = None

    @property
    def all_running(self) -> bool:
        return all(self.running.values())


class Server(Protocol):
    """What the stack needs of a server (or a group of them): a name, start, stop, and where it is."""

    name: str

    def start(self) -> bool: ...

    def stop(self) -> bool: ...

    def is_running(self) -> bool: ...

    def describe(self) -> str: ...


class _Servers:
    """``up``, ``down`` and ``status`` over a Kafka part and a ClickHouse part, creating the topics
    with ``topic_settings``."""

    kafka: Server
    clickhouse: Server
    topic_settings: Settings

    def up(self) -> StackStatus:
        """Install what is missing, start what is not running, create the topics."""
        started = []
        if self.kafka.start():
            started.append(self.kafka.name)
        try:
            if self.clickhouse.start():
                started.append(self.clickhouse.name)
            topics = ensure_topics(self.topic_settings)
        except BaseException:
            # Leave nothing half-up that this call started, and nothing else stopped: servers that
            # were already running stay up when creating the topics fails.
            if started:
                self.down(started)
            raise
        status = self.status()
        status.started = started
        status.topics = topics
        return status

    def down(self, components: list[str] | None = None) -> list[str]:
        """Stop the given components (None: all) if ours run; return those stopped."""
        wanted = [self.clickhouse.name, self.kafka.name] if components is None else components
        return [server.name for server in (self.clickhouse, self.kafka)
                if server.name in wanted and server.stop()]

    def status(self) -> StackStatus:
        return StackStatus(
            running={s.name: s.is_running() for s in (self.kafka, self.clickhouse)},
            where={s.name: s.describe() for s in (self.kafka, self.clickhouse)},
        )


class Stack(_Servers):
    """The local Kafka broker and ClickHouse server of one state folder."""

    def __init__(self, settings: Settings) -> None:
        self.settings = self.topic_settings = settings
        self.kafka: KafkaBroker = KafkaBroker(settings)
        self.clickhouse: ClickHouseServer = ClickHouseServer(settings)

    def status(self) -> StackStatus:
        status = super().status()
        status.clickhouse_version = self.clickhouse.version() if self.clickhouse.is_running() else None
        return status


class ClusterStack(_Servers):
    """The local cluster (``cxstream stack up --cluster``): three Kafka brokers, ZooKeeper and two
    ClickHouse replicas, on the ports of :class:`~cxstream.stack.cluster_layout.ClusterLayout`.

    It runs beside the one-broker stack (other ports, its own folder), so a developer can keep both.
    """

    def __init__(self, settings: Settings) -> None:
        from cxstream.stack.clickhouse_cluster import ClickHouseCluster
        from cxstream.stack.kafka_cluster import KafkaCluster

        self.settings = settings
        self.layout = ClusterLayout.of(settings)
        self.client_settings = self.topic_settings = self.layout.client_settings(settings)
        self.kafka: KafkaCluster = KafkaCluster(settings)
        self.clickhouse: ClickHouseCluster = ClickHouseCluster(settings)
