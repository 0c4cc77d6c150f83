"""A broken setup fails fast with one line that says what to do, and a non-zero exit."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "cxstream.cli"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def isolated_env(tmp_path: Path) -> dict[str, str]:
    """Env for a stack that shares nothing with the suite's: own folders, own free ports."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CXSTREAM_")}
    env.update(
        CXSTREAM_STATE_DIR=str(tmp_path / "state"),
        CXSTREAM_CACHE_DIR=str(tmp_path / "cache"),
        CXSTREAM_KAFKA_PORT=str(_free_port()),
        CXSTREAM_KAFKA_CONTROLLER_PORT=str(_free_port()),
        CXSTREAM_CLICKHOUSE_PORT=str(_free_port()),
        CXSTREAM_CLICKHOUSE_HTTP_PORT=str(_free_port()),
    )
    return env


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port somebody else is listening on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield int(sock.getsockname()[1])


def _run(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False)


def _error_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in result.stderr.splitlines() if line.startswith("cxstream: error:")]
    assert lines, f"no one-line error in stderr:\n{result.stderr}"
    assert "Traceback" not in result.stderr
    return lines[0]


def test_busy_kafka_port_is_named_with_the_setting_to_change(isolated_env: dict[str, str], busy_port: int) -> None:
    isolated_env["CXSTREAM_KAFKA_PORT"] = str(busy_port)
    result = _run(isolated_env, "stack", "up")
    assert result.returncode == 1
    line = _error_line(result)
    assert f"port {busy_port}" in line and "CXSTREAM_KAFKA_PORT" in line


@pytest.mark.integration  # starts a real Kafka broker before it finds the ClickHouse port taken
def test_busy_clickhouse_port_is_named_and_kafka_is_not_left_running(
    isolated_env: dict[str, str], busy_port: int
) -> None:
    isolated_env["CXSTREAM_CLICKHOUSE_HTTP_PORT"] = str(busy_port)
    result = _run(isolated_env, "stack", "up")
    assert result.returncode == 1
    assert "CXSTREAM_CLICKHOUSE_HTTP_PORT" in _error_line(result)
    status = _run(isolated_env, "stack", "status")
    assert status.returncode == 3
    assert "kafka       stopped" in status.stdout


def test_missing_java_says_to_install_a_jdk(isolated_env: dict[str, str], tmp_path: Path) -> None:
    isolated_env["PATH"] = str(tmp_path / "empty-bin")
    result = _run(isolated_env, "stack", "up")
    assert result.returncode == 1
    line = _error_line(result)
    assert "'java' was not found" in line and "install a JDK" in line


def test_missing_maven_says_to_install_it(isolated_env: dict[str, str], tmp_path: Path) -> None:
    only_java = tmp_path / "only-java"
    only_java.mkdir()
    java = subprocess.run(["bash", "-lc", "command -v java"], capture_output=True, text=True).stdout.strip()
    (only_java / "java").symlink_to(os.path.realpath(java))
    isolated_env["PATH"] = str(only_java)
    result = _run(isolated_env, "stack", "up")
    assert result.returncode == 1
    assert "'mvn' was not found" in _error_line(result)


@pytest.mark.integration
def test_failed_download_names_the_version_setting_and_the_log(isolated_env: dict[str, str]) -> None:
    isolated_env["CXSTREAM_KAFKA_VERSION"] = "0.0.404"
    result = _run(isolated_env, "stack", "up", timeout=300)
    assert result.returncode == 1
    line = _error_line(result)
    assert "fetching Kafka 0.0.404 jars with Maven failed" in line and "CXSTREAM_KAFKA_VERSION" in line


def test_invalid_setting_is_reported_before_anything_starts(isolated_env: dict[str, str]) -> None:
    isolated_env["CXSTREAM_PARTITIONS"] = "zero"
    result = _run(isolated_env, "stack", "status")
    assert result.returncode == 2
    assert "CXSTREAM_PARTITIONS must be an integer" in _error_line(result)
