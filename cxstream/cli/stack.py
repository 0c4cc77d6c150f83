"""``cxstream stack up | down | status``."""

from __future__ import annotations

import click

from cxstream.cli.options import with_settings
from cxstream.config import Settings
from cxstream.stack.manager import ClusterStack, Stack, StackStatus

#: The stack runs the servers (stack), where clients reach them (kafka, clickhouse), the topics it
#: creates (topics), the BI user of the local server (bi), the folder it keeps its data in (state)
#: and where the local cluster listens (cluster).
STACK_GROUPS = ("stack", "kafka", "clickhouse", "topics", "bi", "state", "cluster")

_CLUSTER = click.option(
    "--cluster", is_flag=True,
    help="The local cluster instead: 3 Kafka brokers, ZooKeeper and 2 ClickHouse replicas (ports from "
         "CXSTREAM_CLUSTER_PORT_BASE)",
)


@click.group()
def stack() -> None:
    """Run the local Kafka (KRaft) broker and ClickHouse server on 127.0.0.1."""


@stack.command()
@_CLUSTER
@with_settings(*STACK_GROUPS)
def up(settings: Settings, cluster: bool) -> None:
    """Install what is missing, start Kafka and ClickHouse, create the topics (idempotent)."""
    status = ClusterStack(settings).up() if cluster else Stack(settings).up()
    started = ", ".join(status.started) or "nothing (already running)"
    click.echo(f"started: {started}")
    _print_status(status)
    for topic, partitions in sorted(status.topics.items()):
        click.echo(f"  topic {topic}: {partitions} partitions")
    if cluster:
        click.echo("point cxstream's commands at the cluster with:")
        for name, value in ClusterStack(settings).layout.client_environment(settings).items():
            click.echo(f"  export {name}={value}")


@stack.command()
@with_settings(*STACK_GROUPS)
def down(settings: Settings) -> None:
    """Stop what `stack up` and `stack up --cluster` started (data is kept)."""
    stopped = Stack(settings).down() + ClusterStack(settings).down()
    click.echo(f"stopped: {', '.join(stopped) or 'nothing (none of ours was running)'}")


@stack.command()
@_CLUSTER
@with_settings(*STACK_GROUPS)
def status(settings: Settings, cluster: bool) -> None:
    """Say what runs and where; exit code 3 when a server is down."""
    current = ClusterStack(settings).status() if cluster else Stack(settings).status()
    _print_status(current)
    if not current.all_running:
        raise SystemExit(3)


def _print_status(status: StackStatus) -> None:
    for name, running in status.running.items():
        state = "running" if running else "stopped"
        click.echo(f"{name:<11} {state:<8} {status.where[name]}")
    if status.clickhouse_version:
        click.echo(f"clickhouse version {status.clickhouse_version}")
