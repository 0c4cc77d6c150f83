"""The current A-11 form's quarterly export (``cxstream report a11 --form v2``) equals, byte for
byte, files written here from the inserted records with the csv module and plain loops.

The data set has thumbs and five-point forms, forms that do not offer every driver, feedback with
both forms, v1-only feedback (never exported), feedback and touchpoints outside the quarter and on
its edges, a replayed insert, comments with commas, quotes, newlines and formula-like starts, and
agencies and services with slashes, dot segments, unicode, case-only differences and long names.
Each backend runs the command itself: ClickHouse 18.16 over the network (integration tier), chdb
in process (quick tier, the CLI's connection pointed at it).
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from cxstream.cli import main
from cxstream.config import Settings
from cxstream.schemas.records import A11V2, EnrichedFeedback, Touchpoint
from cxstream.sinks import tables
from cxstream.sinks.migrate import migrate
from tests.support.a11_v2_expected import (
    DETAIL_HEADER,
    DRIVER_NAMES,
    GOVERNMENT_RESPONSE_COLUMNS,
    DataSet,
    csv_bytes,
    expected_export,
    expected_tables,
    in_quarter,
)
from tests.support.clickhouse import BACKENDS, CHDB, LOCAL, Backend, open_backend

LONG = "Long service name " + "x" * 300
CELLS = [  # agency, service, channel: the hostile names are the point
    ("VA", "disability claims", "phone"),
    ("VA", "disability claims", "website"),
    ("va", "disability claims", "phone"),  # differs from VA only in case
    ("DOS/CA", "passports", "in_person"),  # a slash in the agency
    ("DOS/CA", "..", "website"),  # a dot segment as the service
    ("DOS/CA", "a/b", "mail"),
    ("DOS/CA", "a b", "mail"),  # the same readable slug as a/b
    ("SSA", "Sécurité sociale — 社会保障", "phone"),  # unicode
    ("SSA", LONG, "website"),
    ("=HYPERLINK(\"x\")", "-service", "phone"),  # formula-like names
]
COMMENTS = [
    None, "", "Quick and clear.", "Long wait, but fine", 'She said "thank you", twice', "line one\nline two",
    "=1+1", "+33 1 23", "-minus", "@SUM(A1)", "\ttabbed", "\rreturn", "café, naïve — ok", "a,b,\"c\"\r\nd",
]


def _ms(year: int, month: int, day: int, hour: int = 0) -> int:
    return int(datetime(year, month, day, hour, tzinfo=UTC).timestamp()) * 1000


Q_START, Q_END = _ms(2026, 10, 1), _ms(2027, 1, 1)  # FY2027 Q1


def _form(rng: random.Random) -> A11V2:
    scale = rng.choice(["thumbs", "five_point"])
    trust = rng.choice([0, 1]) if scale == "thumbs" else rng.randint(1, 5)
    offered = ["effectiveness", "ease"] + [d for d in DRIVER_NAMES[2:] if rng.random() < 0.5]
    went_well = tuple(d for d in offered if rng.random() < 0.4)
    did_not = tuple(d for d in offered if d not in went_well and rng.random() < 0.3)
    rng.shuffle(offered)
    return A11V2(trust, scale, went_well, did_not, tuple(offered),
                 rng.choice(["post_interaction", "post_service_journey", "relational"]))


def _data_set() -> DataSet:
    rng = random.Random(280)
    spans = [(Q_START, Q_END), (Q_START, Q_END), (Q_START, Q_END),
             (_ms(2026, 9, 1), Q_START), (Q_END, _ms(2027, 2, 1))]  # inside x3, just before, just after
    touchpoints = []
    for i in range(400):
        start, end = rng.choice(spans)
        agency, service, channel = rng.choice(CELLS[1:-1])  # the first and last cells have no touchpoint
        offered = None if service == "passports" else rng.choice([True, True, False, None])  # passports: unknown
        touchpoints.append(Touchpoint(f"tp-{i}", rng.randrange(start, end), agency, service, channel,
                                      survey_offered=offered))
    for j, moment in enumerate([Q_START, Q_START - 1, Q_END, Q_END - 1]):
        touchpoints.append(Touchpoint(f"tp-edge-{j}", moment, "VA", "disability claims", "website",
                                      survey_offered=True))
    feedback = []
    tied = _ms(2026, 11, 15, 12)  # several feedback at the very same millisecond: ordered by id
    for i in range(500):
        start, end = rng.choice(spans)
        agency, service, channel = rng.choice(CELLS)
        submitted = tied if i % 50 == 0 else rng.randrange(start, end)
        kind = rng.choice(["v2", "v2", "both", "v1"])
        answers = {} if kind == "v2" else {"trust": rng.randint(1, 5), "ease": rng.randint(1, 5)}
        fid = f"=fb-{i}" if i % 97 == 0 else f"fb-{i:04d}"
        feedback.append(EnrichedFeedback(fid, None, submitted, agency, service, channel, rng.random() < 0.5,
                                         answers, rng.choice(COMMENTS), None if kind == "v1" else _form(rng)))
    for j, moment in enumerate([Q_START, Q_START - 1, Q_END, Q_END - 1]):
        feedback.append(EnrichedFeedback(f"fb-edge-{j}", None, moment, "VA", "disability claims", "website", True,
                                         {}, "edge", A11V2(1, "thumbs", ("ease",), (), ("effectiveness", "ease"))))
    return DataSet(touchpoints, feedback)


def _load(backend: Backend, data: DataSet) -> None:
    migrate(backend.client, backend.database)
    tp_rows = [tables.touchpoint_row(tp, version=i) for i, tp in enumerate(data.touchpoints)]
    fb_rows = [tables.feedback_row(fb, version=i) for i, fb in enumerate(data.feedback)]
    for _ in range(2):  # the second time is a replay: it must not count twice
        tables.insert(backend.client, backend.database, tables.TOUCHPOINTS, tp_rows)
        tables.insert(backend.client, backend.database, tables.FEEDBACK, fb_rows)


# --- running the command on a backend --------------------------------------------------------------------
class _Borrowed:
    """The chdb session, handed to the command as its connection (which it may not close)."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def execute(self, query: str, params: Any = None) -> Any:
        return self._client.execute(query, params)

    def disconnect(self) -> None:
        pass


def _run(backend: Backend, monkeypatch: pytest.MonkeyPatch, *args: str) -> Result:
    if backend.name == CHDB:
        monkeypatch.setattr("cxstream.sinks.connection.connect", lambda *a, **k: _Borrowed(backend.client))
    return CliRunner().invoke(main, ["report", "a11", "--clickhouse-database", backend.database, *args])


def _files(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in folder.rglob("*") if path.is_file()}


@pytest.fixture(scope="module")
def data() -> DataSet:
    return _data_set()


@pytest.fixture(scope="module", params=BACKENDS)
def loaded(request: pytest.FixtureRequest, settings: Settings, data: DataSet) -> Iterator[Backend]:
    if request.param == LOCAL:
        request.getfixturevalue("stack")
    with open_backend(request.param, settings, "cx_test_a11_v2") as backend:
        _load(backend, data)
        yield backend


def test_the_data_set_covers_what_the_export_must_get_right(data: DataSet) -> None:
    """The ground truth is only as good as its data: every case named in the module doc is in it."""
    expected = expected_export(data, 2027, 1)
    in_q = [fb for fb in data.feedback if in_quarter(fb.submitted_at, 2027, 1)]
    assert {fb.a11_v2.trust_scale for fb in in_q if fb.a11_v2} == {"thumbs", "five_point"}
    assert any(fb.a11_v2 and fb.answers for fb in in_q) and any(fb.a11_v2 is None for fb in in_q)
    assert any(fb.a11_v2 and len(fb.a11_v2.offered) < len(DRIVER_NAMES) for fb in in_q)
    assert len(in_q) < len(data.feedback)
    assert {c for fb in in_q for c in [fb.comment] if c and c[0] in "=+-@\t\r"} >= {"=1+1", "+33 1 23", "\ttabbed"}
    details = list(csv.DictReader(io.StringIO(expected["cx_collection_details.csv"].decode())))
    agencies = {row["organization_abbreviation"] for row in details}
    assert {"VA", "va", "DOS/CA", "'=HYPERLINK(\"x\")"} <= agencies
    assert {"..", "a/b", "a b", LONG} <= {row["service_name"] for row in details}
    assert "" in {row["volume_of_customers_provided_survey_opportunity"] for row in details}  # unknown
    assert "0" in {row["volume_of_customers"] for row in details}  # a detail whose cell had no touchpoint
    assert len({row["responses_file"] for row in details}) == len(details) > 20


@pytest.mark.parametrize("agency", [None, "DOS/CA"])
def test_export_equals_files_written_from_the_records_byte_for_byte(
    loaded: Backend, data: DataSet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, agency: str | None
) -> None:
    out = tmp_path / "fy2027q1"
    only = ["--agency", agency] if agency else []
    result = _run(loaded, monkeypatch, "--fiscal-year", "2027", "--quarter", "1", "--form", "v2", "--out", str(out),
                  *only)

    assert result.exit_code == 0, result.output
    expected = expected_tables(data, 2027, 1, agency)
    got = _files(out)
    assert sorted(got) == sorted(expected)
    for name, table in expected.items():
        assert got[name] == csv_bytes(table), name
        # and a CSV reader gets every value back, one row per record (a lone CR must not split a row)
        assert list(csv.reader(io.StringIO(got[name].decode("utf-8"), newline=""))) == table, name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fy2027q1"]  # nothing left beside it


def test_every_response_file_header_is_the_governments_17_columns_in_order(
    loaded: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "export"
    result = _run(loaded, monkeypatch, "--fiscal-year", "2027", "--quarter", "1", "--form", "v2", "--out", str(out))

    assert result.exit_code == 0, result.output
    with (out / "cx_collection_details.csv").open(newline="", encoding="utf-8") as handle:
        details = list(csv.DictReader(handle))
    assert details
    for row in details:
        with (out / row["responses_file"]).open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            assert next(reader) == GOVERNMENT_RESPONSE_COLUMNS
            rows = list(reader)
        assert len(rows) == int(row["volume_of_respondents"]) > 0
        for values in rows:
            assert all(flag in ("0", "1", "null") for flag in values[2:16])
    assert len(list((out / "cx_responses").iterdir())) == len(details)


def test_a_quarter_without_current_form_feedback_has_a_header_and_no_response_file(
    loaded: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "empty"
    result = _run(loaded, monkeypatch, "--fiscal-year", "2030", "--quarter", "2", "--form", "v2", "--out", str(out))

    assert result.exit_code == 0, result.output
    assert _files(out) == {"cx_collection_details.csv": (",".join(DETAIL_HEADER) + "\r\n").encode()}
    assert (out / "cx_responses").is_dir()


def test_the_trust_question_text_setting_is_used_with_each_rows_agency(
    loaded: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CXSTREAM_REPORT_TRUST_QUESTION_TEXT", "[agency] kept its word ([agency]).")
    out = tmp_path / "worded"
    result = _run(loaded, monkeypatch, "--fiscal-year", "2027", "--quarter", "1", "--form", "v2", "--out", str(out),
                  "--agency", "va")

    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader((out / "cx_collection_details.csv").read_text(encoding="utf-8").splitlines()))
    assert rows and {row["trust_question_text"] for row in rows} == {"va kept its word (va)."}


def test_replacing_an_earlier_export_needs_force(
    loaded: Backend, data: DataSet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "again"
    args = ["--fiscal-year", "2027", "--quarter", "1", "--form", "v2", "--out", str(out)]
    assert _run(loaded, monkeypatch, *args, "--agency", "SSA").exit_code == 0

    refused = _run(loaded, monkeypatch, *args)
    assert refused.exit_code == 2 and "--force" in refused.output
    assert _files(out) == expected_export(data, 2027, 1, "SSA")  # untouched

    replaced = _run(loaded, monkeypatch, *args, "--force")
    assert replaced.exit_code == 0, replaced.output
    assert _files(out) == expected_export(data, 2027, 1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["again"]
