"""Versioned DDL: ``sinks/migrations/NNNN_<name>.sql`` applied in order, each recorded once.

``migrate(client, database)`` creates the database if needed, applies every file not yet in
``<database>.schema_migrations`` (name, checksum, applied_at) and returns the names it applied.
ClickHouse has no transactions and no locks, so safety comes from the files themselves: every
statement is idempotent (``CREATE ... IF NOT EXISTS``, ``DROP ... IF EXISTS``, and an
``ALTER TABLE ... ADD COLUMN`` of one column, whose "already exists" answer counts as done since
18.16 has no ``ADD COLUMN IF NOT EXISTS``), which makes a second run, a run after a crash half-way
through a file, and two processes migrating at once all harmless. Two processes may
both apply and record the same file; the record table is a ReplacingMergeTree by name and is read
grouped by name. A file whose checksum differs from the recorded one is an error: applied files
are never edited, a change is a new file.

In the files, ``{db}`` stands for the database, so tests can migrate a database of their own.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass
from importlib import resources
from importlib.abc import Traversable

from clickhouse_driver.errors import ServerException

from cxstream.config import Settings, env_var
from cxstream.logs import get_logger
from cxstream.sinks.connection import SqlClient, server_message
from cxstream.sinks.errors import MigrationError
from cxstream.sinks.sqlscript import split_statements

log = get_logger(__name__)

_FILE_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")

#: The view_settings entry the score views compare responses with (``suppressed``).
MIN_RESPONSES = "min_responses"


@dataclass(frozen=True)
class Migration:
    """One migration file: its name (the file name without ``.sql``) and its SQL text."""

    name: str
    sql: str

    @property
    def checksum(self) -> str:
        """SHA-256 of the text with LF line ends, so a CRLF checkout does not look edited."""
        return hashlib.sha256(self.sql.replace("\r\n", "\n").encode()).hexdigest()

    def statements(self, database: str) -> list[str]:
        """The file's statements for ``database``, one per native-protocol query."""
        return split_statements(self.sql.replace("{db}", check_database_name(database)))


def check_database_name(database: str) -> str:
    """``database`` if it is a plain identifier (it is pasted into SQL), else an error naming the setting."""
    return check_identifier(database, "clickhouse_database")


def check_identifier(value: str, setting: str) -> str:
    """``value`` if it is a plain SQL identifier, else an error naming the setting it came from."""
    if not _IDENTIFIER.match(value):
        raise MigrationError(f"{env_var(setting)} must be a plain identifier (letters, digits, _), got {value!r}")
    return value


def load_migrations(folder: Traversable | None = None) -> list[Migration]:
    """The migration files in order; numbers must run 0001, 0002, ... without gaps or repeats."""
    folder = folder or resources.files("cxstream.sinks").joinpath("migrations")
    found = sorted(entry.name for entry in folder.iterdir() if entry.name.endswith(".sql"))
    migrations = []
    for expected, file_name in enumerate(found, start=1):
        match = _FILE_NAME.match(file_name)
        if match is None or int(match.group(1)) != expected:
            raise MigrationError(
                f"migration files must be named 0001_<name>.sql, 0002_..., in sequence; found {file_name!r} "
                f"where number {expected:04d} was expected"
            )
        migrations.append(Migration(file_name.removesuffix(".sql"), folder.joinpath(file_name).read_text()))
    return migrations


def applied_migrations(client: SqlClient, database: str) -> dict[str, str]:
    """Name -> checksum of the migrations recorded in ``database`` (empty if none)."""
    rows = client.execute(
        f"SELECT name, groupUniqArray(checksum) FROM {check_database_name(database)}.schema_migrations GROUP BY name"
    )
    applied = {}
    for name, checksums in rows:
        if len(checksums) != 1:
            raise MigrationError(f"{database}.schema_migrations records {name} with different checksums {checksums}")
        applied[name] = checksums[0]
    return applied


def migrate(
    client: SqlClient,
    database: str,
    *,
    bi_min_responses: int | None = None,
    migrations: list[Migration] | None = None,
) -> list[str]:
    """Bring ``database`` up to date; return the names of the migrations this call applied.

    ``bi_min_responses`` (``Settings.bi_min_responses``) is written to ``view_settings`` for the
    views' ``suppressed`` flag; None keeps the stored value (the setting's default when there is
    none), so a caller without settings at hand does not undo a configured value.
    """
    check_database_name(database)
    migrations = load_migrations() if migrations is None else migrations
    _execute(client, f"CREATE DATABASE IF NOT EXISTS {database}", "create the database")
    _execute(
        client,
        f"CREATE TABLE IF NOT EXISTS {database}.schema_migrations "
        "(name String, checksum String, applied_at DateTime('UTC')) "
        "ENGINE = ReplacingMergeTree ORDER BY name",
        "create schema_migrations",
    )
    applied = applied_migrations(client, database)
    known = {m.name for m in migrations}
    for name in sorted(set(applied) - known):
        log.warning("migration.unknown_applied", database=database, name=name)
    done = []
    for migration in migrations:
        recorded = applied.get(migration.name)
        if recorded is not None:
            if recorded != migration.checksum:
                raise MigrationError(
                    f"migration {migration.name} was applied to {database} with checksum {recorded[:12]}, but the "
                    f"file now has {migration.checksum[:12]}: applied migrations must not change; restore the "
                    "file and put the change in a new migration"
                )
            continue
        for statement in migration.statements(database):
            _execute(client, statement, f"apply {migration.name}", done_already=_column_exists(statement))
        client.execute(
            f"INSERT INTO {database}.schema_migrations (name, checksum, applied_at) VALUES",
            [(migration.name, migration.checksum, int(time.time()))],
        )
        log.info("migration.applied", database=database, name=migration.name)
        done.append(migration.name)
    _store_min_responses(client, database, bi_min_responses)
    return done


def _store_min_responses(client: SqlClient, database: str, wanted: int | None) -> None:
    [(count, current)] = client.execute(
        f"SELECT count(), argMax(value, version) FROM {database}.view_settings WHERE name = %(name)s",
        {"name": MIN_RESPONSES},
    )
    if wanted is None:
        if count:
            return
        wanted = Settings().bi_min_responses
    elif count and current == wanted:
        return
    client.execute(
        f"INSERT INTO {database}.view_settings (name, value, version) VALUES",
        [(MIN_RESPONSES, wanted, time.time_ns())],
    )
    log.info("migration.view_setting", database=database, name=MIN_RESPONSES, value=wanted)


#: "Cannot add column: column with this name already exists": 44 on 18.16, 15 (DUPLICATE_COLUMN) since.
_DUPLICATE_COLUMN = frozenset({15, 44})
_ADD_COLUMN = re.compile(r"^\s*ALTER\s+TABLE\s+\S+\s+ADD\s+COLUMN\s+(?!IF\b)\S+[^,]*$", re.IGNORECASE | re.DOTALL)


def _column_exists(statement: str) -> frozenset[int]:
    """The error codes that mean ``statement`` was applied before: an ADD COLUMN of one column."""
    return _DUPLICATE_COLUMN if _ADD_COLUMN.match(statement) else frozenset()


def _execute(client: SqlClient, statement: str, doing: str, done_already: frozenset[int] = frozenset()) -> None:
    try:
        client.execute(statement)
    except ServerException as exc:
        if exc.code in done_already:
            return
        raise MigrationError(f"could not {doing}: {server_message(exc)}\n  statement: {statement[:200]}") from None
