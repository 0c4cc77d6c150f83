"""``cxstream stack up | down | status``."""

from __future__ import annotations

import click

from cxstream.cli.options import with_settings
from cxstream.config import Settings
from cxstream.stack.manager import Stack, StackStatus

#: The stack runs the servers (stack), where clients reach them (kafka, clickhouse), the topics it
#: creates (topics), the BI user of the local server (bi) and the folder it keeps its data in (state).
STACK_GROUPS = ("stack", "kafka", "clickhouse", "topics", "bi", "state")


@click.group()
def stack() -> None:
    """Run the local Kafka (KRaft) broker and ClickHouse server on 127.0.0.1."""


@stack.command()
@with_settings(*STACK_GROUPS)
def up(settings: Settings) -> None:
    """Install what is missing, start Kafka and ClickHouse, create the topics (idempotent)."""
    status = Stack(settings).up()
    started = ", ".join(status.started) or "nothing (already running)"
    click.echo(f"started: {started}")
    _print_status(status)
    for topic, partitions in sorted(status.topics.items()):
        click.echo(f"  topic {topic}: {partitions} partitions")


@stack.command()
@with_settings(*STACK_GROUPS)
def down(settings: Settings) -> None:
    """Stop the Kafka broker and ClickHouse server that `stack up` started (data is kept)."""
    stopped = Stack(settings).down()
    click.echo(f"stopped: {', '.join(stopped) or 'nothing (none of ours was running)'}")


@stack.command()
@with_settings(*STACK_GROUPS)
def status(settings: Settings) -> None:
    """Say what runs and where; exit code 3 when a server is down."""
    current = Stack(settings).status()
    _print_status(current)
    if not current.all_running:
        raise SystemExit(3)


def _print_status(status: StackStatus) -> None:
    for name, running in status.running.items():
        state = "running" if running else "stopped"
        click.echo(f"{name:<11} {state:<8} {status.where[name]}")
    if status.clickhouse_version:
        click.echo(f"clickhouse version {status.clickhouse_version}")
