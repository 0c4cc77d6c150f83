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

Cluster mode (``clickhouse_cluster`` set, ``migrate(..., cluster=...)``): the files' tables become
Replicated: ``ENGINE = ReplacingMergeTree(v)`` is applied as ``ENGINE =
ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/<database>/<table>', '{replica}', v)``
(every MergeTree family alike; ``{shard}`` and ``{replica}`` are each server's macros). The
rewrite happens when a statement is applied, so a file's checksum stays the checksum of its text
and one file serves both modes. Every table a file creates holds data (facts, scores, dead
letters, view_settings), so all of them replicate; ``schema_migrations`` stays a plain local table
on each server, because it records what *that* server has, views included, and views are
per server (a view is metadata, not data). A database whose tables were made in the other mode is
an error: mixing them would leave the replicas silently different.

Each server is migrated on its own (``cxstream db migrate`` and the sink call ``migrate`` once per
server that answers, see ``each_server``), not with ``ON CLUSTER``: on 18.16 an ``ON CLUSTER``
DDL waits for every host of the cluster, so one replica down would hold every migration, and with
it the sink's start, for ``distributed_ddl_task_timeout`` and then fail. Migrated one by one, a
replica that is down is skipped and catches up when it is next migrated. An ``ALTER TABLE ... ADD
COLUMN`` on a Replicated table reaches the other replicas through ZooKeeper (18.16 waits until the
active ones applied it), so when the next replica is migrated its own ALTER answers "already
exists", which counts as done like on a second run.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from importlib.abc import Traversable
from typing import Any, cast

from clickhouse_driver.errors import ServerException

from cxstream.config import Settings, env_var
from cxstream.logs import get_logger
from cxstream.sinks.connection import ClickHouseUnreachable, SqlClient, each_server, server_message
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

    def statements(self, database: str, cluster: str = "") -> list[str]:
        """The file's statements for ``database``, one per native-protocol query; with a
        ``cluster``, its tables' engines made Replicated (see the module's docstring)."""
        statements = split_statements(self.sql.replace("{db}", check_database_name(database)))
        return [replicated(s, database) for s in statements] if cluster else statements


#: ``CREATE TABLE [IF NOT EXISTS] db.table`` and, further on, ``ENGINE = <Family>MergeTree[(args)]``.
_CREATE_TABLE = re.compile(
    r"^\s*CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(?:`?\w+`?\.)?`?(?P<table>\w+)`?", re.IGNORECASE
)
_ENGINE = re.compile(
    r"\bENGINE\s*=\s*(?P<family>(?:Replacing|Summing|Aggregating|Collapsing|VersionedCollapsing|Graphite)?)"
    r"MergeTree\b\s*",
    re.IGNORECASE,
)


def replicated(statement: str, database: str) -> str:
    """``statement`` with a ``CREATE TABLE``'s MergeTree engine made Replicated, its ZooKeeper path
    ``/clickhouse/tables/{shard}/<database>/<table>`` and its replica name ``{replica}`` (each
    server's macros). Any other statement, or another engine, is returned unchanged."""
    create = _CREATE_TABLE.match(statement)
    if create is None:
        return statement
    engine = _ENGINE.search(statement, create.end())
    if engine is None:
        return statement
    args, end = "", engine.end()
    if statement.startswith("(", end):
        close = _closing_parenthesis(statement, end)
        args, end = statement[end + 1:close].strip(), close + 1
    path = f"'/clickhouse/tables/{{shard}}/{check_database_name(database)}/{create.group('table')}'"
    arguments = ", ".join(a for a in (path, "'{replica}'", args) if a)
    tail = statement[end:]
    return (f"{statement[:engine.start()]}ENGINE = Replicated{engine.group('family')}MergeTree({arguments})"
            f"{' ' if tail[:1] not in ('', chr(10), ' ') else ''}{tail}")


def _closing_parenthesis(text: str, opening: int) -> int:
    depth = 0
    for index in range(opening, len(text)):
        depth += {"(": 1, ")": -1}.get(text[index], 0)
        if depth == 0:
            return index
    raise MigrationError(f"unbalanced parentheses in the engine of: {text[:200]}")


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


#: Server errors of a replicated table whose ZooKeeper (or Keeper) is away: 225 NO_ZOOKEEPER,
#: 242 TABLE_IS_READ_ONLY (the session is lost), 999 KEEPER_EXCEPTION (connection loss).
COORDINATION_AWAY = frozenset({225, 242, 999})


class ReplicationUnavailable(MigrationError):
    """The server cannot reach ZooKeeper now: like a server that does not answer, try it later."""


def migrate(
    client: SqlClient,
    database: str,
    *,
    bi_min_responses: int | None = None,
    migrations: list[Migration] | None = None,
    cluster: str = "",
) -> list[str]:
    """Bring ``database`` on the server ``client`` talks to up to date; return the names of the
    migrations this call applied.

    ``bi_min_responses`` (``Settings.bi_min_responses``) is written to ``view_settings`` for the
    views' ``suppressed`` flag; None keeps the stored value (the setting's default when there is
    none), so a caller without settings at hand does not undo a configured value. ``cluster``
    (``Settings.clickhouse_cluster``) makes the tables Replicated (see the module's docstring).
    ReplicationUnavailable when ZooKeeper is away from this server (try again later).
    """
    try:
        return _migrate(client, database, bi_min_responses, migrations, cluster)
    except ServerException as exc:
        if exc.code not in COORDINATION_AWAY:
            raise
        raise ReplicationUnavailable(
            f"the server cannot reach ZooKeeper, so its replicated tables take no change ({server_message(exc)}): "
            "start ZooKeeper (or ClickHouse Keeper), then migrate again"
        ) from None


def _migrate(client: SqlClient, database: str, bi_min_responses: int | None, migrations: list[Migration] | None,
             cluster: str) -> list[str]:
    check_database_name(database)
    migrations = load_migrations() if migrations is None else migrations
    if cluster:
        check_cluster_server(client, cluster)
    _execute(client, f"CREATE DATABASE IF NOT EXISTS {database}", "create the database")
    # Local on every server, also in cluster mode: it records what this server has.
    _execute(
        client,
        f"CREATE TABLE IF NOT EXISTS {database}.schema_migrations "
        "(name String, checksum String, applied_at DateTime('UTC')) "
        "ENGINE = ReplacingMergeTree ORDER BY name",
        "create schema_migrations",
    )
    _check_mode(client, database, cluster)
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
        for statement in migration.statements(database, cluster):
            if cluster and _CREATE_TABLE.match(statement):
                _create_replica(client, statement, database, f"apply {migration.name}")
                continue
            _execute(client, statement, f"apply {migration.name}", done_already=_column_exists(statement))
        client.execute(
            f"INSERT INTO {database}.schema_migrations (name, checksum, applied_at) VALUES",
            [(migration.name, migration.checksum, int(time.time()))],
        )
        log.info("migration.applied", database=database, name=migration.name)
        done.append(migration.name)
    _store_min_responses(client, database, bi_min_responses, cluster)
    return done


def migrate_each_server(
    settings: Settings,
    migrate_one: Callable[[Settings], list[str]],
    *,
    unreachable: tuple[type[BaseException], ...],
) -> dict[str, list[str]]:
    """Run ``migrate_one`` for every server of the data (``each_server``: the configured one, then
    ``clickhouse_replicas``), each on its own; ``host:port`` -> what it applied.

    A server that raises one of ``unreachable`` is logged (naming it) and skipped: it catches up
    when it is next migrated, and the others need not wait for it. ClickHouseUnreachable only
    when no server answered (with one server, its own error). Any other error (a refused login, a broken migration) is raised.
    """
    servers = each_server(settings)
    done: dict[str, list[str]] = {}
    failures = []
    for server in servers:
        where = f"{server.clickhouse_host}:{server.clickhouse_port}"
        try:
            done[where] = migrate_one(server)
        except unreachable as error:
            if len(servers) == 1:
                raise  # one server: its own error says it all
            failures.append(f"{where}: {error}")
            log.warning("migration.server_unreachable", server=where, database=settings.clickhouse_database,
                        error=str(error), action="skipped; migrate again once it is back")
    if not done:
        raise ClickHouseUnreachable(
            f"no ClickHouse server answered to be migrated ({'; '.join(failures)}): start one, or check "
            f"{env_var('clickhouse_host')}, {env_var('clickhouse_port')} and {env_var('clickhouse_replicas')}"
        )
    return done


def check_cluster_server(client: SqlClient, cluster: str) -> None:
    """MigrationError, saying which part of the server's config to add, unless the server can hold
    replicated tables of ``cluster``: the ``shard`` and ``replica`` macros, the cluster in its
    ``remote_servers``, and a ``<zookeeper>`` section."""
    macros = {name for (name,) in client.execute("SELECT macro FROM system.macros")}
    missing = sorted({"shard", "replica"} - macros)
    if missing:
        raise MigrationError(
            f"{env_var('clickhouse_cluster')}={cluster!r}, but this server has no {' and '.join(missing)} macro: "
            "add <macros><shard>..</shard><replica>..</replica></macros> to its config (docs/OPERATIONS.md)"
        )
    [(listed,)] = client.execute("SELECT count() FROM system.clusters WHERE cluster = %(cluster)s",
                                 {"cluster": cluster})
    if not listed:
        raise MigrationError(
            f"{env_var('clickhouse_cluster')}={cluster!r} is not a cluster of this server's <remote_servers>: "
            "name the cluster its config defines, or add it there"
        )
    try:
        client.execute("SELECT count() FROM system.zookeeper WHERE path = '/'")
    except ServerException as exc:
        if exc.code in COORDINATION_AWAY:
            raise
        raise MigrationError(
            f"{env_var('clickhouse_cluster')}={cluster!r}, but this server has no ZooKeeper ({server_message(exc)}): "
            "add a <zookeeper> section pointing at ZooKeeper or ClickHouse Keeper to its config"
        ) from None


#: 122 INCOMPATIBLE_COLUMNS: "Table structure in ZooKeeper is too different from local table structure".
_TABLE_STRUCTURE_DIFFERS = 122


def _create_replica(client: SqlClient, statement: str, database: str, doing: str) -> None:
    """Create a Replicated table; when the other replicas have altered it since (a later file
    added columns), create it with the columns ZooKeeper has, which 18.16 requires of a new
    replica. The later files' ADD COLUMNs then answer "already exists", as on the others."""
    try:
        client.execute(statement)
        return
    except ServerException as exc:
        if exc.code in COORDINATION_AWAY:
            raise  # migrate() says what it means
        if exc.code != _TABLE_STRUCTURE_DIFFERS:
            raise MigrationError(f"could not {doing}: {server_message(exc)}\n  statement: {statement[:200]}") from None
    create = _CREATE_TABLE.match(statement)
    assert create is not None  # the caller matched it
    [(shard,)] = client.execute("SELECT substitution FROM system.macros WHERE macro = 'shard'")
    path = f"/clickhouse/tables/{shard}/{database}/{create.group('table')}"
    rows = client.execute("SELECT value FROM system.zookeeper WHERE path = %(path)s AND name = 'columns'",
                          {"path": path})
    if not rows:
        raise MigrationError(f"could not {doing}: the table differs from {path} in ZooKeeper, which has no columns")
    opening = statement.index("(", create.end())
    closing = _closing_parenthesis(statement, opening)
    columns = ",\n    ".join(zookeeper_columns(rows[0][0]))
    _execute(client, f"{statement[:opening]}(\n    {columns}\n){statement[closing + 1:]}",
             f"{doing} (with the columns of {path})")
    log.info("migration.replica_created_from_zookeeper", database=database, table=create.group("table"))


def zookeeper_columns(text: str) -> list[str]:
    """Column definitions (``name Type``) from a Replicated table's ``columns`` node in ZooKeeper:
    ``columns format version: 1``, ``N columns:``, then one escaped, tab-separated line each."""
    lines = text.splitlines()
    count = int(lines[1].split()[0])
    columns = []
    for line in lines[2:2 + count]:
        columns.append(" ".join(line.split("\t")).replace("\\'", "'").replace("\\\\", "\\"))
    return columns


def _check_mode(client: SqlClient, database: str, cluster: str) -> None:
    """MigrationError when the data tables already there were made in the other mode (Replicated or
    not): new tables in this mode beside them would leave replicas silently different."""
    rows = client.execute(
        "SELECT name, engine FROM system.tables WHERE database = %(database)s AND engine LIKE '%%MergeTree' "
        "AND name != 'schema_migrations'",
        {"database": database},
    )
    wrong = sorted(name for name, engine in rows if engine.startswith("Replicated") != bool(cluster))
    if not wrong:
        return
    if cluster:
        raise MigrationError(
            f"{database} was made for one server: {', '.join(wrong)} are not Replicated, so {env_var('clickhouse_cluster')}"
            f"={cluster} cannot apply; migrate a new database ({env_var('clickhouse_database')}) and copy the data, "
            f"or unset {env_var('clickhouse_cluster')}"
        )
    raise MigrationError(
        f"{database} was made for a cluster: {', '.join(wrong)} are Replicated; set {env_var('clickhouse_cluster')} "
        "to the cluster's name (remote_servers) so that new tables replicate too"
    )


def _store_min_responses(client: SqlClient, database: str, wanted: int | None, cluster: str = "") -> None:
    if cluster and not _caught_up(client, f"{database}.view_settings"):
        # The stored value may sit on another replica, not yet fetched: writing the default now
        # would outvote it. An explicit value is written anyway (the newest version wins).
        if wanted is None:
            log.warning("migration.view_settings_not_caught_up", database=database,
                        action="left as is; the next migration writes the default if none arrives")
            return
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


#: How long a migration waits for a replica to fetch what the others wrote to a table it reads.
SYNC_TIMEOUT_SECONDS = 10
#: 159 TIMEOUT_EXCEEDED: SYSTEM SYNC REPLICA did not finish within receive_timeout (current
#: releases; 18.16 returns without an error when its wait ends, hence the check after it).
_TIMEOUT_EXCEEDED = 159


def _caught_up(client: SqlClient, table: str) -> bool:
    """True once this replica has what the others wrote to ``table``: SYSTEM SYNC REPLICA, then
    its queue empty with every replica active (with one away, a part only it holds may be
    missing here, and nothing here can tell). False otherwise, also after SYNC_TIMEOUT_SECONDS."""
    try:
        # Cluster mode runs on clickhouse_driver's Client, whose execute takes query settings.
        cast(Any, client).execute(f"SYSTEM SYNC REPLICA {table}", settings={"receive_timeout": SYNC_TIMEOUT_SECONDS})
    except ServerException as exc:
        if exc.code == _TIMEOUT_EXCEEDED:
            return False
        if exc.code in COORDINATION_AWAY:
            raise
        raise MigrationError(f"could not sync {table} with the other replicas: {server_message(exc)}") from None
    database, _, name = table.partition(".")
    rows = client.execute(
        "SELECT queue_size = 0 AND active_replicas = total_replicas FROM system.replicas "
        "WHERE database = %(database)s AND table = %(table)s", {"database": database, "table": name})
    return bool(rows and rows[0][0])


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
        if exc.code in COORDINATION_AWAY:
            raise  # migrate() says what it means
        raise MigrationError(f"could not {doing}: {server_message(exc)}\n  statement: {statement[:200]}") from None
