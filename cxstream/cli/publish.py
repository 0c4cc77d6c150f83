"""``cxstream publish touchpoints|feedback FILE``."""

from __future__ import annotations

import sys

import click

from cxstream.cli.options import with_settings
from cxstream.config import Settings
from cxstream.ingest.kinds import input_kinds
from cxstream.kafka_clients import reliable_producer
from cxstream.ingest.publish import PublishSummary, Rejection, open_input, publish_lines
from cxstream.schemas.codec import Codec


@click.command()
@click.argument("kind", type=click.Choice(["touchpoints", "feedback"]))
@click.argument("path", metavar="FILE")
@with_settings("kafka")
def publish(settings: Settings, kind: str, path: str) -> None:
    """Publish JSON lines (FILE, or - for stdin) to the contract's topic, validated and Avro-encoded.

    Invalid lines are reported with their number and reason and skipped; the exit code is 1 when
    any line was rejected or could not be delivered. Everything accepted is flushed to Kafka
    before the command ends, also on Ctrl-C.
    """
    record_kind = input_kinds(Codec(), settings.topic)[kind]
    producer = reliable_producer(settings, client_id=f"cxstream-publish-{kind}")
    on_tty = sys.stderr.isatty()

    def report(line: int, rejection: Rejection) -> None:
        if on_tty:
            click.echo("\r\033[K", nl=False, err=True)
        click.echo(f"line {line}: rejected: {rejection.detail}", err=True)

    def progress(summary: PublishSummary) -> None:
        rate = summary.sent / summary.seconds if summary.seconds else 0.0
        click.echo(f"\r\033[K{kind}: sent {summary.sent:,}, rejected {sum(summary.rejected.values()):,}, "
                   f"{rate:,.0f}/s", nl=False, err=True)

    try:
        with open_input(path) as lines:
            summary = publish_lines(lines, record_kind, producer, report, progress if on_tty else None)
    except FileNotFoundError:
        raise click.ClickException(f"no such file: {path}") from None
    finally:
        producer.close(timeout=30)
    if on_tty:
        click.echo("\r\033[K", nl=False, err=True)
    click.echo(f"{kind}: {summary.render()}", err=True)
    if summary.interrupted:
        raise SystemExit(130)
    if not summary.ok:
        raise SystemExit(1)
