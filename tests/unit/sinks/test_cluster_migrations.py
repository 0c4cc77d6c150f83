"""Cluster mode without a server: the engine rewrite, the servers a migration visits, and what
happens when some of them do not answer."""

from __future__ import annotations

import pytest

from cxstream.config import Settings
from cxstream.sinks.connection import ClickHouseUnreachable, clickhouse_client, each_server, replica_addresses
from cxstream.sinks.errors import StorageError
from cxstream.sinks.migrate import load_migrations, migrate_each_server, replicated


def test_a_replacing_merge_tree_becomes_replicated_with_its_own_zookeeper_path() -> None:
    statement = ("CREATE TABLE IF NOT EXISTS cx.feedback_store\n(\n    id String,\n    _version UInt64\n)\n"
                 "ENGINE = ReplacingMergeTree(_version)\nPARTITION BY toYYYYMM(t)\nORDER BY id")

    assert replicated(statement, "cx") == (
        "CREATE TABLE IF NOT EXISTS cx.feedback_store\n(\n    id String,\n    _version UInt64\n)\n"
        "ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/cx/feedback_store', '{replica}', _version)"
        "\nPARTITION BY toYYYYMM(t)\nORDER BY id"
    )


@pytest.mark.parametrize(("engine", "expected"), [
    ("ReplacingMergeTree", "ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/db/t', '{replica}')"),
    ("MergeTree()", "ReplicatedMergeTree('/clickhouse/tables/{shard}/db/t', '{replica}')"),
    ("SummingMergeTree((a, b))", "ReplicatedSummingMergeTree('/clickhouse/tables/{shard}/db/t', '{replica}', (a, b))"),
    ("CollapsingMergeTree(sign)", "ReplicatedCollapsingMergeTree('/clickhouse/tables/{shard}/db/t', '{replica}', sign)"),
    ("AggregatingMergeTree", "ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/db/t', '{replica}')"),
])
def test_every_merge_tree_family_is_rewritten(engine: str, expected: str) -> None:
    statement = f"CREATE TABLE db.t (a UInt8) ENGINE = {engine} ORDER BY a"
    assert replicated(statement, "db") == f"CREATE TABLE db.t (a UInt8) ENGINE = {expected} ORDER BY a"


@pytest.mark.parametrize("statement", [
    "CREATE VIEW IF NOT EXISTS cx.feedback AS SELECT * FROM cx.feedback_store FINAL",
    "ALTER TABLE cx.feedback_store ADD COLUMN comment_label Nullable(String)",
    "DROP TABLE IF EXISTS cx.feedback",
    "CREATE TABLE cx.scratch (a UInt8) ENGINE = Memory",
    "CREATE TABLE cx.t (a UInt8) ENGINE = ReplicatedReplacingMergeTree('/p', '{replica}') ORDER BY a",
])
def test_views_alters_drops_other_engines_and_replicated_tables_stay_as_they_are(statement: str) -> None:
    assert replicated(statement, "cx") == statement


def test_every_table_of_the_files_replicates_in_cluster_mode_and_the_files_keep_their_checksums() -> None:
    for migration in load_migrations():
        checksum = migration.checksum
        plain = migration.statements("cx")
        clustered = migration.statements("cx", cluster="cxstream")
        assert len(plain) == len(clustered)
        for before, after in zip(plain, clustered, strict=True):
            if before.lstrip().upper().startswith("CREATE TABLE"):
                assert "ENGINE = Replicated" in after, after
                assert after.replace(after[after.index("ENGINE"):], "") == before.replace(
                    before[before.index("ENGINE"):], ""), "only the engine changes"
            else:
                assert after == before
        assert migration.checksum == checksum


def test_replicas_become_the_clients_alt_hosts_and_each_server_reaches_one_alone() -> None:
    settings = Settings(clickhouse_host="ch1", clickhouse_port=9001, clickhouse_replicas="ch2:9002, ch3")

    assert replica_addresses(settings) == [("ch2", 9002), ("ch3", 9000)]
    client = clickhouse_client(settings, "test")
    assert list(client.connection.hosts) == [("ch1", 9001), ("ch2", 9002), ("ch3", 9000)]
    servers = each_server(settings)
    assert [(s.clickhouse_host, s.clickhouse_port, s.clickhouse_replicas) for s in servers] == [
        ("ch1", 9001, ""), ("ch2", 9002, ""), ("ch3", 9000, "")]
    assert list(clickhouse_client(servers[1], "test").connection.hosts) == [("ch2", 9002)]


def test_a_malformed_replica_list_names_the_setting() -> None:
    with pytest.raises(StorageError, match="CXSTREAM_CLICKHOUSE_REPLICAS must be host:port"):
        replica_addresses(Settings(clickhouse_replicas="ch2:port"))


class Away(Exception):
    pass


def test_a_replica_that_does_not_answer_is_skipped_and_named() -> None:
    settings = Settings(clickhouse_host="ch1", clickhouse_port=9001, clickhouse_replicas="ch2:9002")

    def migrate_one(server: Settings) -> list[str]:
        if server.clickhouse_host == "ch1":
            raise Away("connection refused")
        return ["0001_store_tables"]

    assert migrate_each_server(settings, migrate_one, unreachable=(Away,)) == {"ch2:9002": ["0001_store_tables"]}


def test_no_server_answering_is_an_error_naming_every_one() -> None:
    settings = Settings(clickhouse_host="ch1", clickhouse_port=9001, clickhouse_replicas="ch2:9002")

    def migrate_one(server: Settings) -> list[str]:
        raise Away(f"refused by {server.clickhouse_host}")

    with pytest.raises(ClickHouseUnreachable) as raised:
        migrate_each_server(settings, migrate_one, unreachable=(Away,))
    assert "ch1:9001: refused by ch1" in str(raised.value) and "ch2:9002: refused by ch2" in str(raised.value)


def test_other_errors_are_not_skipped() -> None:
    settings = Settings(clickhouse_replicas="ch2:9002")

    def migrate_one(server: Settings) -> list[str]:
        raise StorageError("refused user")

    with pytest.raises(StorageError, match="refused user"):
        migrate_each_server(settings, migrate_one, unreachable=(Away,))
