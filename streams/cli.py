"""``cxstream worker``."""

from __future__ import annotations

import click

from cxstream.config import Settings


@click.command()
@click.pass_obj
def worker(settings: Settings) -> None:
    """Run the streaming worker: join, dedupe, score, merge (Ctrl-C stops it cleanly)."""
    from cxstream.streams.worker import run

    run(settings)
