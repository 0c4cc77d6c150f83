"""``cxstream gateway``: serve the HTTP ingest API until SIGINT or SIGTERM."""

from __future__ import annotations

import click
from aiohttp import web

from cxstream.cli.options import with_settings
from cxstream.config import Settings
from cxstream.gateway.app import build, server_options
from cxstream.logs import get_logger

log = get_logger(__name__)


@click.command()
@with_settings("kafka", "gateway", "keys", own="gateway")
def gateway(settings: Settings) -> None:
    """Serve POST /v1/touchpoints and /v1/feedback (API keys from `cxstream keys`), OpenAPI at /v1/openapi.json.

    Records are validated like `cxstream publish` and answered only once Kafka acknowledged them.
    """
    app = build(settings)
    log.info("gateway.starting", host=settings.gateway_host, port=settings.gateway_port,
             keys_file=str(settings.gateway_keys_file), header_timeout_s=settings.gateway_header_timeout_seconds,
             body_timeout_s=settings.gateway_body_timeout_seconds,
             in_flight_per_key=settings.gateway_in_flight_per_key,
             in_flight_per_address=settings.gateway_in_flight_per_address)
    # No access log: a line per request costs more than the request at load, and the gateway logs
    # each refusal itself (by key id and status, never a body). server_options bounds slow headers.
    web.run_app(app, host=settings.gateway_host, port=settings.gateway_port, access_log=None, print=None,
                shutdown_timeout=10, **server_options(settings))
    log.info("gateway.stopped")
