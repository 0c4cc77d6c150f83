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
@click.option("--form", type=click.Choice(["v1", "v2"]), default="v1", show_default=True,
              help="v1: the 2019-2023 form's report, one row per agency, service and channel. v2: the current "
                   "form's export, a directory with cx_collection_details.csv and one response file per detail "
                   "under cx_responses/ (docs/A11.md).")
@click.option("--out", "out_path", type=click.Path(path_type=Path), default=None,
              help="v1: write to this file (default: standard output). v2 (required): the directory to create.")
@click.option("--force", is_flag=True, default=False,
              help="v2: replace an earlier export in --out (a directory holding anything else is never replaced).")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True,
              help="v1 only: the v2 export is the government's CSV files.")
@with_settings("clickhouse", "report", own="report")
def a11(settings: Settings, fiscal_year: int, quarter: int, agency: str | None, form: str, out_path: Path | None,
        force: bool, fmt: str) -> None:
    """The A-11 Section 280 quarterly figures: the v1 report (one row per agency, service and channel)
    or the current form's v2 export (collection details and response files)."""
    if not 1900 < fiscal_year < 10000:
        raise click.BadParameter(f"{fiscal_year} is not a fiscal year", param_hint="--fiscal-year")
    if agency is not None and not agency.strip():
        # An unset shell variable ("--agency $AGENCY") must not export every agency's figures.
        raise click.BadParameter("must not be empty: leave --agency out to report every agency",
                                 param_hint="--agency")
    if form == "v2":
        _export_v2(settings, fiscal_year, quarter, agency, out_path, force, fmt)
        return
    if out_path is not None and out_path.is_dir():
        raise click.BadParameter(f"{out_path} is a directory: --form v1 writes one file", param_hint="--out")
    from cxstream.sinks.a11_report import query_report, write_csv, write_json
    from cxstream.sinks.connection import connect

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


def _export_v2(settings: Settings, fiscal_year: int, quarter: int, agency: str | None, out_path: Path | None,
               force: bool, fmt: str) -> None:
    """``--form v2``: the current form's export into the directory ``out_path``, all or nothing."""
    from cxstream.sinks.a11_v2_export import ExportTargetError, check_target, query_export, write_export_dir
    from cxstream.sinks.connection import connect

    if fmt != "csv":
        raise click.BadParameter("--form v2 writes the government's CSV files only: leave --format out",
                                 param_hint="--format")
    if out_path is None:
        raise click.BadParameter("--form v2 writes a directory: give --out DIR", param_hint="--out")
    if not settings.report_trust_question_text.strip():
        raise click.BadParameter(f"must not be empty ({env_var('report_trust_question_text')})",
                                 param_hint="--trust-question-text")
    try:
        check_target(out_path, force)  # before the query: a refused target costs no server time
    except ExportTargetError as exc:
        raise click.BadParameter(str(exc), param_hint="--out") from None
    except OSError as exc:
        raise click.BadParameter(f"cannot use {out_path}: {exc.strerror or exc}", param_hint="--out") from None
    client = connect(settings)
    try:
        exports = query_export(client, settings.clickhouse_database, fiscal_year, quarter,
                               settings.report_trust_question_text, agency)
    except ServerException as exc:
        raise StorageError(_report_failure(settings, exc)) from None
    finally:
        client.disconnect()
    try:
        written = write_export_dir(exports, out_path, force)
    except ExportTargetError as exc:
        raise click.BadParameter(str(exc), param_hint="--out") from None
    except OSError as exc:  # nothing is left behind (write_export_dir cleans up); say why in one line
        raise click.ClickException(f"the export was not written to {out_path}: {exc.strerror or exc}") from None
    responses = sum(len(export.responses) for export in exports)
    click.echo(f"{len(exports)} details and {responses} responses written to {written}", err=True)


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
