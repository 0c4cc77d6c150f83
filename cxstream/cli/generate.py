"""``cxstream generate``: realistic traffic to Kafka (paced by the wall clock) or to JSON lines files."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from cxstream.cli.options import with_settings
from cxstream.config import Settings
from cxstream.ingest.kinds import input_kinds
from cxstream.ingest.generate import FORMS, Incident, TrafficGenerator
from cxstream.kafka_clients import reliable_producer
from cxstream.ingest.publish import Rejection, _Delivery, _flush_through_interrupts
from cxstream.schemas.codec import Codec

PROGRESS_SECONDS = 5.0


@click.command()
@click.option("--rate", type=float, default=20.0, show_default=True, help="Touchpoints per second (daily mean).")
@click.option("--duration", type=float, default=None,
              help="Seconds of traffic; default: until Ctrl-C (with --out: 600).")
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same traffic.")
@click.option("--feedback-share", type=float, default=0.1, show_default=True,
              help="Share of touchpoints that get survey feedback.")
@click.option("--incident", "incidents", multiple=True, metavar="AGENCY/SERVICE/CHANNEL",
              help="Pull scores down in this cell so an alert fires (repeatable).")
@click.option("--form", type=click.Choice(FORMS), default="v1", show_default=True,
              help="Survey form of the feedback: v1 (the 2019-2023 seven 1-5 statements, 'answers'), v2 "
                   "(the current A-11 form, 'a11_v2': trust by thumbs or five-point, driver checklists), "
                   "or mixed (some of each, a few both).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write touchpoints.jsonl and feedback.jsonl here (ending now) instead of publishing.")
@with_settings("kafka")
def generate(settings: Settings, rate: float, duration: float | None, seed: int, feedback_share: float,
             incidents: tuple[str, ...], form: str, out_dir: Path | None) -> None:
    """Generate seeded touchpoints and feedback for A-11 agencies, with a daily rhythm and incidents.

    Some feedback arrives before its touchpoint, some twice, and a few surveys have no touchpoint.
    The same seed gives the same traffic whatever --form: only the survey answers change.
    """
    parsed = tuple(Incident.parse(text) for text in incidents)
    now_ms = int(time.time() * 1000)
    if out_dir is not None:
        seconds = 600.0 if duration is None else duration
        gen = TrafficGenerator(seed, rate, now_ms - int(seconds * 1000), feedback_share, parsed, form)
        counts = _write(gen, now_ms, out_dir)
        click.echo(f"wrote {counts['touchpoints']:,} touchpoints and {counts['feedback']:,} feedback "
                   f"to {out_dir}", err=True)
        return
    _publish(settings, TrafficGenerator(seed, rate, now_ms, feedback_share, parsed, form), duration)


def _write(gen: TrafficGenerator, until_ms: int, out_dir: Path) -> dict[str, int]:
    out_dir.mkdir(parents=True, exist_ok=True)
    counts = {"touchpoints": 0, "feedback": 0}
    with open(out_dir / "touchpoints.jsonl", "w") as tps, open(out_dir / "feedback.jsonl", "w") as fbs:
        files = {"touchpoints": tps, "feedback": fbs}
        for event in gen.events_until(until_ms):
            files[event.kind].write(json.dumps(event.body) + "\n")
            counts[event.kind] += 1
    return counts


def _publish(settings: Settings, gen: TrafficGenerator, duration: float | None) -> None:
    kinds = input_kinds(Codec(), settings.topic)
    producer = reliable_producer(settings, client_id="cxstream-generate")
    delivery = _Delivery()
    sent = {"touchpoints": 0, "feedback": 0}
    started = time.monotonic()
    last_report, last_sent = started, 0
    interrupted = False
    try:
        while duration is None or time.monotonic() - started < duration:
            for event in gen.events_until(int(time.time() * 1000)):
                kind = kinds[event.kind]
                try:
                    key, value = kind.to_message(event.body)
                except Rejection as rejection:  # a generator bug: say so, keep going
                    click.echo(f"generate: rejected own {event.kind}: {rejection.detail}", err=True)
                    continue
                future = producer.send(kind.topic, key=key, value=value)
                future.add_callback(delivery.on_success)
                future.add_errback(delivery.on_error)
                sent[event.kind] += 1
            now = time.monotonic()
            if now - last_report >= PROGRESS_SECONDS:
                total = sent["touchpoints"] + sent["feedback"]
                click.echo(f"generate: {sent['touchpoints']:,} touchpoints, {sent['feedback']:,} feedback, "
                           f"{sent['touchpoints'] / (now - started):,.1f} touchpoints/s, "
                           f"{(total - last_sent) / (now - last_report):,.1f} messages/s now, "
                           f"acked {delivery.acked:,}, failed {delivery.failed:,}", err=True)
                last_report, last_sent = now, total
            time.sleep(0.05)  # pacing against the wall clock, not synchronisation
    except KeyboardInterrupt:
        interrupted = True
    finally:
        _flush_through_interrupts(producer, 60.0)
        producer.close(timeout=30)
    seconds = time.monotonic() - started
    click.echo(f"generate: sent {sent['touchpoints']:,} touchpoints and {sent['feedback']:,} feedback in "
               f"{seconds:.1f}s ({sent['touchpoints'] / seconds:,.1f} touchpoints/s); acked {delivery.acked:,}, "
               f"failed {delivery.failed:,}", err=True)
    if delivery.failed:
        raise SystemExit(1)
    if interrupted:
        raise SystemExit(130)
