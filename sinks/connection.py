"""Connecting to ClickHouse over the native protocol, with errors that say what to fix.

With ``clickhouse_replicas`` set, every client cxstream opens (sink, reports, dashboard, migrate)
gets them as clickhouse-driver's ``alt_hosts``: a connect tries ``clickhouse_host`` first, then
each replica in turn, and stays with the first that answers until its connection breaks. A
broken connection is replaced on the next query (the driver reconnects, trying every host
again), so a writer that retries after a failure lands on a replica that is up.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any, Protocol

from clickhouse_driver import Client
from clickhouse_driver.errors import Error as DriverError
from clickhouse_driver.errors import ServerException

from cxstream.config import Settings, env_var
from cxstream.sinks.errors import StorageError

# The driver logs every failed connect with a traceback; cxstream reports the failure itself.
logging.getLogger("clickhouse_driver.connection").setLevel(logging.ERROR)

#: ClickHouse error codes for a refused login (unknown user, wrong password; 516 on current releases).
_LOGIN_REFUSED = {192, 193, 516}


class SqlClient(Protocol):
    """What cxstream needs of a client: clickhouse_driver's ``execute`` (query, optional rows or params)."""

    def execute(self, query: str, params: Any = None) -> Any: ...


def clickhouse_tls(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for ``clickhouse_driver.Client``: none unless ``clickhouse_secure`` is on."""
    if not settings.clickhouse_secure:
        return {}
    return {"secure": True, "verify": settings.clickhouse_verify, "ca_certs": settings.clickhouse_ca_certs or None}


class ClickHouseUnreachable(StorageError):
    """No server answered (refused, timed out, reset): worth trying again later, unlike a refused login."""


def replica_addresses(settings: Settings) -> list[tuple[str, int]]:
    """``clickhouse_replicas`` as (host, port) pairs; a missing port is the native default, as
    clickhouse-driver reads them (9440 with TLS, 9000 without)."""
    default_port = 9440 if settings.clickhouse_secure else 9000
    addresses = []
    for entry in filter(None, (part.strip() for part in settings.clickhouse_replicas.split(","))):
        host, colon, port = entry.rpartition(":")
        if not colon:
            host, port = entry, str(default_port)
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise StorageError(
                f"{env_var('clickhouse_replicas')} must be host:port pairs separated by commas, got {entry!r} "
                f"in {settings.clickhouse_replicas!r}"
            )
        addresses.append((host, int(port)))
    return addresses


def server_addresses(settings: Settings) -> list[tuple[str, int]]:
    """Every server of the data: ``clickhouse_host:clickhouse_port`` first, then the replicas."""
    return [(settings.clickhouse_host, settings.clickhouse_port), *replica_addresses(settings)]


def describe_servers(settings: Settings) -> str:
    """``host:port`` of every server a client tries, in order, for messages."""
    return ", ".join(f"{host}:{port}" for host, port in server_addresses(settings))


def each_server(settings: Settings) -> list[Settings]:
    """``settings`` once per server (the configured one, then each replica), each pointing at that
    server alone: a client made from them never fails over, for work that must reach every
    replica itself, like migrations (views and schema_migrations are per server)."""
    return [dataclasses.replace(settings, clickhouse_host=host, clickhouse_port=port, clickhouse_replicas="")
            for host, port in server_addresses(settings)]


def clickhouse_client(settings: Settings, name: str, *, user: str | None = None, password: str | None = None,
                      connect_timeout: float = 5, send_receive_timeout: float = 300) -> Client:
    """The one way cxstream opens a ClickHouse client: the configured server (then its replicas,
    when it does not answer), user, password and TLS, and ``name`` shown in the server's query
    log. Connects on first use."""
    replicas = replica_addresses(settings)
    return Client(
        host=settings.clickhouse_host,
        port=settings.clickhouse_port,
        alt_hosts=",".join(f"{host}:{port}" for host, port in replicas) or None,
        user=settings.clickhouse_user if user is None else user,
        password=settings.clickhouse_password if password is None else password,
        connect_timeout=connect_timeout,
        send_receive_timeout=send_receive_timeout,
        client_name=name,
        **clickhouse_tls(settings),
    )


def connect(settings: Settings, *, user: str | None = None, password: str | None = None,
            name: str = "cxstream") -> Client:
    """A client for the configured server (or the first replica that answers), checked with one
    query so a setup problem shows here."""
    user = settings.clickhouse_user if user is None else user
    client = clickhouse_client(settings, name, user=user, password=password)
    tried = describe_servers(settings)
    try:
        client.execute("SELECT 1")
    except ServerException as exc:
        where = client.connection.get_description() if client.connection.connected else tried
        client.disconnect()
        if exc.code in _LOGIN_REFUSED:
            raise StorageError(
                f"ClickHouse at {where} refused user {user!r}: check {env_var('clickhouse_user')} and "
                f"{env_var('clickhouse_password')}"
            ) from None
        raise StorageError(f"ClickHouse at {where} failed a first query: {server_message(exc)}") from None
    except (DriverError, OSError, EOFError) as exc:
        client.disconnect()
        servers = f"any of {tried}" if settings.clickhouse_replicas else tried
        raise ClickHouseUnreachable(
            f"ClickHouse is not reachable at {servers} (native protocol): {exc}. Start the local server "
            f"with `cxstream stack up`, or point {env_var('clickhouse_host')}, {env_var('clickhouse_port')} "
            f"and {env_var('clickhouse_replicas')} at yours"
        ) from None
    return client


def server_message(exc: ServerException) -> str:
    """The first line of a server error, without the stack trace 18.16 appends."""
    first = (exc.message or "").strip().splitlines()
    return f"code {exc.code}: {first[0] if first else 'no message'}"
