"""Writes a sink batch to ClickHouse (blocking: the sink calls it in a thread).

Connection trouble (refused, reset, timed out, server shutting down) is ``WriteFailed``: the sink
keeps the batch and retries. Anything else (a table missing its column, a type the server rejects)
is a bug or a broken deployment and is raised as is, which stops the worker with the reason.
"""

from __future__ import annotations

import socket
from typing import Any

from clickhouse_driver import Client
from clickhouse_driver import errors as ch_errors

from cxstream.config import Settings
from cxstream.logs import get_logger
from cxstream.sinks import tables
from cxstream.sinks.connection import ClickHouseUnreachable, clickhouse_client
from cxstream.sinks.migrate import ReplicationUnavailable, migrate, migrate_each_server
from cxstream.sinks.routing import Batch

log = get_logger(__name__)

#: Server error codes that mean "not now" rather than "never": retried like a lost connection.
#: 159 TIMEOUT_EXCEEDED, 202 TOO_MANY_SIMULTANEOUS_QUERIES, 209 SOCKET_TIMEOUT, 210 NETWORK_ERROR,
#: 241 MEMORY_LIMIT_EXCEEDED, 252 TOO_MANY_PARTS, 242 TABLE_IS_READ_ONLY, 319 UNKNOWN_STATUS_OF_INSERT;
#: and on replicated tables, ZooKeeper away: 225 NO_ZOOKEEPER, 999 KEEPER_EXCEPTION (a lost session).
_TRANSIENT_CODES = frozenset({159, 202, 209, 210, 225, 241, 242, 252, 319, 999})


#: 60 UNKNOWN_TABLE, 81 UNKNOWN_DATABASE: with replicas, a server the sink could not migrate at start.
_NOT_MIGRATED = frozenset({60, 81})


class WriteFailed(Exception):
    """ClickHouse could not take the batch now; try again later."""


class ClickHouseWriter:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.database = settings.clickhouse_database
        self._client: Client | None = None
        self._server: str | None = None  # host:port last written to

    def _connect(self) -> Client:
        if self._client is None:
            self._client = clickhouse_client(self.settings, "cxstream-sink",
                                             send_receive_timeout=self.settings.sink_timeout_seconds)
        return self._client

    def _disconnect(self) -> None:
        if self._client is not None:
            try:
                self._client.disconnect()
            finally:
                self._client = None

    def _call(self, action: Any) -> Any:
        try:
            client = self._connect()
            result = action(client)
            self._note_server(client)
            return result
        except (ch_errors.NetworkError, ch_errors.SocketTimeoutError, EOFError, ConnectionError,
                socket.timeout, OSError) as error:
            self._disconnect()
            raise WriteFailed(f"{type(error).__name__}: {error}") from error
        except ch_errors.ServerException as error:
            if error.code in _TRANSIENT_CODES:
                self._disconnect()
                raise WriteFailed(f"server error {error.code}: {error.message.splitlines()[0]}") from error
            raise

    def _note_server(self, client: Client) -> None:
        """Log when the server written to changes: the driver fails over to a replica (and stays
        there) without a word, so this line is how an operator sees it happened."""
        server = client.connection.get_description() if client.connection.connected else None
        if server is not None and server != self._server:
            if self._server is not None:
                log.warning("sink.clickhouse_server_changed", previous=self._server, server=server)
            self._server = server

    def migrate(self) -> None:
        """Migrate every server of the data (the configured one and ``clickhouse_replicas``), each
        through a writer of its own; one that is away is skipped, WriteFailed when none answers."""
        def migrate_one(server: Settings) -> list[str]:
            writer = ClickHouseWriter(server)
            try:
                return list(writer._call(lambda client: migrate(client, self.database,
                                                                cluster=self.settings.clickhouse_cluster)))
            except ReplicationUnavailable as error:  # ZooKeeper away: like a server that does not answer
                raise WriteFailed(str(error)) from error
            finally:
                writer._disconnect()

        try:
            applied = migrate_each_server(self.settings, migrate_one, unreachable=(WriteFailed,))
        except ClickHouseUnreachable as error:
            raise WriteFailed(str(error)) from error
        for server, names in applied.items():
            log.info("sink.migrated", database=self.database, server=server, applied=names)

    def write(self, batch: Batch) -> None:
        """Insert every table's rows; a retry after a partial write inserts them all again, which
        the deduplicating tables absorb."""
        for table, rows in batch.rows.items():
            if rows:
                try:
                    self._call(lambda client, t=table, r=rows: tables.insert(client, self.database, t, r))
                except ch_errors.ServerException as error:
                    if error.code not in _NOT_MIGRATED or not self.settings.clickhouse_replicas:
                        raise
                    # Failed over to a replica that was away when the sink started, so never
                    # migrated: migrate every server that answers now, then write the batch again.
                    self._disconnect()
                    log.warning("sink.server_not_migrated", table=table, error=error.message.splitlines()[0],
                                action="migrating every server, then writing the batch again")
                    self.migrate()
                    raise WriteFailed(f"server error {error.code}: the replica had no {self.database}.{table}") \
                        from error
