"""docker-compose.yml: the production-style stack is well-formed and speaks our settings.

No Docker engine runs here; the file is checked structurally always (the single-node services
and the `cluster` profile's, with the config files the cluster mounts), and with a Compose
implementation's own `config` validation when one is installed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml

from cxstream.config import Settings, setting_fields

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yml"
CLUSTER = "cluster"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict)
    return data


def _profile_services(compose: dict[str, Any], profile: str | None) -> dict[str, dict[str, Any]]:
    """Services of ``profile`` (None: the ones without a profile, always on)."""
    return {name: s for name, s in compose["services"].items()
            if (profile in s.get("profiles", []) if profile else not s.get("profiles"))}


def _by_image(services: dict[str, dict[str, Any]], image: str) -> dict[str, dict[str, Any]]:
    return {name: s for name, s in services.items() if str(s.get("image", "")).split(":")[0] == image}


def _mounted_xml(service: dict[str, Any]) -> list[ET.Element]:
    """The repository's config files a service mounts (``./path:/in/container``), parsed."""
    return [ET.parse(REPO / str(v).split(":")[0]).getroot()
            for v in service.get("volumes", []) if str(v).startswith("./") and str(v).split(":")[0].endswith(".xml")]


def _find(roots: list[ET.Element], path: str) -> list[ET.Element]:
    return [element for root in roots for element in root.findall(path)]


def _defaults_filled(env: dict[str, Any]) -> dict[str, str]:
    # Compose fills ${NAME:-default} with the default when NAME is unset, as here.
    return {k: re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", str(v)) for k, v in env.items()}


def test_stack_has_kafka_in_kraft_mode_clickhouse_and_the_worker(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"kafka", "clickhouse", "worker"} <= set(services)
    kafka_env = services["kafka"]["environment"]
    assert kafka_env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert not any("zookeeper" in name.lower() for name in services)
    for kafka in _by_image(services, "apache/kafka").values():
        assert not any("ZOOKEEPER" in key for key in kafka["environment"])
    assert services["worker"]["command"][:2] == ["cxstream", "worker"]


def test_every_broker_keeps_its_log_in_its_volume(compose: dict[str, Any]) -> None:
    """The apache/kafka image writes to /tmp/kraft-combined-logs unless KAFKA_LOG_DIRS says
    otherwise: a volume mounted anywhere else keeps nothing across a recreated container."""
    for name, kafka in _by_image(compose["services"], "apache/kafka").items():
        mounted = {str(v).split(":")[1] for v in kafka.get("volumes", []) if not str(v).startswith("./")}
        assert kafka["environment"].get("KAFKA_LOG_DIRS") in mounted, f"{name}: its log is not in a volume"


def test_published_ports_are_bound_to_loopback(compose: dict[str, Any]) -> None:
    assert _profile_services(compose, CLUSTER), "the cluster profile's services are checked too"
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"


def test_the_single_node_and_the_cluster_publish_different_host_ports(compose: dict[str, Any]) -> None:
    # `--profile cluster up` starts the services without a profile as well: both must fit on one host.
    published = [str(p).split(":")[1] for s in compose["services"].values() for p in s.get("ports", [])]
    assert len(published) == len(set(published))


def _cxstream_services(compose: dict[str, Any]) -> list[str]:
    return [name for name, s in compose["services"].items()
            if any(str(k).startswith("CXSTREAM_") for k in (s.get("environment") or {}))
            and str(s.get("image", "")).startswith("cxstream:")]


def test_the_cxstream_services_of_both_stacks_are_checked(compose: dict[str, Any]) -> None:
    checked = set(_cxstream_services(compose))
    assert {"worker", "topics", "gateway", "bi-user"} <= checked
    assert {"worker-1", "worker-2", "cluster-topics", "cluster-db"} <= checked


@pytest.mark.parametrize("name", _cxstream_services(yaml.safe_load(COMPOSE.read_text())))
def test_every_cxstream_variable_is_a_real_and_valid_setting(compose: dict[str, Any], name: str) -> None:
    known = {"CXSTREAM_" + f.name.upper() for f in setting_fields()}
    service = compose["services"][name]
    env = _defaults_filled(service["environment"])
    unknown = {k for k in env if k.startswith("CXSTREAM_")} - known
    assert not unknown, f"{name} sets variables cxstream does not read: {unknown}"
    settings = Settings.load(environ=env)
    if CLUSTER in service.get("profiles", []):
        assert settings.bootstrap_servers == "kafka-1:29092,kafka-2:29092,kafka-3:29092"
        assert (settings.topic_replication_factor, settings.topic_min_insync_replicas) == (3, 2)
        assert settings.clickhouse_cluster == "cxstream"
    else:
        assert settings.bootstrap_servers == "kafka:29092"
        assert (settings.topic_replication_factor, settings.topic_min_insync_replicas) == (1, 1)
        assert (settings.clickhouse_cluster, settings.clickhouse_replicas) == ("", "")


# --- the `cluster` profile, from the YAML and the files it mounts (no Compose needed) -------------

def test_the_cluster_profile_leaves_the_single_node_stack_alone(compose: dict[str, Any]) -> None:
    single = _profile_services(compose, None)
    assert {"kafka", "clickhouse", "topics", "worker", "gateway", "bi-user", "grafana"} <= set(single)
    cluster = _profile_services(compose, CLUSTER)
    assert set(single) | set(cluster) == set(compose["services"])
    for name, service in cluster.items():
        assert service["profiles"] == [CLUSTER], name
        # Nothing of the cluster waits on a single-node service (it would start that stack too).
        assert set(service.get("depends_on", {})) <= set(cluster), name


def test_cluster_has_three_kraft_brokers_whose_quorum_voters_are_their_node_ids(compose: dict[str, Any]) -> None:
    brokers = _by_image(_profile_services(compose, CLUSTER), "apache/kafka")
    assert len(brokers) == 3
    assert {b["image"] for b in brokers.values()} == {compose["services"]["kafka"]["image"]}
    envs = {name: {k: str(v) for k, v in b["environment"].items()} for name, b in brokers.items()}
    nodes = {int(env["KAFKA_NODE_ID"]): name for name, env in envs.items()}
    assert sorted(nodes) == [1, 2, 3]
    for name, env in envs.items():
        assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
        listeners = dict(listener.split("://") for listener in env["KAFKA_LISTENERS"].split(","))
        controller_port = listeners[env["KAFKA_CONTROLLER_LISTENER_NAMES"]].rsplit(":", 1)[1]
        voters = dict(v.split("@") for v in env["KAFKA_CONTROLLER_QUORUM_VOTERS"].split(","))
        assert voters == {str(i): f"{nodes[i]}:{controller_port}" for i in nodes}, name
        assert compose["services"][name].get("hostname", name) == name
        assert f"INTERNAL://{name}:" in env["KAFKA_ADVERTISED_LISTENERS"]
        assert env["KAFKA_DEFAULT_REPLICATION_FACTOR"] == "3"
        assert env["KAFKA_MIN_INSYNC_REPLICAS"] == "2"
        assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "3"
        assert env["KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"] == "3"
        assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    # One cluster id for all (each formats its storage with it); each its own data volume.
    assert len({env["CLUSTER_ID"] for env in envs.values()}) == 1
    data = [v for b in brokers.values() for v in b["volumes"]]
    assert len({v.split(":")[0] for v in data}) == 3


def test_cluster_has_two_clickhouse_replicas_of_one_shard_with_keeper(compose: dict[str, Any]) -> None:
    cluster = _profile_services(compose, CLUSTER)
    replicas = _by_image(cluster, "clickhouse/clickhouse-server")
    keepers = _by_image(cluster, "clickhouse/clickhouse-keeper")
    assert len(replicas) == 2 and len(keepers) == 1
    (keeper_name, keeper), = keepers.items()
    server_image = compose["services"]["clickhouse"]["image"]
    assert {r["image"] for r in replicas.values()} == {server_image}
    assert keeper["image"].split(":")[1] == server_image.split(":")[1], "Keeper and server of one release"

    keeper_config = _mounted_xml(keeper)
    assert keeper_config, "keeper mounts its config from stack/compose/"
    keeper_port = _find(keeper_config, "keeper_server/tcp_port")[0].text
    raft = _find(keeper_config, "keeper_server/raft_configuration/server")
    assert [s.findtext("hostname") for s in raft] == [keeper_name]
    assert _find(keeper_config, "keeper_server/server_id")[0].text == raft[0].findtext("id")

    macros = {}
    for name, replica in replicas.items():
        config = _mounted_xml(replica)
        assert replica.get("hostname", name) == name
        assert [m.text for m in _find(config, "interserver_http_host")] == [name]
        macros[name] = {m.tag: m.text for m in _find(config, "macros/*")}
        zookeeper = [(n.findtext("host"), n.findtext("port")) for n in _find(config, "zookeeper/node")]
        assert zookeeper == [(keeper_name, keeper_port)], f"{name} coordinates through the keeper"
        assert keeper_name in replica["depends_on"]
        shards = _find(config, "remote_servers/cxstream/shard")
        assert len(shards) == 1
        hosts = {r.findtext("host") for r in shards[0].findall("replica")}
        assert hosts == set(replicas), f"{name}'s cluster `cxstream` lists both replicas"
        assert shards[0].findtext("internal_replication") == "true"
    assert len({m["shard"] for m in macros.values()}) == 1, "one shard"
    assert len({m["replica"] for m in macros.values()}) == 2, "a replica macro of its own each"


def test_cluster_workers_point_at_every_broker_and_both_replicas(compose: dict[str, Any]) -> None:
    cluster = _profile_services(compose, CLUSTER)
    brokers = _by_image(cluster, "apache/kafka")
    replicas = _by_image(cluster, "clickhouse/clickhouse-server")
    workers = {name: s for name, s in cluster.items() if s.get("command", [])[:2] == ["cxstream", "worker"]}
    assert len(workers) == 2
    app_ids = set()
    for name, worker in workers.items():
        settings = Settings.load(environ=_defaults_filled(worker["environment"]))
        app_ids.add(settings.worker_id)
        bootstrap = {server.split(":")[0] for server in settings.bootstrap_servers.split(",")}
        assert bootstrap == set(brokers), name
        clickhouse = {settings.clickhouse_host} | {r.split(":")[0] for r in settings.clickhouse_replicas.split(",")}
        assert clickhouse == set(replicas), name
        assert settings.clickhouse_cluster == "cxstream"
        assert len(set(worker.get("ports", [])) & {p for w in workers.values() if w is not worker
                                                   for p in w.get("ports", [])}) == 0
    assert len(app_ids) == 1, "the same app id: one consumer group sharing the partitions"
    topics = cluster["cluster-topics"]
    assert topics["command"] == ["cxstream", "topics", "ensure"]
    assert set(topics["depends_on"]) == set(brokers)


def test_every_file_the_stack_mounts_is_in_the_repository(compose: dict[str, Any]) -> None:
    mounted = [str(v).split(":")[0] for s in compose["services"].values() for v in s.get("volumes", [])
               if str(v).startswith("./")]
    assert any(m.startswith("./stack/compose/") for m in mounted)
    assert [m for m in mounted if not (REPO / m).exists()] == []


# --- Compose's own validation ---------------------------------------------------------------------

def _compose_command() -> list[str] | None:
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


@pytest.mark.skipif(_compose_command() is None, reason="no Compose implementation installed (docker compose or docker-compose)")
@pytest.mark.parametrize("profile", [[], ["--profile", CLUSTER]], ids=["single-node", "cluster"])
def test_compose_config_validates_the_file(compose: dict[str, Any], profile: list[str]) -> None:
    command = _compose_command()
    assert command is not None
    base = [*command, *profile, "-f", str(COMPOSE), "config"]
    result = subprocess.run([*base, "-q"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    # What Compose resolved (anchors merged, variables filled) holds what the YAML checks above read.
    resolved = subprocess.run(base, capture_output=True, text=True, check=True).stdout
    services = yaml.safe_load(resolved)["services"]
    expected = set(_profile_services(compose, None)) | (set(_profile_services(compose, CLUSTER)) if profile else set())
    assert expected <= set(services)
    known = {"CXSTREAM_" + f.name.upper() for f in setting_fields()}
    for name in expected & set(_cxstream_services(compose)):
        env = {k: str(v) for k, v in services[name]["environment"].items() if k.startswith("CXSTREAM_")}
        assert set(env) <= known, name
        Settings.load(environ=env)
