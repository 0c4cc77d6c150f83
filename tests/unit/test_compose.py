"""docker-compose.yml: the production-style stack is well-formed and speaks our settings.

No Docker engine runs here; the file is checked structurally always, and with a Compose
implementation's own `config` validation when one is installed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from cxstream.config import Settings, setting_fields

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict)
    return data


def test_stack_has_kafka_in_kraft_mode_clickhouse_and_the_worker(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"kafka", "clickhouse", "worker"} <= set(services)
    kafka_env = services["kafka"]["environment"]
    assert kafka_env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert not any("zookeeper" in name.lower() for name in services)
    assert not any("ZOOKEEPER" in key for key in kafka_env)
    assert services["worker"]["command"][:2] == ["cxstream", "worker"]


def test_published_ports_are_bound_to_loopback(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"


def test_every_cxstream_variable_is_a_real_and_valid_setting(compose: dict[str, Any]) -> None:
    known = {"CXSTREAM_" + f.name.upper() for f in setting_fields()}
    for name in ("worker", "topics"):
        env = {k: str(v) for k, v in compose["services"][name]["environment"].items()}
        unknown = {k for k in env if k.startswith("CXSTREAM_")} - known
        assert not unknown, f"{name} sets variables cxstream does not read: {unknown}"
        # Compose fills ${NAME:-default} with the default when NAME is unset, as here.
        settings = Settings.load(environ={k: re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", v) for k, v in env.items()})
        assert settings.bootstrap_servers == "kafka:29092"
        assert (settings.topic_replication_factor, settings.topic_min_insync_replicas) == (1, 1)


def _compose_command() -> list[str] | None:
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


@pytest.mark.skipif(_compose_command() is None, reason="no Compose implementation installed (docker compose or docker-compose)")
def test_compose_config_validates_the_file() -> None:
    command = _compose_command()
    assert command is not None
    result = subprocess.run([*command, "-f", str(COMPOSE), "config", "-q"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
