"""A standalone ZooKeeper server for the local ClickHouse cluster's replicas.

ClickHouse 18.16 (Debian's package) coordinates Replicated*MergeTree tables through ZooKeeper only
(ClickHouse Keeper came years later). The Kafka jar cache already holds ZooKeeper 3.8.4 and its
logging jars (Kafka 3.9's own dependencies), so the server runs from those: nothing more to fetch.
One standalone server is enough locally (a scenario stops it to show the sink waits for it; a
quorum of three would triple its cost on a two-core machine); production runs three.
"""

from __future__ import annotations

import socket
from importlib import resources

from cxstream.config import Settings, env_var
from cxstream.logs import get_logger
from cxstream.stack.cluster_layout import ClusterLayout
from cxstream.stack.kafka import KafkaBroker
from cxstream.stack.process import ManagedProcess, require_free_ports, wait_until

log = get_logger(__name__)

_MAIN_CLASS = "org.apache.zookeeper.server.ZooKeeperServerMain"


class ZooKeeperServer:
    """ZooKeeper on 127.0.0.1:<cluster_port_base + 20>, its files under ``<state_dir>/cluster/zookeeper``."""

    name = "zookeeper"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        layout = ClusterLayout.of(settings)
        self.port = layout.zookeeper_port
        self.home = layout.state_dir / "zookeeper"
        self.data_dir = self.home / "data"
        self.logs_dir = self.home / "logs"
        self.config_file = self.home / "zoo.cfg"
        self.process = ManagedProcess(
            name="zookeeper",
            pid_file=self.home / "zookeeper.pid",
            # The config path is this clone's and this cluster's own: another clone's ZooKeeper is not ours.
            marker=f"-Dcxstream.zookeeper={self.config_file}",
            log_file=self.logs_dir / "stdout.log",
        )

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def describe(self) -> str:
        return f"ZooKeeper at {self.address}, logs in {self.logs_dir}"

    def is_running(self) -> bool:
        return self.process.pid() is not None

    def start(self) -> bool:
        """Start ZooKeeper unless ours already runs; True if this call started it."""
        if self.is_running():
            return False
        require_free_ports("ZooKeeper", {f"{env_var('cluster_port_base')} (+20)": self.port})
        KafkaBroker(self.settings).ensure_installed()  # Java, and the jar cache ZooKeeper's jars are in
        libs = self.settings.cache_dir.expanduser().resolve() / f"kafka-{self.settings.kafka_version}" / "libs"
        self._write_config()
        argv = [
            "java", "-Xmx128m", "-Xms64m", "-XX:+UseSerialGC", "-Djava.awt.headless=true",
            # kafka-log4j.properties writes to ${kafka.logs.dir}/server.log.
            f"-Dkafka.logs.dir={self.logs_dir}",
            f"-Dlog4j.configuration=file:{self.home / 'log4j.properties'}",
            "-Dzookeeper.admin.enableServer=false",
            self.process.marker,
            "-cp", f"{libs}/*", _MAIN_CLASS, str(self.config_file),
        ]
        child = self.process.start(argv, cwd=self.home)
        log.info("stack.zookeeper.starting", pid=child.pid, address=self.address)
        wait_until(self.answers, timeout=self.settings.start_timeout, what="ZooKeeper",
                   process=self.process, child=child)
        log.info("stack.zookeeper.started", pid=child.pid, address=self.address)
        return True

    def stop(self) -> bool:
        stopped = self.process.stop(timeout=20)
        if stopped:
            log.info("stack.zookeeper.stopped")
        return stopped

    def answers(self) -> bool:
        """True once the server says it serves (``srvr`` names its mode; ``ruok`` answers ``imok``
        even before it has loaded its data)."""
        reply = four_letter_word("127.0.0.1", self.port, "srvr")
        return reply is not None and "Mode: standalone" in reply

    def _write_config(self) -> None:
        for folder in (self.data_dir, self.logs_dir):
            folder.mkdir(parents=True, exist_ok=True)
        # The broker's log4j configuration: one rolling file, ${kafka.logs.dir}/server.log.
        log4j = resources.files("cxstream.stack").joinpath("kafka-log4j.properties").read_text()
        (self.home / "log4j.properties").write_text(log4j)
        self.config_file.write_text(
            "# Written by cxstream.stack.zookeeper at every start: edits are lost.\n"
            "tickTime=2000\n"
            "initLimit=10\n"
            "syncLimit=5\n"
            f"dataDir={self.data_dir}\n"
            f"clientPort={self.port}\n"
            "clientPortAddress=127.0.0.1\n"
            "maxClientCnxns=100\n"
            "admin.enableServer=false\n"
            "4lw.commands.whitelist=ruok,srvr\n"
            # Old snapshots and logs removed hourly: a long-lived local cluster keeps three.
            "autopurge.snapRetainCount=3\n"
            "autopurge.purgeInterval=1\n"
        )


def four_letter_word(host: str, port: int, word: str, timeout: float = 2.0) -> str | None:
    """ZooKeeper's answer to a four-letter command, or None when nothing answers."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(word.encode())
            chunks = []
            while chunk := sock.recv(4096):
                chunks.append(chunk)
    except OSError:
        return None
    return b"".join(chunks).decode(errors="replace")
