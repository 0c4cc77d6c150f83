"""ClickHouse TLS options from Settings, for every clickhouse_driver Client the project opens."""

from __future__ import annotations

from typing import Any

from cxstream.config import Settings


def clickhouse_tls(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for ``clickhouse_driver.Client``: none unless ``clickhouse_secure`` is on."""
    if not settings.clickhouse_secure:
        return {}
    return {"secure": True, "verify": settings.clickhouse_verify, "ca_certs": settings.clickhouse_ca_certs or None}
