"""The local cluster (three Kafka brokers, ZooKeeper, two ClickHouse replicas), up for the session.

``make test-cluster`` runs these scenarios; ``make test`` leaves them out (they start five more
servers). The cluster is started when it is not running, and exactly what was started is stopped at
the end, like the one-broker stack of tests/conftest.py. A scenario that kills a server must start it
again before it ends, so the next scenario finds the whole cluster.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from cxstream.config import Settings
from cxstream.stack.cluster_layout import CLIENT_SETTINGS
from cxstream.stack.manager import ClusterStack, StackStatus


@dataclass
class LocalCluster:
    """The running cluster, and how a test's worker reaches it."""

    stack: ClusterStack
    status: StackStatus
    settings: Settings = field(init=False)

    def __post_init__(self) -> None:
        self.settings = self.stack.client_settings

    @property
    def worker_overrides(self) -> dict[str, Any]:
        """What ``running_worker`` does not take from its base settings: every broker, the second
        replica, the cluster name and the topics' copies."""
        inherited = ("clickhouse_host", "clickhouse_port")  # running_worker takes these from its base
        return {name: getattr(self.settings, name) for name in CLIENT_SETTINGS if name not in inherited}


@pytest.fixture(scope="session")
def local_cluster(settings: Settings) -> Iterator[LocalCluster]:
    if os.environ.get("CXSTREAM_TEST_TIER") == "check":
        pytest.fail("this test needs the local cluster: it belongs to make test-cluster, not make check")
    stack = ClusterStack(settings)
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.state_dir / "cluster.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        status = stack.up()
    try:
        yield LocalCluster(stack, status)
    finally:
        if status.started:
            stack.down(status.started)


@pytest.fixture(autouse=True)
def whole_cluster(request: pytest.FixtureRequest) -> Iterator[None]:
    """Before and after a scenario that uses the cluster, start whatever is not running (a server
    an earlier scenario left killed, also when it failed half-way), so each finds three brokers,
    ZooKeeper and two replicas."""
    if "local_cluster" in request.fixturenames:
        request.getfixturevalue("local_cluster").stack.up()
    yield
    if "local_cluster" in request.fixturenames:
        request.getfixturevalue("local_cluster").stack.up()
