"""Migrating while ZooKeeper is away from the server: a retryable 'server away', never a crash."""

from __future__ import annotations

from typing import Any

import pytest
from clickhouse_driver.errors import ServerException

from cxstream.sinks.errors import MigrationError
from cxstream.sinks.migrate import ReplicationUnavailable, check_cluster_server, migrate


class ZooKeeperAway:
    """A cluster server whose replicated tables refuse changes: 999 on every CREATE TABLE."""

    def execute(self, query: str, params: Any = None, **_: Any) -> Any:
        if query.startswith("SELECT macro FROM system.macros"):
            return [("shard",), ("replica",)]
        if query.startswith("SELECT count() FROM system.clusters"):
            return [(1,)]
        if "system.zookeeper" in query or ("CREATE TABLE" in query and "Replicated" in query):
            raise ServerException("Coordination::Exception: Connection loss", code=999)
        if query.startswith("SELECT name, groupUniqArray"):
            return []
        if "system.tables" in query or query.startswith("SELECT"):
            return []
        return []


def test_zookeeper_away_is_a_retryable_unavailability_that_says_what_to_start() -> None:
    with pytest.raises(ReplicationUnavailable, match="cannot reach ZooKeeper.*start ZooKeeper"):
        migrate(ZooKeeperAway(), "cx", cluster="cxstream")
    assert issubclass(ReplicationUnavailable, MigrationError)


class NoMacros:
    def execute(self, query: str, params: Any = None, **_: Any) -> Any:
        return []


def test_a_server_without_macros_is_told_which_config_to_add() -> None:
    with pytest.raises(MigrationError, match="no replica and shard macro: add <macros>"):
        check_cluster_server(NoMacros(), "cxstream")
