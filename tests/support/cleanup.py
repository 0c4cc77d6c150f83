"""What every test run (and benchmark) starts or creates, stopped and removed afterwards."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

from cxstream.config import Settings
from cxstream.kafka_clients import admin_client
from cxstream.sinks.connection import clickhouse_client, each_server
from cxstream.sinks.migrate import check_database_name


def stop_process(process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """SIGTERM, then SIGKILL after ``timeout`` seconds; nothing if it already exited."""
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def delete_prefixed_topics(settings: Settings) -> None:
    """The run's own topics (its topic prefix), deleted after the run: a broker holding thousands of
    leftover test partitions takes a minute to load its group coordinator after a restart."""
    delete_topics(settings, lambda topic: topic.startswith(settings.topic_prefix))


def delete_topics(settings: Settings, mine: Callable[[str], bool]) -> None:
    """Delete every topic ``mine`` selects; quietly nothing if the broker is away."""
    admin = admin_client(settings, "cxstream-test-cleanup", request_timeout_ms=60000)
    try:
        topics = [t for t in admin.list_topics() if mine(t)]
        if topics:
            admin.delete_topics(topics, timeout_ms=60000)
    except Exception:  # noqa: BLE001 - cleanup; a stopped broker keeps them until the next stack reset
        pass
    finally:
        admin.close()


def drop_database(settings: Settings, database: str) -> None:
    """A run's own ClickHouse database, dropped on every server (each replica holds its own copy of
    the tables, and dropping them there removes their ZooKeeper entries); quietly nothing on a
    server that is away."""
    for server in each_server(settings):
        client = clickhouse_client(server, "cxstream-test-cleanup")
        try:
            client.execute(f"DROP DATABASE IF EXISTS {check_database_name(database)}")
        except Exception:  # noqa: BLE001 - cleanup of a test database; a stopped server has nothing to drop
            pass
        finally:
            client.disconnect()
