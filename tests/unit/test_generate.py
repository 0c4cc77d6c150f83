"""The traffic generator: seeded, with the shares asked for, incidents that pull scores down, on
the 2019-2023 form (v1), the current A-11 form (a11_v2) or a mix."""

from __future__ import annotations

import functools
import hashlib
import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cxstream.cli import main
from cxstream.ingest.kinds import input_kinds
from cxstream.errors import CxstreamError
from cxstream.ingest.generate import DIGITAL, STAFFED, Event, Incident, TrafficGenerator
from cxstream.ingest.publish import Rejection
from cxstream.schemas.codec import Codec
from cxstream.vocabulary import DRIVERS, FAVOURABLE_TRUST, REQUIRED_DRIVERS

START = 1_795_600_000_000  # a fixed instant, so runs compare
HOUR_MS = 3_600_000


def _events(seed: int = 7, seconds: int = 600, **options: object) -> list[Event]:
    gen = TrafficGenerator(seed, rate=20.0, start_ms=START, **options)  # type: ignore[arg-type]
    return list(gen.events_until(START + seconds * 1000))


def test_same_seed_gives_the_same_traffic_and_another_seed_does_not() -> None:
    first = [(e.kind, e.body) for e in _events(seed=3)]
    assert first == [(e.kind, e.body) for e in _events(seed=3)]
    assert first != [(e.kind, e.body) for e in _events(seed=4)]


def test_traffic_continues_the_same_when_drawn_in_slices() -> None:
    gen = TrafficGenerator(5, rate=20.0, start_ms=START)
    sliced = [e.body for step in range(1, 11) for e in gen.events_until(START + step * 60_000)]
    assert sliced == [e.body for e in _events(seed=5)]


def test_events_are_emitted_in_time_order_and_feedback_share_is_as_asked() -> None:
    events = _events(seconds=1800, feedback_share=0.2)
    assert [e.emit_ms for e in events] == sorted(e.emit_ms for e in events)
    kinds = Counter(e.kind for e in events)
    assert 0.17 < kinds["feedback"] / kinds["touchpoints"] < 0.23


def test_feedback_includes_early_duplicate_and_direct_surveys_and_always_the_mandatory_domains() -> None:
    events = _events(seconds=3600)
    feedback = [e.body for e in events if e.kind == "feedback"]
    assert all({"satisfaction", "trust"} <= set(f["answers"]) for f in feedback)
    assert any(len(f["answers"]) > 2 for f in feedback)
    ids = Counter(f["feedback_id"] for f in feedback)
    assert any(n == 2 for n in ids.values()), "no duplicate feedback"
    direct = [f for f in feedback if "touchpoint_id" not in f]
    assert direct and all({"agency", "service", "channel"} <= set(f) for f in direct)
    seen_touchpoints: set[str] = set()
    early = 0
    for e in events:
        if e.kind == "touchpoints":
            seen_touchpoints.add(e.body["touchpoint_id"])
        elif "touchpoint_id" in e.body and e.body["touchpoint_id"] not in seen_touchpoints:
            early += 1
    assert early > 0, "no feedback before its touchpoint"


def _pct_positive(events: list[Event], cell: tuple[str, str, str]) -> float:
    touchpoints = {e.body["touchpoint_id"]: e.body for e in events if e.kind == "touchpoints"}
    answers = [a for e in events if e.kind == "feedback" and "touchpoint_id" in e.body
               for tp in [touchpoints.get(e.body["touchpoint_id"], {})]  # late ones: still pending
               if tp and (tp["agency"], tp["service"], tp["channel"]) == cell
               for a in e.body["answers"].values()]
    assert len(answers) > 30
    return 100 * sum(a >= 4 for a in answers) / len(answers)


def test_an_incident_lowers_pct_positive_in_its_cell() -> None:
    cell = ("VA", "disability-claims", "phone")
    normal = _pct_positive(_events(seconds=7200, feedback_share=0.5), cell)
    incident = _pct_positive(_events(seconds=7200, feedback_share=0.5, incidents=(Incident(*cell),)), cell)
    assert incident < normal - 25


def test_scores_differ_by_channel() -> None:
    events = _events(seconds=7200, feedback_share=0.5)
    assert _pct_positive(events, ("VA", "disability-claims", "in_person")) > \
        _pct_positive(events, ("VA", "disability-claims", "phone")) + 5


def _rejected(events: list[Event]) -> list[tuple[dict[str, Any], Rejection]]:
    kinds = input_kinds(Codec())
    rejected = []
    for e in events:
        try:
            kinds[e.kind].to_message(json.loads(json.dumps(e.body)))
        except Rejection as rejection:
            rejected.append((e.body, rejection))
    return rejected


@pytest.mark.parametrize("form", ["v1", "v2", "mixed"])
def test_every_generated_line_passes_the_publish_validator(form: str) -> None:
    events = _events(seconds=900, form=form, incidents=(Incident("VA", "disability-claims", "phone"),))
    assert sum(e.kind == "feedback" for e in events) > 1000
    assert _rejected(events) == []


@pytest.mark.parametrize("text", ["VA/disability-claims", "VA/nonexistent/phone", "Mars/x/phone"])
def test_an_incident_naming_no_generated_cell_is_refused(text: str) -> None:
    with pytest.raises(CxstreamError):
        Incident.parse(text)


def test_traffic_follows_a_daily_rhythm() -> None:
    def count(hour_utc: int) -> int:
        start = START - START % (24 * HOUR_MS) + hour_utc * HOUR_MS
        gen = TrafficGenerator(1, rate=20.0, start_ms=start, feedback_share=0.0)
        return len(list(gen.events_until(start + 600_000)))
    assert count(18) > 2 * count(8)  # early afternoon US Eastern against the small hours


# --- the survey form: v1, the current A-11 form (a11_v2), or a mix --------------------------------
#: sha256 of seed 7's first 10 minutes as the generator wrote them before it knew the current form
#: (commit 0c07571): `--form v1`, the default, must not change a byte of anyone's traffic.
V1_SEED7_DIGEST = "f12679d11ef865826d9c64a662cd58d6f22d992afba79aec850e3240b7a8250a"
INCIDENT_CELL = ("VA", "disability-claims", "phone")


@functools.lru_cache(maxsize=8)
def _survey_events(form: str, seed: int = 7, seconds: int = 1800,
                   incidents: tuple[Incident, ...] = ()) -> list[Event]:
    """Half an hour of traffic where half the touchpoints get feedback (shared by the tests below,
    which only read it)."""
    return _events(seed=seed, seconds=seconds, feedback_share=0.5, form=form, incidents=incidents)


def _feedback_by_cell(events: list[Event]) -> list[tuple[tuple[str, str, str], dict[str, Any]]]:
    """(agency, service, channel) and body of every feedback, by its touchpoint or its own fields."""
    touchpoints = {e.body["touchpoint_id"]: e.body for e in events if e.kind == "touchpoints"}
    out = []
    for e in events:
        if e.kind == "feedback":
            where = touchpoints.get(e.body.get("touchpoint_id", ""), e.body)
            if "agency" in where:  # a feedback whose touchpoint is still pending at the end: skipped
                out.append(((where["agency"], where["service"], where["channel"]), e.body))
    return out


def _v2(events: list[Event]) -> list[dict[str, Any]]:
    return [e.body["a11_v2"] for e in events if e.kind == "feedback" and "a11_v2" in e.body]


def _favourable(a11_v2: dict[str, Any]) -> bool:
    return a11_v2["trust"] in FAVOURABLE_TRUST[a11_v2["trust_scale"]]


def test_form_v1_is_the_default_and_gives_the_traffic_the_generator_always_gave() -> None:
    digest = hashlib.sha256()
    for e in _events(seed=7, seconds=600, form="v1"):
        digest.update(f"{e.emit_ms} {e.kind} {json.dumps(e.body)}\n".encode())
    assert digest.hexdigest() == V1_SEED7_DIGEST
    assert [e.body for e in _events(seed=7, seconds=600)] == [e.body for e in _events(seed=7, seconds=600, form="v1")]


@pytest.mark.parametrize("form", ["v2", "mixed"])
def test_the_form_changes_the_survey_answers_and_nothing_else(form: str) -> None:
    v1 = _events(seed=3, seconds=600)
    other = _events(seed=3, seconds=600, form=form)
    assert other == _events(seed=3, seconds=600, form=form)  # seeded: the same again
    assert other != _events(seed=4, seconds=600, form=form)

    def without_survey(events: list[Event]) -> list[tuple[int, str, dict[str, Any]]]:
        return [(e.emit_ms, e.kind, {k: v for k, v in e.body.items() if k not in ("answers", "a11_v2")})
                for e in events]
    assert without_survey(other) == without_survey(v1)
    for before, now in zip(v1, other, strict=True):
        assert "answers" not in now.body or now.body["answers"] == before.body["answers"]


def test_v2_feedback_carries_the_current_form_only() -> None:
    feedback = [e.body for e in _survey_events("v2") if e.kind == "feedback"]
    assert feedback and all("a11_v2" in f and "answers" not in f for f in feedback)


def test_mixed_has_v1_only_v2_only_and_a_few_both() -> None:
    feedback = [e.body for e in _survey_events("mixed") if e.kind == "feedback"]
    kinds = Counter("both" if {"answers", "a11_v2"} <= set(f) else "v2" if "a11_v2" in f else "v1"
                    for f in feedback)
    shares = {kind: n / len(feedback) for kind, n in kinds.items()}
    assert 0.30 < shares["v1"] < 0.40 and 0.45 < shares["v2"] < 0.55 and 0.10 < shares["both"] < 0.20, shares


def test_both_scales_occur_each_cell_keeps_to_one_and_thumbs_lead_on_digital_channels() -> None:
    scales: dict[tuple[str, str, str], Counter[str]] = defaultdict(Counter)
    for cell, body in _feedback_by_cell(_survey_events("v2")):
        scales[cell][body["a11_v2"]["trust_scale"]] += 1
    total = sum((c for c in scales.values()), Counter())
    assert total["thumbs"] > 0.3 * total.total() and total["five_point"] > 0.3 * total.total()
    busy = {cell: c for cell, c in scales.items() if c.total() >= 50}
    assert len(busy) > 20
    assert all(max(c.values()) / c.total() > 0.8 for c in busy.values()), busy  # one survey per touchpoint
    assert {c.most_common(1)[0][0] for c in busy.values()} == {"thumbs", "five_point"}

    def thumbs_share(digital: bool) -> float:
        chosen = sum((c for cell, c in scales.items() if (cell[2] in DIGITAL) == digital), Counter())
        return chosen["thumbs"] / chosen.total()
    assert thumbs_share(digital=True) > 0.6 and thumbs_share(digital=False) < 0.45


def test_forms_offer_effectiveness_and_ease_always_employee_only_where_people_serve_others_sometimes() -> None:
    by_cell = _feedback_by_cell(_survey_events("v2"))
    offered = [set(body["a11_v2"]["offered"]) for _, body in by_cell]
    assert all(set(REQUIRED_DRIVERS) <= o for o in offered)
    assert all("employee" not in body["a11_v2"]["offered"] for cell, body in by_cell if cell[2] not in STAFFED)
    for optional in ("efficiency", "transparency", "humanity", "other"):
        assert 0.1 < sum(optional in o for o in offered) / len(offered) < 0.95, optional
    assert any(o == set(DRIVERS) for o in offered) and any(o == set(REQUIRED_DRIVERS) | {"efficiency"}
                                                         for o in offered)
    # A cell's survey is one form: its respondents are offered the same checklist.
    forms: dict[tuple[tuple[str, str, str], str], set[tuple[str, ...]]] = defaultdict(set)
    for cell, body in by_cell:
        forms[(cell, body["a11_v2"]["trust_scale"])].add(tuple(body["a11_v2"]["offered"]))
    assert all(len(checklists) == 1 for checklists in forms.values())


def test_unhappy_respondents_tick_what_did_not_go_well_and_happy_ones_what_went_well() -> None:
    answers = _v2(_survey_events("v2"))
    assert all(not set(a["went_well"]) & set(a["did_not_go_well"]) for a in answers)

    def mean_ticks(favourable: bool, checklist: str) -> float:
        chosen = [a for a in answers if _favourable(a) == favourable]
        assert len(chosen) > 500
        return sum(len(a[checklist]) for a in chosen) / len(chosen)
    assert mean_ticks(False, "did_not_go_well") > 1.0
    assert mean_ticks(False, "did_not_go_well") > 5 * mean_ticks(True, "did_not_go_well")
    assert mean_ticks(True, "went_well") > 1.2
    assert mean_ticks(True, "went_well") > 3 * mean_ticks(False, "went_well")


def test_transaction_points_are_mostly_post_interaction_and_direct_surveys_are_periodic() -> None:
    feedback = [e.body for e in _survey_events("v2") if e.kind == "feedback"]
    points = Counter(f["a11_v2"]["transaction_point"] for f in feedback)
    assert points["post_interaction"] > 0.7 * points.total()
    assert points["post_service_journey"] > 0.03 * points.total() and points["relational"] > 0
    assert all(f["a11_v2"]["transaction_point"] != "post_interaction" for f in feedback if "touchpoint_id" not in f)
    assert all(f["a11_v2"]["transaction_point"] != "relational" for f in feedback if "touchpoint_id" in f)


def test_an_incident_lowers_trust_in_its_cell_and_the_drivers_it_breaks_explain_it() -> None:
    def cell_answers(incidents: tuple[Incident, ...]) -> list[dict[str, Any]]:
        events = _survey_events("v2", seed=1, incidents=incidents)  # seed 1: its forms offer efficiency
        answers = [body["a11_v2"] for cell, body in _feedback_by_cell(events) if cell == INCIDENT_CELL]
        assert len(answers) > 80
        return answers

    def favourable_pct(answers: list[dict[str, Any]]) -> float:
        return 100 * sum(map(_favourable, answers)) / len(answers)

    def did_not_go_well_pct(answers: list[dict[str, Any]], driver: str) -> float:
        offered = [a for a in answers if driver in a["offered"]]
        assert len(offered) > 50, driver
        return 100 * sum(driver in a["did_not_go_well"] for a in offered) / len(offered)

    normal, incident = cell_answers(()), cell_answers((Incident(*INCIDENT_CELL),))
    assert favourable_pct(incident) < favourable_pct(normal) - 40
    for broken in ("efficiency", "ease"):
        assert did_not_go_well_pct(incident, broken) > did_not_go_well_pct(normal, broken) + 40
        for spared in ("humanity", "employee"):
            assert did_not_go_well_pct(incident, broken) > did_not_go_well_pct(incident, spared) + 20


def test_form_is_checked_by_the_command_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["generate", "--form", "v3", "--out", str(tmp_path)])

    assert result.exit_code == 2
    assert "--form" in result.output and "'v1', 'v2', 'mixed'" in result.output
    assert not (tmp_path / "feedback.jsonl").exists()


@pytest.mark.parametrize(("form", "kinds"), [(None, {"v1"}), ("mixed", {"v1", "v2", "both"}), ("v2", {"v2"})])
def test_out_writes_feedback_of_the_form_asked_that_publish_accepts(
    tmp_path: Path, form: str | None, kinds: set[str]
) -> None:
    args = ["generate", "--out", str(tmp_path), "--duration", "300", "--feedback-share", "0.5", "--seed", "5"]
    result = CliRunner().invoke(main, args + (["--form", form] if form else []))

    assert result.exit_code == 0, result.output
    lines = (tmp_path / "feedback.jsonl").read_text().splitlines()
    feedback = [json.loads(line) for line in lines]
    assert len(feedback) > 500
    assert {"both" if {"answers", "a11_v2"} <= set(f) else "v2" if "a11_v2" in f else "v1" for f in feedback} == kinds
    codec_kinds = input_kinds(Codec())
    for f in feedback:
        codec_kinds["feedback"].to_message(f)  # Rejection on a line `cxstream publish` would refuse
