"""The quarterly export of the current A-11 form (FY2024 on, "v2"), as the government collects it.

GSA's Touchpoints system takes, per quarter, *CX collection details* (one per service, channel,
transaction point and survey type, with the volumes served) and, for each detail, a file of the
individual responses. ``cxstream report a11 --form v2 --out DIR`` writes both:

- ``DIR/cx_collection_details.csv``: one row per detail = (agency, service, channel,
  transaction_point, survey_type) with current-form feedback submitted in the quarter
  (:data:`DETAIL_COLUMNS`);
- ``DIR/cx_responses/<name>.csv``: that detail's responses (:data:`RESPONSE_COLUMNS`, the
  government's 17 columns), one row per deduplicated feedback, sorted by submitted_at then
  feedback_id. A driver the form did not offer is the literal ``null``, as in the government's file.

Volumes come from the touchpoints of the detail's cell (agency, service, channel) exactly as in
the v1 report (:func:`cxstream.sinks.a11_report.query_served`): a touchpoint does not say which
survey it was offered, so every detail of a cell carries the cell's volumes. Feedback counts by
``submitted_at``, touchpoints by ``occurred_at``, both within the quarter's [start, end) in UTC.

File names are safe for any agency or service string (see :func:`response_file_name`): only
``[a-z0-9_-]``, bounded in length, and distinct for distinct details. The export is written into a
new directory beside the target and renamed into place (:func:`write_export_dir`), so a failed run
leaves no half set behind. The whole quarter's responses are held in memory while writing.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import secrets
import shutil
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TextIO

from cxstream.csv_cells import cell
from cxstream.errors import CxstreamError
from cxstream.sinks.a11_report import Cell, Served, quarter_params, query_served
from cxstream.sinks.connection import SqlClient
from cxstream.sinks.migrate import check_database_name
from cxstream.vocabulary import DRIVERS

DETAILS_FILE: Final = "cx_collection_details.csv"
RESPONSES_DIR: Final = "cx_responses"

#: The collection details' columns, in order (GSA Touchpoints' CX collection detail names).
DETAIL_COLUMNS: Final[tuple[str, ...]] = (
    "fiscal_year", "quarter", "organization_abbreviation", "service_name", "channel", "transaction_point",
    "survey_type", "trust_question_text", "volume_of_customers", "volume_of_customers_provided_survey_opportunity",
    "volume_of_respondents", "responses_file",
)

#: The driver columns of a response file: positive_<driver> then negative_<driver>, DRIVERS order.
FLAG_COLUMNS: Final[tuple[str, ...]] = (*(f"positive_{d}" for d in DRIVERS), *(f"negative_{d}" for d in DRIVERS))

#: The 17 columns of a response file, in the government's order.
RESPONSE_COLUMNS: Final[tuple[str, ...]] = ("external_id", "question_1", *FLAG_COLUMNS, "question_4")

#: The government's survey type of each trust scale.
SURVEY_TYPES: Final[dict[str, str]] = {"thumbs": "thumbs_up_down", "five_point": "likert_scale"}

#: A driver the form did not offer, as the government's response file writes it.
NOT_OFFERED: Final = "null"

#: The token of the trust question text replaced by each row's agency.
AGENCY_TOKEN: Final = "[agency]"

Detail = tuple[str, str, str, str, str]  # agency, service, channel, transaction_point, survey_type


class ExportTargetError(CxstreamError):
    """The export's target directory cannot be used (a file, not empty, not an earlier export)."""


class ExportDataError(CxstreamError):
    """A stored response the export cannot write as the government's file has it."""


@dataclass(frozen=True)
class Response:
    """One feedback's current-form answers, as a response file row."""

    external_id: str
    submitted_at_ms: int
    question_1: int
    #: FLAG_COLUMNS in order: 1 chosen, 0 offered and not chosen, None not offered.
    flags: tuple[int | None, ...]
    comment: str | None = None

    def values(self) -> tuple[Any, ...]:
        """The row's 17 values: flags as 1, 0 or ``null``, no comment as an empty field."""
        flags = (NOT_OFFERED if flag is None else int(flag) for flag in self.flags)
        return (self.external_id, self.question_1, *flags, self.comment or "")


@dataclass(frozen=True)
class DetailExport:
    """One collection detail of the quarter and its responses (sorted by submitted_at, then id)."""

    fiscal_year: int
    quarter: int
    detail: Detail
    served: Served
    trust_question_text: str
    responses: tuple[Response, ...]

    @property
    def responses_file(self) -> str:
        """The response file's path relative to the export directory (always with ``/``)."""
        return f"{RESPONSES_DIR}/{response_file_name(self.detail)}"

    def values(self) -> dict[str, Any]:
        """Column -> value in DETAIL_COLUMNS order; survey opportunity None when unknown."""
        agency, service, channel, transaction_point, survey_type = self.detail
        return {
            "fiscal_year": self.fiscal_year,
            "quarter": self.quarter,
            "organization_abbreviation": agency,
            "service_name": service,
            "channel": channel,
            "transaction_point": transaction_point,
            "survey_type": survey_type,
            "trust_question_text": trust_question(self.trust_question_text, agency),
            "volume_of_customers": self.served.customers,
            "volume_of_customers_provided_survey_opportunity": self.served.offered_survey,
            "volume_of_respondents": len(self.responses),
            "responses_file": self.responses_file,
        }


def trust_question(template: str, agency: str) -> str:
    """The trust question text of one agency: every ``[agency]`` in ``template`` replaced by it."""
    return template.replace(AGENCY_TOKEN, agency)


_NOT_NAME = re.compile(r"[^a-z0-9]+")
#: Longest readable piece of a file name per detail part (five parts: names stay far below 255 bytes).
_PART_CHARS = 32


def _readable(text: str) -> str:
    """A lower-case ASCII slug of ``text`` (accents folded, anything else a dash), never empty."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return _NOT_NAME.sub("-", folded).strip("-")[:_PART_CHARS].strip("-") or "x"


def response_file_name(detail: Detail) -> str:
    """``<agency>_<service>_<channel>_<transaction point>_<survey type>_<hash>.csv``.

    The readable parts are slugs (``[a-z0-9-]``, at most 32 characters each), so no name holds a
    path separator, a dot segment or a character a file system refuses, and names that differ only
    in case stay apart on case-insensitive file systems. Slugs may coincide for different details
    (``A/B`` and ``a b``); the hash cannot: it is the first 16 hex digits of the SHA-256 of the exact
    five strings (JSON-encoded, so no two tuples share an encoding)."""
    exact = json.dumps(list(detail)).encode("ascii")
    digest = hashlib.sha256(exact).hexdigest()[:16]
    return "_".join(_readable(part) for part in detail) + f"_{digest}.csv"


def build_export(
    fiscal_year: int,
    quarter: int,
    served: Mapping[Cell, Served],
    responses: Mapping[Detail, Iterable[Response]],
    trust_question_text: str,
) -> list[DetailExport]:
    """One DetailExport per detail with responses, sorted by detail; each carries its cell's volumes."""
    return [
        DetailExport(
            fiscal_year, quarter, detail, served.get(detail[:3], Served()), trust_question_text,
            tuple(sorted(responses[detail], key=lambda r: (r.submitted_at_ms, r.external_id))),
        )
        for detail in sorted(responses)
    ]


def query_export(
    client: SqlClient,
    database: str,
    fiscal_year: int,
    quarter: int,
    trust_question_text: str,
    agency: str | None = None,
) -> list[DetailExport]:
    """The v2 export of one fiscal quarter (optionally one agency) from the views in ``database``."""
    db = check_database_name(database)
    params, only_agency = quarter_params(fiscal_year, quarter, agency)
    served = query_served(client, db, fiscal_year, quarter, agency)
    rows = client.execute(
        f"""
        SELECT agency, service, channel, transaction_point, trust_scale, feedback_id, submitted_at_ms,
               question_1, {", ".join(FLAG_COLUMNS)}, comment
        FROM {db}.feedback
        WHERE submitted_at >= toDateTime(%(start)s, 'UTC') AND submitted_at < toDateTime(%(end)s, 'UTC')
          AND isNotNull(question_1) {only_agency}
        """,
        params,
    )
    responses: dict[Detail, list[Response]] = defaultdict(list)
    for agency_, service, channel, transaction_point, scale, feedback_id, at_ms, q1, *rest in rows:
        *flags, comment = rest
        survey_type = SURVEY_TYPES.get(scale)
        if survey_type is None or transaction_point is None:
            # Never dropped silently: a scale the export cannot name would lose the response.
            raise ExportDataError(f"feedback {feedback_id!r} has trust scale {scale!r} and transaction point "
                                  f"{transaction_point!r}: the export knows the scales {sorted(SURVEY_TYPES)}")
        detail = (agency_, service, channel, transaction_point, survey_type)
        responses[detail].append(Response(
            feedback_id, int(at_ms), int(q1), tuple(None if f is None else int(f) for f in flags), comment,
        ))
    del rows  # the driver's rows: only the responses are kept while the files are written
    return build_export(fiscal_year, quarter, served, responses, trust_question_text)


def write_csv(out: TextIO, header: Iterable[str], rows: Iterable[Iterable[Any]]) -> None:
    """A header and rows as RFC 4180 CSV: CRLF line ends, every field through csv_cells.cell.

    Not csv_cells.write_rows: with its ``\\n`` line ends Python's csv module leaves a field holding
    a lone carriage return unquoted, and a comment with one would split its row in two for every
    reader. With CRLF line ends the csv module quotes any field holding CR or LF."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([cell(name) for name in header])
    writer.writerows([cell(value) for value in row] for row in rows)


def write_details(exports: Iterable[DetailExport], out: TextIO) -> None:
    """cx_collection_details.csv: a header and one row per detail, every cell through csv_cells."""
    write_csv(out, DETAIL_COLUMNS, (export.values().values() for export in exports))


def write_responses(export: DetailExport, out: TextIO) -> None:
    """One detail's response file: the 17 columns and one row per response. The flags are 1, 0 or
    ``null`` (never formula-like, so csv_cells leaves them as they are); ids and comments are
    neutralised like every text cell."""
    write_csv(out, RESPONSE_COLUMNS, (response.values() for response in export.responses))


def write_export(exports: Sequence[DetailExport], folder: Path) -> None:
    """The details file and the response files into ``folder`` (existing and empty)."""
    responses_dir = folder / RESPONSES_DIR
    responses_dir.mkdir()
    written: dict[str, Detail] = {}
    for export in exports:
        name = response_file_name(export.detail)
        if name in written:  # a 64-bit hash collision: refuse rather than mix two details' rows
            raise ExportDataError(f"details {written[name]!r} and {export.detail!r} share the file name {name}")
        written[name] = export.detail
        with (responses_dir / name).open("x", encoding="utf-8", newline="") as handle:
            write_responses(export, handle)
    with (folder / DETAILS_FILE).open("x", encoding="utf-8", newline="") as handle:
        write_details(exports, handle)


def _is_earlier_export(folder: Path) -> bool:
    """True when ``folder`` holds nothing but what :func:`write_export` writes."""
    for entry in folder.iterdir():
        if entry.name == DETAILS_FILE and entry.is_file() and not entry.is_symlink():
            continue
        if entry.name == RESPONSES_DIR and entry.is_dir() and not entry.is_symlink():
            if all(f.suffix == ".csv" and f.is_file() and not f.is_symlink() for f in entry.iterdir()):
                continue
        return False
    return True


def check_target(target: Path, force: bool = False) -> Path:
    """The absolute target directory if the export may be written there, else ExportTargetError.

    A new path or an empty directory is used; a non-empty directory only with ``force`` and only
    when it holds an earlier export and nothing else; a file or a symbolic link never."""
    path = Path(os.path.abspath(target))
    if path.parent == path:
        raise ExportTargetError(f"{target} is the root directory: give a directory for the export")
    if path.is_symlink():
        raise ExportTargetError(f"{target} is a symbolic link: give the directory itself")
    if not path.exists():
        ancestor = next(parent for parent in path.parents if parent.exists())
        if not ancestor.is_dir():
            raise ExportTargetError(f"{ancestor} is a file: the export's directory cannot be made under it")
        return path
    if not path.is_dir():
        raise ExportTargetError(f"{target} is a file: --form v2 writes a directory (give a new or empty one)")
    if not any(path.iterdir()):
        return path
    if not force:
        raise ExportTargetError(f"{target} is not empty: give a new or empty directory, or --force to replace "
                                "an earlier export there")
    if not _is_earlier_export(path):
        raise ExportTargetError(f"{target} holds files that are not an earlier export ({DETAILS_FILE} and "
                                f"{RESPONSES_DIR}/*.csv only): not replaced, even with --force")
    return path


def write_export_dir(exports: Sequence[DetailExport], target: Path, force: bool = False) -> Path:
    """Write the export as the directory ``target`` (rules: :func:`check_target`), all or nothing.

    The files go into a new directory beside ``target`` that is then renamed to it; an earlier
    export replaced with ``force`` is moved aside first and deleted once the new one is in place
    (put back if the rename fails). Missing parent directories are created. Returns the path."""
    path = check_target(target, force)
    path.parent.mkdir(parents=True, exist_ok=True)
    stem = path.name[:64]
    partial = path.parent / f".{stem}.partial-{secrets.token_hex(4)}"
    partial.mkdir()  # as the umask says, like any directory the user creates
    try:
        write_export(exports, partial)
        check_target(path, force)  # again: something may have appeared while the files were written
        old = None
        if path.exists() and any(path.iterdir()):
            old = path.parent / f".{stem}.old-{secrets.token_hex(4)}"
            os.rename(path, old)
            try:
                os.rename(partial, path)
            except BaseException:
                os.rename(old, path)
                raise
        else:
            os.replace(partial, path)  # onto a missing path or an empty directory
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    if old is not None:  # the new export is in place: the earlier one goes
        shutil.rmtree(old, ignore_errors=True)
    return path
