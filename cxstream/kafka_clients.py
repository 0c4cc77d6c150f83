"""Kafka clients built from Settings, so every entry point connects the same way.

One TLS context and one set of SASL options serve the three client libraries the project uses:
kafka-python (CLI, admin), aiokafka (gateway, sink) and Faust (worker). With the defaults
(PLAINTEXT) every builder returns no security options, so clients behave as before.
"""

from __future__ import annotations

import ssl
from typing import Any

from kafka import KafkaAdminClient, KafkaProducer

from cxstream.config import Settings, env_var
from cxstream.errors import ConfigError


def ssl_context(settings: Settings) -> ssl.SSLContext | None:
    """The TLS context for SSL and SASL_SSL (CA, optional client certificate), else None."""
    if not settings.kafka_security_protocol.endswith("SSL"):
        return None
    try:
        context = ssl.create_default_context(cafile=settings.kafka_ssl_cafile or None)
        if settings.kafka_ssl_certfile:
            context.load_cert_chain(settings.kafka_ssl_certfile, settings.kafka_ssl_keyfile or None,
                                    password=settings.kafka_ssl_key_password or None)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"cannot load the Kafka TLS files ({exc}): check {env_var('kafka_ssl_cafile')}, "
            f"{env_var('kafka_ssl_certfile')}, {env_var('kafka_ssl_keyfile')} and the key password"
        ) from None
    context.check_hostname = settings.kafka_ssl_check_hostname
    return context


def security_options(settings: Settings) -> dict[str, Any]:
    """Security keyword arguments understood by both kafka-python and aiokafka clients."""
    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return {}
    options: dict[str, Any] = {"security_protocol": protocol}
    context = ssl_context(settings)
    if context is not None:
        options["ssl_context"] = context
    if protocol.startswith("SASL_"):
        options.update(sasl_mechanism=settings.kafka_sasl_mechanism,
                       sasl_plain_username=settings.kafka_sasl_username,
                       sasl_plain_password=settings.kafka_sasl_password)
    return options


def faust_credentials(settings: Settings) -> Any:
    """``broker_credentials`` for the Faust app (None for PLAINTEXT)."""
    import faust

    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return None
    context = ssl_context(settings)
    if protocol == "SSL":
        return faust.SSLCredentials(context)
    # SASLCredentials turns into SASL_SSL when given a context, SASL_PLAINTEXT otherwise.
    return faust.SASLCredentials(username=settings.kafka_sasl_username, password=settings.kafka_sasl_password,
                                 mechanism=settings.kafka_sasl_mechanism, ssl_context=context)


def reliable_producer(settings: Settings, client_id: str, **overrides: Any) -> KafkaProducer:
    """A producer that loses nothing it acknowledged: acks=all, retries, ordered, batched."""
    options: dict[str, Any] = {
        "bootstrap_servers": settings.bootstrap_servers.split(","),
        "client_id": client_id,
        "acks": "all",
        "enable_idempotence": True,
        "max_in_flight_requests_per_connection": 5,
        "linger_ms": 20,
        "batch_size": 256 * 1024,
        "compression_type": None,
        "delivery_timeout_ms": 120_000,
        **security_options(settings),
    }
    options.update(overrides)
    return KafkaProducer(**options)


def admin_client(settings: Settings, client_id: str, **overrides: Any) -> KafkaAdminClient:
    """An admin client (topics, groups) connected like every other client."""
    return KafkaAdminClient(bootstrap_servers=settings.bootstrap_servers.split(","), client_id=client_id,
                            **security_options(settings), **overrides)
