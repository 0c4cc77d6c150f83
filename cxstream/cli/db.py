"""``cxstream db migrate | bi-user``: cxstream's ClickHouse tables and views, and the BI user."""

from __future__ import annotations

import click
from clickhouse_driver.errors import ServerException

from cxstream.cli.options import with_settings
from cxstream.config import Settings
from cxstream.sinks.bi_user import bi_user_sql
from cxstream.sinks.errors import StorageError


@click.group()
def db() -> None:
    """The ClickHouse database: tables, views, the BI user."""


@db.command()
@with_settings("clickhouse", "bi")
def migrate(settings: Settings) -> None:
    """Create or update cxstream's tables and views (idempotent; safe to run from several places).

    With CXSTREAM_CLICKHOUSE_REPLICAS, every replica that answers is migrated, each on its own; one
    that does not is named and skipped, and the exit code is 3 (run this again once it is back)."""
    from clickhouse_driver.errors import NetworkError, SocketTimeoutError

    from cxstream.sinks.connection import ClickHouseUnreachable, connect, each_server
    from cxstream.sinks.migrate import migrate as run_migrations
    from cxstream.sinks.migrate import ReplicationUnavailable, migrate_each_server

    def migrate_one(server: Settings) -> list[str]:
        client = connect(server)
        try:
            return run_migrations(client, server.clickhouse_database, bi_min_responses=server.bi_min_responses,
                                  cluster=server.clickhouse_cluster)
        finally:
            client.disconnect()

    done = migrate_each_server(
        settings, migrate_one,
        unreachable=(ClickHouseUnreachable, ReplicationUnavailable, NetworkError, SocketTimeoutError, EOFError,
                     OSError),
    )
    for where, applied in done.items():
        state = f"applied: {', '.join(applied)}" if applied else "up to date"
        click.echo(f"{where}/{settings.clickhouse_database}: {state}")
    skipped = [f"{server.clickhouse_host}:{server.clickhouse_port}" for server in each_server(settings)
               if f"{server.clickhouse_host}:{server.clickhouse_port}" not in done]
    if skipped:
        click.echo(f"not migrated (did not answer): {', '.join(skipped)}; run this again once it is back", err=True)
        raise SystemExit(3)


@db.command("bi-user")
@click.option("--print-sql", is_flag=True, help="Print the SQL instead of running it.")
@with_settings("clickhouse", "bi")
def bi_user(settings: Settings, print_sql: bool) -> None:
    """The read-only BI user on ClickHouse 20.5+ (the local 18.16 server has it in users.xml)."""
    sql = bi_user_sql(settings)
    if print_sql:
        click.echo(sql, nl=False)
        return
    from cxstream.sinks.connection import connect, server_message
    from cxstream.sinks.sqlscript import split_statements

    client = connect(settings)
    try:
        [(version,)] = client.execute("SELECT version()")
        if int(version.split(".")[0]) < 20:
            raise StorageError(
                f"ClickHouse {version} has no SQL-defined users: the local stack defines "
                f"{settings.clickhouse_bi_user!r} in its users.xml (cxstream stack up)"
            )
        for statement in split_statements(sql):
            try:
                client.execute(statement)
            except ServerException as exc:
                raise StorageError(f"could not create the BI user: {server_message(exc)}") from None
    finally:
        client.disconnect()
    click.echo(f"BI user {settings.clickhouse_bi_user!r} can read {settings.clickhouse_database}.*")
