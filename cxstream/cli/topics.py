"""``cxstream topics ensure``: the contract's Kafka topics, on any cluster."""

from __future__ import annotations

import click

from cxstream.cli.options import with_settings
from cxstream.config import Settings
from cxstream.topics import ensure_topics


@click.group()
def topics() -> None:
    """The contract's Kafka topics."""


@topics.command()
@with_settings("kafka", "topics")
def ensure(settings: Settings) -> None:
    """Create the contract's topics where missing (on any cluster, e.g. in docker compose)."""
    for topic, partitions in sorted(ensure_topics(settings).items()):
        click.echo(f"{topic}: {partitions} partitions")
