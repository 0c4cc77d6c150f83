"""ClickHouse over TLS with a password from a file, on a throwaway server (never the shared one)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cxstream.config import Settings
from cxstream.stack import StackStatus
from tests.support.secure_broker import make_certificates
from tests.support.secure_clickhouse import PASSWORD, SecureClickHouse, secure_clickhouse

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server(stack: StackStatus, settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureClickHouse]:
    with secure_clickhouse(settings, tmp_path_factory.mktemp("secure-clickhouse")) as running:
        yield running


def _migrate(client: Settings, tmp_path: Path, **extra: str) -> subprocess.CompletedProcess[bytes]:
    password_file = tmp_path / "clickhouse-password"
    password_file.write_text(PASSWORD + "\n")
    env = dict(os.environ, CXSTREAM_CLICKHOUSE_HOST=client.clickhouse_host,
               CXSTREAM_CLICKHOUSE_PORT=str(client.clickhouse_port), CXSTREAM_CLICKHOUSE_SECURE="true",
               CXSTREAM_CLICKHOUSE_CA_CERTS=client.clickhouse_ca_certs,
               CXSTREAM_CLICKHOUSE_PASSWORD_FILE=str(password_file), CXSTREAM_CLICKHOUSE_DATABASE="cx_tls",
               CXSTREAM_LOG_FORMAT="json")
    env.pop("CXSTREAM_CLICKHOUSE_PASSWORD", None)
    env.update(extra)
    return subprocess.run([sys.executable, "-m", "cxstream.cli", "db", "migrate"], env=env, capture_output=True,
                          timeout=120, check=False)


def test_migrations_run_over_tls_with_the_password_from_a_file(server: SecureClickHouse, tmp_path: Path) -> None:
    result = _migrate(server.settings, tmp_path)

    output = (result.stdout + result.stderr).decode()
    assert result.returncode == 0, output[-2000:]
    assert PASSWORD not in output


@pytest.mark.parametrize("change", ["untrusted_ca", "plaintext_to_the_tls_port"])
def test_an_untrusted_certificate_or_no_tls_is_refused(server: SecureClickHouse, tmp_path: Path, change: str) -> None:
    extra = ({"CXSTREAM_CLICKHOUSE_CA_CERTS": str(make_certificates(tmp_path / "other").cafile)}
             if change == "untrusted_ca" else {"CXSTREAM_CLICKHOUSE_SECURE": "false"})

    result = _migrate(server.settings, tmp_path, **extra)

    output = (result.stdout + result.stderr).decode()
    assert result.returncode != 0, output[-2000:]
    assert "ClickHouse" in output and PASSWORD not in output
