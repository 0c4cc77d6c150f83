"""Realistic, seeded service traffic: touchpoints and survey feedback in the contract's JSON form.

Pure: :class:`TrafficGenerator` turns a seed and a start time into a stream of events ordered by
when a channel would send them; ``generate_cli`` paces them against the wall clock or writes files.
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
from cxstream.vocabulary import DOMAINS, MAX_ANSWER, MIN_ANSWER

#: Channels staffed by people: only these are asked the employee helpfulness question.
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
                 incidents: tuple[Incident, ...] = ()) -> None:
        if rate <= 0:
            raise CxstreamError(f"--rate must be positive, got {rate}")
        if not 0 <= feedback_share <= 1:
            raise CxstreamError(f"--feedback-share must be between 0 and 1, got {feedback_share}")
        self.rate = rate
        self.feedback_share = feedback_share
        self.incidents = frozenset((i.agency, i.service, i.channel) for i in incidents)
        self._rng = random.Random(seed)
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
            feedback = {"feedback_id": f"fb-{self._prefix}-{self._seq}", "touchpoint_id": tp_id,
                        "submitted_at": rfc3339(submitted), "answers": self._answers(channel, mean)}
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
        self._push(at_ms, "feedback", {
            "feedback_id": f"fb-{self._prefix}-{self._seq}", "submitted_at": rfc3339(at_ms),
            "agency": agency, "service": service, "channel": channel,
            "answers": self._answers(channel, mean)})

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

    def _answers(self, channel: str, mean: float) -> dict[str, int]:
        rng = self._rng
        asked = ["satisfaction", "trust"]
        optional = [d for d in DOMAINS[2:] if d != "helpfulness" or channel in STAFFED]
        asked += [d for d in optional if rng.random() < 0.6]
        person = rng.gauss(0, 0.5)  # one respondent answers all questions in one mood
        return {d: min(MAX_ANSWER, max(MIN_ANSWER, round(rng.gauss(mean + person, 0.8)))) for d in asked}
