"""Connecting to ClickHouse over the native protocol, with errors that say what to fix."""

from __future__ import annotations

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


def clickhouse_client(settings: Settings, name: str, *, user: str | None = None, password: str | None = None,
                      connect_timeout: float = 5, send_receive_timeout: float = 300) -> Client:
    """The one way cxstream opens a ClickHouse client: the configured server, user, password and TLS,
    and ``name`` shown in the server's query log. Connects on first use."""
    return Client(
        host=settings.clickhouse_host,
        port=settings.clickhouse_port,
        user=settings.clickhouse_user if user is None else user,
        password=settings.clickhouse_password if password is None else password,
        connect_timeout=connect_timeout,
        send_receive_timeout=send_receive_timeout,
        client_name=name,
        **clickhouse_tls(settings),
    )


def connect(settings: Settings, *, user: str | None = None, password: str | None = None,
            name: str = "cxstream") -> Client:
    """A client for the configured server, checked with one query so a setup problem shows here."""
    user = settings.clickhouse_user if user is None else user
    client = clickhouse_client(settings, name, user=user, password=password)
    where = f"{settings.clickhouse_host}:{settings.clickhouse_port}"
    try:
        client.execute("SELECT 1")
    except ServerException as exc:
        client.disconnect()
        if exc.code in _LOGIN_REFUSED:
            raise StorageError(
                f"ClickHouse at {where} refused user {user!r}: check {env_var('clickhouse_user')} and "
                f"{env_var('clickhouse_password')}"
            ) from None
        raise StorageError(f"ClickHouse at {where} failed a first query: {server_message(exc)}") from None
    except (DriverError, OSError, EOFError) as exc:
        client.disconnect()
        raise StorageError(
            f"ClickHouse is not reachable at {where} (native protocol): {exc}. Start the local server "
            f"with `cxstream stack up`, or point {env_var('clickhouse_host')} and "
            f"{env_var('clickhouse_port')} at yours"
        ) from None
    return client


def server_message(exc: ServerException) -> str:
    """The first line of a server error, without the stack trace 18.16 appends."""
    first = (exc.message or "").strip().splitlines()
    return f"code {exc.code}: {first[0] if first else 'no message'}"
