"""Generated input with its exact expected scores, computed independently of the pipeline.

Plain Python over the generated records: first occurrence of each feedback_id wins; attribution
from its touchpoint when the dataset has one, else its own agency/service/channel, else unknown.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from cxstream.schemas.records import Feedback, Touchpoint
from cxstream.streams.windows import window_start_ms
from cxstream.vocabulary import DOMAINS

CellKey = tuple[int, str, str, str, str]  # window_start, agency, service, channel, domain


@dataclass
class Dataset:
    """What to send, in order, and what the scores must be once it is all processed."""

    messages: list[Touchpoint | Feedback] = field(default_factory=list)
    expected: dict[CellKey, tuple[int, int, int, int, int]] = field(default_factory=dict)


def generate(seed: int, agency_prefix: str, touchpoints: int, now_ms: int) -> Dataset:
    """Touchpoints with ~1.5 feedback each: some before their touchpoint, some retried, some direct."""
    rng = random.Random(seed)
    agencies = [f"{agency_prefix}-{i}" for i in range(3)]
    services, channels = ["claims", "loans"], ["phone", "website", "in_person"]
    messages: list[Touchpoint | Feedback] = []
    attribution: dict[str, tuple[str, str, str]] = {}
    feedback: list[Feedback] = []
    for i in range(touchpoints):
        tp = Touchpoint(f"{agency_prefix}-tp-{i}", now_ms - rng.randrange(3_600_000), rng.choice(agencies),
                        rng.choice(services), rng.choice(channels))
        attribution[tp.touchpoint_id] = (tp.agency, tp.service, tp.channel)
        answers = {d: rng.randint(1, 5) for d in rng.sample(DOMAINS, rng.randint(1, 4))}
        fb = Feedback(f"{agency_prefix}-fb-{i}", now_ms - rng.randrange(3_600_000), answers, tp.touchpoint_id)
        if rng.random() < 0.3:
            messages += [fb, tp]  # feedback before its touchpoint
        else:
            messages += [tp, fb]
        feedback.append(fb)
        if rng.random() < 0.1:
            messages.append(fb)  # a channel's blind retry
        if rng.random() < 0.2:
            direct = Feedback(f"{agency_prefix}-direct-{i}", now_ms - rng.randrange(3_600_000),
                              {"satisfaction": rng.randint(1, 5)}, None, None, rng.choice(agencies), "survey",
                              "email")
            messages.append(direct)
            feedback.append(direct)
    counts: dict[CellKey, Counter[int]] = defaultdict(Counter)
    for fb in feedback:
        if fb.touchpoint_id is not None:
            agency, service, channel = attribution[fb.touchpoint_id]
        else:
            agency, service, channel = fb.agency or "unknown", fb.service or "unknown", fb.channel or "unknown"
        for domain, answer in fb.answers.items():
            counts[(window_start_ms(fb.submitted_at), agency, service, channel, domain)][answer] += 1
    expected = {key: tuple(c[a] for a in range(1, 6)) for key, c in counts.items()}
    return Dataset(messages, expected)  # type: ignore[arg-type]
