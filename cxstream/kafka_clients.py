"""Kafka clients built from Settings, so every entry point connects the same way."""

from __future__ import annotations

from typing import Any

from kafka import KafkaProducer

from cxstream.config import Settings


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
    }
    options.update(overrides)
    return KafkaProducer(**options)
