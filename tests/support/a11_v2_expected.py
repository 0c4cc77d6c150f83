"""What ``cxstream report a11 --form v2`` must write for a set of stored records, built here with the
csv module and plain loops from the records alone, never from the export's code (shared by the
export's tests and the fault scenarios, which compare a real run's export byte for byte).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cxstream.fiscal import fiscal_quarter_of
from cxstream.schemas.records import EnrichedFeedback, Touchpoint

#: The government's response file columns, written out here rather than imported.
GOVERNMENT_RESPONSE_COLUMNS = [
    "external_id", "question_1",
    "positive_effectiveness", "positive_ease", "positive_efficiency", "positive_transparency", "positive_humanity",
    "positive_employee", "positive_other",
    "negative_effectiveness", "negative_ease", "negative_efficiency", "negative_transparency", "negative_humanity",
    "negative_employee", "negative_other",
    "question_4",
]
DETAIL_HEADER = [
    "fiscal_year", "quarter", "organization_abbreviation", "service_name", "channel", "transaction_point",
    "survey_type", "trust_question_text", "volume_of_customers", "volume_of_customers_provided_survey_opportunity",
    "volume_of_respondents", "responses_file",
]
DRIVER_NAMES = ["effectiveness", "ease", "efficiency", "transparency", "humanity", "employee", "other"]
SURVEY_TYPE = {"thumbs": "thumbs_up_down", "five_point": "likert_scale"}
TRUST_TEXT = "I trust {agency} to deliver on their mission for the American public."


@dataclass
class DataSet:
    touchpoints: list[Touchpoint]
    feedback: list[EnrichedFeedback]


def _spreadsheet_safe(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_bytes(table: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(table)  # RFC 4180
    return out.getvalue().encode("utf-8")


def _documented_file_name(detail: tuple[str, ...]) -> str:
    """docs/A11.md's naming scheme: slugs of the five parts, then 16 hex digits of SHA-256."""
    def slug(text: str) -> str:
        ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
        return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")[:32].strip("-") or "x"
    digest = hashlib.sha256(json.dumps(list(detail)).encode()).hexdigest()[:16]
    return "_".join(slug(part) for part in detail) + "_" + digest + ".csv"


def in_quarter(moment_ms: int, fiscal_year: int, quarter: int) -> bool:
    return fiscal_quarter_of(datetime.fromtimestamp(moment_ms / 1000, UTC)) == (fiscal_year, quarter)


def expected_tables(
    data: DataSet, fiscal_year: int, quarter: int, agency: str | None = None
) -> dict[str, list[list[str]]]:
    """Relative path -> the rows (header first) of every file the export must hold, as a reader sees them."""
    volume: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0])  # customers, offered, said
    for tp in data.touchpoints:
        if in_quarter(tp.occurred_at, fiscal_year, quarter) and agency in (None, tp.agency):
            cell = volume[(tp.agency, tp.service, tp.channel)]
            cell[0] += 1
            cell[1] += tp.survey_offered is True
            cell[2] += tp.survey_offered is not None
    details: dict[tuple[str, ...], list[EnrichedFeedback]] = defaultdict(list)
    for fb in data.feedback:
        v2 = fb.a11_v2
        if v2 is not None and in_quarter(fb.submitted_at, fiscal_year, quarter) and agency in (None, fb.agency):
            details[(fb.agency, fb.service, fb.channel, v2.transaction_point, SURVEY_TYPE[v2.trust_scale])].append(fb)
    files: dict[str, list[list[str]]] = {}
    detail_rows = []
    for detail in sorted(details):
        name = "cx_responses/" + _documented_file_name(detail)
        rows = []
        for fb in sorted(details[detail], key=lambda f: (f.submitted_at, f.feedback_id)):
            v2 = fb.a11_v2
            assert v2 is not None
            flags = []
            for chosen in (v2.went_well, v2.did_not_go_well):
                for driver in DRIVER_NAMES:
                    flags.append("null" if driver not in v2.offered else ("1" if driver in chosen else "0"))
            rows.append([fb.feedback_id, v2.trust, *flags, fb.comment or ""])
        files[name] = [GOVERNMENT_RESPONSE_COLUMNS, *([_spreadsheet_safe(v) for v in row] for row in rows)]
        customers, offered, said = volume.get((detail[0], detail[1], detail[2]), [0, 0, 0])
        detail_rows.append([fiscal_year, quarter, *detail, TRUST_TEXT.format(agency=detail[0]), customers,
                            offered if said or not customers else None, len(rows), name])
    files["cx_collection_details.csv"] = [DETAIL_HEADER, *([_spreadsheet_safe(v) for v in row] for row in detail_rows)]
    return files


def expected_export(data: DataSet, fiscal_year: int, quarter: int, agency: str | None = None) -> dict[str, bytes]:
    """Relative path -> bytes of every file the export must hold."""
    return {name: csv_bytes(table) for name, table in expected_tables(data, fiscal_year, quarter, agency).items()}
