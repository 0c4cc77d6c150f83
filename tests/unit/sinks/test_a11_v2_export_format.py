"""The v2 export's columns, file names, values and target directory rules, without a server."""

from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cxstream.cli import main
from cxstream.sinks import a11_v2_export
from cxstream.sinks.a11_report import Served
from cxstream.sinks.a11_v2_export import (
    DETAIL_COLUMNS,
    DETAILS_FILE,
    RESPONSE_COLUMNS,
    RESPONSES_DIR,
    DetailExport,
    ExportDataError,
    ExportTargetError,
    Response,
    build_export,
    check_target,
    query_export,
    response_file_name,
    trust_question,
    write_export_dir,
    write_responses,
)

NONE_OFFERED = (None,) * 14


def test_response_file_columns_are_the_governments_17_in_order() -> None:
    assert list(RESPONSE_COLUMNS) == [
        "external_id", "question_1",
        "positive_effectiveness", "positive_ease", "positive_efficiency", "positive_transparency",
        "positive_humanity", "positive_employee", "positive_other",
        "negative_effectiveness", "negative_ease", "negative_efficiency", "negative_transparency",
        "negative_humanity", "negative_employee", "negative_other",
        "question_4",
    ]


def test_detail_columns_are_in_the_documented_order() -> None:
    assert list(DETAIL_COLUMNS) == [
        "fiscal_year", "quarter", "organization_abbreviation", "service_name", "channel", "transaction_point",
        "survey_type", "trust_question_text", "volume_of_customers", "volume_of_customers_provided_survey_opportunity",
        "volume_of_respondents", "responses_file",
    ]


def _detail(agency: str = "VA", service: str = "claims", channel: str = "phone",
            point: str = "post_interaction", survey: str = "thumbs_up_down") -> tuple[str, str, str, str, str]:
    return (agency, service, channel, point, survey)


def _export(*responses: Response, served: Served | None = None) -> DetailExport:
    return DetailExport(2027, 1, _detail(), served or Served(3, 2), "I trust [agency].", responses)


def test_flags_are_written_1_0_or_null_exactly_and_text_is_neutralised() -> None:
    flags = (1, 0, None, None, None, 0, 1, 0, 1, None, None, None, 0, 0)
    out = io.StringIO()
    write_responses(_export(Response("=id", 0, 1, flags, '=cmd, "quoted"'), Response("b", 1, 0, NONE_OFFERED)), out)

    assert out.getvalue().splitlines()[1:] == [
        '\'=id,1,1,0,null,null,null,0,1,0,1,null,null,null,0,0,"\'=cmd, ""quoted"""',
        "b,0,null,null,null,null,null,null,null,null,null,null,null,null,null,null,",
    ]


def test_a_lone_carriage_return_in_a_comment_does_not_split_its_row() -> None:
    out = io.StringIO()
    write_responses(_export(Response("a", 0, 1, NONE_OFFERED, "before\rafter"), Response("b", 1, 1, NONE_OFFERED)),
                    out)

    rows = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert [row[0] for row in rows] == ["external_id", "a", "b"]
    assert rows[1][-1] == "before\rafter"


HOSTILE = [
    "", " ", ".", "..", "../..", "/", "/etc/passwd", "a/../b", "C:\\Windows", "con", "NUL", "a\x00b", "tab\there",
    "line\nbreak", "Sécurité sociale", "社会保障", "🙂", "=HYPERLINK()", "x" * 5000, "." * 300, "-" * 40, "A" * 31 + "é",
]
_NAME = re.compile(r"[a-z0-9-]+(_[a-z0-9-]+){4}_[0-9a-f]{16}\.csv")


@pytest.mark.parametrize("text", HOSTILE)
def test_file_names_are_safe_for_any_agency_or_service(tmp_path: Path, text: str) -> None:
    name = response_file_name(_detail(agency=text, service=text, channel=text))

    assert _NAME.fullmatch(name), name
    assert len(name.encode()) <= 200
    folder = tmp_path / RESPONSES_DIR
    folder.mkdir()
    (folder / name).write_text("ok")  # the file system takes it, and it lands in the folder
    assert [p.name for p in folder.iterdir()] == [name]
    assert sorted(p.name for p in tmp_path.iterdir()) == [RESPONSES_DIR]


def test_details_that_differ_in_case_or_in_replaced_characters_never_share_a_file() -> None:
    details = [_detail(agency=a, service=s) for a in ("VA", "va", "Va", "V/A", "V A", "V.A", "VÀ", "V\u0300A")
               for s in ("a/b", "a b", "a-b", "A B", "a\u00a0b", "x" * 40, "x" * 41, "x" * 40 + "y")]
    details += [_detail(survey="likert_scale"), _detail(point="relational"), _detail(channel="website")]
    names = [response_file_name(detail) for detail in details]

    assert len({name.lower() for name in names}) == len(details)


def test_the_file_name_scheme_is_stable() -> None:
    """Published exports name these files; the scheme (docs/A11.md) changes only on purpose."""
    assert response_file_name(("DOS/CA", "Passports", "in_person", "post_interaction", "likert_scale")) == (
        "dos-ca_passports_in-person_post-interaction_likert-scale_2d0b7f3d8b4f4d1d.csv"
    )


def test_trust_question_puts_the_agency_in_place_of_every_token() -> None:
    assert trust_question("I trust [agency] ([agency]).", "VA") == "I trust VA (VA)."
    assert trust_question("A fixed question.", "VA") == "A fixed question."


def test_every_detail_of_a_cell_carries_the_cells_volumes_and_unknown_stays_unknown() -> None:
    served = {("VA", "claims", "phone"): Served(10, 4), ("VA", "claims", "website"): Served(5, None)}
    responses = {
        _detail(survey="likert_scale"): [Response("b", 2, 5, NONE_OFFERED), Response("a", 2, 4, NONE_OFFERED),
                                         Response("c", 1, 3, NONE_OFFERED)],
        _detail(): [Response("d", 9, 1, NONE_OFFERED)],
        _detail(point="relational"): [Response("e", 9, 0, NONE_OFFERED)],
        _detail(channel="website"): [Response("f", 9, 0, NONE_OFFERED)],
        _detail(channel="paper"): [Response("g", 9, 0, NONE_OFFERED)],
    }

    exports = build_export(2027, 1, served, responses, "[agency]?")

    volumes = {e.detail: (e.values()["volume_of_customers"], e.values()["volume_of_customers_provided_survey_opportunity"],
                          e.values()["volume_of_respondents"]) for e in exports}
    assert volumes == {
        _detail(): (10, 4, 1), _detail(survey="likert_scale"): (10, 4, 3), _detail(point="relational"): (10, 4, 1),
        _detail(channel="website"): (5, None, 1), _detail(channel="paper"): (0, 0, 1),
    }
    assert [e.detail for e in exports] == sorted(responses)
    likert = next(e for e in exports if e.detail == _detail(survey="likert_scale"))
    assert [r.external_id for r in likert.responses] == ["c", "a", "b"]  # by submitted_at, then id
    assert likert.values()["trust_question_text"] == "VA?"


class _Rows:
    """A client that answers the touchpoints query with nothing and the feedback query with ``rows``."""

    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        self.rows = rows

    def execute(self, query: str, params: Any = None) -> Any:
        return self.rows if ".feedback" in query else []


def test_a_response_the_export_cannot_name_stops_it_rather_than_vanishing() -> None:
    row = ("VA", "claims", "phone", "post_interaction", "seven_point", "fb-1", 0, 6, *NONE_OFFERED, None)
    with pytest.raises(ExportDataError, match="fb-1"):
        query_export(_Rows([row]), "cx", 2027, 1, "q")
    ok = ("VA", "claims", "phone", "post_interaction", "five_point", "fb-1", 0, 4, *NONE_OFFERED, None)
    [export] = query_export(_Rows([ok]), "cx", 2027, 1, "q")
    assert export.detail[-1] == "likert_scale"


# --- the target directory ------------------------------------------------------------------------------
def _earlier(folder: Path) -> None:
    write_export_dir([_export(Response("old", 0, 1, NONE_OFFERED))], folder)


def test_a_new_directory_is_created_with_its_parents(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "export"
    write_export_dir([_export(Response("x", 0, 1, NONE_OFFERED))], target)

    assert sorted(p.name for p in target.iterdir()) == [DETAILS_FILE, RESPONSES_DIR]
    assert [p.name for p in (tmp_path / "a" / "b").iterdir()] == ["export"]


def test_an_empty_directory_is_used(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    write_export_dir([], tmp_path / "empty")
    assert sorted(p.name for p in (tmp_path / "empty").iterdir()) == [DETAILS_FILE, RESPONSES_DIR]


def test_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("mine")
    with pytest.raises(ExportTargetError, match="is a file"):
        write_export_dir([], tmp_path / "file")
    assert (tmp_path / "file").read_text() == "mine"


def test_a_symbolic_link_is_refused(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with pytest.raises(ExportTargetError, match="symbolic link"):
        check_target(tmp_path / "link")


def test_a_non_empty_directory_needs_force_and_then_only_an_earlier_export_is_replaced(tmp_path: Path) -> None:
    _earlier(tmp_path / "export")
    with pytest.raises(ExportTargetError, match="--force"):
        write_export_dir([], tmp_path / "export")

    write_export_dir([_export(Response("new", 0, 1, NONE_OFFERED))], tmp_path / "export", force=True)
    [response_file] = (tmp_path / "export" / RESPONSES_DIR).iterdir()
    assert "new," in response_file.read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["export"]  # nothing left beside it

    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "thesis.txt").write_text("years of work")
    with pytest.raises(ExportTargetError, match="not an earlier export"):
        write_export_dir([], tmp_path / "home", force=True)
    assert (tmp_path / "home" / "thesis.txt").read_text() == "years of work"


def test_a_failed_write_leaves_no_half_export_and_keeps_the_earlier_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exports = [_export(Response("a", 0, 1, NONE_OFFERED)),
               DetailExport(2027, 1, _detail(service="other"), Served(), "q", (Response("b", 0, 1, NONE_OFFERED),))]
    calls = []

    def fail_second(export: DetailExport, out: Any) -> None:
        calls.append(export)
        if len(calls) == 2:
            raise OSError("disk full")
        out.write("partial")

    monkeypatch.setattr(a11_v2_export, "write_responses", fail_second)
    with pytest.raises(OSError, match="disk full"):
        write_export_dir(exports, tmp_path / "new")
    assert list(tmp_path.iterdir()) == []

    monkeypatch.undo()
    _earlier(tmp_path / "kept")
    before = {p: p.read_bytes() for p in (tmp_path / "kept").rglob("*") if p.is_file()}
    monkeypatch.setattr(a11_v2_export, "write_responses", fail_second)
    calls.clear()
    with pytest.raises(OSError, match="disk full"):
        write_export_dir(exports, tmp_path / "kept", force=True)
    assert {p: p.read_bytes() for p in (tmp_path / "kept").rglob("*") if p.is_file()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["kept"]


# --- the command's refusals (none of them reaches ClickHouse) -----------------------------------------
@pytest.fixture
def no_server(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the command connected to ClickHouse before refusing")

    monkeypatch.setattr("cxstream.sinks.connection.connect", refuse)


def _a11(*args: str) -> Any:
    return CliRunner().invoke(main, ["report", "a11", "--fiscal-year", "2027", "--quarter", "1", *args])


@pytest.mark.usefixtures("no_server")
def test_v2_refuses_json_a_missing_out_an_empty_agency_and_a_file(tmp_path: Path) -> None:
    (tmp_path / "file.csv").write_text("x")
    cases = [
        (["--form", "v2", "--out", str(tmp_path / "d"), "--format", "json"], "--format"),
        (["--form", "v2"], "--out DIR"),
        (["--form", "v2", "--out", str(tmp_path / "d"), "--agency", ""], "empty"),
        (["--form", "v2", "--out", str(tmp_path / "file.csv")], "is a file"),
        (["--form", "v2", "--out", str(tmp_path / "file.csv" / "sub")], "is a file"),
        (["--form", "v2", "--out", str(tmp_path / "d"), "--trust-question-text", " "], "--trust-question-text"),
    ]
    for args, says in cases:
        result = _a11(*args)
        assert result.exit_code == 2, (args, result.output)
        assert says in result.output, (args, result.output)
    assert sorted(os.listdir(tmp_path)) == ["file.csv"]


@pytest.mark.usefixtures("no_server")
def test_v1_still_refuses_a_directory_as_its_out_file(tmp_path: Path) -> None:
    result = _a11("--out", str(tmp_path))
    assert result.exit_code == 2 and "is a directory" in result.output
