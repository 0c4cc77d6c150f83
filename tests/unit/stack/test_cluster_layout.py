"""The local cluster's ports come from one setting, and the printed CXSTREAM_* lines point a
command exactly where the test harness points its workers."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from cxstream.config import Settings
from cxstream.stack.cluster_layout import CLIENT_SETTINGS, ClusterLayout


def test_every_server_of_the_cluster_has_its_own_port() -> None:
    layout = ClusterLayout(base=19100, state_dir=Path("/tmp/x"))
    ports = [*layout.kafka_ports, *layout.controller_ports, layout.zookeeper_port, *layout.clickhouse_ports,
             *layout.clickhouse_http_ports, *layout.interserver_ports]
    assert len(ports) == len(set(ports)) == 13
    assert min(ports) == 19100 and max(ports) < 19100 + 60


def test_the_printed_environment_loads_as_the_client_settings() -> None:
    settings = Settings.load(environ={"CXSTREAM_CLUSTER_PORT_BASE": "23000"})
    layout = ClusterLayout.of(settings)
    from_environment = Settings.load(environ=layout.client_environment(settings))
    wanted = layout.client_settings(settings)
    changed = [f.name for f in dataclasses.fields(Settings) if getattr(wanted, f.name) != getattr(settings, f.name)]
    assert sorted(changed) == sorted(n for n in CLIENT_SETTINGS if getattr(settings, n) != getattr(wanted, n))
    for name in CLIENT_SETTINGS:
        assert getattr(from_environment, name) == getattr(wanted, name), name
    assert from_environment.bootstrap_servers == "127.0.0.1:23000,127.0.0.1:23001,127.0.0.1:23002"
