"""``cxstream sink``."""

from __future__ import annotations

import click

from cxstream.cli.options import with_settings
from cxstream.config import Settings


@click.command()
@with_settings("kafka", "topics", "clickhouse", "worker", "sink", "metrics")
def sink(settings: Settings) -> None:
    """Run the ClickHouse sink alone (the worker then with CXSTREAM_SINK_ENABLED=false): it
    writes the worker's outputs to ClickHouse, sharing the work with every sink of the same
    worker id (Ctrl-C writes what is held, then stops)."""
    from cxstream.sinks.process import run

    run(settings)
