"""``cxstream worker``."""

from __future__ import annotations

import click

from cxstream.cli.options import with_settings
from cxstream.config import Settings


@click.command()
@with_settings("kafka", "topics", "clickhouse", "state", "worker", "alerts", "sink", "metrics")
def worker(settings: Settings) -> None:
    """Run the streaming worker: join, dedupe, score, merge, alert, and the ClickHouse sink
    (Ctrl-C stops it cleanly)."""
    from cxstream.streams.worker import run

    run(settings)
