"""What every test run starts or creates, stopped and removed afterwards."""

from __future__ import annotations

import subprocess

from cxstream.config import Settings
from cxstream.kafka_clients import admin_client


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
    admin = admin_client(settings, "cxstream-test-cleanup", request_timeout_ms=60000)
    try:
        mine = [t for t in admin.list_topics() if t.startswith(settings.topic_prefix)]
        if mine:
            admin.delete_topics(mine, timeout_ms=60000)
    except Exception:  # noqa: BLE001 - cleanup; a stopped broker keeps them until the next stack reset
        pass
    finally:
        admin.close()
