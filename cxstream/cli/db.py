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
    """Create or update cxstream's tables and views (idempotent; safe to run from several places)."""
    from cxstream.sinks.connection import connect
    from cxstream.sinks.migrate import migrate as run_migrations

    client = connect(settings)
    try:
        applied = run_migrations(
            client, settings.clickhouse_database, bi_min_responses=settings.bi_min_responses
        )
    finally:
        client.disconnect()
    where = f"{settings.clickhouse_host}:{settings.clickhouse_port}/{settings.clickhouse_database}"
    click.echo(f"applied: {', '.join(applied)}" if applied else f"up to date: {where}")


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
