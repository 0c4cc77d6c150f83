"""The local three-node Kafka cluster (KRaft): the production shape of replication on one machine.

Each node is a broker and a controller (``process.roles=broker,controller``), so the three nodes
are also the three voters of the metadata quorum and any one of them can die without the cluster
losing its metadata or its writes (replication factor 3, ``min.insync.replicas`` 2). Ports come
from :class:`~cxstream.stack.cluster_layout.ClusterLayout` (one setting,
``CXSTREAM_CLUSTER_PORT_BASE``, moves the whole cluster); node ``n`` keeps its files under
``<state_dir>/cluster/kafka-<n>``. The jars, the command line and the storage formatting are the
single broker's (``stack/kafka.py``).

A quorum of controllers needs a majority to elect a leader, so the nodes are started together and
the cluster counts as up once it reports all three brokers; a single node (``KafkaNode.start``) is
only started on its own to rejoin a running cluster, as a fault scenario does after ``kill()``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from cxstream.config import Settings, env_var
from cxstream.errors import StackError
from cxstream.logs import get_logger
from cxstream.stack.cluster_layout import BROKERS, ClusterLayout
from cxstream.stack.kafka import (
    ensure_jars,
    format_storage,
    jars_dir,
    new_cluster_id,
    render_template,
    server_argv,
    write_server_files,
)
from cxstream.stack.process import ManagedProcess, port_in_use

log = get_logger(__name__)

_TEMPLATE = "kafka-cluster.properties"
_PORT_SETTING = env_var("cluster_port_base")


@dataclass(frozen=True)
class NodeSpec:
    """Where one node listens and keeps its files: everything its ``server.properties`` says."""

    node_id: int
    port: int
    controller_port: int
    home: Path

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


def node_specs(layout: ClusterLayout) -> list[NodeSpec]:
    """The cluster's nodes, ids 1..3, on the layout's Kafka and controller ports."""
    return [
        NodeSpec(node_id=i + 1, port=port, controller_port=controller_port, home=layout.state_dir / f"kafka-{i + 1}")
        for i, (port, controller_port) in enumerate(zip(layout.kafka_ports, layout.controller_ports, strict=True))
    ]


def quorum_voters(specs: list[NodeSpec]) -> str:
    """``controller.quorum.voters``: the same line on every node, or they would not form one quorum."""
    return ",".join(f"{s.node_id}@127.0.0.1:{s.controller_port}" for s in specs)


def render_node_config(spec: NodeSpec, voters: str, partitions: int) -> str:
    """The ``server.properties`` of one node (pure, so the unit tests can check it without Java)."""
    return render_template(_TEMPLATE, node_id=spec.node_id, voters=voters, port=spec.port,
                           controller_port=spec.controller_port, data_dir=spec.data_dir, partitions=partitions)


class KafkaNode:
    """One broker+controller of the cluster, found again through its pid file and marker."""

    def __init__(self, settings: Settings, spec: NodeSpec, voters: str) -> None:
        self.settings = settings
        self.spec = spec
        self.voters = voters
        self.node_id = spec.node_id
        self.name = f"kafka-{spec.node_id}"
        self.jars_dir = jars_dir(settings)
        self.process = ManagedProcess(
            name=self.name,
            pid_file=spec.home / "kafka.pid",
            # "<id>@<home>": unique per node and per state folder, and never a substring of another
            # node's marker or of the single broker's (-Dcxstream.stack.kafka=<state>/kafka).
            marker=f"-Dcxstream.stack.kafka-node={spec.node_id}@{spec.home}",
            log_file=spec.logs_dir / "stdout.log",
        )

    @property
    def address(self) -> str:
        return self.spec.address

    def is_running(self) -> bool:
        return self.process.pid() is not None

    def describe(self) -> str:
        state = "running" if self.is_running() else "stopped"
        return f"node {self.node_id} at {self.address} ({state})"

    # --- files ------------------------------------------------------------------------------
    def write_config(self) -> Path:
        return write_server_files(self.spec.home, self.spec.logs_dir,
                                  render_node_config(self.spec, self.voters, self.settings.partitions))

    def cluster_id(self) -> str | None:
        """The cluster id this node's storage was formatted with, or None if it is not formatted."""
        try:
            text = (self.spec.data_dir / "meta.properties").read_text()
        except FileNotFoundError:
            return None
        for line in text.splitlines():
            if line.startswith("cluster.id="):
                return line.split("=", 1)[1].strip()
        return None

    def format_once(self, config: Path, cluster_id: str) -> None:
        if self.cluster_id() is not None:
            return
        format_storage(jars_dir=self.jars_dir, home=self.spec.home, logs_dir=self.spec.logs_dir,
                       data_dir=self.spec.data_dir, config=config, cluster_id=cluster_id)
        log.info("stack.kafka_cluster.formatted", node=self.node_id, cluster_id=cluster_id,
                 data_dir=str(self.spec.data_dir))

    # --- lifecycle --------------------------------------------------------------------------
    def spawn(self) -> subprocess.Popen[bytes]:
        """Start the JVM without waiting for it (the cluster waits for all nodes at once)."""
        config = self.spec.home / "server.properties"
        argv = server_argv(jars_dir=self.jars_dir, home=self.spec.home, logs_dir=self.spec.logs_dir,
                           heap=self.settings.kafka_heap, marker=self.process.marker, config=config)
        child = self.process.start(argv, cwd=self.spec.home)
        log.info("stack.kafka_cluster.node_starting", node=self.node_id, pid=child.pid, address=self.address)
        return child

    def start(self) -> bool:
        """Start this node (its storage is formatted and the others run): rejoin the cluster.

        Waits until the cluster lists it among its brokers again; True if this call started it."""
        if self.is_running():
            return False
        _require_free(self.spec)
        if self.cluster_id() is None:
            raise StackError(
                f"Kafka node {self.node_id} has no formatted storage in {self.spec.data_dir}: start the "
                "whole cluster (KafkaCluster.start, cxstream stack up --cluster) to format it"
            )
        self.write_config()
        child = self.spawn()
        bootstrap = f"127.0.0.1:{self.spec.port}"
        _wait_for_brokers(bootstrap, {self.node_id}, {self: child}, timeout=self.settings.start_timeout,
                          what=f"Kafka node {self.node_id}")
        log.info("stack.kafka_cluster.node_started", node=self.node_id, pid=child.pid)
        return True

    def stop(self) -> bool:
        """Stop gracefully (SIGTERM: the node hands its leaderships over first); True if it ran."""
        stopped = self.process.stop(timeout=30)
        if stopped:
            log.info("stack.kafka_cluster.node_stopped", node=self.node_id)
        return stopped

    def kill(self) -> bool:
        """SIGKILL, for fault scenarios: no controlled shutdown, no flush. True if it ran."""
        pid = self.process.pid()
        if pid is None:
            return False
        _signal(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while self.process.pid() is not None:
            if time.monotonic() > deadline:
                raise StackError(f"Kafka node {self.node_id} (pid {pid}) did not die within 30 s of SIGKILL")
            time.sleep(0.1)  # pid() reaps it once it is a zombie of ours
        self.process.pid_file.unlink(missing_ok=True)
        log.info("stack.kafka_cluster.node_killed", node=self.node_id, pid=pid)
        return True


class KafkaCluster:
    """Three KRaft broker+controller nodes on 127.0.0.1, files under ``<state_dir>/cluster``."""

    name = "kafka-cluster"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.layout = ClusterLayout.of(settings)
        specs = node_specs(self.layout)
        voters = quorum_voters(specs)
        self.nodes: list[KafkaNode] = [KafkaNode(settings, spec, voters) for spec in specs]

    @property
    def bootstrap_servers(self) -> str:
        return self.layout.bootstrap_servers

    def node(self, node_id: int) -> KafkaNode:
        """The node with ``node_id`` (1..3)."""
        return self.nodes[node_id - 1]

    def is_running(self) -> bool:
        return all(node.is_running() for node in self.nodes)

    def describe(self) -> str:
        running = sum(node.is_running() for node in self.nodes)
        return (f"Kafka {self.settings.kafka_version} cluster (KRaft, {BROKERS} brokers, {running} running) at "
                f"{self.bootstrap_servers}, files in {self.layout.state_dir}/kafka-<n>")

    def start(self) -> bool:
        """Start the nodes that are not running, together, and wait until the cluster has all three
        brokers registered; True if this call started any."""
        missing = [node for node in self.nodes if not node.is_running()]
        if not missing:
            return False
        for node in missing:
            _require_free(node.spec)
        ensure_jars(self.settings)
        configs = {node: node.write_config() for node in self.nodes}
        cluster_id = self._cluster_id()
        for node in self.nodes:
            node.format_once(configs[node], cluster_id)
        children: dict[KafkaNode, subprocess.Popen[bytes]] = {}
        try:
            for node in missing:
                children[node] = node.spawn()
            _wait_for_brokers(self.bootstrap_servers, {n.node_id for n in self.nodes}, children,
                              timeout=self.settings.start_timeout, what="the Kafka cluster")
        except BaseException:
            # Leave no half-started cluster behind: stop what this call started.
            for node in children:
                node.stop()
            raise
        log.info("stack.kafka_cluster.started", nodes=[n.node_id for n in missing], bootstrap=self.bootstrap_servers)
        return True

    def stop(self) -> bool:
        """Stop every node of ours that runs (in parallel: each hands over its leaderships on
        SIGTERM, which takes longest for the last one); True if any ran."""
        running = {node: pid for node in self.nodes if (pid := node.process.pid()) is not None}
        for pid in running.values():
            _signal(pid, signal.SIGTERM)
        for node in running:
            node.process.stop(timeout=30)  # waits for it (SIGKILL after 30 s); at once if it is gone
            log.info("stack.kafka_cluster.node_stopped", node=node.node_id)
        if running:
            log.info("stack.kafka_cluster.stopped", nodes=[n.node_id for n in running])
        return bool(running)

    def _cluster_id(self) -> str:
        """The id of an already formatted node (a node whose storage was lost rejoins the same
        cluster), or a new one. Nodes formatted for different clusters are an error."""
        ids = {cluster_id for node in self.nodes if (cluster_id := node.cluster_id()) is not None}
        if len(ids) > 1:
            raise StackError(
                f"the Kafka cluster's nodes were formatted for different clusters ({', '.join(sorted(ids))}); "
                f"stop the cluster and delete {self.layout.state_dir}/kafka-* to start it afresh"
            )
        return ids.pop() if ids else new_cluster_id()


def _require_free(spec: NodeSpec) -> None:
    for port in (spec.port, spec.controller_port):
        if port_in_use(port):
            raise StackError(
                f"Kafka cluster node {spec.node_id} cannot start: port {port} on 127.0.0.1 is already in use by "
                f"another process; stop that process or move the whole cluster with {_PORT_SETTING} "
                "(Kafka uses base+0..2, its controllers base+10..12)"
            )


def _wait_for_brokers(bootstrap: str, node_ids: set[int], children: dict[KafkaNode, subprocess.Popen[bytes]], *,
                      timeout: float, what: str) -> None:
    """Wait until the cluster at ``bootstrap`` lists every broker of ``node_ids``; fail with a
    node's log tail if its JVM exits, or with every starting node's if time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if node_ids <= _registered_brokers(bootstrap):
            return
        for node, child in children.items():
            code = child.poll()
            if code is not None:
                node.process.pid_file.unlink(missing_ok=True)
                raise StackError(
                    f"Kafka cluster node {node.node_id} exited during start-up (exit code {code}); last lines of "
                    f"{node.process.log_file}:\n{node.process.log_tail()}"
                )
        time.sleep(0.5)
    tails = "\n".join(f"node {n.node_id} ({n.process.log_file}):\n{n.process.log_tail(8)}" for n in children)
    raise StackError(
        f"{what} did not report brokers {sorted(node_ids)} within {timeout:.0f}s (raise "
        f"{env_var('start_timeout')} if the machine is slow); last log lines:\n{tails}"
    )


def _registered_brokers(bootstrap: str) -> set[int]:
    """The broker ids the cluster's metadata lists (empty while no node answers)."""
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

    ports = [int(address.rsplit(":", 1)[1]) for address in bootstrap.split(",")]
    # Probe the sockets first: kafka-python's own reconnect backoff would add seconds.
    if not any(port_in_use(port) for port in ports):
        return set()
    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000, client_id="cxstream-stack-probe")
    except (KafkaError, OSError, ValueError):
        return set()
    try:
        return {int(broker["broker_id"]) for broker in admin.describe_cluster()["brokers"]}
    except (KafkaError, OSError):
        return set()
    finally:
        admin.close()


def _signal(pid: int, sig: signal.Signals) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:  # it exited in between: nothing left to signal
        pass
