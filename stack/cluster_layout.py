"""Where the local cluster (``cxstream stack up --cluster``) listens, and how a client reaches it.

One setting, ``cluster_port_base``, places every server of the cluster, so a test run or a second
clone moves the whole cluster by changing one number:

=========================  ==================
server                     port
=========================  ==================
Kafka brokers 1, 2, 3      base + 0, 1, 2
their KRaft controllers    base + 10, 11, 12
ZooKeeper                  base + 20
ClickHouse replicas 1, 2   base + 30, 31 (native), 40, 41 (HTTP), 50, 51 (replication)
=========================  ==================
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from cxstream.config import Settings, env_var

#: The name of the local ClickHouse cluster in the replicas' ``remote_servers``.
CLUSTER_NAME = "cxstream"
BROKERS = 3
REPLICAS = 2
#: The settings that point a client at the cluster (what ``client_settings`` sets).
CLIENT_SETTINGS = ("kafka_bootstrap", "clickhouse_host", "clickhouse_port", "clickhouse_replicas",
                   "clickhouse_cluster", "topic_replication_factor", "topic_min_insync_replicas")


@dataclass(frozen=True)
class ClusterLayout:
    """Ports and folders of the local cluster, from ``cluster_port_base`` and ``state_dir``."""

    base: int
    state_dir: Path

    @classmethod
    def of(cls, settings: Settings) -> ClusterLayout:
        return cls(base=settings.cluster_port_base, state_dir=settings.state_dir.resolve() / "cluster")

    @property
    def kafka_ports(self) -> list[int]:
        return [self.base + i for i in range(BROKERS)]

    @property
    def controller_ports(self) -> list[int]:
        return [self.base + 10 + i for i in range(BROKERS)]

    @property
    def zookeeper_port(self) -> int:
        return self.base + 20

    @property
    def clickhouse_ports(self) -> list[int]:
        return [self.base + 30 + i for i in range(REPLICAS)]

    @property
    def clickhouse_http_ports(self) -> list[int]:
        return [self.base + 40 + i for i in range(REPLICAS)]

    @property
    def interserver_ports(self) -> list[int]:
        return [self.base + 50 + i for i in range(REPLICAS)]

    @property
    def bootstrap_servers(self) -> str:
        return ",".join(f"127.0.0.1:{port}" for port in self.kafka_ports)

    def client_settings(self, settings: Settings) -> Settings:
        """``settings`` pointed at the local cluster: every broker, the first replica with the second
        to fail over to, three copies of every topic of which two must have each write."""
        return dataclasses.replace(  # the names in CLIENT_SETTINGS
            settings,
            kafka_bootstrap=self.bootstrap_servers,
            clickhouse_host="127.0.0.1",
            clickhouse_port=self.clickhouse_ports[0],
            clickhouse_replicas=",".join(f"127.0.0.1:{port}" for port in self.clickhouse_ports[1:]),
            clickhouse_cluster=CLUSTER_NAME,
            topic_replication_factor=BROKERS,
            topic_min_insync_replicas=2,
        )

    def client_environment(self, settings: Settings) -> dict[str, str]:
        """The ``CXSTREAM_*`` variables that point cxstream's commands at the local cluster: the
        settings :meth:`client_settings` changes, as ``export`` lines would set them."""
        pointed = self.client_settings(settings)
        return {env_var(name): str(getattr(pointed, name)) for name in CLIENT_SETTINGS}
