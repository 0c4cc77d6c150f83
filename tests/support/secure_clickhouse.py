"""A throwaway ClickHouse server with a password and a TLS native port, from the installed binary.

The local stack's server (``cxstream.stack.clickhouse``) with ``tcp_port_secure`` and an
``openSSL`` section added, certificates from ``tests.support.secure_broker.make_certificates``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from cxstream.config import Settings
from cxstream.stack.clickhouse import ClickHouseServer
from tests.support.private_stack import free_port
from tests.support.secure_broker import Tls, make_certificates

PASSWORD = "clickhouse-secret"


@dataclass(frozen=True)
class SecureClickHouse:
    """Client settings for the TLS port (CA and password set), and the TLS files."""

    settings: Settings
    tls: Tls


class _TlsClickHouse(ClickHouseServer):
    def __init__(self, settings: Settings, secure_port: int, certs: Path) -> None:
        super().__init__(settings)
        self.secure_port = secure_port
        self.certs = certs

    def _write_config(self) -> None:
        super()._write_config()
        text = self.config_file.read_text()
        ssl = (f"    <tcp_port_secure>{self.secure_port}</tcp_port_secure>\n"
               "    <openSSL><server>\n"
               f"        <certificateFile>{self.certs / 'server.crt'}</certificateFile>\n"
               f"        <privateKeyFile>{self.certs / 'server.key'}</privateKeyFile>\n"
               "        <verificationMode>none</verificationMode><loadDefaultCAFile>false</loadDefaultCAFile>\n"
               "        <cacheSessions>true</cacheSessions><preferServerCiphers>true</preferServerCiphers>\n"
               "    </server></openSSL>\n")
        self.config_file.write_text(text.replace("</yandex>", ssl + "</yandex>"))


@contextmanager
def secure_clickhouse(base: Settings, folder: Path) -> Iterator[SecureClickHouse]:
    """A started server (password ``PASSWORD``, TLS native port); stopped at the end."""
    certs = folder / "certs"
    tls = make_certificates(certs)
    # ClickHouse wants the key and the certificate in files of their own.
    broker_pem = (certs / "broker.pem").read_bytes()
    key = serialization.load_pem_private_key(broker_pem, password=None)
    (certs / "server.key").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                         serialization.PrivateFormat.TraditionalOpenSSL,
                                                         serialization.NoEncryption()))
    start = broker_pem.index(b"-----BEGIN CERTIFICATE-----")
    (certs / "server.crt").write_bytes(broker_pem[start:])
    settings = dataclasses.replace(base, clickhouse_host="127.0.0.1", clickhouse_port=free_port(),
                                   clickhouse_http_port=free_port(), state_dir=folder, clickhouse_password=PASSWORD)
    secure_port = free_port()
    server = _TlsClickHouse(settings, secure_port, certs)
    server.start()
    try:
        yield SecureClickHouse(dataclasses.replace(settings, clickhouse_port=secure_port, clickhouse_secure=True,
                                                   clickhouse_ca_certs=str(tls.cafile)), tls)
    finally:
        server.stop()
