"""Migrations on the local 18.16 server and on chdb: idempotent, concurrent, and strict about edits."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest
from clickhouse_driver import Client

from cxstream.config import Settings
from cxstream.sinks.errors import MigrationError
from cxstream.sinks.migrate import Migration, applied_migrations, load_migrations, migrate
from cxstream.stack import StackStatus
from tests.support.clickhouse import BACKENDS, LOCAL, Backend, local_client, open_backend, unique_database

STORE_TABLES = {"touchpoints_store", "feedback_store", "domain_scores_store", "dead_letters_store", "alerts_store",
                "trust_scores_store", "driver_scores_store"}
VIEWS = {
    "touchpoints", "feedback", "domain_scores", "dead_letters", "alerts", "open_alerts",
    *(f"domain_scores_{span}{suffix}" for span in ("5m", "15m", "1h", "24h") for suffix in ("", "_all_channels")),
    "trust_scores", "driver_scores",
    *(f"{kind}_scores_{span}{suffix}" for kind in ("trust", "driver") for span in ("15m", "1h", "24h")
      for suffix in ("", "_all_channels")),
    "comment_themes",
    *(f"comment_themes_{span}{suffix}" for span in ("15m", "1h", "24h") for suffix in ("", "_all_channels")),
}


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Backend]:
    """A fresh database per test, on 18.16 (needs the stack) or on chdb."""
    if request.param == LOCAL:
        request.getfixturevalue("stack")
    with open_backend(request.param, settings, "cx_test_migrate") as opened:
        yield opened


def _tables(backend: Backend) -> dict[str, str]:
    rows = backend.rows("SELECT name, engine FROM system.tables WHERE database = %(db)s", {"db": backend.database})
    return dict(rows)


def test_migrate_creates_the_tables_and_views_then_a_second_run_applies_nothing(backend: Backend) -> None:
    names = [m.name for m in load_migrations()]

    first = migrate(backend.client, backend.database)
    second = migrate(backend.client, backend.database)

    assert first == names
    assert second == []
    tables = _tables(backend)
    assert {name for name, engine in tables.items() if engine == "View"} == VIEWS
    assert {name for name in STORE_TABLES} <= set(tables)
    assert all(tables[name] == "ReplacingMergeTree" for name in STORE_TABLES)
    assert set(applied_migrations(backend.client, backend.database)) == set(names)
    for view in VIEWS:  # every view compiles on this server version
        assert backend.rows(f"SELECT count() FROM {{db}}.{view}") == [(0,)]


def test_a_run_cut_off_half_way_through_adding_columns_completes_on_the_next(backend: Backend) -> None:
    """18.16 has no ADD COLUMN IF NOT EXISTS: a column added before a crash is 'already exists' the
    second time, which the migration treats as done."""
    migrations = load_migrations()
    before_v2 = [m for m in migrations if m.name < "0005"]
    migrate(backend.client, backend.database, migrations=before_v2)
    backend.rows("ALTER TABLE {db}.feedback_store ADD COLUMN question_1 Nullable(UInt8)")  # the crashed run's work

    assert migrate(backend.client, backend.database) == [m.name for m in migrations if m.name >= "0005"]
    columns = {name for (name,) in backend.rows(
        "SELECT name FROM system.columns WHERE database = %(db)s AND table = 'feedback_store'",
        {"db": backend.database})}
    assert {"question_1", "trust_scale", "positive_other", "negative_effectiveness"} <= columns


def test_an_applied_migration_whose_file_changed_is_an_error(backend: Backend) -> None:
    migrations = load_migrations()
    migrate(backend.client, backend.database, migrations=migrations)
    edited = [*migrations[:-1], Migration(migrations[-1].name, migrations[-1].sql + "\n-- edited\n")]

    with pytest.raises(MigrationError, match=f"migration {migrations[-1].name} was applied .* must not change"):
        migrate(backend.client, backend.database, migrations=edited)


def test_a_migration_that_failed_half_way_is_completed_by_the_next_run(backend: Backend) -> None:
    migrations = load_migrations()
    broken = Migration(
        f"{len(migrations) + 1:04d}_extra",
        "CREATE TABLE IF NOT EXISTS {db}.extra (a UInt8) ENGINE = Memory;\nSELECT no_such_function_in_clickhouse();",
    )
    with pytest.raises(MigrationError, match=f"could not apply {broken.name}: code 46"):
        migrate(backend.client, backend.database, migrations=[*migrations, broken])
    assert broken.name not in applied_migrations(backend.client, backend.database)
    assert "extra" in _tables(backend)  # the first statement ran

    fixed = Migration(broken.name, "CREATE TABLE IF NOT EXISTS {db}.extra (a UInt8) ENGINE = Memory;")
    assert migrate(backend.client, backend.database, migrations=[*migrations, fixed]) == [fixed.name]


def test_min_responses_is_written_when_given_and_kept_when_not(backend: Backend) -> None:
    def current() -> int:
        [(value,)] = backend.rows(
            "SELECT argMax(value, version) FROM {db}.view_settings WHERE name = 'min_responses'"
        )
        return int(value)

    migrate(backend.client, backend.database)
    assert current() == Settings().bi_min_responses
    migrate(backend.client, backend.database, bi_min_responses=3)
    assert current() == 3
    migrate(backend.client, backend.database)
    assert current() == 3


@pytest.mark.integration
def test_four_threads_migrating_one_database_at_once_all_succeed(stack: StackStatus, settings: Settings) -> None:
    names = [m.name for m in load_migrations()]
    for _ in range(3):  # fresh databases: each round races on creating everything
        database = unique_database("cx_test_race")
        barrier = threading.Barrier(4)
        results: list[list[str]] = []
        errors: list[BaseException] = []

        def run(barrier: threading.Barrier = barrier, results: list[list[str]] = results,
                database: str = database, errors: list[BaseException] = errors) -> None:
            client = local_client(settings)
            try:
                barrier.wait(timeout=30)
                results.append(migrate(client, database))
            except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
                errors.append(exc)
            finally:
                client.disconnect()

        threads = [threading.Thread(target=run) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        admin = local_client(settings)
        try:
            assert errors == []
            assert len(results) == 4
            assert sorted({name for applied in results for name in applied}) == names
            assert migrate(admin, database) == []
            assert sorted(applied_migrations(admin, database)) == names
            for view in sorted(VIEWS):
                assert admin.execute(f"SELECT count() FROM {database}.{view}") == [(0,)]
        finally:
            admin.execute(f"DROP DATABASE IF EXISTS {database}")
            admin.disconnect()


@pytest.mark.integration
def test_two_cli_processes_migrating_at_once_both_succeed(stack: StackStatus, settings: Settings) -> None:
    database = unique_database("cx_test_cli")
    command = [sys.executable, "-m", "cxstream.cli", "--log-format", "json", "db", "migrate",
               "--clickhouse-database", database]
    processes = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]
    try:
        outcomes = [(p.wait(timeout=120), *p.communicate()) for p in processes]
        assert [code for code, _, _ in outcomes] == [0, 0], outcomes
        admin: Client = local_client(settings)
        try:
            assert sorted(applied_migrations(admin, database)) == [m.name for m in load_migrations()]
        finally:
            admin.disconnect()
    finally:
        admin = local_client(settings)
        admin.execute(f"DROP DATABASE IF EXISTS {database}")
        admin.disconnect()
