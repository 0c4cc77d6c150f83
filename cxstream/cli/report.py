"""``cxstream report a11``: the A-11 Section 280 quarterly report from the stored facts."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import click
from clickhouse_driver.errors import ServerException

from cxstream.cli.options import with_settings
from cxstream.config import Settings, env_var
from cxstream.sinks.errors import StorageError


@click.group()
def report() -> None:
    """Reports from the stored facts."""


@report.command()
@click.option("--fiscal-year", type=int, required=True, help="Federal fiscal year (FY2027 starts 2026-10-01).")
@click.option("--quarter", type=click.IntRange(1, 4), required=True, help="Fiscal quarter 1..4.")
@click.option("--agency", default=None, help="Only this agency.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file (default: standard output).")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@with_settings("clickhouse")
def a11(settings: Settings, fiscal_year: int, quarter: int, agency: str | None, out_path: Path | None,
        fmt: str) -> None:
    """The A-11 Section 280 quarterly report: one row per agency, service and channel."""
    from cxstream.sinks.a11_report import query_report, write_csv, write_json
    from cxstream.sinks.connection import connect

    if not 1900 < fiscal_year < 10000:
        raise click.BadParameter(f"{fiscal_year} is not a fiscal year", param_hint="--fiscal-year")
    if agency is not None and not agency.strip():
        # An unset shell variable ("--agency $AGENCY") must not export every agency's figures.
        raise click.BadParameter("must not be empty: leave --agency out to report every agency",
                                 param_hint="--agency")
    client = connect(settings)
    try:
        rows = query_report(client, settings.clickhouse_database, fiscal_year, quarter, agency)
    except ServerException as exc:
        raise StorageError(_report_failure(settings, exc)) from None
    finally:
        client.disconnect()
    write = write_csv if fmt == "csv" else write_json
    if out_path is None:
        write(rows, sys.stdout)
        return
    # Write next to the target and rename, so a failed run never leaves half a report.
    fd, tmp = tempfile.mkstemp(dir=out_path.parent, prefix=f".{out_path.name}.")
    try:
        with os.fdopen(fd, "w", newline="") as handle:
            write(rows, handle)
        os.replace(tmp, out_path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    click.echo(f"{len(rows)} rows written to {out_path}", err=True)


#: ClickHouse codes for a database or table that is not there (yet).
_MISSING = {60: "table", 81: "database"}


def _report_failure(settings: Settings, exc: ServerException) -> str:
    """One line saying why the report could not be read, and what to do about it."""
    from cxstream.sinks.connection import server_message

    missing = _MISSING.get(exc.code)
    if missing:
        return (f"the {missing} the report reads is missing in {settings.clickhouse_database!r} "
                f"({server_message(exc)}): run `cxstream db migrate` (or start the worker), or point "
                f"{env_var('clickhouse_database')} at cxstream's database")
    return f"the report query failed: {server_message(exc)}"
