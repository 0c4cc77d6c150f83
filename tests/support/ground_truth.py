"""Generated input with its exact expected scores, computed independently of the pipeline.

Plain Python over the generated records: first occurrence of each feedback_id wins; attribution
from its touchpoint when the dataset has one, else its own agency/service/channel, else unknown.
``form`` picks the survey: ``v1`` (the 2019-2023 seven statements), ``v2`` (the current form:
trust on a thumbs or five-point scale, driver checklists) or ``mixed`` (either, or both in one).
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from cxstream.schemas.records import A11V2, Feedback, Touchpoint
from cxstream.streams.windows import window_start_ms
from cxstream.vocabulary import DOMAINS, DRIVERS, FAVOURABLE_TRUST, REQUIRED_DRIVERS, TRUST_VALUES

CellKey = tuple[int, str, str, str, str]  # window_start, agency, service, channel, domain (or scale, driver)
FORMS = ("v1", "v2", "mixed")
#: Comments a respondent may leave (``comments=True``): complaints, praise, plain remarks, one
#: with personal data the worker must redact before anything stores or reads it.
COMMENTS = (
    "Waited on hold for three hours and nobody called back.",
    "The agent was kind and fixed my claim in ten minutes.",
    "Website kept crashing when I tried to upload the form.",
    "I still have no idea what the status of my refund is.",
    "Fine.",
    "Staff were rude and the line never moved.",
    "Easy to find everything, thank you!",
    "Call me back at 202-555-0143, the letter made no sense.",
)


@dataclass
class Dataset:
    """What to send, in order, and what the scores must be once it is all processed."""

    messages: list[Touchpoint | Feedback] = field(default_factory=list)
    expected: dict[CellKey, tuple[int, int, int, int, int]] = field(default_factory=dict)
    #: Trust answers per (window, agency, service, channel, scale): counts of the values 0..5.
    expected_trust: dict[CellKey, tuple[int, ...]] = field(default_factory=dict)
    #: Per (window, agency, service, channel, driver): (offered, went_well, did_not_go_well).
    expected_drivers: dict[CellKey, tuple[int, int, int]] = field(default_factory=dict)
    #: Every accepted feedback, the first copy of each feedback_id, with the cell it belongs to.
    accepted: dict[str, tuple[Feedback, tuple[str, str, str]]] = field(default_factory=dict)


def a11_v2_answers(rng: random.Random, mood: float) -> A11V2:
    """Current-form answers of one respondent; ``mood`` 0..1 (how well it went) shapes all of them."""
    scale = rng.choice(("thumbs", "five_point"))
    trust = (int(rng.random() < mood) if scale == "thumbs"
             else min(5, max(1, round(1 + 4 * mood + rng.gauss(0, 0.7)))))
    optional = [d for d in DRIVERS if d not in REQUIRED_DRIVERS]
    offered = (*REQUIRED_DRIVERS, *rng.sample(optional, rng.randint(0, len(optional))))
    favourable = trust in FAVOURABLE_TRUST[scale]
    picked = [d for d in offered if rng.random() < 0.45]
    if rng.random() < 0.15:  # a few mention something on both lists
        return A11V2(trust, scale, tuple(picked[:1]), tuple(picked[1:]), offered)
    return A11V2(trust, scale, tuple(picked) if favourable else (), () if favourable else tuple(picked), offered)


def generate(seed: int, agency_prefix: str, touchpoints: int, now_ms: int, form: str = "v1",
             comments: bool = False) -> Dataset:
    """Touchpoints with ~1.5 feedback each: some before their touchpoint, some retried, some direct.
    With ``comments``, about a third of the feedback carries one (drawn from a stream of its own, so
    the rest of the data set is the same with or without)."""
    if form not in FORMS:
        raise ValueError(f"form must be one of {FORMS}, got {form!r}")
    rng = random.Random(seed)
    said = random.Random(f"comments/{seed}")

    def comment() -> str | None:
        return said.choice(COMMENTS) if comments and said.random() < 0.35 else None
    agencies = [f"{agency_prefix}-{i}" for i in range(3)]
    services, channels = ["claims", "préstamos"], ["phone", "website", "in_person"]
    messages: list[Touchpoint | Feedback] = []
    attribution: dict[str, tuple[str, str, str]] = {}
    feedback: list[Feedback] = []

    def survey(answers: dict[str, int]) -> tuple[dict[str, int], A11V2 | None]:
        kind = form if form != "mixed" else rng.choice(("v1", "v2", "both"))
        if kind == "v1":
            return answers, None
        v2 = a11_v2_answers(rng, rng.random())
        return (answers if kind == "both" else {}), v2

    for i in range(touchpoints):
        tp = Touchpoint(f"{agency_prefix}-tp-{i}", now_ms - rng.randrange(3_600_000), rng.choice(agencies),
                        rng.choice(services), rng.choice(channels))
        attribution[tp.touchpoint_id] = (tp.agency, tp.service, tp.channel)
        answers = {d: rng.randint(1, 5) for d in rng.sample(DOMAINS, rng.randint(1, 4))}
        answers, v2 = survey(answers)
        fb = Feedback(f"{agency_prefix}-fb-{i}", now_ms - rng.randrange(3_600_000), answers, tp.touchpoint_id,
                      comment(), a11_v2=v2)
        if rng.random() < 0.3:
            messages += [fb, tp]  # feedback before its touchpoint
        else:
            messages += [tp, fb]
        feedback.append(fb)
        if rng.random() < 0.1:
            messages.append(fb)  # a channel's blind retry
        if rng.random() < 0.2:
            answers, v2 = survey({"satisfaction": rng.randint(1, 5)})
            direct = Feedback(f"{agency_prefix}-direct-{i}", now_ms - rng.randrange(3_600_000), answers, None,
                              comment(), rng.choice(agencies), "survey", "email", a11_v2=v2)
            messages.append(direct)
            feedback.append(direct)
    data = Dataset(messages)
    counts: dict[CellKey, Counter[int]] = defaultdict(Counter)
    trust: dict[CellKey, list[int]] = defaultdict(lambda: [0] * 6)
    drivers: dict[CellKey, list[int]] = defaultdict(lambda: [0, 0, 0])
    for fb in feedback:
        if fb.touchpoint_id is not None:
            cell = attribution[fb.touchpoint_id]
        else:
            cell = (fb.agency or "unknown", fb.service or "unknown", fb.channel or "unknown")
        data.accepted[fb.feedback_id] = (fb, cell)
        window = window_start_ms(fb.submitted_at)
        for domain, answer in fb.answers.items():
            counts[(window, *cell, domain)][answer] += 1
        if fb.a11_v2 is not None:
            v2 = fb.a11_v2
            assert v2.trust in TRUST_VALUES[v2.trust_scale]
            trust[(window, *cell, v2.trust_scale)][v2.trust] += 1
            for driver in v2.offered:
                tally = drivers[(window, *cell, driver)]
                tally[0] += 1
                tally[1] += driver in v2.went_well
                tally[2] += driver in v2.did_not_go_well
    data.expected = {key: tuple(c[a] for a in range(1, 6)) for key, c in counts.items()}  # type: ignore[misc]
    data.expected_trust = {key: tuple(c) for key, c in trust.items()}
    data.expected_drivers = {key: (c[0], c[1], c[2]) for key, c in drivers.items()}
    return data
