"""``cxstream dashboard``: serve the live page of scores and open alerts."""

from __future__ import annotations

import click
from aiohttp import web

from cxstream.cli.options import with_settings
from cxstream.config import Settings
from cxstream.dashboard.server import build_app
from cxstream.logs import get_logger

log = get_logger(__name__)


@click.command()
@with_settings("clickhouse", "alerts", "dashboard", own="dashboard")
def dashboard(settings: Settings) -> None:
    """Serve the live page: rolling 15-minute scores per agency and service, channels, trend, open alerts."""
    host, port = settings.dashboard_host, settings.dashboard_port
    click.echo(f"cxstream dashboard: http://{host}:{port}/ (database {settings.clickhouse_database})", err=True)
    log.info("dashboard.started", host=host, port=port, database=settings.clickhouse_database)
    web.run_app(build_app(settings, float(settings.dashboard_push_seconds)), host=host, port=port, print=None)
