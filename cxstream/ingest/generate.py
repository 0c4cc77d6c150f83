"""Realistic, seeded service traffic: touchpoints and survey feedback in the contract's JSON form.

Pure: :class:`TrafficGenerator` turns a seed and a start time into a stream of events ordered by
when a channel would send them; ``generate_cli`` paces them against the wall clock or writes files.

Feedback comes on the 2019-2023 form (``answers``: the seven 1-5 statements), on the current A-11
form (``a11_v2``: trust on a thumbs or five-point scale, "what went well" / "what didn't go well"
driver checklists, the transaction point), or both (``form``: v1, v2 or mixed). The traffic itself
(touchpoints, which of them get feedback, when it is sent, its v1 answers and comment) is the same
whatever the form: the current form's choices are drawn from a random stream of their own, so
``form="v1"`` gives exactly what the generator gave before the current form existed.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from cxstream.errors import CxstreamError
from cxstream.vocabulary import (
    DOMAINS,
    DRIVERS,
    FAVOURABLE_TRUST,
    MAX_ANSWER,
    MIN_ANSWER,
    POSITIVE_ANSWER,
    REQUIRED_DRIVERS,
    TRUST_SCALES,
)

#: Channels staffed by people: only these are asked the employee helpfulness question (v1), and
#: only their forms offer the employee driver (v2).
STAFFED = frozenset({"phone", "in_person", "live_chat", "email", "postal_mail"})


@dataclass(frozen=True)
class ChannelProfile:
    """How one channel behaves: typical wait, abandonment, and its answers' mean (1..5)."""

    mean_wait: float
    mean_handle: float
    abandon: float
    score: float


PROFILES: dict[str, ChannelProfile] = {
    "phone": ChannelProfile(mean_wait=240, mean_handle=420, abandon=0.12, score=4.1),
    "automated_phone": ChannelProfile(mean_wait=20, mean_handle=150, abandon=0.15, score=4.0),
    "in_person": ChannelProfile(mean_wait=900, mean_handle=600, abandon=0.04, score=4.6),
    "website": ChannelProfile(mean_wait=2, mean_handle=300, abandon=0.08, score=4.4),
    "mobile_app": ChannelProfile(mean_wait=1, mean_handle=200, abandon=0.06, score=4.5),
    "live_chat": ChannelProfile(mean_wait=60, mean_handle=360, abandon=0.07, score=4.3),
    "email": ChannelProfile(mean_wait=3600, mean_handle=240, abandon=0.02, score=4.1),
    "postal_mail": ChannelProfile(mean_wait=86400, mean_handle=900, abandon=0.01, score=4.0),
    "self_service_kiosk": ChannelProfile(mean_wait=30, mean_handle=180, abandon=0.05, score=4.3),
}

#: Agencies of A-11's High-Impact Service Providers, a few of their services, and their channels.
CATALOG: dict[str, dict[str, tuple[str, ...]]] = {
    "VA": {
        "disability-claims": ("phone", "website", "in_person", "postal_mail"),
        "health-appointments": ("phone", "mobile_app", "in_person"),
        "gi-bill": ("website", "phone", "email"),
    },
    "USDA": {
        "snap-benefits": ("in_person", "phone", "website"),
        "farm-loans": ("in_person", "website", "phone"),
    },
    "Commerce": {
        "patent-applications": ("website", "email", "phone"),
        "census-response": ("website", "phone", "postal_mail"),
    },
    "Treasury": {
        "tax-filing": ("website", "phone", "in_person", "mobile_app"),
        "refund-status": ("website", "automated_phone", "mobile_app"),
        "savings-bonds": ("website", "postal_mail"),
    },
    "State": {
        "passport-renewal": ("website", "postal_mail", "in_person", "phone"),
        "visa-appointments": ("website", "in_person", "live_chat"),
    },
    "SSA": {
        "retirement-benefits": ("phone", "in_person", "website"),
        "replacement-card": ("self_service_kiosk", "website", "in_person"),
    },
}

COMMENTS = (
    "Quick and clear.", "Waited far too long on hold.", "The form kept timing out.",
    "Staff were kind and helpful.", "I still do not know the status of my case.",
    "Easy to find what I needed.", "Had to call three times.", "Better than last year.",
)

# Shares of the odd cases a real collection sees (of feedback, not of touchpoints).
EARLY_SHARE = 0.05  # the feedback is sent before its touchpoint reaches Kafka
DUPLICATE_SHARE = 0.02  # a channel retries and sends the same feedback twice
DIRECT_SHARE = 0.03  # a survey not tied to one interaction (no touchpoint_id)
INCIDENT_DROP = 2.0  # how far an incident pulls the answers' mean down (on the 1..5 scale)

# --- the current A-11 form (a11_v2) -----------------------------------------------------------
#: ``form`` values: the 2019-2023 seven statements, the current form, or some of each.
FORMS = ("v1", "v2", "mixed")
#: In ``mixed``, what a feedback carries: agencies move from the old form to the new one channel
#: by channel (old survey links and IVR scripts linger), and a few ask both for a while to bridge
#: their series.
MIXED_KINDS: dict[str, float] = {"v1": 0.35, "v2": 0.5, "both": 0.15}
#: GSA's digital channels. Thumbs up/down is a one-tap widget, the common choice on a screen; a
#: phone line (press 1 to 5), a paper or mailed card and a counter's tablet more often keep the
#: five-point radio.
DIGITAL = frozenset({"computer", "mobile", "email", "chatbot", "website", "mobile_app", "live_chat",
                     "sms_text_messages", "social_media", "other_digital"})
THUMBS_SHARE_DIGITAL = 0.8  # of digital cells whose survey asks trust with thumbs
THUMBS_SHARE_OTHER = 0.3  # of the other cells
#: Agencies deploy one survey per touchpoint: a response uses its cell's survey this often, else the
#: cell's other instrument (the other scale, e.g. an older widget still linked from some pages).
FORM_CONSISTENCY = 0.9
#: How often a survey offers each driver beyond the required effectiveness and ease (employee only
#: where people serve: STAFFED).
OPTIONAL_DRIVER_SHARE: dict[str, float] = {
    "efficiency": 0.85, "transparency": 0.6, "humanity": 0.5, "employee": 0.9, "other": 0.4,
}
#: A cell's survey is sent right after the interaction, or at the end of the customer's journey
#: (the claim decided, the passport mailed) and then still names the last touchpoint.
POST_SERVICE_JOURNEY_SHARE = 0.15
#: A survey tied to no interaction (no touchpoint_id) is a periodic one.
DIRECT_RELATIONAL_SHARE = 0.6  # relational, else post_service_journey
#: A driver "went well" for the respondent when its experience (the respondent's mood on the 1..5
#: scale, moved by what happened: a long wait, an incident) is at least this, else it did not.
DRIVER_GOOD = 3.5
DRIVER_NOISE = 0.8
#: The chance a respondent ticks a driver that went well / did not, by how they answered trust:
#: satisfied customers tick a few things that went well and rarely a complaint; unhappy ones say
#: what went wrong (most of it) and seldom what went well; a five-point 3 does some of both.
TICKS: dict[str, tuple[float, float]] = {
    "favourable": (0.55, 0.08), "neutral": (0.3, 0.4), "unfavourable": (0.1, 0.8),
}
OTHER_TICK_FACTOR = 0.3  # "other" is the catch-all: ticked far less often than a named driver
#: What an incident breaks (a phone line's waits explode, a web form times out): it takes this
#: much from these drivers, which then explain the fall in trust; staff stay as helpful as ever.
INCIDENT_DRIVER_DROP: dict[str, float] = {"efficiency": 2.5, "ease": 2.0, "effectiveness": 1.0, "transparency": 0.5}
LONG_WAIT_EFFICIENCY_DROP = 1.0  # a wait over twice the channel's mean: efficiency did not go well
UNRESOLVED_EFFECTIVENESS_DROP = 1.0  # abandoned, transferred or escalated: the need was not addressed


@dataclass(frozen=True)
class SurveyForm:
    """One deployed survey of the current A-11 form: its trust scale, the drivers its checklists
    offer (in the vocabulary's order) and where in the journey it is sent."""

    trust_scale: str
    offered: tuple[str, ...]
    transaction_point: str


@dataclass(frozen=True)
class Incident:
    """A cell whose scores are pulled down: ``AGENCY/SERVICE/CHANNEL``."""

    agency: str
    service: str
    channel: str

    @classmethod
    def parse(cls, text: str) -> Incident:
        """An incident from ``AGENCY/SERVICE/CHANNEL``; CxstreamError if it names no generated cell."""
        parts = text.split("/")
        if len(parts) != 3:
            raise CxstreamError(f"--incident {text!r}: expected AGENCY/SERVICE/CHANNEL")
        agency, service, channel = parts
        if channel not in CATALOG.get(agency, {}).get(service, ()):
            cells = ", ".join(f"{a}/{s}/{c}" for a, ss in CATALOG.items() for s, cs in ss.items() for c in cs)
            raise CxstreamError(f"--incident {text!r}: not a generated cell; one of: {cells}")
        return cls(agency, service, channel)


@dataclass(order=True)
class Event:
    """One message due at ``emit_ms`` (wall clock of the channel sending it)."""

    emit_ms: int
    seq: int
    kind: str = field(compare=False)  # "touchpoints" or "feedback"
    body: dict[str, Any] = field(compare=False)


def rfc3339(ms: int) -> str:
    """UTC RFC 3339 with milliseconds, as the contract's JSON form writes times."""
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def daily_rhythm(ms: int) -> float:
    """Traffic relative to the daily mean (1.0): low at night, peaking early afternoon US Eastern."""
    hour_eastern = ((ms / 3_600_000) - 5) % 24
    return 1.0 + 0.6 * math.sin((hour_eastern - 8) / 24 * 2 * math.pi)


class TrafficGenerator:
    """Seeded traffic: the same seed, start and options give the same events, in the same order."""

    def __init__(self, seed: int, rate: float, start_ms: int, feedback_share: float = 0.1,
                 incidents: tuple[Incident, ...] = (), form: str = "v1") -> None:
        if rate <= 0:
            raise CxstreamError(f"--rate must be positive, got {rate}")
        if not 0 <= feedback_share <= 1:
            raise CxstreamError(f"--feedback-share must be between 0 and 1, got {feedback_share}")
        if form not in FORMS:
            raise CxstreamError(f"--form must be one of {', '.join(FORMS)}, got {form!r}")
        self.rate = rate
        self.feedback_share = feedback_share
        self.form = form
        self.incidents = frozenset((i.agency, i.service, i.channel) for i in incidents)
        self._rng = random.Random(seed)
        # The current form's choices come from a stream of their own, so the traffic and the v1
        # answers are the same whatever the form (and form="v1" draws nothing from it).
        self._v2_rng = random.Random(f"a11_v2/{seed}")
        self._prefix = f"g{seed}"
        self._now = float(start_ms)
        self._seq = 0
        self._pending: list[Event] = []
        self._cells = [(a, s, c) for a, ss in CATALOG.items() for s, cs in ss.items() for c in cs]
        # Some services are far busier than others: a fixed, seeded popularity per cell.
        self._weights = [self._rng.uniform(0.3, 3.0) for _ in self._cells]
        # An incident floods its channel too (people call back, try again): it carries at least half
        # of its service's traffic, so its service's scores fall visibly and the alert fires.
        for i, cell in enumerate(self._cells):
            if cell in self.incidents:
                rest = sum(w for other, w in zip(self._cells, self._weights, strict=True)
                           if other[:2] == cell[:2] and other != cell)
                self._weights[i] = max(self._weights[i], rest)
        # Each cell's surveys of the current form: the one it deploys, and its other instrument.
        self._surveys = {cell: self._deploy(cell[2]) for cell in self._cells}

    def events_until(self, until_ms: int) -> Iterator[Event]:
        """Every event due at or before ``until_ms``, in emit order; later calls continue the stream."""
        while True:
            next_arrival = self._now + self._rng.expovariate(self.rate * daily_rhythm(int(self._now))) * 1000
            while self._pending and self._pending[0].emit_ms <= min(next_arrival, until_ms):
                yield heapq.heappop(self._pending)
            if next_arrival > until_ms:
                # Keep the arrival process exact across calls: the drawn gap is not thrown away.
                self._now = next_arrival
                self._push_touchpoint(int(next_arrival))
                return
            self._now = next_arrival
            self._push_touchpoint(int(next_arrival))

    def _push(self, emit_ms: int, kind: str, body: dict[str, Any]) -> None:
        self._seq += 1
        heapq.heappush(self._pending, Event(emit_ms, self._seq, kind, body))

    def _push_touchpoint(self, at_ms: int) -> None:
        rng = self._rng
        agency, service, channel = rng.choices(self._cells, self._weights)[0]
        profile = PROFILES[channel]
        self._seq += 1
        tp_id = f"tp-{self._prefix}-{self._seq}"
        wait = int(rng.expovariate(1 / profile.mean_wait))
        abandoned = rng.random() < profile.abandon * (1 + wait / (4 * profile.mean_wait))
        outcome = "abandoned" if abandoned else rng.choices(
            ("completed", "transferred", "escalated"), (0.85, 0.1, 0.05))[0]
        offered = not abandoned and rng.random() < 0.6
        touchpoint: dict[str, Any] = {
            "touchpoint_id": tp_id, "occurred_at": rfc3339(at_ms), "agency": agency, "service": service,
            "channel": channel, "outcome": outcome, "wait_seconds": wait,
            "handle_seconds": 0 if abandoned else int(rng.expovariate(1 / profile.mean_handle)),
            "survey_offered": offered,
        }
        tp_emit = at_ms
        if rng.random() < self.feedback_share:
            submitted = at_ms + int(rng.uniform(2_000, 45_000))
            mean = self._mean(agency, service, channel, outcome, wait, profile)
            answers, mood = self._answers(channel, mean)
            feedback: dict[str, Any] = {"feedback_id": f"fb-{self._prefix}-{self._seq}", "touchpoint_id": tp_id,
                                        "submitted_at": rfc3339(submitted)}
            self._add_form(feedback, (agency, service, channel), answers, mood, outcome, wait, profile, direct=False)
            if rng.random() < 0.15:
                feedback["comment"] = rng.choice(COMMENTS)
            self._push(submitted, "feedback", feedback)
            if rng.random() < EARLY_SHARE:
                tp_emit = submitted + int(rng.uniform(1_000, 10_000))
            if rng.random() < DUPLICATE_SHARE:
                self._push(submitted + int(rng.uniform(500, 20_000)), "feedback", dict(feedback))
        self._push(tp_emit, "touchpoints", touchpoint)
        if rng.random() < self.feedback_share * DIRECT_SHARE:
            self._push_direct_survey(at_ms)

    def _push_direct_survey(self, at_ms: int) -> None:
        agency, service, channel = self._rng.choices(self._cells, self._weights)[0]
        self._seq += 1
        mean = self._mean(agency, service, channel, "completed", 0, PROFILES[channel])
        answers, mood = self._answers(channel, mean)
        feedback: dict[str, Any] = {
            "feedback_id": f"fb-{self._prefix}-{self._seq}", "submitted_at": rfc3339(at_ms),
            "agency": agency, "service": service, "channel": channel}
        self._add_form(feedback, (agency, service, channel), answers, mood, "completed", 0, PROFILES[channel],
                       direct=True)
        self._push(at_ms, "feedback", feedback)

    def _mean(self, agency: str, service: str, channel: str, outcome: str, wait: int,
              profile: ChannelProfile) -> float:
        mean = profile.score
        if outcome != "completed":
            mean -= 0.6
        if wait > 2 * profile.mean_wait:
            mean -= 0.4
        if (agency, service, channel) in self.incidents:
            mean -= INCIDENT_DROP
        return mean

    def _answers(self, channel: str, mean: float) -> tuple[dict[str, int], float]:
        """The respondent's v1 answers, and their mood (the mean their answers are drawn around)."""
        rng = self._rng
        asked = ["satisfaction", "trust"]
        optional = [d for d in DOMAINS[2:] if d != "helpfulness" or channel in STAFFED]
        asked += [d for d in optional if rng.random() < 0.6]
        person = rng.gauss(0, 0.5)  # one respondent answers all questions in one mood
        answers = {d: min(MAX_ANSWER, max(MIN_ANSWER, round(rng.gauss(mean + person, 0.8)))) for d in asked}
        return answers, mean + person

    # --- the current A-11 form -----------------------------------------------------------------
    def _deploy(self, channel: str) -> tuple[SurveyForm, SurveyForm]:
        """A cell's survey (its scale by channel kind) and its other instrument (the other scale)."""
        rng = self._v2_rng
        thumbs_share = THUMBS_SHARE_DIGITAL if channel in DIGITAL else THUMBS_SHARE_OTHER
        scale = "thumbs" if rng.random() < thumbs_share else "five_point"
        point = "post_service_journey" if rng.random() < POST_SERVICE_JOURNEY_SHARE else "post_interaction"
        other_scale = next(s for s in TRUST_SCALES if s != scale)
        return (SurveyForm(scale, self._offered(channel), point),
                SurveyForm(other_scale, self._offered(channel), point))

    def _offered(self, channel: str) -> tuple[str, ...]:
        rng = self._v2_rng
        return tuple(d for d in DRIVERS if d in REQUIRED_DRIVERS or (
            (d != "employee" or channel in STAFFED) and rng.random() < OPTIONAL_DRIVER_SHARE[d]))

    def _add_form(self, feedback: dict[str, Any], cell: tuple[str, str, str], answers: dict[str, int],
                  mood: float, outcome: str, wait: int, profile: ChannelProfile, *, direct: bool) -> None:
        """Give ``feedback`` the v1 answers, the current form's, or both, as ``form`` asks."""
        kind = self.form
        if kind == "mixed":
            kind = self._v2_rng.choices(tuple(MIXED_KINDS), tuple(MIXED_KINDS.values()))[0]
        if kind in ("v1", "both"):
            feedback["answers"] = answers
        if kind in ("v2", "both"):
            feedback["a11_v2"] = self._a11_v2(cell, answers["trust"], mood, outcome, wait, profile, direct=direct)

    def _a11_v2(self, cell: tuple[str, str, str], trust_answer: int, mood: float, outcome: str, wait: int,
                profile: ChannelProfile, *, direct: bool) -> dict[str, Any]:
        """One respondent's current-form answers. Trust is their v1 trust answer on the form's scale
        (a neutral 3 splits between thumbs up and down); each offered driver went well or not by
        the respondent's mood and what happened, and is ticked more or less readily by how they
        answered trust."""
        rng = self._v2_rng
        primary, other = self._surveys[cell]
        survey = primary if rng.random() < FORM_CONSISTENCY else other
        point = survey.transaction_point
        if direct:
            point = "relational" if rng.random() < DIRECT_RELATIONAL_SHARE else "post_service_journey"
        if survey.trust_scale == "five_point":
            trust = trust_answer
        elif trust_answer == POSITIVE_ANSWER - 1:
            trust = int(rng.random() < 0.5)
        else:
            trust = int(trust_answer >= POSITIVE_ANSWER)
        # The checklists follow the answer just given: thumbs down is a complaint, a 3 is neither.
        if trust in FAVOURABLE_TRUST[survey.trust_scale]:
            tick_good, tick_bad = TICKS["favourable"]
        elif survey.trust_scale == "five_point" and trust == POSITIVE_ANSWER - 1:
            tick_good, tick_bad = TICKS["neutral"]
        else:
            tick_good, tick_bad = TICKS["unfavourable"]
        incident = cell in self.incidents
        base = mood + INCIDENT_DROP if incident else mood  # the incident's share is in the drivers below
        went_well: list[str] = []
        did_not_go_well: list[str] = []
        for driver in survey.offered:
            experience = base + rng.gauss(0, DRIVER_NOISE)
            if incident:
                experience -= INCIDENT_DRIVER_DROP.get(driver, 0.0)
            if driver == "efficiency" and wait > 2 * profile.mean_wait:
                experience -= LONG_WAIT_EFFICIENCY_DROP
            if driver == "effectiveness" and outcome != "completed":
                experience -= UNRESOLVED_EFFECTIVENESS_DROP
            factor = OTHER_TICK_FACTOR if driver == "other" else 1.0
            if experience >= DRIVER_GOOD:
                if rng.random() < tick_good * factor:
                    went_well.append(driver)
            elif rng.random() < tick_bad * factor:
                did_not_go_well.append(driver)
        return {"trust": trust, "trust_scale": survey.trust_scale, "went_well": went_well,
                "did_not_go_well": did_not_go_well, "offered": list(survey.offered), "transaction_point": point}
