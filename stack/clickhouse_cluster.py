"""The local ClickHouse cluster: ZooKeeper and two replicas of one shard, for failover tests.

Each replica is an ordinary :class:`ClickHouseServer` (same binary, same users.xml) with its own
ports and folder from :class:`ClusterLayout`, plus ZooKeeper, its macros (``{shard}``,
``{replica}``, which sinks/migrate.py puts into the Replicated tables' ZooKeeper paths) and the
cluster's ``remote_servers`` entry (stack/clickhouse-replica.xml). The tables replicate only once
migrated in cluster mode (``clickhouse_cluster`` set: ``cxstream db migrate`` or the sink at start).
"""

from __future__ import annotations

import dataclasses
import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from string import Template
from xml.sax.saxutils import escape

from cxstream.config import Settings, env_var
from cxstream.logs import get_logger
from cxstream.stack.clickhouse import ClickHouseServer
from cxstream.stack.cluster_layout import CLUSTER_NAME, REPLICAS, ClusterLayout
from cxstream.stack.zookeeper import ZooKeeperServer

log = get_logger(__name__)


class Replica(ClickHouseServer):
    """One replica of the local cluster: a ClickHouse server that a scenario may also SIGKILL.

    Its ``settings`` point at it alone (``clickhouse_port`` is its port, no other replicas), so a
    client made from them reaches this replica and never fails over to the other.
    """

    def __init__(self, settings: Settings, number: int) -> None:
        layout = ClusterLayout.of(settings)
        index = number - 1
        own = dataclasses.replace(settings, clickhouse_host="127.0.0.1", clickhouse_port=layout.clickhouse_ports[index],
                                  clickhouse_http_port=layout.clickhouse_http_ports[index], clickhouse_replicas="")
        super().__init__(
            own,
            home=layout.state_dir / f"clickhouse-{number}",
            extra_config=replica_config(settings, layout, number),
            name=f"clickhouse-{number}",
            port_setting=f"{env_var('cluster_port_base')} (replica {number})",
        )
        self.number = number
        self.interserver_port = layout.interserver_ports[index]

    def _extra_ports(self) -> dict[str, int]:
        return {f"{self.port_setting} (replication)": self.interserver_port}

    @property
    def port(self) -> int:
        """The replica's native-protocol port."""
        return self.settings.clickhouse_port

    def kill(self) -> bool:
        """SIGKILL, for failure scenarios: no shutdown, whatever was in flight is cut off.
        True if it was running."""
        pid = self.process.pid()
        if pid is None:
            return False
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        while self.process.pid() is not None:  # gone, or a zombie (reaped there)
            time.sleep(0.05)
        self.process.pid_file.unlink(missing_ok=True)
        log.info("stack.clickhouse.killed", server=self.name, pid=pid)
        return True


def replica_config(settings: Settings, layout: ClusterLayout, number: int) -> str:
    """The config.xml elements that make server ``number`` (1-based) a replica of the cluster."""
    replicas = "\n".join(
        "                <replica>\n"
        "                    <host>127.0.0.1</host>\n"
        f"                    <port>{port}</port>\n"
        f"                    <user>{escape(settings.clickhouse_user)}</user>\n"
        f"                    <password>{escape(settings.clickhouse_password)}</password>\n"
        "                </replica>"
        for port in layout.clickhouse_ports
    )
    template = Template(resources.files("cxstream.stack").joinpath("clickhouse-replica.xml").read_text())
    return template.substitute(
        zookeeper_port=layout.zookeeper_port,
        replica_name=f"replica-{number}",
        interserver_port=layout.interserver_ports[number - 1],
        cluster_name=CLUSTER_NAME,
        replicas=replicas,
    )


class ClickHouseCluster:
    """ZooKeeper plus ``REPLICAS`` ClickHouse replicas of one shard, under ``<state_dir>/cluster``."""

    name = "clickhouse-cluster"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.layout = ClusterLayout.of(settings)
        self.zookeeper = ZooKeeperServer(settings)
        self.replicas: list[Replica] = [Replica(settings, number) for number in range(1, REPLICAS + 1)]

    def describe(self) -> str:
        servers = ", ".join(f"replica {r.number} at {r.address}" for r in self.replicas)
        return f"ClickHouse cluster {CLUSTER_NAME!r}: {servers}; {self.zookeeper.describe()}"

    def is_running(self) -> bool:
        """True while ZooKeeper and every replica run."""
        return self.zookeeper.is_running() and all(r.is_running() for r in self.replicas)

    def start(self) -> bool:
        """Start ZooKeeper, then the replicas side by side (each loads its tables and meets
        ZooKeeper on start); True if this call started any of them."""
        # Installed once, before the replicas start side by side: two apt-get runs at once would
        # fight over dpkg's lock on a fresh machine.
        self.replicas[0].ensure_installed()
        started_zookeeper = self.zookeeper.start()
        running_before = [replica.is_running() for replica in self.replicas]
        try:
            with ThreadPoolExecutor(max_workers=len(self.replicas)) as pool:
                results = list(pool.map(lambda replica: replica.start(), self.replicas))
        except BaseException:
            # Leave nothing half-up that this call started: a replica that failed, its sibling
            # that came up, and ZooKeeper.
            for replica, was_running in zip(self.replicas, running_before, strict=True):
                if not was_running:
                    replica.stop()
            if started_zookeeper:
                self.zookeeper.stop()
            raise
        return started_zookeeper or any(results)

    def stop(self) -> bool:
        """Stop the replicas, then ZooKeeper (a replica stopping without it logs errors but stops);
        True if any of them was running."""
        with ThreadPoolExecutor(max_workers=len(self.replicas)) as pool:
            stopped = list(pool.map(lambda replica: replica.stop(), self.replicas))
        return self.zookeeper.stop() or any(stopped)
