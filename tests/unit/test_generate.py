"""The traffic generator: seeded, with the shares asked for, incidents that pull scores down, on
the 2019-2023 form (v1), the current A-11 form (a11_v2) or a mix."""

from __future__ import annotations

import functools
import hashlib
import json
import random
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cxstream.cli import main
from cxstream.ingest.kinds import input_kinds
from cxstream.errors import CxstreamError
from cxstream.ingest.generate import (
    CATALOG,
    CHANNEL_KIND,
    COMMENT_DRIVERS,
    COMMENT_LINES,
    DIGITAL,
    DRIVER_OF_DOMAIN,
    GENERAL_LINES,
    HAPPY,
    INCIDENT_LINES,
    NEUTRAL_LINES,
    OTHER_TOPIC_LINES,
    PROFILES,
    SERVICE_WORDS,
    STAFF_WORDS,
    STAFFED,
    UNDECIDED,
    UNHAPPY,
    CommentLine,
    Event,
    Incident,
    Respondent,
    TrafficGenerator,
    fits,
    say,
    wait_words,
    write_comment,
)
from cxstream.ingest.publish import Rejection
from cxstream.insights import CommentInsight, analyze
from cxstream.redaction import redact
from cxstream.schemas.codec import Codec
from cxstream.vocabulary import DRIVERS, FAVOURABLE_TRUST, REQUIRED_DRIVERS

START = 1_795_600_000_000  # a fixed instant, so runs compare
CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "comments" / "corpus.jsonl"
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
#: sha256 of seed 7's first 10 minutes, `--form v1` (the default). It moved once on purpose: the
#: comments are written from templates that follow each respondent's answers (they were picked from
#: 8 fixed sentences, digest f12679d1... from commit 0c07571 to d4373a2), so which feedback carries
#: a comment and its text changed. Everything else did not, byte for byte (the digest below).
V1_SEED7_DIGEST = "9f63710388f222a1756807c83b715782e018a5ab61968f7732543c20f925760a"
#: The same 10 minutes without the comment field, as every generator since commit 0c07571 wrote
#: them: touchpoints, timing, ids, duplicates and answers.
V1_SEED7_WITHOUT_COMMENTS_DIGEST = "e521389be1ba403eb1e20b07b7c55b3d4f73c5897e73a6dfc7e99b2f4a27e22f"
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


def test_form_v1_is_the_default_and_gives_the_traffic_the_generator_always_gave_but_its_comments() -> None:
    digest, without_comments = hashlib.sha256(), hashlib.sha256()
    for e in _events(seed=7, seconds=600, form="v1"):
        digest.update(f"{e.emit_ms} {e.kind} {json.dumps(e.body)}\n".encode())
        body = {k: v for k, v in e.body.items() if k != "comment"}
        without_comments.update(f"{e.emit_ms} {e.kind} {json.dumps(body)}\n".encode())
    assert without_comments.hexdigest() == V1_SEED7_WITHOUT_COMMENTS_DIGEST
    assert digest.hexdigest() == V1_SEED7_DIGEST
    assert [e.body for e in _events(seed=7, seconds=600)] == [e.body for e in _events(seed=7, seconds=600, form="v1")]


@pytest.mark.parametrize("form", ["v2", "mixed"])
def test_the_form_changes_the_survey_answers_and_comments_and_nothing_else(form: str) -> None:
    v1 = _events(seed=3, seconds=600)
    other = _events(seed=3, seconds=600, form=form)
    assert other == _events(seed=3, seconds=600, form=form)  # seeded: the same again
    assert other != _events(seed=4, seconds=600, form=form)

    def without_survey(events: list[Event]) -> list[tuple[int, str, dict[str, Any]]]:
        # the comment follows the answers of the form asked (what was ticked on the current form)
        return [(e.emit_ms, e.kind, {k: v for k, v in e.body.items() if k not in ("answers", "a11_v2", "comment")})
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


# --- comments: written from templates, following the respondent's answers ---------------------------------
def _lines_of_every_kind() -> list[CommentLine]:
    return [*COMMENT_LINES, *INCIDENT_LINES, *(line for lines in GENERAL_LINES.values() for line in lines),
            *NEUTRAL_LINES, *(line for lines in OTHER_TOPIC_LINES.values() for line in lines)]


def _long_waits(channel: str) -> list[str | None]:
    """The words of the long waits a channel's touchpoints can have (a few times its mean)."""
    mean = PROFILES[channel].mean_wait
    return [None, *sorted({wait_words(int(factor * mean) + 1) for factor in (2, 3, 5, 10, 20)})]


def _respondents_for(channel: str) -> Iterator[Respondent]:
    """One respondent per slot value a sentence can show on ``channel``: each service, whom they
    met, each long wait (the sentences' own words are the same for every stance)."""
    for service in SERVICE_WORDS:
        for staff in STAFF_WORDS.get(channel, (None,)):
            for wait in _long_waits(channel):
                yield Respondent(UNHAPPY, service, channel, staff=staff, wait=wait)


def test_every_comment_sentence_reads_as_tagged_in_every_slot_and_carries_no_personal_data() -> None:
    """The analyzer reads each sentence as its tag says (lean and drivers), also typed in lower
    case without a full stop, for every service, channel, staff and wait it can name."""
    channels = {channel for services in CATALOG.values() for cs in services.values() for channel in cs}
    texts: dict[str, CommentLine] = {}
    for line in _lines_of_every_kind():
        for channel in sorted(channels):
            for who in _respondents_for(channel):
                if fits(line, who):
                    texts.setdefault(say(line, who), line)
    assert len(texts) > 500
    wrong = []
    for text, line in texts.items():
        assert redact(text) == text and len(text) < 300
        for typed in (text, text.lower().rstrip(".")):
            insight = analyze(typed)
            assert insight is not None
            if (insight.label, insight.drivers) != (line.tone, line.drivers):
                wrong.append((typed, insight.label, insight.drivers))
    assert wrong == []


def test_written_comments_read_as_written() -> None:
    """Whole comments (sentences, a mixed opener, a closer, phone typing) read as the generator
    meant them: the lean drawn for the respondent and exactly the drivers named."""
    rng = random.Random(280)
    channels = list(CHANNEL_KIND)
    for _ in range(3000):
        channel = rng.choice(channels)
        drivers = [d for d in COMMENT_DRIVERS if d != "employee" or channel in STAFF_WORDS]
        rng.shuffle(drivers)
        cut = rng.randint(0, 3)
        who = Respondent(rng.choice([HAPPY, UNDECIDED, UNHAPPY]), rng.choice(list(SERVICE_WORDS)), channel,
                         tuple(drivers[:cut]), tuple(drivers[cut:cut + rng.randint(0, 3)]),
                         rng.random() < 0.2, rng.random() < 0.2, rng.choice(_long_waits(channel)),
                         rng.random() < 0.3, rng.random() < 0.3, rng.random() < 0.3,
                         rng.choice(STAFF_WORDS.get(channel, (None,))))
        written = write_comment(rng, who)
        insight = analyze(written.text)
        assert insight is not None
        assert (insight.label, insight.drivers) == (written.tone, written.drivers), written


def _commented(events: list[Event]) -> list[tuple[tuple[str, str, str], dict[str, Any], CommentInsight]]:
    """Cell, body and analyzer reading of every generated comment (each feedback once)."""
    seen: set[str] = set()
    out = []
    for cell, body in _feedback_by_cell(events):
        if "comment" in body and body["feedback_id"] not in seen:
            seen.add(body["feedback_id"])
            insight = analyze(body["comment"])
            assert insight is not None
            out.append((cell, body, insight))
    return out


def _stance(body: dict[str, Any]) -> str:
    """How the respondent answered: current-form trust (a five-point 3 undecided), else satisfaction."""
    if "a11_v2" in body:
        a = body["a11_v2"]
        if _favourable(a):
            return "happy"
        return "undecided" if (a["trust_scale"], a["trust"]) == ("five_point", 3) else "unhappy"
    satisfaction = body["answers"]["satisfaction"]
    return "happy" if satisfaction >= 4 else "undecided" if satisfaction == 3 else "unhappy"


@pytest.mark.parametrize("form", ["v1", "v2", "mixed"])
def test_comments_are_a_modest_share_varied_seeded_and_in_our_own_words(form: str) -> None:
    events = _survey_events(form)
    feedback = {e.body["feedback_id"]: e.body for e in events if e.kind == "feedback"}
    comments = [body["comment"] for body in feedback.values() if "comment" in body]
    assert 0.15 <= len(comments) / len(feedback) <= 0.25
    assert len(set(comments)) > 300  # half an hour: templates with slots, not a short list
    assert all(redact(c) == c for c in comments)  # no personal data to redact
    corpus = {json.loads(line)["text"] for line in CORPUS.read_text().splitlines()}
    # the generator's words are not the analyzer's test corpus (beyond "N/A" and "Fine.")
    assert not corpus & {c for c in comments if len(c.split()) > 3}
    again = _events(seed=7, seconds=1800, feedback_share=0.5, form=form)
    assert [e.body.get("comment") for e in again] == [e.body.get("comment") for e in events]


@pytest.mark.parametrize("form", ["v1", "v2"])
def test_happy_respondents_mostly_praise_unhappy_ones_complain_and_many_are_neutral(form: str) -> None:
    labels: dict[str, Counter[str]] = defaultdict(Counter)
    for _, body, insight in _commented(_survey_events(form)):
        labels[_stance(body)][insight.label] += 1
    share = {stance: {label: n / c.total() for label, n in c.items()} for stance, c in labels.items()}
    assert all(c.total() > 150 for c in labels.values()), labels
    assert share["happy"]["positive"] > 0.6 and share["happy"]["negative"] < 0.1, share
    assert share["unhappy"]["negative"] > 0.75 and share["unhappy"]["positive"] < 0.1, share
    assert max(share["undecided"], key=share["undecided"].__getitem__) == "neutral", share
    everyone = sum(labels.values(), Counter())
    assert everyone["neutral"] / everyone.total() > 0.2


def _complaints_about(comments: list[tuple[tuple[str, str, str], dict[str, Any], CommentInsight]],
                      drivers: set[str], at_least: int = 40) -> float:
    """Share of the comments that read negative and name one of ``drivers``."""
    assert len(comments) >= at_least
    return sum(i.label == "negative" and bool(drivers & set(i.drivers)) for _, _, i in comments) / len(comments)


@pytest.mark.parametrize("form", ["v1", "v2", "mixed"])
def test_an_incidents_comments_are_mostly_complaints_about_what_it_broke(form: str) -> None:
    broken = {"efficiency", "ease"}  # what INCIDENT_DRIVER_DROP takes most from
    incident = _commented(_survey_events(form, seed=1, incidents=(Incident(*INCIDENT_CELL),)))
    normal = _commented(_survey_events(form, seed=1))
    in_cell = [c for c in incident if c[0] == INCIDENT_CELL]
    elsewhere = [c for c in incident if c[0] != INCIDENT_CELL]

    assert sum(i.label == "negative" for _, _, i in in_cell) / len(in_cell) > 0.65
    assert _complaints_about(in_cell, broken) > 0.55
    assert _complaints_about(in_cell, broken) > _complaints_about(elsewhere, broken) + 0.4
    # the same cell on an ordinary day (an incident also floods its cell: it has fewer comments then)
    assert _complaints_about(in_cell, broken) > \
        _complaints_about([c for c in normal if c[0] == INCIDENT_CELL], broken, at_least=10) + 0.4
    negative_mentions = Counter(d for _, _, i in in_cell if i.label == "negative" for d in i.drivers)
    assert negative_mentions.most_common(1)[0][0] in broken  # the theme the page and `cxstream comments` lead with


def test_comments_never_contradict_what_the_respondent_ticked_or_answered() -> None:
    incidents = (Incident(*INCIDENT_CELL),)
    named = total = 0
    for _, body, insight in _commented(_survey_events("v2", seed=1, incidents=incidents)):
        a = body["a11_v2"]
        if insight.label == "negative":
            assert not set(insight.drivers) & set(a["went_well"]), (body["comment"], a)
            if insight.drivers:
                total += 1
                named += set(insight.drivers) <= set(a["did_not_go_well"])
        elif insight.label == "positive":
            assert not set(insight.drivers) & set(a["did_not_go_well"]), (body["comment"], a)
    assert total > 100 and named / total > 0.75  # mostly what they ticked; else what happened (a long wait)
    high_low: dict[str, set[str]] = {}
    for _, body, insight in _commented(_survey_events("v1", seed=1, incidents=incidents)):
        answers = body["answers"]
        high_low["positive"] = {DRIVER_OF_DOMAIN[d] for d, n in answers.items() if d in DRIVER_OF_DOMAIN and n >= 4}
        high_low["negative"] = {DRIVER_OF_DOMAIN[d] for d, n in answers.items() if d in DRIVER_OF_DOMAIN and n <= 2}
        if insight.label == "negative":
            assert not set(insight.drivers) & high_low["positive"], (body["comment"], answers)
        elif insight.label == "positive":
            assert not set(insight.drivers) & high_low["negative"], (body["comment"], answers)
