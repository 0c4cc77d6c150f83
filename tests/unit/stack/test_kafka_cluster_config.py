"""The local Kafka cluster's node configs, rendered without Java: one quorum, three distinct nodes."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from cxstream.config import Settings
from cxstream.errors import StackError
from cxstream.stack.cluster_layout import ClusterLayout
from cxstream.stack.kafka_cluster import KafkaCluster, node_specs, quorum_voters, render_node_config


def _properties(text: str) -> dict[str, str]:
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


def _configs(tmp_path: Path, base: int = 19100) -> list[dict[str, str]]:
    layout = ClusterLayout(base=base, state_dir=tmp_path / "cluster")
    specs = node_specs(layout)
    voters = quorum_voters(specs)
    return [_properties(render_node_config(spec, voters, partitions=6)) for spec in specs]


def test_three_nodes_with_distinct_ids_ports_and_folders(tmp_path: Path) -> None:
    configs = _configs(tmp_path)
    assert [c["node.id"] for c in configs] == ["1", "2", "3"]
    assert [c["listeners"] for c in configs] == [
        f"PLAINTEXT://127.0.0.1:{19100 + i},CONTROLLER://127.0.0.1:{19110 + i}" for i in range(3)
    ]
    assert [c["advertised.listeners"] for c in configs] == [f"PLAINTEXT://127.0.0.1:{19100 + i}" for i in range(3)]
    assert [c["log.dirs"] for c in configs] == [str(tmp_path / "cluster" / f"kafka-{n}" / "data") for n in (1, 2, 3)]


def test_every_node_names_the_same_three_voters(tmp_path: Path) -> None:
    voters = {c["controller.quorum.voters"] for c in _configs(tmp_path, base=20000)}
    assert voters == {"1@127.0.0.1:20010,2@127.0.0.1:20011,3@127.0.0.1:20012"}


def test_every_node_is_broker_and_controller_with_three_copies_two_in_sync(tmp_path: Path) -> None:
    for config in _configs(tmp_path):
        assert config["process.roles"] == "broker,controller"
        assert config["default.replication.factor"] == "3"
        assert config["min.insync.replicas"] == "2"
        assert config["offsets.topic.replication.factor"] == "3"
        assert config["transaction.state.log.replication.factor"] == "3"
        assert config["transaction.state.log.min.isr"] == "2"
        assert config["unclean.leader.election.enable"] == "false"
        assert config["num.partitions"] == "6"


def test_the_cluster_follows_the_port_base_and_gives_each_node_its_own_marker(tmp_path: Path) -> None:
    cluster = KafkaCluster(Settings.load({"cluster_port_base": 21000, "state_dir": tmp_path}, environ={}))
    assert cluster.bootstrap_servers == "127.0.0.1:21000,127.0.0.1:21001,127.0.0.1:21002"
    markers = [node.process.marker for node in cluster.nodes]
    assert len(set(markers)) == 3
    # A marker is matched as a substring of a command line: no node's may contain another's.
    assert not any(a in b for a in markers for b in markers if a != b)
    assert len({node.process.pid_file for node in cluster.nodes}) == 3
    assert [node.node_id for node in cluster.nodes] == [1, 2, 3]


def test_a_busy_port_names_the_setting_that_moves_the_cluster(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        # The busy port is node 2's Kafka port (base + 1).
        cluster = KafkaCluster(Settings.load({"cluster_port_base": port - 1, "state_dir": tmp_path}, environ={}))
        with pytest.raises(StackError, match=rf"node 2 cannot start: port {port} .*CXSTREAM_CLUSTER_PORT_BASE"):
            cluster.start()
    assert not (tmp_path / "cluster").exists(), "nothing is written before the ports are checked"
