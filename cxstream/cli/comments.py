"""``cxstream comments``: what comments say, per agency and service, on the command line.

The live page's themes and verbatims for a time range of one's choosing: per (agency, service),
the drivers comments talk about (most negative first) and the latest negative comments, from the
views ``comment_themes`` and ``feedback`` (cxstream.sinks.comment_queries). Text for a terminal,
or ``--format json`` for scripts (README.md documents its fields).
"""

from __future__ import annotations

import json
import math
import re
import shutil
import sys
import textwrap
import time
from datetime import UTC, datetime
from typing import Any, Final

import click
from clickhouse_driver.errors import ServerException

from cxstream.cli.options import with_settings
from cxstream.config import Settings, env_var
from cxstream.redaction import redact
from cxstream.sinks.comment_queries import ServiceComments
from cxstream.sinks.errors import StorageError

DEFAULT_LAST: Final = "1h"
DEFAULT_LIMIT: Final = 10
_UNITS: Final[dict[str, int]] = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400}
_DURATION: Final = re.compile(r"(?:\d+[smhdw])+")
#: DateTime's range on every ClickHouse release: a time outside it cannot be asked about.
_EARLIEST, _LATEST = 0, 4_102_444_800  # 1970-01-01, 2100-01-01


@click.command()
@click.option("--agency", required=True, help="The agency whose comments to show (e.g. VA).")
@click.option("--service", default=None, help="Only this service of the agency (default: every service).")
@click.option("--since", default=None, metavar="TIME",
              help="Start, RFC 3339 with a UTC offset (2026-12-03T10:00:00Z); rounded down to the minute.")
@click.option("--last", default=None, metavar="DURATION",
              help=f"Instead of --since: this long before --until (90m, 1h, 2d, 1h30m). [default: {DEFAULT_LAST}]")
@click.option("--until", default=None, metavar="TIME",
              help="End (not included), RFC 3339; rounded up to the minute. [default: now]")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--limit", type=click.IntRange(0, 1000), default=DEFAULT_LIMIT, show_default=True,
              help="Negative comments shown per service, newest first.")
@with_settings("clickhouse")
def comments(settings: Settings, agency: str, service: str | None, since: str | None, last: str | None,
             until: str | None, fmt: str, limit: int) -> None:
    """What comments say, per agency and service: the drivers they talk about (mentions, negative,
    positive; most negative first) and the latest negative comments, over the last hour by default."""
    if not agency.strip():
        # An unset shell variable ("--agency $AGENCY") must not silently match nothing.
        raise click.BadParameter("must not be empty: name the agency (e.g. --agency VA)", param_hint="--agency")
    if service is not None and not service.strip():
        raise click.BadParameter("must not be empty: leave --service out for every service", param_hint="--service")
    start, end = time_range(since, last, until, time.time())
    from cxstream.sinks.comment_queries import query_comments
    from cxstream.sinks.connection import connect

    client = connect(settings, name="cxstream-comments")
    try:
        services = query_comments(client, settings.clickhouse_database, agency, service, start, end, limit)
    except ServerException as exc:
        raise StorageError(_failure(settings, exc)) from None
    finally:
        client.disconnect()
    if fmt == "json":
        sys.stdout.write(json.dumps(to_json(agency, service, start, end, limit, services), indent=2,
                                    ensure_ascii=False) + "\n")
    else:
        width = min(max(shutil.get_terminal_size((100, 24)).columns, 60), 160)
        sys.stdout.write(to_text(agency, service, start, end, services, width))


# --- the time range --------------------------------------------------------------------------------------
def parse_time(text: str, flag: str) -> float:
    """UTC epoch seconds of an RFC 3339 time with an offset; a usage error naming ``flag`` otherwise."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a time: give RFC 3339, e.g. 2026-12-03T10:00:00Z",
                                 param_hint=flag) from None
    if moment.tzinfo is None:
        raise click.BadParameter(f"{text!r} has no UTC offset: end it with Z or +hh:mm", param_hint=flag)
    seconds = moment.timestamp()
    if not _EARLIEST <= seconds < _LATEST:
        raise click.BadParameter(f"{text!r} is outside 1970..2099", param_hint=flag)
    return seconds


def parse_duration(text: str) -> int:
    """Seconds of ``90m``, ``1h``, ``2d``, ``1h30m`` (s, m, h, d, w); a usage error naming --last otherwise."""
    compact = text.strip().lower().replace(" ", "")
    if not _DURATION.fullmatch(compact):
        raise click.BadParameter(f"{text!r} is not a duration: e.g. 90m, 1h, 2d, 1h30m", param_hint="--last")
    seconds = sum(int(n) * _UNITS[unit] for n, unit in re.findall(r"(\d+)([smhdw])", compact))
    if seconds <= 0:
        raise click.BadParameter(f"{text!r} is no time at all", param_hint="--last")
    return seconds


def time_range(since: str | None, last: str | None, until: str | None, now: float) -> tuple[int, int]:
    """[start, end) in UTC epoch seconds, whole minutes (the themes are counted per minute): --until
    rounded up (default: the end of the current minute), --since rounded down, or --last (default
    1h) before the end, so ``--last 1h`` is the 60 minutes the live page's rolling hour counts."""
    if since is not None and last is not None:
        raise click.BadParameter("give --since or --last, not both", param_hint="--last")
    if until is not None:
        end = math.ceil(parse_time(until, "--until") / 60) * 60
    else:  # the current minute included, as the rolling views count it
        end = (int(now) // 60 + 1) * 60
    if since is not None:
        start = int(parse_time(since, "--since")) // 60 * 60
    else:
        start = (end - parse_duration(last or DEFAULT_LAST)) // 60 * 60
    if start >= end:
        what = "--until" if until is not None else "the end of the current minute"
        raise click.BadParameter(f"must be before {what} ({iso(end)})", param_hint="--since")
    return max(start, _EARLIEST), end


# --- output ----------------------------------------------------------------------------------------------
def iso(seconds: int) -> str:
    """``2026-12-03T10:00:00Z``."""
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_ms(ms: int) -> str:
    """``2026-12-03T10:00:07.250Z``, as the contract writes times."""
    return datetime.fromtimestamp(ms // 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def shown(comment: str) -> str:
    """A comment as printed: control characters and runs of white space made one space (no terminal
    escapes, one entry per comment), then redacted once more (defence in depth: whatever a store
    holds; after the clean-up, so a number split by a line break is still recognised)."""
    return redact(" ".join("".join(ch if ch.isprintable() else " " for ch in comment).split()))


def to_json(agency: str, service: str | None, start: int, end: int, limit: int,
            services: list[ServiceComments]) -> dict[str, Any]:
    """The ``--format json`` document (README.md, "cxstream comments")."""
    return {
        "agency": agency, "service": service, "since": iso(start), "until": iso(end), "limit": limit,
        "services": [{
            "agency": block.agency, "service": block.service,
            "comments": block.comments, "negative": block.negative, "positive": block.positive,
            "themes": [{"driver": t.driver, "mentions": t.mentions, "negative_mentions": t.negative_mentions,
                        "positive_mentions": t.positive_mentions} for t in block.themes],
            "latest_negative": [{"submitted_at": iso_ms(c.submitted_at_ms), "channel": c.channel,
                                 "sentiment": c.sentiment, "drivers": list(c.drivers), "comment": redact(c.comment),
                                 "feedback_id": c.feedback_id} for c in block.latest_negative],
        } for block in services],
    }


def to_text(agency: str, service: str | None, start: int, end: int, services: list[ServiceComments],
            width: int = 100) -> str:
    """The terminal report: a heading, then per service its counts, a themes table and the latest
    negative comments, each wrapped under its own column."""
    what = agency if service is None else f"{agency} / {service}"
    span = f"{_when(start)} to {_when(end)} UTC"
    if not services:
        return f"No comments on {what} from {span}.\n"
    out = [f"Comments on {what} from {span}", ""]
    for block in services:
        out.append(f"{block.agency} / {block.service}: {block.comments} comments, {block.negative} negative, "
                   f"{block.positive} positive")
        if block.themes:
            name_width = max(len("theme"), *(len(t.driver) for t in block.themes))
            out.append(f"  {'theme':<{name_width}}  {'mentions':>8}  {'negative':>8}  {'positive':>8}")
            out += [f"  {t.driver:<{name_width}}  {t.mentions:>8}  {t.negative_mentions:>8}  {t.positive_mentions:>8}"
                    for t in block.themes]
        else:
            out.append("  no themes: no comment names a driver")
        if block.latest_negative:
            out.append(f"  latest negative comments ({len(block.latest_negative)} of {block.negative}), newest first")
            channel_width = max(len(c.channel) for c in block.latest_negative)
            for c in block.latest_negative:
                head = f"  {iso_ms(c.submitted_at_ms)[:19].replace('T', ' ')}  {c.channel:<{channel_width}}  {c.sentiment:+.2f}  "
                out.append(textwrap.fill(shown(c.comment) or "(empty)", width=max(width, len(head) + 20),
                                         initial_indent=head, subsequent_indent=" " * len(head),
                                         break_long_words=True, break_on_hyphens=False))
        out.append("")
    return "\n".join(out)


def _when(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%d %H:%M")


#: ClickHouse codes for what an older (or another) database lacks: a database, a view, a column.
_MISSING: Final[dict[int, str]] = {81: "database", 60: "view", 47: "column", 16: "column"}


def _failure(settings: Settings, exc: ServerException) -> str:
    """One line saying why the comments could not be read, and what to do about it."""
    from cxstream.sinks.connection import server_message

    missing = _MISSING.get(exc.code)
    detail = server_message(exc).removesuffix("Stack trace:").rstrip()  # 18.16 ends its first line so
    if missing:
        return (f"a {missing} `cxstream comments` reads is missing in {settings.clickhouse_database!r} "
                f"({detail}): run `cxstream db migrate` (comment insights came with migration 0006), "
                f"or point {env_var('clickhouse_database')} at cxstream's database")
    return f"the comments query failed: {detail}"
