"""Kafka and ClickHouse security settings: secrets from env or files, never shown, checked at load."""

from __future__ import annotations

from pathlib import Path

import pytest

from cxstream.config import Settings
from cxstream.errors import ConfigError
from cxstream.kafka_clients import faust_credentials, security_options


def test_plaintext_adds_no_client_options() -> None:
    assert security_options(Settings.load(environ={})) == {}
    assert faust_credentials(Settings.load(environ={})) is None


def test_a_password_file_fills_the_password_without_its_trailing_newline(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("s3cret\n")

    settings = Settings.load(environ={"CXSTREAM_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
                                      "CXSTREAM_KAFKA_SASL_USERNAME": "alice",
                                      "CXSTREAM_KAFKA_SASL_PASSWORD_FILE": str(tmp_path / "pw")})

    assert settings.kafka_sasl_password == "s3cret"
    assert security_options(settings) == {"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "PLAIN",
                                          "sasl_plain_username": "alice", "sasl_plain_password": "s3cret"}


def test_secrets_never_show_in_repr_or_describe(tmp_path: Path) -> None:
    settings = Settings.load(environ={"CXSTREAM_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
                                      "CXSTREAM_KAFKA_SASL_USERNAME": "alice", "CXSTREAM_KAFKA_SASL_PASSWORD": "pw-1",
                                      "CXSTREAM_KAFKA_SSL_KEY_PASSWORD": "pw-2", "CXSTREAM_CLICKHOUSE_PASSWORD": "pw-3"})

    shown = repr(settings) + str(settings.describe())

    assert not {"pw-1", "pw-2", "pw-3"} & set(shown.replace("'", " ").replace(",", " ").split())
    assert "pw-" not in shown
    assert settings.describe()["kafka_sasl_password"] == "***"


@pytest.mark.parametrize(("environ", "message"), [
    ({"CXSTREAM_KAFKA_SECURITY_PROTOCOL": "SASL_SSL"}, "CXSTREAM_KAFKA_SASL_USERNAME"),
    ({"CXSTREAM_KAFKA_SASL_PASSWORD": "a", "CXSTREAM_KAFKA_SASL_PASSWORD_FILE": "/etc/hostname"}, "not both"),
    ({"CXSTREAM_CLICKHOUSE_PASSWORD_FILE": "/nonexistent/pw"}, "CXSTREAM_CLICKHOUSE_PASSWORD_FILE"),
    ({"CXSTREAM_KAFKA_SECURITY_PROTOCOL": "SASL_SCRAM"}, "must be one of"),
    ({"CXSTREAM_KAFKA_SSL_CERTFILE": "/c.pem"}, "go together"),
])
def test_settings_that_cannot_work_name_the_setting(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.load(environ=environ)


def test_ssl_without_a_readable_ca_says_which_settings_to_check() -> None:
    settings = Settings.load(environ={"CXSTREAM_KAFKA_SECURITY_PROTOCOL": "SSL",
                                      "CXSTREAM_KAFKA_SSL_CAFILE": "/nonexistent/ca.pem"})

    with pytest.raises(ConfigError, match="CXSTREAM_KAFKA_SSL_CAFILE"):
        security_options(settings)


def test_sasl_ssl_gives_faust_sasl_credentials_over_tls() -> None:
    settings = Settings.load(environ={"CXSTREAM_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
                                      "CXSTREAM_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
                                      "CXSTREAM_KAFKA_SASL_USERNAME": "carol", "CXSTREAM_KAFKA_SASL_PASSWORD": "x"})

    credentials = faust_credentials(settings)

    assert credentials.protocol.value == "SASL_SSL" and credentials.mechanism.value == "SCRAM-SHA-512"
    assert credentials.ssl_context is not None and credentials.ssl_context.check_hostname


def test_clickhouse_tls_options_only_when_secure() -> None:
    from cxstream.sinks.connection import clickhouse_tls

    plain = Settings.load(environ={})
    secure = Settings.load(environ={"CXSTREAM_CLICKHOUSE_SECURE": "true", "CXSTREAM_CLICKHOUSE_CA_CERTS": "/ca.pem"})

    assert clickhouse_tls(plain) == {}
    assert clickhouse_tls(secure) == {"secure": True, "verify": True, "ca_certs": "/ca.pem"}
